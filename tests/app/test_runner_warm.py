"""The warm app: the model loads in the background, the UI is up meanwhile, a Run waits."""

from __future__ import annotations

import threading
import urllib.request

from hexviz import models
from hexviz.app.runner import WARM_UP_PROMPT, LocalRunner, RunRequest
from hexviz.app.serving import FAST_SAMPLER
from tests.conftest import QUESTION

SMALL = dict(model="m", gen_length=16, steps=16, blocks=(4, 8), baselines=False)


def test_preload_leaves_the_ui_up_and_a_run_waits_for_the_load(monkeypatch, random_lm,
                                                               launched):
    release = threading.Event()

    def slow_load(*_args, **_kwargs):
        assert release.wait(60), "the test never released the load"
        return random_lm

    monkeypatch.setattr(models, "load", slow_load)
    monkeypatch.setattr(models, "load_outline", lambda *_a, **_kw: random_lm)  # checked at once
    runner = LocalRunner({"m": "slow"})
    loader = runner.preload()
    assert runner.is_loading("m")
    url = launched(runner)
    with urllib.request.urlopen(url, timeout=30) as page:  # served while the model loads
        assert page.status == 200
    runs: list = []
    run = threading.Thread(target=lambda: runs.extend(runner.run(RunRequest(QUESTION, **SMALL))))
    run.start()
    run.join(0.5)
    assert run.is_alive() and not runs  # waiting for the load, not failing
    release.set()
    run.join(60)
    loader.join(60)
    assert runs and runs[-1].complete
    assert not runner.is_loading("m")


def test_first_snapshot_comes_after_step_one(random_lm):
    runner = LocalRunner({"m": "cached"}, snapshot_every=8)
    runner.shelf.cache["m"] = random_lm
    steps = [run.steps_done for run in runner.run(RunRequest(QUESTION, **SMALL))]
    assert steps == [1, 8, 16]


def test_the_warm_up_tells_the_hub_how_fast_this_machine_decodes(random_lm):
    runner = LocalRunner({"m": "cached"})
    runner.shelf.cache["m"] = random_lm
    assert runner.hub.capacity.rate() is None
    runner.preload().join(60)
    assert runner.hub.capacity.rate() > 0  # row passes a second, before any visitor's run
    fast = runner._prepare(RunRequest(WARM_UP_PROMPT, model="m", sampler=FAST_SAMPLER))
    assert fast.pace and runner.hub.capacity.share(fast.pace) < 1  # it ends below its cap
    assert runner.hub.decoding == 0 and len(runner.hub.recent) == 0  # nothing kept
