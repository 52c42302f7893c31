"""The planner: the CLI, the app and the eval plan a decode alike from the same settings (the
paper's lengths fitted to the model included), settings are refused before any model loads,
and a model without a block cache decodes exactly with a note saying so."""

from __future__ import annotations

import dataclasses

import pytest

from hexviz import cli, limits
from hexviz.app.runner import LocalRunner, RunRequest
from hexviz.decode.plan import Settings, paper_lengths, plan
from hexviz.policy.samplers import EDIT_OFF, Sampler
from hexviz.tasks import get_task
from hexviz.tasks.base import Problem
from tests.conftest import QUESTION


def cli_settings(*flags: str) -> Settings:
    args = cli.build_parser().parse_args(["run", "--prompt", QUESTION, *flags])
    return cli.settings_of(args, args.task)


@pytest.mark.parametrize("flags,request_fields", [
    ((), {"baselines": False}),  # the CLI leaves baselines out unless asked; the app shows them
    (("--task", "gsm8k", "--baselines"), {"task": "gsm8k"}),  # the paper's lengths, fitted
    (("--blocks", "32,8", "--remasking", "margin", "--sampler", "threshold:0.80", "--edit",
      "0.9", "--cache", "dual", "--temperature", "0.5", "--seeds", "2", "--baselines"),
     {"blocks": (8, 32), "remasking": "margin", "sampler": "threshold:0.8", "edit": 0.9,
      "cache": "dual", "temperature": 0.5, "seeds": 2}),
    (("--gen-length", "64", "--tie", "lowest_nll", "--forbid-end-of-text", "--end-tokens-last"),
     {"gen_length": 64, "tie_rule": "lowest_nll", "baselines": False, "forbid_end_of_text": True,
      "end_tokens_last": True}),
])
def test_the_cli_and_the_app_plan_alike(builtin, flags, request_fields):
    from_cli = plan(builtin, [QUESTION], cli_settings(*flags))
    from_app = plan(builtin, [QUESTION], RunRequest(QUESTION, **request_fields))
    assert from_cli == from_app
    assert from_cli.questions == [QUESTION] and from_cli.prompts[0][-1] > 0


def test_the_app_runner_and_the_eval_use_the_same_plan(builtin):
    runner = LocalRunner()
    runner.shelf.cache[runner.model_labels()[0]] = builtin  # no second load
    request = RunRequest(QUESTION, task="gsm8k")
    assert runner._prepare(request).plan == plan(builtin, [QUESTION], request)
    eval_plan = plan(builtin, [Problem(QUESTION, "8")], request)  # eval reads Problems
    assert eval_plan == plan(builtin, [QUESTION], request)


def test_a_task_on_a_short_context_gets_the_papers_lengths_halved_with_a_note(builtin):
    p = plan(builtin, [QUESTION], Settings(task="gsm8k"))
    longest = len(p.prompts[0])
    gen_length, steps, note = paper_lengths(get_task("gsm8k"), builtin.max_length, longest)
    assert (p.config.gen_length, p.config.steps) == (gen_length, steps) == (128, 64)
    assert p.notes == (note,) and "using gen_length 128, steps 64" in note
    assert [e.block_length for e in p.experts if e.votes] == [4, 8, 16, 32, 64]
    assert p.reader.task.name == "gsm8k" and p.task.name == "gsm8k"
    given = plan(builtin, [QUESTION], Settings(task="gsm8k", gen_length=32))
    assert given.config.gen_length == 32 and given.notes == ()  # a length given is kept
    # an answer format asked for overrides the task's parser; the prompt stays the task's
    by_format = plan(builtin, [QUESTION], Settings(task="gsm8k", answer_format="last_number"))
    assert by_format.reader.task is None and by_format.reader.answer_format == "last_number"
    assert by_format.prompts == p.prompts


@pytest.mark.parametrize("max_length,prompt,expected", [
    (None, 500, (256, 128, None)), (4096, 300, (256, 128, None)),
    (256, 138, (64, 32, "using gen_length 64, steps 32")), (512, 200, (256, 128, None)),
    (256, 240, (32, 16, "using gen_length 32")),
])
def test_paper_lengths_fit_the_context(max_length, prompt, expected):
    gen_length, steps, note = paper_lengths(get_task("gsm8k"), max_length, prompt)
    assert (gen_length, steps) == expected[:2]
    assert (note is None) == (expected[2] is None) and (note is None or expected[2] in note)
    assert paper_lengths(get_task("tinygsm"), 256, 100) is None  # the model's own settings


def test_a_model_without_a_cache_is_planned_exact_with_a_note(random_lm):
    p = plan(random_lm, [QUESTION], Settings(cache="dual", gen_length=16, steps=16))
    assert p.config.cache == "none"
    assert p.notes[-1].startswith("note: ") and "cache 'dual' decodes exactly" in p.notes[-1]
    assert plan(random_lm, [QUESTION], Settings(gen_length=16, steps=16)).notes == ()


