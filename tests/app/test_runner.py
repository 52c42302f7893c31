"""The app's engine side: request validation, streaming snapshots, live evals."""

from __future__ import annotations

import pytest

from hexviz import models
from hexviz.app.loading import BUILTIN_LABEL
from hexviz.app.runner import LocalRunner, Runner, RunRequest
from tests.conftest import QUESTION, FakeRunner


@pytest.mark.parametrize("kwargs,message", [
    ({"prompt": "  "}, "the prompt is empty"),
    ({"blocks": (8, 8)}, "each block size may appear once"),
    ({"blocks": ()}, "at least one block size"),
    ({"remasking": "greedy"}, "unknown remasking rule 'greedy'"),
    ({"gen_length": -4}, r"gen_length must be a positive integer \(got -4\)"),
    ({"steps": 0}, r"steps must be a positive integer \(got 0\)"),
    ({"seeds": 0}, r"seeds must be at least 1 \(got 0\)"),
    ({"temperature": -0.5}, r"temperature must be a finite number >= 0 \(got -0.5\)"),
    ({"task": "trivia"}, "unknown task 'trivia'; choose one of gsm8k"),
    ({"cache": "full"}, "unknown cache mode 'full'; choose one of none, prefix, dual"),
    ({"length": "grow"}, "unknown length mode 'grow'; choose one of fixed, daedal, rho-eos"),
    ({"length": "daedal", "length_options": {"expansion_factor": 0}},
     r"--expansion-factor must be a positive integer \(got 0\)"),
    ({"length": "rho-eos", "length_options": {"high_conf_threshold": 1.5}},
     r"--high-conf-threshold must be a number strictly between 0 and 1 \(got 1.5\)"),
    ({"length_options": {"initial_length": 32}},
     "--initial-length set a growing canvas; add --length daedal or --length rho-eos"),
])
def test_bad_requests_are_refused_when_made(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RunRequest(**{"prompt": "Q?", **kwargs})


def test_a_request_sorts_its_block_sizes():
    assert RunRequest("Q?", blocks=(16, 4)).blocks == (4, 16)


def test_both_runners_satisfy_the_protocol():
    for candidate in (LocalRunner(), FakeRunner()):
        missing = [name for name in ("model_labels", "run", "evaluate")
                   if not callable(getattr(candidate, name, None))]
        assert missing == [], type(candidate).__name__
    assert set(Runner.__dict__) >= {"model_labels", "run", "evaluate"}




def test_a_refused_request_is_refused_before_the_weights_load(monkeypatch, random_model_dir):
    """The Explore form's refusals come from the tokenizer and the config (milliseconds), not
    after the model loads (seconds): loading the weights fails here, and the refusal says
    what is wrong with the request."""
    from hexviz.models import loader

    monkeypatch.setattr(loader, "load", lambda *a, **kw: pytest.fail("weights loaded"))
    local = LocalRunner({"m": str(random_model_dir)})
    too_long = RunRequest("Tom has 5 apples?", model="m", gen_length=4096)
    with pytest.raises(ValueError, match="at most .* for this model and prompt"):
        next(iter(local.run(too_long)))
    with pytest.raises(ValueError, match="block_length must divide gen_length=64"):
        local.check(RunRequest("Tom has 5 apples?", model="m", blocks=(5,), gen_length=64))
    local.check(RunRequest("Tom has 5 apples?", model="m"))  # fits: nothing is raised
    with pytest.raises(ValueError, match=r"--initial-length \(300\) must not be above the "
                                         r"maximum length --gen-length \(64\)"):
        local.check(RunRequest("Tom has 5 apples?", model="m", length="daedal",
                               length_options={"initial_length": 300}))
    with pytest.raises(ValueError, match="at most .* for this model and prompt"):
        local.check(RunRequest("Tom has 5 apples?", model="m", length="rho-eos",
                               gen_length=4096))  # the canvas may not outgrow the positions
    assert not local.shelf.cache


def test_snapshots_stream_then_the_finished_run(random_model_dir):
    local = LocalRunner({"m": str(random_model_dir)}, snapshot_every=4)
    runs = list(local.run(RunRequest("Hi", "m", blocks=(4, 8), gen_length=16, steps=16)))
    assert [r.steps_done for r in runs] == [1, 4, 8, 12, 16]  # step 1: a first figure at once
    assert runs[-1].complete and not runs[0].complete
    revealed = [int((r.trajectories[0].reveal_step >= 0).sum()) for r in runs]
    assert revealed == [1, 4, 8, 12, 16]  # B=4 over 16 steps: one token per step
    labels = [t.expert.label for t in runs[-1].trajectories]
    assert labels == ["B=4 low_confidence", "B=8 low_confidence", "whole (low_confidence)",
                      "whole (margin)", "whole (random)"]


def test_a_task_builds_the_prompt_and_parses_every_snapshot(random_model_dir):
    from transformers import AutoTokenizer

    from hexviz.tasks import get_task
    from hexviz.tasks.base import Problem

    local = LocalRunner({"m": str(random_model_dir)}, snapshot_every=8)
    runs = list(local.run(RunRequest("Hi", "m", blocks=(8,), gen_length=16, steps=16,
                                     task="gsm8k")))
    task, tokenizer = get_task("gsm8k"), AutoTokenizer.from_pretrained(random_model_dir)
    assert runs[-1].prompt_ids == task.prompt_ids(tokenizer, Problem("Hi", None))
    assert all(r.task == "gsm8k" for r in runs)
    final = runs[-1].trajectories[0]
    assert final.answer == task.parse(tokenizer.decode(final.token_ids.tolist(),
                                                       skip_special_tokens=False))
    assert final.one_step_log_likelihood < 0


def test_model_defaults_fill_what_the_request_leaves_out(random_model_dir):
    local = LocalRunner({"m": str(random_model_dir)})
    *_, run = local.run(RunRequest("Hi", "m", blocks=(32,), baselines=False))
    assert (run.config.gen_length, run.config.steps) == (64, 64)  # no hexviz.json: 64 and 64




def growing_parity(local: LocalRunner, label: str, cli_args: list[str], capsys,
                   **settings) -> None:
    """The runner's DAEDAL run of ``settings`` (baselines asked for, as the form does) is
    `hexviz run --length daedal` with ``cli_args``: the same plan (the authors' settings, no
    whole-answer baselines, said in a note), the same tokens."""
    import json

    from hexviz import cli

    request = RunRequest(QUESTION, label, length="daedal", **settings)
    notes = local.notes(request)
    assert "note: no whole-answer baselines with --length daedal (they decode a fixed " \
           "length)" in notes
    runs = list(local.run(request))
    run = runs[-1]
    assert run.complete and not runs[0].complete  # snapshots, then the finished run
    assert run.config.length.mode == "daedal" and all(t.expert.votes for t in run.trajectories)
    assert cli.main(["run", "--prompt", QUESTION, "--length", "daedal", *cli_args,
                     "--json"]) == 0
    out, err = capsys.readouterr()
    d = json.loads(out)
    assert [n for n in notes if "baselines" not in n] == err.splitlines()  # the same fits
    assert d["config"]["length"] == run.config.length.to_json()
    assert [e["block_length"] for e in d["experts"]] == [
        t.expert.block_length for t in run.trajectories]
    assert [e["token_ids"] for e in d["experts"]] == [
        t.token_ids.tolist() for t in run.trajectories]
    assert [e["canvas_length"] for e in d["experts"]] == [
        t.canvas_length.tolist() for t in run.trajectories]


def test_a_growing_canvas_decodes_as_hexviz_run_does(random_model_dir, capsys):
    local = LocalRunner({"m": str(random_model_dir)}, snapshot_every=4)
    growing_parity(local, "m", ["--model", str(random_model_dir), "--blocks", "4,8",
                                "--gen-length", "32", "--initial-length", "8"], capsys,
                   blocks=(4, 8), gen_length=32, length_options={"initial_length": 8})


@pytest.mark.slow
def test_the_builtin_models_growing_canvas_decodes_as_hexviz_run_does(builtin, monkeypatch,
                                                                     capsys):
    local = LocalRunner()
    local.shelf.cache[BUILTIN_LABEL] = builtin
    monkeypatch.setattr(models, "load", lambda *a, **kw: builtin)
    growing_parity(local, BUILTIN_LABEL, [], capsys)  # the model's lengths, the HEX set


@pytest.mark.slow
def test_live_scaling_eval_on_the_builtin_model():
    from hexviz.app.tabs import scaling

    seen = []
    results = LocalRunner().evaluate(BUILTIN_LABEL, 4, 2, 0.5, lambda d, t: seen.append((d, t)))
    assert len(results.records) == 4 and seen[-1] == (4, 4)
    assert len(results.voters) == 10  # 5 block sizes x 2 seeds
    fig, _ = scaling.scaling_views(results)
    assert list(fig.data[0].x) == list(range(1, 11))
    assert list(fig.data[2].x) == [5, 10]  # every block size with 1, then 2 seeds


def test_a_parallel_sampler_streams_and_ends_with_the_finished_run(random_model_dir):
    local = LocalRunner({"m": str(random_model_dir)}, snapshot_every=4)
    runs = list(local.run(RunRequest("Hi", "m", blocks=(4, 16), gen_length=16, steps=16,
                                     sampler="threshold:0.2", edit=0.5, baselines=False)))
    last = runs[-1]
    assert last.complete and not runs[0].complete
    assert last.config.sampler.spec == "threshold:0.2" and last.config.edit == 0.5
    assert last.steps_done == max(t.steps_taken for t in last.trajectories) < 16
    assert last.steps_done % 4 != 0 or len(runs) >= 2  # the last step is sent wherever it fell


@pytest.mark.parametrize("kwargs,message", [
    ({"sampler": "threshold:1.5"}, r"threshold must be in \(0, 1\] \(got 1.5\)"),
    ({"sampler": "factor:-1"}, r"factor must be a number > 0 \(got -1\)"),
    ({"sampler": "entropy:-0.1"}, r"entropy must be a number >= 0 \(got -0.1\)"),
    ({"edit": 1.5}, r"edit must be in \(0, 1\] \(got 1.5\)"),
    ({"sampler": "greedy"}, r"unknown sampler 'greedy'"),
])
def test_bad_sampler_requests_are_refused_when_made(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RunRequest(**{"prompt": "Q?", **kwargs})


def test_a_fork_of_a_parallel_run_starts_within_the_experts_own_steps(random_model_dir):
    from hexviz.app.runner import ForkRequest

    local = LocalRunner({"m": str(random_model_dir)})
    *_, run = local.run(RunRequest("Hi", "m", blocks=(4, 16), gen_length=16, steps=16,
                                   sampler="threshold:0.2", baselines=False))
    taken = run.trajectories[1].steps_taken
    with pytest.raises(ValueError, match=f"from 0 to {taken - 1}"):
        ForkRequest(run, 1, taken, model="m")
    *_, fork = local.fork(ForkRequest(run, 1, taken - 1, model="m"))
    assert fork.trajectories[0].token_ids.tolist() == run.trajectories[1].token_ids.tolist()


def test_a_fork_keeps_a_schedule_or_adablock_unless_a_block_length_is_given(random_model_dir):
    """Continued with the same settings, a schedule or AdaBlock expert decodes as it did; a
    block length picked for the fork makes its blocks plain."""
    from hexviz.app.runner import ForkRequest

    local = LocalRunner({"m": str(random_model_dir)})
    *_, run = local.run(RunRequest("Hi", "m", blocks="2+6+8,ada", gen_length=16, steps=8,
                                   baselines=False))
    for i, t in enumerate(run.trajectories):
        same = ForkRequest(run, i, 3, model="m")
        assert same.expert_after() == t.expert
        *_, fork = local.fork(same)
        assert fork.trajectories[0].token_ids.tolist() == t.token_ids.tolist()
    plain = ForkRequest(run, 0, 3, model="m", block_length=8).expert_after()
    assert (plain.schedule, plain.block_length, plain.votes) == ((), 8, True)


def test_a_cached_request_and_its_exact_redo(random_model_dir):
    local = LocalRunner({BUILTIN_LABEL: "builtin", "m": str(random_model_dir)})
    request = RunRequest("Q?", model=BUILTIN_LABEL, blocks=(4, 8), gen_length=16, steps=8,
                         cache="dual", baselines=False)
    *_, cached = local.run(request)
    assert cached.config.cache == "dual" and cached.complete
    *_, exact = local.redo(cached, BUILTIN_LABEL, "none")
    assert exact.config.cache == "none" and exact.prompt_ids == cached.prompt_ids
    assert [t.expert for t in exact.trajectories] == [t.expert for t in cached.trajectories]
    assert exact.timing.positions > cached.timing.positions
    *_, plain = local.run(RunRequest("Q?", model="m", blocks=(4,), gen_length=16, steps=8,
                                     cache="prefix"))
    assert plain.config.cache == "none"  # a model without a cache runs exact
    with pytest.raises(ValueError, match="forking needs the run's own model"):
        next(local.redo(cached, "m", "prefix"))


def test_forks_and_redos_read_their_answers_as_the_original_did(random_model_dir):
    from hexviz.app.runner import ForkRequest

    local = LocalRunner({"m": str(random_model_dir)})
    *_, run = local.run(RunRequest("Hi", "m", blocks=(4,), gen_length=16, steps=16,
                                   baselines=False, task="arcc"))
    run.tie_rule = "frequency_lowest_nll"
    *_, fork = local.fork(ForkRequest(run, 0, 8, "m", block_length=8))
    *_, redo = local.redo(run, "m", "none")
    for other in (fork, redo):
        assert (other.task, other.tie_rule) == ("arcc", "frequency_lowest_nll")
    assert [t.answer for t in redo.trajectories] == [t.answer for t in run.trajectories]


def test_candidates_see_the_canvas_as_it_stood_before_later_edits(builtin, monkeypatch):
    from hexviz.decode import engine

    local = LocalRunner()
    local.shelf.cache[local.model_labels()[0]] = builtin
    request = RunRequest("Nora has 12 coins. She finds 7 more. How many coins does Nora have?",
                         sampler="threshold:0.9", edit=0.3, baselines=False)
    *_, run = local.run(request)
    index, t = next((i, t) for i, t in enumerate(run.trajectories) if len(t.edits))
    step, position, old, new = (int(v) for v in t.edits[0])
    seen = {}
    monkeypatch.setattr(engine, "top_candidates",
                        lambda lm, prompt, answer, at, k: seen.update(answer=answer) or [])
    local.candidates(local.model_labels()[0], run, index, step, position, 4)
    assert old != new and seen["answer"][position] == old  # the edit came later
    local.candidates(local.model_labels()[0], run, index, step + 1, position, 4)
    assert seen["answer"][position] == new


def test_notes_say_what_the_plan_changed_as_the_cli_does(builtin, random_model_dir):
    local = LocalRunner({"built-in": models.BUILTIN, "bert": str(random_model_dir)})
    local.shelf.cache["built-in"] = builtin
    question = "Tom has 5 apples. He buys 3 more. How many apples does Tom have now?"
    (fitted,) = local.notes(RunRequest(question, "built-in", task="gsm8k"))
    assert "using gen_length 128, steps 64 (the paper's ratios)" in fitted
    assert local.notes(RunRequest(question, "built-in")) == ()
    (exact,) = local.notes(RunRequest(question, "bert", cache="dual", gen_length=16, steps=16))
    assert "cache 'dual' decodes exactly, as cache 'none'" in exact


def test_a_dvoting_request_streams_its_rounds_and_is_not_forked(random_model_dir):
    from hexviz.app.runner import ForkRequest

    local = LocalRunner({"m": str(random_model_dir)}, snapshot_every=2)
    request = RunRequest("Hi", "m", gen_length=16, strategy="dvoting", rounds=3)
    assert request.temperature == 0.6 and request.strategy_of().rounds == 3
    *snapshots, run = local.run(request)
    assert snapshots and run.complete and run.config.strategy.name == "dvoting"
    assert [t.expert.round for t in run.trajectories] == list(range(1, len(run.trajectories) + 1))
    with pytest.raises(ValueError, match="a dVoting round starts from the rounds before it"):
        ForkRequest(run, 0, 0, model="m")
