"""The LLaDA reveal schedule: tokens per step, and each expert's block at a step."""

from __future__ import annotations

import pytest

from hexviz.policy.schedule import (
    block_bounds,
    count_now,
    reveal_count,
    steps_left_in_block,
    tokens_per_step,
)
from hexviz.policy.settings import DecodeConfig, Expert


def test_tokens_per_step_spreads_the_remainder_first():
    assert tokens_per_step(10, 4) == [3, 3, 2, 2]
    assert tokens_per_step(8, 8) == [1] * 8
    assert sum(tokens_per_step(37, 5)) == 37


def test_block_bounds_and_counts_follow_each_expert():
    config = DecodeConfig(gen_length=32, steps=16)
    small, large = Expert(8), Expert(32)
    assert [block_bounds(small, config, s) for s in (0, 3, 4, 15)] == [
        (0, 8), (0, 8), (8, 16), (24, 32)]
    assert block_bounds(large, config, 15) == (0, 32)
    assert [reveal_count(small, config, s) for s in range(4)] == [2, 2, 2, 2]
    assert sum(reveal_count(large, config, s) for s in range(16)) == 32


@pytest.mark.parametrize("block_length,steps", [(2, 64), (8, 16), (16, 64), (64, 8)])
def test_every_block_is_revealed_in_its_own_steps(block_length, steps):
    config = DecodeConfig(gen_length=64, steps=steps)
    expert = Expert(block_length)
    per_block = config.steps_per_block(expert)
    for block in range(64 // block_length):
        span = range(block * per_block, (block + 1) * per_block)
        assert {block_bounds(expert, config, s) for s in span} == {
            (block * block_length, (block + 1) * block_length)}
        assert sum(reveal_count(expert, config, s) for s in span) == block_length


@pytest.mark.parametrize("masked,steps", [(8, 8), (8, 3), (7, 4), (1, 5), (16, 16), (5, 2)])
def test_count_now_spreads_a_block_like_tokens_per_step(masked, steps):
    """Asking ceil(left / steps left) at every step reproduces LLaDA's split exactly."""
    left, counts = masked, []
    for done in range(steps):
        counts.append(count_now(left, steps - done))
        left -= counts[-1]
    assert counts == tokens_per_step(masked, steps) and left == 0


def test_steps_left_in_block():
    config = DecodeConfig(gen_length=16, steps=8)  # B=4: 4 blocks of 2 steps
    assert [steps_left_in_block(Expert(4), config, s) for s in range(4)] == [2, 1, 2, 1]
