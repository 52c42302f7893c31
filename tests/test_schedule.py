"""The LLaDA reveal schedule: tokens per step, and each expert's block at a step."""

from __future__ import annotations

import pytest

from hexviz.config import DecodeConfig, Expert
from hexviz.schedule import block_bounds, reveal_count, tokens_per_step


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
