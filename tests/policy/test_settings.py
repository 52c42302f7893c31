"""Settings: validation, the HEX expert set, baselines, block-size parsing, default lengths."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from hexviz.policy.length import LengthConfig
from hexviz.policy.settings import (
    BASELINE_RULES,
    AdaOptions,
    DecodeConfig,
    Expert,
    baseline_experts,
    hex_block_lengths,
    hex_experts,
    parse_blocks,
    resolve_lengths,
    scaled_steps,
)


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


def test_hex_set_scales_with_gen_length_and_orders_votes():
    assert hex_block_lengths(256) == [8, 16, 32, 64, 128]
    assert hex_block_lengths(64) == [2, 4, 8, 16, 32]
    experts = hex_experts(64, [16, 4], seeds=2, temperature=0.5)
    assert [(e.block_length, e.seed) for e in experts] == [(4, 0), (4, 1), (16, 0), (16, 1)]
    assert all(e.votes for e in experts)
    with pytest.raises(ValueError, match="seeds must be at least 1"):
        hex_experts(64, seeds=0)


def test_baselines_decode_the_whole_answer_and_never_vote():
    rows = baseline_experts(64, "entropy")
    assert [(e.block_length, e.remasking, e.votes) for e in rows] == [
        (64, "entropy", False), (64, "margin", False), (64, "random", False)]
    assert [e.remasking for e in baseline_experts(64, "margin")] == list(BASELINE_RULES)


@pytest.mark.parametrize("given,expected", [
    ("8,16,32", (8, 16, 32)), (" 32, 8 ,", (8, 32)), (["16", 4], (4, 16)), ((2,), (2,)),
])
def test_parse_blocks_sorts(given, expected):
    assert parse_blocks(given) == expected


@pytest.mark.parametrize("given,message", [
    ("x,y", "block sizes must be integers"), ("", "at least one block size"),
    ([], "at least one block size"), ("8,8,4", r"each block size may appear once \(got 8"),
])
def test_parse_blocks_refuses(given, message):
    with pytest.raises(ValueError, match=message):
        parse_blocks(given)


def test_repeated_block_sizes_are_refused_by_the_expert_set():
    with pytest.raises(ValueError, match="appear once"):
        hex_experts(64, [8, 8])


@pytest.mark.parametrize("given,expected", [
    ((None, None), (64, 32)),  # the model's own pair
    ((None, 16), (64, 16)),
    ((128, None), (128, 64)),  # an answer length of one's own: the model's 2 tokens per step
    ((32, None), (32, 32)),  # raised: the HEX set's B=1 needs a step per block
    ((128, 64), (128, 64)),
    ((0, 0), (64, 32)),  # the app's and the API's "not given"
])
def test_resolve_lengths(given, expected):
    assert resolve_lengths(*given, default_gen_length=64, default_steps=32) == expected


@pytest.mark.parametrize("gen_length,blocks,expected", [
    (256, None, 128),  # 2 tokens per step; the HEX set's 32 blocks of 8 divide 128
    (96, None, 64),  # 48 steps are not a multiple of B=3's 32 blocks: raised to 64
    (96, (48,), 48),  # two blocks: 48 steps is whole steps for each
    (64, (4, 16), 32),  # 16 blocks and 4 blocks: a multiple of 16
    (6, (2, 3), 6),  # 3 and 2 blocks: lcm 6
    (64, (0, -8), 32),  # sizes the expert set refuses later do not break the arithmetic
])
def test_scaled_steps_give_every_expert_whole_steps(gen_length, blocks, expected):
    steps = scaled_steps(gen_length, 64, 32, blocks)
    assert steps == expected
    config = DecodeConfig(gen_length, steps)
    for b in [b for b in blocks or hex_block_lengths(gen_length) if b > 0]:
        config.check(Expert(b))  # raises unless each block gets whole steps


def test_expert_json_round_trip():
    expert = Expert(8, "margin", 3, 0.5, votes=False)
    assert Expert.from_json(asdict(expert)) == expert
    old = {k: v for k, v in asdict(Expert(4)).items() if k != "votes"}
    assert Expert.from_json(old).votes


def test_the_sampler_is_part_of_the_config_in_its_canonical_spelling():
    config = DecodeConfig(64, 32, sampler=" threshold:0.90 ", edit=0.5)
    assert (config.sampler.spec, config.edit) == ("threshold:0.9", 0.5)
    assert config.sampler.name == "threshold" and config.sampler.edit == 0.5
    assert DecodeConfig(**config.to_json()) == config  # the JSON form round-trips
    assert DecodeConfig(64, 32).sampler.spec == "fixed" and DecodeConfig(64, 32).edit is None


@pytest.mark.parametrize("sampler,cap", [
    ("fixed", 32), ("bounded:0.9", 32),  # at least the schedule's share each step
    ("threshold:0.9", 64), ("factor:1", 64), ("entropy:0.1", 64),  # at least one token a step
])
def test_step_cap(sampler, cap):
    assert DecodeConfig(64, 32, sampler=sampler).step_cap == cap


@pytest.mark.parametrize("kwargs,message", [
    ({"sampler": "threshold:1.5"}, r"threshold must be in \(0, 1\] \(got 1.5\)"),
    ({"sampler": "factor:-1"}, r"factor must be a number > 0 \(got -1\)"),
    ({"sampler": "entropy:-0.1"}, r"entropy must be a number >= 0 \(got -0.1\)"),
    ({"edit": 0}, r"edit must be in \(0, 1\] \(got 0\)"),
    ({"sampler": "nope"}, r"unknown sampler 'nope'; choose one of fixed, threshold"),
])
def test_bad_sampler_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DecodeConfig(64, 32, **kwargs)


def test_cache_mode_is_checked_and_defaults_to_exact():
    from hexviz.policy.settings import CACHE_MODES

    assert DecodeConfig().cache == "none" and CACHE_MODES == ("none", "prefix", "dual")
    assert DecodeConfig(cache="dual").cache == "dual"
    with pytest.raises(ValueError, match=r"unknown cache mode 'full'; choose one of none, prefix"):
        DecodeConfig(cache="full")


@pytest.mark.parametrize("expert,config,message", [
    (Expert(8, schedule=(8, 8, 16)), DecodeConfig(128, 64), "sums to 32, not the answer length"),
    (Expert(1, schedule=(1,) * 128), DecodeConfig(128, 64), "128 blocks, more than steps=64"),
    (Expert(3, schedule=(3, 125)), DecodeConfig(128, 64), r"multiple of it \(got 3, 125\)"),
    (Expert(200, delimiter_threshold=0.3, delimiter_ids=(5,)), DecodeConfig(128, 64),
     "fallback block must be at most gen_length=128"),
    (Expert(8, delimiter_threshold=0.3, delimiter_ids=(5,)), DecodeConfig(128, 48),
     "steps must divide gen_length=128"),
    (Expert(8, schedule=(64, 64)), DecodeConfig(128, 64, length=LengthConfig("daedal")),
     "decodes blocks of one size"),
])
def test_schedules_that_do_not_fit_the_run_are_refused(expert, config, message):
    with pytest.raises(ValueError, match=message):
        config.check(expert)


def test_a_schedule_under_a_parallel_sampler_needs_no_even_steps():
    DecodeConfig(128, 64, sampler="threshold:0.9").check(Expert(3, schedule=(3, 125)))
    DecodeConfig(128, 48, sampler="threshold").check(
        Expert(8, delimiter_threshold=0.3, delimiter_ids=(5,)))


def test_experts_of_every_kind_in_vote_order():
    experts = hex_experts(128, "ada:0.5,32,grow,8", ada=AdaOptions(16, (7, 9)),
                          delimiter_ids=(5,))
    assert [e.blocks_spec for e in experts] == ["8", "32", "ada:0.5", "4+4+8+16+32+64"]
    assert experts[2].block_length == 16 and experts[2].delimiter_ids == (7, 9)
    assert hex_experts(128, "ada", delimiter_ids=(5,))[0].block_length == 8  # 128 / 16
    with pytest.raises(ValueError, match="no newline or sentence-end token"):
        hex_experts(128, "ada")


def test_an_expert_round_trips_through_its_json():
    for expert in [Expert(8), Expert(4, schedule=(4, 124), seed=2, temperature=0.5),
                   Expert(8, delimiter_threshold=0.4, delimiter_ids=(5, 6))]:
        assert Expert.from_json(expert.to_json()) == expert
    assert set(Expert(8).to_json()) == {"block_length", "remasking", "seed", "temperature",
                                        "votes"}


def test_an_adaptive_run_records_its_step_cap():
    ada = Expert(8, delimiter_threshold=0.3, delimiter_ids=(5,))
    config = DecodeConfig(128, 64).for_experts([Expert(8), ada])
    assert config.adaptive_blocks and config.variable and config.step_cap == 128
    assert DecodeConfig(**config.to_json() | {"length": config.length}) == config
    assert "adaptive_blocks" not in DecodeConfig(128, 64).to_json()
