"""Reading what the decode loop did into runs: answers by a format or a task, once, after
decoding; the vote under the reader's tie rule; forks and redos read as their original."""

from __future__ import annotations

import numpy as np
import pytest

from hexviz.decode.assemble import (
    Reader,
    assemble,
    decode,
    iter_runs,
    with_fresh_one_step_likelihood,
)
from hexviz.decode.engine import decode_all
from hexviz.policy.settings import DecodeConfig, hex_experts
from hexviz.tasks import get_task
from tests.conftest import QUESTION


def test_a_reader_parses_by_its_format_or_by_its_task(builtin):
    text = "She has 3 + 4 = 7 now. \\boxed{12} #### 7"
    assert Reader("gsm8k").answer(builtin, [], text) == "7"
    assert Reader("boxed").answer(builtin, [], text) == "12"
    # a task reads what its parser reads: the whole answer region for the HEX tasks (here
    # "#### 9", though the text up to the first end token says 7), the text for tinygsm
    region = builtin.tokenizer("so 4 + 5 = 9. #### 9", add_special_tokens=False)["input_ids"]
    assert Reader("gsm8k", get_task("tinygsm")).answer(builtin, region, text) == "7"
    assert Reader("gsm8k", get_task("math")).answer(builtin, region, text) == (
        "so 4 + 5 = 9. #### 9")  # MATH reads an unboxed generation whole
    with pytest.raises(ValueError, match="unknown answer format 'nope'"):
        Reader("nope")


def test_the_runs_are_read_from_the_loops_record(random_lm, prompt_ids):
    experts, config = hex_experts(16, [4, 8]), DecodeConfig(16, 8)
    decoded = decode_all(random_lm, [prompt_ids], experts, config)
    run = assemble(random_lm, decoded, Reader("last_number"), [QUESTION])[0]
    assert run.prompt == QUESTION and run.answer_format == "last_number" and run.task is None
    for row, t in enumerate(run.trajectories):
        assert t.token_ids.tolist() == decoded.token_ids[row].tolist()
        assert t.text == random_lm.answer_text([i for i in t.token_ids.tolist()
                                                if i != random_lm.mask_id])
        assert t.one_step_log_likelihood == pytest.approx(float(decoded.one_step_log_likelihood[row]))
    again = decode(random_lm, prompt_ids, experts, config, "last_number", QUESTION)
    assert [t.answer for t in again.trajectories] == [t.answer for t in run.trajectories]


def test_likelihoods_come_only_once_the_decode_is_complete(random_lm, prompt_ids):
    snapshots = [p.runs()[0] for p in iter_runs(random_lm, [prompt_ids], hex_experts(16, [4, 8]),
                                                DecodeConfig(16, 8))]
    assert all(t.one_step_log_likelihood is None for r in snapshots[:-1] for t in r.trajectories)
    assert all(t.one_step_log_likelihood is not None for t in snapshots[-1].trajectories)
    fresh = with_fresh_one_step_likelihood(random_lm, decode(random_lm, prompt_ids,
                                                             hex_experts(16, [4, 8]),
                                                             DecodeConfig(16, 8)))
    for a, b in zip(fresh.trajectories, snapshots[-1].trajectories, strict=True):
        assert a.one_step_log_likelihood == pytest.approx(b.one_step_log_likelihood, abs=1e-9)


def test_a_task_reads_the_runs_and_a_fork_reads_like_its_original(builtin):
    prompt = builtin.format_prompt(QUESTION)
    decoded = decode_all(builtin, [prompt], hex_experts(128, [32, 64]), DecodeConfig(128, 64))
    by_task = Reader("gsm8k", get_task("math"), "lowest_nll")
    run = assemble(builtin, decoded, by_task, [QUESTION])[0]
    assert (run.task, run.tie_rule, run.vote.rule) == ("math", "lowest_nll", "lowest_nll")
    region = [get_task("math").parse(builtin.tokenizer.decode(t.token_ids.tolist(),
                                                              skip_special_tokens=False))
              for t in run.trajectories]
    assert [t.answer for t in run.trajectories] == region  # MATH reads the whole region
    assert Reader.of(run) == by_task  # what a fork or a redo of this run is read with


def test_end_fraction_and_walls_are_read_off_the_arrays(end_heavy_lm):
    prompt = end_heavy_lm.format_prompt(QUESTION)
    decoded = decode_all(end_heavy_lm, [prompt], hex_experts(32, [32]), DecodeConfig(32, 32))
    t = assemble(end_heavy_lm, decoded, Reader("last_number"))[0].trajectories[0]
    ends = np.isin(decoded.token_ids[0], end_heavy_lm.end_ids)
    assert t.end_fraction == pytest.approx(ends.mean()) and t.collapsed
