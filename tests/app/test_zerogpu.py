"""ZeroGPU: FLOPs per step, the plan of GPU calls, chunked decoding that streams and equals the
unchunked decode, and the fallback where `spaces` is installed without ZeroGPU."""

from __future__ import annotations

import importlib.util
import itertools
import pickle
import re
import shutil
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from hexviz import limits, models
from hexviz.app import zerogpu
from hexviz.app.runner import BUILTIN_LABEL, LocalRunner, RunRequest
from hexviz.models.llada import LLaDAConfig, LLaDAModelLM
from tests.conftest import CHROMIUM, CHROMIUM_FLAGS, REPO, serving

SHOTS = REPO / "out" / "screenshots"
spec = importlib.util.spec_from_file_location("gpu_bench", REPO / "bench" / "gpu_bench.py")
gpu_bench = importlib.util.module_from_spec(spec)
sys.modules["gpu_bench"] = gpu_bench  # dataclasses look the module up while it loads
spec.loader.exec_module(gpu_bench)


class FakeSpaces(types.ModuleType):
    """``spaces`` on a ZeroGPU Space, without a GPU: ``GPU(duration=...)`` records each call's
    asked duration and pickles arguments and results, as the trip to the GPU worker does."""

    def __init__(self, active: bool = True, seconds_per_call: float = 0.0) -> None:
        super().__init__("spaces")
        self.config = types.SimpleNamespace(Config=types.SimpleNamespace(zero_gpu=active))
        self.calls: list[tuple[int, tuple]] = []  # (duration asked, the call's args)
        self.seconds_per_call = seconds_per_call

    def GPU(self, duration):  # the name spaces gives it
        def decorate(fn):
            def call(*args):
                asked = duration(*args) if callable(duration) else duration
                self.calls.append((asked, args[0].args[1:3] if args else ()))
                time.sleep(self.seconds_per_call)  # the GPU's time: the page must not wait
                return pickle.loads(pickle.dumps(fn(*pickle.loads(pickle.dumps(args)))))
            return call
        return decorate


@pytest.fixture
def fake_spaces(monkeypatch):
    def install(**kwargs) -> FakeSpaces:
        fake = FakeSpaces(**kwargs)
        monkeypatch.setitem(sys.modules, "spaces", fake)
        monkeypatch.setattr(zerogpu, "_said", set())
        return fake
    return install


# --- FLOPs --------------------------------------------------------------------------------------

def test_forward_cost_matches_the_gpu_benchs_formula():
    tiny = LLaDAConfig(**gpu_bench.TINY_CONFIG)
    cost = zerogpu.forward_cost(LLaDAModelLM(tiny))
    assert cost.flops(3, 20, 8) == gpu_bench.llada_forward_flops(tiny, 3, 20, 8)
    with torch.device("meta"):  # LLaDA-8B's shapes, no memory
        full = LLaDAConfig()
        cost = zerogpu.forward_cost(LLaDAModelLM(full))
    assert cost.flops(8, 376, 256) == gpu_bench.llada_forward_flops(full, 8, 376, 256)


def test_forward_cost_runs_the_head_at_the_answer_only(random_lm):
    cost = zerogpu.forward_cost(random_lm.model)
    head = random_lm.model.get_output_embeddings().weight.numel()
    assert cost.head_params == head and cost.layers == 2 and cost.width == 32
    assert cost.flops(1, 10, 4) - cost.flops(1, 10, 3) == 2 * head


# --- the plan -----------------------------------------------------------------------------------

def llada_cost() -> zerogpu.ForwardCost:
    with torch.device("meta"):
        return zerogpu.forward_cost(LLaDAModelLM(LLaDAConfig()))


def test_a_run_is_planned_in_whole_snapshots_that_cover_every_step():
    plan = zerogpu.plan_run(llada_cost(), rows=8, prompt_tokens=120, gen_length=256, steps=256,
                            snapshot_every=8, lim=limits.Limits())
    chunks = plan.chunks()
    assert chunks[0][0] == 0 and chunks[-1][1] == 256 and len(chunks) > 1
    assert all(a[1] == b[0] for a, b in itertools.pairwise(chunks))
    assert all(stop % 8 == 0 for _, stop in chunks) and plan.chunk_steps % 8 == 0
    assert plan.chunk_steps * plan.step_s <= plan.budget.call_target_s  # the page updates often
    assert plan.total_s <= limits.Limits().max_gpu_s  # LLaDA's default request is admitted
    assert max(plan.duration_s(*c) for c in chunks) <= zerogpu.MAX_CALL_S