@pytest.mark.parametrize("fields,message", [
    ({"sampler": "nope"}, "unknown sampler 'nope'"),
    ({"sampler": "threshold:2"}, "threshold must be in \\(0, 1\\]"),
    ({"edit": 1.5}, "edit must be in \\(0, 1\\]"),
    ({"cache": "all"}, "unknown cache mode 'all'"),
    ({"task": "chess"}, "chess"),
    ({"blocks": (8, 8)}, "each block size may appear once"),
    ({"remasking": "best"}, "unknown remasking rule 'best'"),
    ({"steps": 0}, "steps must be a positive integer \\(got 0\\)"),
    ({"seeds": 0}, "seeds must be at least 1"),
    ({"temperature": -1.0}, "temperature must be a finite number >= 0"),
    ({"answer_format": "roman"}, "roman"),
    ({"tie_rule": "coin"}, "coin"),
    ({"seeds": 2}, "seeds > 1 need temperature > 0"),
])
def test_bad_settings_are_refused_when_made(fields, message):
    with pytest.raises(ValueError, match=message):
        Settings(**fields)


def test_a_sampler_is_parsed_once_and_carries_its_editing():
    s = Settings(sampler=" threshold:0.90 ", edit=0.5)
    assert s.sampler == Sampler("threshold", 0.9, 0.5) and s.edit == 0.5
    assert Settings(sampler=Sampler("bounded", 0.9, 0.3)).edit == 0.3


@pytest.mark.parametrize("fields,message", [
    ({"gen_length": 512}, r"gen_length must be at most \d+ for this model and prompt \(got 512\)"),
    ({"blocks": (5,), "gen_length": 64}, "block_length must divide gen_length=64"),
    ({"seeds": 30, "temperature": 1.0}, "seeds must be at most 24"),
])
def test_plans_that_do_not_fit_the_limits_or_the_model_are_refused(random_lm, fields, message):
    with pytest.raises(ValueError, match=message):
        plan(random_lm, [QUESTION], Settings(**fields))


def test_the_answer_length_is_refused_before_the_steps_it_would_take(random_lm):
    """gen_length 2000 would take 1000 steps; the refusal names what the user typed and how
    long an answer fits this model after this prompt, not the steps nobody typed."""
    n = len(random_lm.format_prompt(QUESTION))
    with pytest.raises(ValueError, match=rf"^gen_length must be at most {256 - n} for this "
                                         rf"model and prompt \(got 2000\)"):
        plan(random_lm, [QUESTION], Settings(gen_length=2000),
             limits.Limits(max_gen_length=4096))
    with pytest.raises(ValueError, match=r"^gen_length 64 takes 64 steps .*HEXVIZ_MAX_STEPS"):
        plan(random_lm, [QUESTION], Settings(gen_length=64), limits.Limits(max_steps=8))


def test_a_model_trained_to_edit_edits_by_default_and_off_turns_it_off(random_lm):
    editing = dataclasses.replace(random_lm, defaults=dataclasses.replace(random_lm.defaults,
                                                                          edit=0.9))
    small = dict(blocks=(8,), gen_length=16, steps=8, baselines=False)
    assert plan(editing, [QUESTION], Settings(**small)).config.edit == 0.9  # the model's
    assert plan(editing, [QUESTION], Settings(**small, edit=0.5)).config.edit == 0.5
    off = Settings(**small, sampler=Sampler("bounded", 0.9, 0.3), edit=EDIT_OFF)
    assert off.sampler == Sampler("bounded", 0.9) and off.edit == EDIT_OFF
    assert plan(editing, [QUESTION], off).config.edit is None
    assert plan(random_lm, [QUESTION], Settings(**small)).config.edit is None  # not trained to
    assert plan(random_lm, [QUESTION], Settings(**small, edit=EDIT_OFF)).config.edit is None



def test_the_models_edit_scope_is_the_default_and_gives_way_to_a_cache(random_lm):
    wide = dataclasses.replace(random_lm, defaults=dataclasses.replace(
        random_lm.defaults, edit=0.9, edit_scope="answer"))
    small = dict(blocks=(8,), gen_length=16, steps=8, baselines=False)
    assert plan(wide, [QUESTION], Settings(**small)).config.edit_scope == "answer"
    assert plan(wide, [QUESTION], Settings(**small, edit=0.5)).config.edit_scope == "answer"
    asked = plan(wide, [QUESTION], Settings(**small, edit_scope="block"))
    assert asked.config.edit_scope == "block" and not asked.notes
    assert plan(wide, [QUESTION], Settings(**small, edit=EDIT_OFF)).config.edit_scope == "block"
    cached = plan(wide, [QUESTION], Settings(**small, cache="prefix"))
    assert cached.config.edit_scope == "block"
    assert any("editing stays inside the block with --cache prefix" in n for n in cached.notes)
    with pytest.raises(ValueError, match="edit scope must be one of block, answer"):
        Settings(**small, edit_scope="all")
    with pytest.raises(ValueError, match="needs --edit"):  # asked for, on a model that does not
        plan(random_lm, [QUESTION], Settings(**small, edit_scope="answer"))
