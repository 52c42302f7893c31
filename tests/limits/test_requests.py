"""Limits on a request: one decode's size, the step cap of a parallel sampler included."""

from __future__ import annotations

import pytest

from hexviz import limits


def test_the_step_cap_of_a_parallel_sampler_is_bounded_too():
    small = limits.Limits(max_steps=100)
    limits.check_decode(128, 64, 5, small)  # fixed: 64 steps
    with pytest.raises(limits.LimitError, match="up to gen_length = 128 steps.*HEXVIZ_MAX_STEPS"):
        limits.check_decode(128, 64, 5, small, step_cap=128)


def test_prompts_and_seeds_are_checked_in_the_users_terms():
    small = limits.Limits(max_prompt_tokens=8, max_experts=4)
    limits.check_prompt("How many apples?", small)
    with pytest.raises(limits.LimitError, match="the prompt is empty"):
        limits.check_prompt("  \n", small)
    with pytest.raises(limits.LimitError, match="control character U\\+0007"):
        limits.check_prompt("ring\x07", small)
    with pytest.raises(limits.LimitError, match="the prompt is 9 tokens; this app allows 8"):
        limits.check_prompt_tokens(9, small)
    with pytest.raises(limits.LimitError, match="seeds > 1 need temperature > 0"):
        limits.check_seeds(2, 0.0, "low_confidence", small)
    limits.check_seeds(2, 0.0, "random", small)  # the random rule differs by seed
    with pytest.raises(limits.LimitError, match="seeds must be at most 4"):
        limits.check_seeds(5, 1.0, "low_confidence", small)
    assert limits.as_int(3.0, "steps") == 3
    with pytest.raises(limits.LimitError, match="steps must be a whole number"):
        limits.as_int(2.5, "steps")