def test_a_small_model_decodes_in_one_call():
    cost = zerogpu.ForwardCost(body_params=10**6, head_params=10**5, layers=4, width=128)
    plan = zerogpu.plan_run(cost, 8, 30, 128, 64, 8, lim=limits.Limits())
    assert plan.chunks() == [(0, 64)] and plan.total_s == plan.budget.call_overhead_s + 1


def test_durations_grow_with_the_request():
    cost = llada_cost()
    small = zerogpu.plan_run(cost, 8, 120, 256, 128, 8, lim=limits.Limits(max_gpu_s=10**6))
    big = zerogpu.plan_run(cost, 23, 120, 256, 256, 8, lim=limits.Limits(max_gpu_s=10**6))
    assert big.step_s > 2.5 * small.step_s and big.total_s > 2 * small.total_s


def test_a_run_beyond_the_gpu_limit_is_refused_with_the_variable_to_raise():
    cost = llada_cost()
    with pytest.raises(limits.LimitError, match=r"ask ZeroGPU for \d+ s .* allows 120 s a run "
                                                r"\(HEXVIZ_MAX_GPU_S\)"):
        zerogpu.plan_run(cost, 23, 120, 256, 256, 8, lim=limits.Limits())  # 4 seeds
    assert zerogpu.plan_run(cost, 23, 120, 256, 256, 8, lim=limits.Limits(max_gpu_s=1500))


def test_a_step_longer_than_a_call_is_refused():
    slow = zerogpu.Budget(tflops=1.0)
    with pytest.raises(limits.LimitError, match="more than the 60 s a ZeroGPU call may ask"):
        zerogpu.plan_run(llada_cost(), 8, 120, 256, 256, 8, slow, limits.Limits(max_gpu_s=1e9))


@pytest.mark.parametrize("kwargs,message", [
    ({"tflops": 0}, r"tflops must be positive \(got 0\)"),
    ({"call_overhead_s": -1}, r"call_overhead_s must be >= 0 \(got -1\)"),
])
def test_a_bad_budget_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        zerogpu.Budget(**kwargs)


def test_a_bad_plan_is_refused():
    with pytest.raises(ValueError, match=r"chunk_steps must be from 1 to steps=4 \(got 5\)"):
        zerogpu.GpuPlan(steps=4, chunk_steps=5, step_s=0.1)


# --- which GPU, if any --------------------------------------------------------------------------

def test_without_spaces_there_is_no_gpu_and_nothing_is_said(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "spaces", None)  # import fails
    assert zerogpu.spaces_gpu() is None
    assert capsys.readouterr().err == ""


def test_spaces_without_zerogpu_falls_back_and_says_so_once(fake_spaces, capsys):
    fake_spaces(active=False)
    assert zerogpu.spaces_gpu() is None and zerogpu.spaces_gpu() is None
    LocalRunner({"m": "unused"})
    assert capsys.readouterr().err.count(zerogpu.FALLBACK_MESSAGE) == 1


def test_on_zerogpu_the_gpu_is_spaces_gpu(fake_spaces, monkeypatch):
    fake = fake_spaces(active=True)
    assert zerogpu.spaces_gpu() == fake.GPU
    del fake.config  # an older spaces: the variable it reads decides
    monkeypatch.setenv(zerogpu.SPACES_ZERO_GPU_ENV, "true")
    assert zerogpu.spaces_gpu() == fake.GPU
    monkeypatch.setenv(zerogpu.SPACES_ZERO_GPU_ENV, "")
    assert zerogpu.spaces_gpu() is None


# --- chunked decoding through the runner --------------------------------------------------------

def budget_for_chunks(local: LocalRunner, request: RunRequest, steps_per_call: int):
    """A budget under which one call of ``request`` decodes ``steps_per_call`` steps."""
    job = local._prepare(request)
    cost = zerogpu.forward_cost(job.lm.model)
    flops = cost.flops(len(job.plan.experts), len(job.prompt_ids) + job.plan.config.gen_length,
                       job.plan.config.gen_length)
    # 0.9 s a step: int(1.0 / step_s) is ``steps_per_call`` whatever the float rounding
    return zerogpu.Budget(tflops=flops * steps_per_call / 0.9 / 1e12, call_target_s=1.0)


