"""The growing-canvas loop: token-for-token parity with the published DAEDAL and rho-EOS
``generate`` (run as published, `published_daedal` / `published_rho_eos`) on the built-in
model, for every block size of the default HEX set; the event log against the final canvas;
batching; the record's JSON."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch

from hexviz.decode.assemble import decode, decode_many, iter_runs
from hexviz.policy.length import LengthConfig
from hexviz.policy.settings import DecodeConfig, Expert, hex_experts
from hexviz.runs import events as ev
from hexviz.runs.record import dumps, loads
from tests.decode import published_daedal, published_rho_eos

QUESTIONS = [
    "Mia has 12 marbles. She gives 3 to Ben. She buys 5 more. Then she gets 2 times as many. "
    "How many marbles does Mia have now?",
    "A box holds 6 pens. Sam buys 4 boxes and gives away 9 pens. How many pens are left?",
]
GEN_LENGTH = 128  # the built-in model's answer region: the maximum here
PUBLISHED = {"daedal": published_daedal.generate, "rho-eos": published_rho_eos.generate}


class Published:
    """The checkpoint as the authors' code calls it: ``model(x, attention_mask=...).logits``;
    it keeps every canvas it was asked about (one per step)."""

    def __init__(self, lm, prompt_length: int) -> None:
        self.lm, self.prompt_length, self.canvases = lm, prompt_length, []

    def __call__(self, x, attention_mask=None):
        self.canvases.append(x[0, self.prompt_length:].tolist())
        return self.lm.model(input_ids=x, attention_mask=attention_mask)


def published_run(lm, mode: str, prompt: list[int], block_length: int,
                  **kwargs) -> tuple[list[int], list[list[int]]]:
    """The authors' function on one question, its defaults but for the ids and lengths: the
    final canvas, and the canvas before each step."""
    model = Published(lm, len(prompt))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # their autocast(cuda) on a CPU machine
        out = PUBLISHED[mode](model, torch.tensor([prompt]), lm.tokenizer,
                              block_length=block_length, max_gen_length=GEN_LENGTH,
                              mask_id=lm.mask_id, eos_token_id=lm.tokenizer.eos_token_id,
                              **kwargs)
    return out[0][len(prompt):].tolist(), model.canvases


def assert_same_steps(lm, t, mode: str, prompt: list[int], **kwargs) -> None:
    """``t`` left the published function's final canvas, and stood where it stood before
    every step (lengths, masks, tokens)."""
    final, canvases = published_run(lm, mode, prompt, t.expert.block_length, **kwargs)
    assert t.token_ids.tolist() == final, t.expert.label
    ours = [t.canvas_at(step, lm.mask_id).ids.tolist() for step in range(t.steps_taken)]
    assert ours == canvases, t.expert.label


def config(mode: str, **length) -> DecodeConfig:
    return DecodeConfig(gen_length=GEN_LENGTH, steps=64, length=LengthConfig(mode, **length))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["daedal", "rho-eos"])
@pytest.mark.parametrize("question", QUESTIONS)
def test_every_hex_expert_equals_the_published_function(builtin, mode, question):
    prompt = builtin.format_prompt(question)
    experts = hex_experts(GEN_LENGTH)
    run = decode(builtin, prompt, experts, config(mode))
    for t in run.trajectories:
        assert_same_steps(builtin, t, mode, prompt)


@pytest.mark.parametrize("mode, changed, published_kwargs", [
    ("daedal", {"initial_length": 16, "expansion_factor": 4},
     {"initial_gen_length": 16, "expansion_factor": 4}),
    # a mask in the middle becomes eight: the insertion rule at work
    ("daedal", {"low_conf_threshold": 0.5, "expand_eos_confidence_threshold": 0.99},
     {"low_conf_threshold": 0.5, "expand_eos_confidence_threshold": 0.99}),
    ("rho-eos", {"low_density_threshold": 0.2, "high_density_threshold": 0.3},
     {"low_density_threshold": 0.2, "high_density_threshold": 0.3}),
    ("rho-eos", {"scheduler": "const", "expansion_factor": 4},
     {"scheduler": "const", "expansion_factor": 4}),
])
def test_changed_settings_follow_the_published_function(builtin, mode, changed,
                                                        published_kwargs):
    prompt = builtin.format_prompt(QUESTIONS[0])
    run = decode(builtin, prompt, [Expert(16)], config(mode, **changed))
    default = decode(builtin, prompt, [Expert(16)], config(mode))
    assert_same_steps(builtin, run.trajectories[0], mode, prompt, **published_kwargs)
    assert run.trajectories[0].events.kind.tolist() != (  # the setting mattered
        default.trajectories[0].events.kind.tolist())


def test_the_log_replays_to_the_final_canvas_and_lengths(builtin):
    prompt = builtin.format_prompt(QUESTIONS[0])
    for mode in ("daedal", "rho-eos"):
        run = decode(builtin, prompt, [Expert(8), Expert(32)], config(mode))
        for t in run.trajectories:
            final = ev.final_canvas(t.events, builtin.mask_id)
            assert final.ids.tolist() == t.token_ids.tolist()
            assert t.canvas_length[-1] == len(t.token_ids) <= GEN_LENGTH
            assert [len(t.canvas_at(s + 1, builtin.mask_id)) for s in range(t.steps_taken)] == (
                t.canvas_length.tolist())
            assert t.commits.sum() == (t.events.kind == ev.COMMIT).sum()
            assert (t.reveal_step >= 0).all() and t.finished


def test_daedal_starts_by_growing_then_pads_with_end_tokens(builtin):
    prompt = builtin.format_prompt(QUESTIONS[0])
    t = decode(builtin, prompt, [Expert(32)], config("daedal", initial_length=16)).trajectories[0]
    kinds = t.events.kind.tolist()
    first = t.events.events()[0]
    assert first.kind == ev.INSERT and first.position == 16  # masks appended at the end
    pad = [e for e in t.events.events() if e.kind == ev.COMMIT and np.isnan(e.prob)]
    assert len(pad) == 32 // 2 and {e.token for e in pad} == {builtin.tokenizer.eos_token_id}
    assert kinds.index(ev.COMMIT) > 0


def test_experts_batched_equal_each_alone(builtin):
    prompts = [builtin.format_prompt(q) for q in QUESTIONS]
    experts = [Expert(8), Expert(32)]
    for mode in ("daedal", "rho-eos"):
        together = decode_many(builtin, prompts, experts, config(mode))
        for p, prompt in enumerate(prompts):
            for k, expert in enumerate(experts):
                alone = decode(builtin, prompt, [expert], config(mode)).trajectories[0]
                assert together[p].trajectories[k].token_ids.tolist() == alone.token_ids.tolist()
                assert together[p].trajectories[k].events.step.tolist() == (
                    alone.events.step.tolist())


def test_finished_rows_cost_nothing(builtin):
    prompt = builtin.format_prompt(QUESTIONS[0])
    run = decode(builtin, prompt, [Expert(4), Expert(64)], config("daedal"))
    slow, fast = (t.steps_taken for t in run.trajectories)
    assert fast < slow and run.steps_done == slow
    assert run.timing.row_passes == sum(run.timing.step_rows) <= fast * 2 + (slow - fast)
    assert run.timing.step_rows[-1] == 1


def test_sampling_is_seeded(builtin):
    prompt = builtin.format_prompt(QUESTIONS[0])
    experts = [Expert(16, seed=0, temperature=1.0), Expert(16, seed=1, temperature=1.0)]
    a, b = decode(builtin, prompt, experts, config("daedal")).trajectories
    again = decode(builtin, prompt, experts[:1], config("daedal")).trajectories[0]
    assert a.token_ids.tolist() == again.token_ids.tolist()
    assert a.token_ids.tolist() != b.token_ids.tolist()


def test_a_growing_run_survives_its_json(builtin):
    prompt = builtin.format_prompt(QUESTIONS[0])
    run = decode(builtin, prompt, [Expert(8), Expert(32)], config("rho-eos"))
    back = loads(dumps(run))
    assert back.config.length == run.config.length
    for a, b in zip(run.trajectories, back.trajectories, strict=True):
        assert a.token_ids.tolist() == b.token_ids.tolist()
        assert a.canvas_length.tolist() == b.canvas_length.tolist()
        assert a.events.kind.tolist() == b.events.kind.tolist()
        assert a.reveal_step.tolist() == b.reveal_step.tolist()


def test_progress_streams_the_growing_canvas(builtin):
    prompt = builtin.format_prompt(QUESTIONS[0])
    steps = [p.step for p in iter_runs(builtin, [prompt], [Expert(32)], config("daedal"))]
    assert steps == list(range(1, len(steps) + 1))


@pytest.mark.parametrize("settings, message", [
    ({"length": LengthConfig("daedal", initial_length=200)}, "must not be above the maximum"),
    ({"length": LengthConfig("daedal"), "sampler": "threshold:0.9"}, "leave --sampler"),
    ({"length": LengthConfig("rho-eos"), "edit": 0.9}, "does not edit"),
    ({"length": LengthConfig("rho-eos"), "cache": "dual"}, "without a block cache"),
])
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        DecodeConfig(**{"gen_length": GEN_LENGTH, "steps": 64, **settings})


def test_a_fork_of_a_growing_canvas_is_refused(builtin):
    from hexviz.decode.engine import Resume, iter_decode

    prompt = builtin.format_prompt(QUESTIONS[0])
    run = decode(builtin, prompt, [Expert(32)], config("daedal"))
    with pytest.raises(ValueError, match="fixed-length canvas"):
        next(iter_decode(builtin, [prompt], [Expert(32)], config("daedal"),
                         resume=Resume(1, run.trajectories)))


def test_fixed_length_is_unchanged_by_the_length_setting(builtin):
    prompt = builtin.format_prompt(QUESTIONS[0])
    base = DecodeConfig(gen_length=GEN_LENGTH, steps=64)
    a = decode(builtin, prompt, [Expert(32)], base).trajectories[0]
    b = decode(builtin, prompt, [Expert(32)], replace(base, length=LengthConfig())).trajectories[0]
    assert a.token_ids.tolist() == b.token_ids.tolist()
    assert not a.resized and a.canvas_length.tolist() == [GEN_LENGTH] * a.steps_taken


def test_rho_eos_with_the_papers_density_signal_decodes_otherwise(builtin):
    prompt = builtin.format_prompt(QUESTIONS[0])
    tail = decode(builtin, prompt, [Expert(16)], config("rho-eos")).trajectories[0]
    density = decode(builtin, prompt, [Expert(16)],
                     config("rho-eos", eos_signal="density")).trajectories[0]
    assert density.canvas_length.tolist() != tail.canvas_length.tolist()
    assert density.finished


def test_cut_tokens_keep_their_text(builtin):
    prompt = builtin.format_prompt(QUESTIONS[1])  # its canvas cuts written tokens
    run = decode(builtin, prompt, [Expert(4)], config("rho-eos"))
    t = run.trajectories[0]
    cut = {i for d in ev.deletions(t.events, builtin.mask_id) for i in d.ids
           if i != builtin.mask_id}
    assert cut and set(t.cut_texts) == cut
    assert t.cut_texts[min(cut)] == builtin.token_texts([min(cut)])[0]
    assert loads(dumps(run)).trajectories[0].cut_texts == t.cut_texts
