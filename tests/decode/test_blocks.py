"""Blocks while decoding: AdaBlock's experts against the published ``generate_adablock`` (run as
published, `published_adablock`) token for token on the built-in model; with the delimiter
threshold at infinity, a fixed block size; schedules under ``fixed`` keep the run's tokens per
step; the blocks each row used are what the record says."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hexviz.decode.assemble import decode
from hexviz.decode.blocks import RowBlock, RowBlocks, schedule_counts
from hexviz.policy.settings import DecodeConfig, Expert
from hexviz.runs.record import dumps, loads
from tests.decode import published_adablock

QUESTIONS = [
    "Mia has 12 marbles. She gives 3 to Ben. She buys 5 more. Then she gets 2 times as many. "
    "How many marbles does Mia have now?",
    "Leo has 28 stamps. He buys 14 more and gives 7 to Ann. How many stamps does Leo have now?",
]
GEN_LENGTH = 128


class Published:
    """The checkpoint as the authors' code calls it: ``model(x).logits``, ``model.device``."""

    def __init__(self, lm) -> None:
        self.lm, self.device = lm, lm.device

    def __call__(self, x):
        return self.lm.model(input_ids=x)


def published_run(lm, prompt: list[int], fallback: int, threshold: float,
                  delimiter_threshold: float, delimiters: tuple[int, ...]):
    """The authors' function on one question: (answer ids, the length of each block)."""
    out, _, blocks = published_adablock.generate_adablock(
        Published(lm), torch.tensor([prompt]), gen_length=GEN_LENGTH, init_block_length=fallback,
        temperature=0.0, remasking="low_confidence", mask_id=lm.mask_id, threshold=threshold,
        delimiter_ids=list(delimiters), delimiter_threshold=delimiter_threshold)
    return out[0, len(prompt):].tolist(), blocks


def ada(delimiter_threshold: float, fallback: int, delimiters: tuple[int, ...]) -> Expert:
    return Expert(fallback, delimiter_threshold=delimiter_threshold, delimiter_ids=delimiters)


def threshold_config(value: float = 0.9) -> DecodeConfig:
    return DecodeConfig(gen_length=GEN_LENGTH, steps=64, sampler=f"threshold:{value:g}")


@pytest.fixture(scope="module")
def delimiters(builtin) -> tuple[int, ...]:
    from hexviz.models.tokens import delimiter_ids
    return delimiter_ids(builtin.tokenizer)


@pytest.mark.slow
@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize("delimiter_threshold,fallback", [(0.3, 8), (0.3, 16), (0.6, 8)])
def test_ada_equals_the_published_function(builtin, delimiters, question, delimiter_threshold,
                                           fallback):
    prompt = builtin.format_prompt(question)
    expert = ada(delimiter_threshold, fallback, delimiters)
    run = decode(builtin, prompt, [expert], threshold_config())
    t = run.trajectories[0]
    ids, sizes = published_run(builtin, prompt, fallback, 0.9, delimiter_threshold, delimiters)
    assert t.token_ids.tolist() == ids
    assert (t.blocks[:, 1] - t.blocks[:, 0]).tolist() == sizes
    if delimiter_threshold <= 0.3:  # the authors' threshold adapts on every question here
        assert any(size != fallback for size in sizes[:-1]), "no block adapted: a weak test"


def test_ada_equals_the_published_function_on_one_question(builtin, delimiters):
    """The quick tier's copy of the parity test: one question, the authors' settings."""
    prompt = builtin.format_prompt(QUESTIONS[1])
    t = decode(builtin, prompt, [ada(0.3, 8, delimiters)], threshold_config()).trajectories[0]
    ids, sizes = published_run(builtin, prompt, 8, 0.9, 0.3, delimiters)
    assert t.token_ids.tolist() == ids
    assert (t.blocks[:, 1] - t.blocks[:, 0]).tolist() == sizes
    assert sizes[0] != 8, "the first block adapted: what makes the test worth running"


@pytest.mark.parametrize("fallback", [8, 32])
def test_ada_without_a_delimiter_threshold_is_a_fixed_block_size(builtin, delimiters, fallback):
    prompt = builtin.format_prompt(QUESTIONS[0])
    run = decode(builtin, prompt, [ada(math.inf, fallback, delimiters), Expert(fallback)],
                 threshold_config())
    adaptive, fixed = run.trajectories
    assert adaptive.token_ids.tolist() == fixed.token_ids.tolist()
    assert adaptive.reveal_step.tolist() == fixed.reveal_step.tolist()
    assert adaptive.blocks.tolist() == fixed.blocks.tolist()
    ids, _ = published_run(builtin, prompt, fallback, 0.9, math.inf, delimiters)
    assert fixed.token_ids.tolist() == ids