def trajectories_equal(a, b) -> bool:
    fields = ("token_ids", "reveal_step", "reveal_conf", "draft_ids", "draft_prob",
              "end_density")
    return all(np.array_equal(getattr(x, f), getattr(y, f), equal_nan=True) for f in fields
               for x, y in zip(a.trajectories, b.trajectories, strict=True)) and all(
        (x.text, x.answer, x.collapsed) == (y.text, y.answer, y.collapsed)
        for x, y in zip(a.trajectories, b.trajectories, strict=True))


@pytest.mark.parametrize("temperature", [0.0, 0.7])
def test_chunked_gpu_decoding_equals_the_unchunked_decode(fake_spaces, random_model_dir,
                                                          temperature):
    fake = fake_spaces(active=True)
    local = LocalRunner({"m": str(random_model_dir)}, snapshot_every=4)
    request = RunRequest("Hi", "m", blocks=(4, 8), gen_length=16, steps=16,
                         temperature=temperature, seeds=2 if temperature else 1)
    local._zerogpu_budget = budget_for_chunks(local, request, 4)
    runs = list(local.run(request))
    *_, plain = local._decode(request)  # the same request in one piece, in this process
    assert [r.steps_done for r in runs] == [4, 8, 12, 16]
    assert [span for _, span in fake.calls] == [(0, 4), (4, 8), (8, 12), (12, 16)]
    assert len({d for d, _ in fake.calls}) == 1 and fake.calls[0][0] >= 1
    assert trajectories_equal(runs[-1], plain) and runs[-1].complete
    assert runs[-1].timing.decode_s >= runs[0].timing.decode_s  # summed over the calls
    chunked = [t.one_step_log_likelihood for t in runs[-1].trajectories]
    assert None not in chunked  # step 0 was the first call's: the last one computes it again
    assert chunked == pytest.approx([t.one_step_log_likelihood for t in plain.trajectories],
                                    abs=1e-5)


@pytest.mark.parametrize("settings", [{"sampler": "threshold:0.2"}, {"cache": "dual"}])
def test_parallel_and_cached_runs_take_one_gpu_call(fake_spaces, random_model_dir, settings):
    fake = fake_spaces(active=True)
    # a cache needs a model that has one: the random BERT is planned exact (and chunked)
    model = models.BUILTIN if "cache" in settings else str(random_model_dir)
    local = LocalRunner({"m": model}, snapshot_every=4)
    request = RunRequest("Hi", "m", blocks=(4, 8), gen_length=16, steps=16, **settings)
    local._zerogpu_budget = budget_for_chunks(local, request, 4)  # 4 calls if it were fixed
    runs = list(local.run(request))
    *_, plain = local._decode(request)
    step_cap = local._prepare(request).plan.config.step_cap
    assert [span for _, span in fake.calls] == [(0, step_cap)]
    assert len(runs) == 1 and runs[0].complete and trajectories_equal(runs[0], plain)
    assert runs[0].config.cache == settings.get("cache", "none")


def test_a_run_too_big_for_zerogpu_is_refused_before_any_call(fake_spaces, random_model_dir,
                                                               monkeypatch):
    fake = fake_spaces(active=True)
    monkeypatch.setenv("HEXVIZ_MAX_GPU_S", "20")
    local = LocalRunner({"m": str(random_model_dir)}, snapshot_every=4)
    request = RunRequest("Hi", "m", blocks=(4, 8), gen_length=16, steps=16)
    local._zerogpu_budget = budget_for_chunks(local, request, 1)  # 16 calls of 5+ s
    with pytest.raises(limits.LimitError, match="HEXVIZ_MAX_GPU_S"):
        next(iter(local.run(request)))
    assert fake.calls == []


def test_spaces_without_zerogpu_streams_every_snapshot_in_process(fake_spaces,
                                                                  random_model_dir):
    fake = fake_spaces(active=False)
    local = LocalRunner({"m": str(random_model_dir)}, snapshot_every=4)
    runs = list(local.run(RunRequest("Hi", "m", blocks=(4, 8), gen_length=16, steps=16)))
    assert [r.steps_done for r in runs] == [1, 4, 8, 12, 16] and fake.calls == []


def test_fork_and_candidates_ask_for_their_own_durations(fake_spaces, random_model_dir):
    from hexviz.app.runner import ForkRequest

    fake = fake_spaces(active=True)
    local = LocalRunner({"m": str(random_model_dir)})
    *_, run = local._decode(RunRequest("Hi", "m", blocks=(4,), gen_length=16, steps=16,
                                       baselines=False))
    *_, fork = local.fork(ForkRequest(run, 0, 8, "m", block_length=8))
    top = local.candidates("m", run, 0, 8, 9, k=3)
    assert [d for d, _ in fake.calls] and len(fake.calls) == 2 and len(top) == 3
    assert fork.complete and all(d <= zerogpu.MAX_CALL_S for d, _ in fake.calls)


