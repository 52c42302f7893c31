"""Settings validation and the LLaDA reveal schedule."""

from __future__ import annotations

import pytest

from hexviz.config import DecodeConfig, Expert, baseline_experts, hex_block_lengths, hex_experts
from hexviz.schedule import block_bounds, reveal_count, tokens_per_step


@pytest.mark.parametrize("kwargs,message", [
    ({"block_length": 0}, r"block_length must be a positive integer \(got 0\)"),
    ({"block_length": 8, "remasking": "greedy"}, r"unknown remasking rule 'greedy'; choose one"),
    ({"block_length": 8, "temperature": -1.0}, r"temperature must be a finite number >= 0 \(got -1.0\)"),
])
def test_bad_expert(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Expert(**kwargs)


@pytest.mark.parametrize("kwargs,message", [
    ({"gen_length": 0}, r"gen_length must be a positive integer \(got 0\)"),
    ({"gen_length": 2048, "steps": 64}, r"gen_length must be at most 1024 \(got 2048\)"),
    ({"gen_length": 64, "steps": 0}, r"steps must be an integer from 1 to gen_length=64 \(got 0\)"),
    ({"gen_length": 64, "steps": 65}, r"\(got 65\)"),
])
def test_bad_decode_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DecodeConfig(**kwargs)


def test_block_must_divide_and_steps_must_be_multiple_of_blocks():
    config = DecodeConfig(gen_length=64, steps=32)
    with pytest.raises(ValueError, match=r"got 24; allowed: \[1, 2, 4, 8, 16, 32, 64\]"):
        config.check(Expert(24))
    with pytest.raises(ValueError, match=r"64 / block_length 1 = 64 blocks; got steps=32"):
        config.check(Expert(1))
    config.check(Expert(2))  # 32 blocks, one step each


def test_max_gen_length_is_configurable():
    assert DecodeConfig(gen_length=2048, steps=64, max_gen_length=4096).gen_length == 2048


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


def test_hex_set_scales_with_gen_length_and_orders_votes():
    assert hex_block_lengths(256) == [8, 16, 32, 64, 128]
    assert hex_block_lengths(64) == [2, 4, 8, 16, 32]
    experts = hex_experts(64, [16, 4], seeds=2, temperature=0.5)
    assert [(e.block_length, e.seed) for e in experts] == [(4, 0), (4, 1), (16, 0), (16, 1)]
    assert all(e.votes for e in experts)
    with pytest.raises(ValueError, match="seeds must be at least 1"):
        hex_experts(64, seeds=0)


def test_baselines_decode_the_whole_answer_and_never_vote():
    rows = baseline_experts(64, ["low_confidence", "margin"])
    assert [(e.block_length, e.remasking, e.votes) for e in rows] == [
        (64, "low_confidence", False), (64, "margin", False)]
    assert len(baseline_experts(64, ["margin", "margin"])) == 1