def test_under_fixed_too_ada_without_a_threshold_is_a_fixed_block_size(builtin, delimiters):
    """The fixed sampler gives AdaBlock's fallback blocks the plain size's steps and counts."""
    run = decode(builtin, builtin.format_prompt(QUESTIONS[0]),
                 [ada(math.inf, 8, delimiters), Expert(8)], DecodeConfig(GEN_LENGTH, 64))
    adaptive, fixed = run.trajectories
    assert adaptive.reveal_step.tolist() == fixed.reveal_step.tolist()
    assert adaptive.token_ids.tolist() == fixed.token_ids.tolist()
    assert adaptive.steps_taken == fixed.steps_taken == 64


def test_ada_under_fixed_keeps_the_tokens_per_step(builtin, delimiters):
    """Each adaptive block gets ceil(size x steps / gen_length) steps and fills exactly then."""
    config = DecodeConfig(gen_length=GEN_LENGTH, steps=64)
    t = decode(builtin, builtin.format_prompt(QUESTIONS[0]), [ada(0.3, 8, delimiters)],
               config).trajectories[0]
    assert (t.token_ids != builtin.mask_id).all()
    sizes = (t.blocks[:, 1] - t.blocks[:, 0]).tolist()
    assert sum(sizes) == GEN_LENGTH and any(s != 8 for s in sizes)
    assert t.steps_taken == sum(-(-s // 2) for s in sizes)
    for start, end in t.blocks.tolist():
        steps = sorted(set(t.reveal_step[start:end].tolist()))
        assert len(steps) == -(-(end - start) // 2)  # every step of the block commits
        assert steps == list(range(steps[0], steps[0] + len(steps)))


def test_a_schedule_under_fixed_keeps_two_tokens_per_step(builtin):
    config = DecodeConfig(gen_length=GEN_LENGTH, steps=64)
    expert = Expert(8, schedule=(8, 8, 16, 32, 64))
    run = decode(builtin, builtin.format_prompt(QUESTIONS[0]), [expert, Expert(8)], config)
    t = run.trajectories[0]
    assert t.steps_taken == 64 and t.commits.tolist() == [2] * 64
    assert t.blocks.tolist() == [[0, 8], [8, 16], [16, 32], [32, 64], [64, 128]]
    for start, end in t.blocks.tolist():  # block by block, left to right
        assert t.reveal_step[start:end].min() == start // 2
        assert t.reveal_step[start:end].max() == end // 2 - 1


def test_blocks_survive_the_json(builtin, delimiters):
    experts = [ada(0.3, 8, delimiters), Expert(8, schedule=(32, 96)), Expert(16)]
    run = decode(builtin, builtin.format_prompt(QUESTIONS[1]), experts, threshold_config())
    back = loads(dumps(run))
    for a, b in zip(run.trajectories, back.trajectories, strict=True):
        assert a.expert == b.expert
        assert a.blocks.tolist() == b.blocks.tolist()
    assert back.trajectories[1].blocks.tolist() == [[0, 32], [32, 128]]


def test_a_stored_run_with_broken_blocks_is_refused(builtin, delimiters):
    import json
    run = decode(builtin, builtin.format_prompt(QUESTIONS[1]), [Expert(32)], threshold_config())
    d = json.loads(dumps(run))
    d["experts"][0]["blocks"] = [[0, 40], [32, 128]]
    with pytest.raises(ValueError, match="blocks must be"):
        loads(json.dumps(d))


def test_schedule_counts_split_what_is_left_over_the_steps_left():
    rows = [RowBlock(0, 10, 3, 5), RowBlock(4, 8, 0, 2)]
    eligible = torch.zeros(2, 16, dtype=torch.bool)
    eligible[0, :7], eligible[1, 4:8] = True, True
    scheduled, floor = schedule_counts(rows, eligible, step=4)
    assert scheduled.tolist() == [2, 4]  # 7 over 4 steps left; 4 over the last step
    assert floor.tolist() == [2, 2]  # 10 in 5 steps at its 2nd; 4 in 2 at its last


def test_a_fork_keeps_the_blocks_that_had_begun():
    used = RowBlocks(1)
    reveal = np.array([0, 0, 1, 1, 2, 2, 5, 5, -1, -1])
    used.restore(0, np.array([[0, 4], [4, 8], [8, 10]]), reveal, step=3)
    assert used.used[0] == [(0, 4, 0), (4, 8, 2)]