def test_admit_refuses_a_loaded_models_run_before_it_queues(fake_spaces, random_model_dir,
                                                            monkeypatch):
    fake = fake_spaces(active=True)
    local = LocalRunner({"m": str(random_model_dir)}, snapshot_every=4)
    request = RunRequest("Hi", "m", blocks=(4, 8), gen_length=16, steps=16)
    monkeypatch.setenv("HEXVIZ_MAX_GPU_S", "5")  # less than one call's overhead
    local.admit(request)  # not loaded yet: the run itself checks
    local.shelf.get("m")
    with pytest.raises(limits.LimitError, match="HEXVIZ_MAX_GPU_S"):
        local.admit(request)
    assert fake.calls == []
    monkeypatch.setitem(sys.modules, "spaces", None)
    off = LocalRunner({"m": str(random_model_dir)})
    off.shelf.get("m")
    off.admit(request)  # off ZeroGPU there is no GPU time to check


# --- in the browser -----------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                    reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_browser_sees_gpu_snapshots_and_a_refusal_before_the_queue(fake_spaces,
                                                                        monkeypatch):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    from hexviz.app.ui import DEFAULT_EXAMPLE, build_demo

    fake = fake_spaces(active=True, seconds_per_call=0.4)
    local = LocalRunner()
    request = RunRequest(DEFAULT_EXAMPLE, BUILTIN_LABEL)  # the question the page runs
    local._zerogpu_budget = budget_for_chunks(local, request, 16)
    refused = 0
    admit = local.admit

    def counted_admit(request):  # says, if the page shows no refusal, whether the server gave one
        nonlocal refused
        try:
            admit(request)
        except limits.LimitError:
            refused += 1
            raise

    local.admit = counted_admit
    with serving(build_demo(local)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.goto(url)
        page.get_by_role("tab", name="Explore", exact=True).click()
        page.locator("#run-button").wait_for()
        page.evaluate("""() => { window.__seen = [];
            const node = document.querySelector('#status');
            new MutationObserver(() => window.__seen.push(node.innerText))
                .observe(node, {subtree: true, childList: true, characterData: true}); }""")
        page.locator("#run-button").click()
        page.wait_for_function(
            "document.querySelector('#status').innerText.includes('voting experts')",
            timeout=120_000)
        seen = page.evaluate("window.__seen")
        calls = len(fake.calls)
        monkeypatch.setenv("HEXVIZ_MAX_GPU_S", "5")  # now no run fits: refused before the queue
        # Gradio draws the refusal on the question box, and wipes it when any later event's
        # status changes (its loading store keeps no validation errors): on a loaded machine the
        # first run's follow-up events can end just after it. So the page notes it when drawn.
        page.evaluate("""() => { window.__refusal = null;
            new MutationObserver(() => {
                const hit = [...document.querySelectorAll('.validation-error')]
                    .find(node => node.innerText.includes('HEXVIZ_MAX_GPU_S'));
                if (hit && !window.__refusal) window.__refusal = hit.innerText;
            }).observe(document.body, {subtree: true, childList: true, characterData: true}); }""")
        # Gradio drops a click while the first run's event is still open in the page (its last
        # views may take a while to draw on a loaded machine): click until the refusal shows.
        deadline = time.monotonic() + 240
        while not page.evaluate("window.__refusal") and time.monotonic() < deadline:
            page.locator("#run-button").click()
            try:
                page.wait_for_function("window.__refusal", timeout=5_000)
            except PlaywrightTimeout:
                continue
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "zerogpu-refused.png"), full_page=True)
        shown = page.evaluate("window.__refusal")
        status = page.locator("#status").inner_text()
        assert shown and "HEXVIZ_MAX_GPU_S" in shown, (
            f"no refusal on the question box; the validator refused {refused} click(s); "
            f"status: {status!r}")
        browser.close()
    steps = sorted({int(m.group(1)) for s in seen if (m := re.search(r"step (\d+) of 64", s))})
    assert calls == 4 and steps[:3] == [16, 32, 48], (fake.calls, seen)  # before the end
    assert len(fake.calls) == calls  # the refused run asked for no GPU
