"""Limits on a request: one decode's size, the step cap of a parallel sampler included."""

from __future__ import annotations

import pytest

from hexviz import limits


def test_the_step_cap_of_a_parallel_sampler_is_bounded_too():
    small = limits.Limits(max_steps=100)
    limits.check_decode(128, 64, 5, small)  # fixed: 64 steps
    with pytest.raises(limits.LimitError, match="up to 128 steps.*HEXVIZ_MAX_STEPS"):
        limits.check_decode(128, 64, 5, small, step_cap=128)


def test_a_growing_canvas_takes_at_most_its_masks_in_steps():
    assert limits.growing_step_cap("rho-eos", 128, 64, 8) == 128
    # DAEDAL: 64 -> 128 in 8 growths and the step that stops, then at most 128 + 8 masks
    assert limits.growing_step_cap("daedal", 128, 64, 8) == 9 + 136
    assert limits.growing_step_cap("daedal", 128, 128, 8) == 1 + 136


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


def test_the_longest_answer_is_what_the_operator_and_the_model_after_the_prompt_allow():
    lim = limits.Limits(max_gen_length=256)
    assert limits.most_gen_length(lim) == 256  # a model of unknown context: the operator's
    assert limits.most_gen_length(lim, 256, 35) == 221  # the context after the prompt binds
    assert limits.most_gen_length(lim, 4096, 35) == 256
    assert limits.gen_length_choices([16, 128, 224, 240, 256], 256, lim) == [16, 128, 224, 240]


def test_a_too_long_answer_is_refused_with_what_binds():
    lim = limits.Limits(max_gen_length=4096)
    limits.check_gen_length(221, lim, 256, 35)
    with pytest.raises(limits.LimitError) as caught:
        limits.check_gen_length(2000, lim, 256, 35)
    assert str(caught.value) == ("gen_length must be at most 221 for this model and prompt "
                                 "(got 2000): the prompt takes 35 of the model's 256 positions")
    with pytest.raises(limits.LimitError, match=r"^gen_length must be at most 256 \(got 512; "
                                                r"HEXVIZ_MAX_GEN_LENGTH\)$"):
        limits.check_gen_length(512, limits.Limits(max_gen_length=256), 4096, 35)
    with pytest.raises(limits.LimitError, match="leaves none for an answer; shorten the prompt"):
        limits.check_gen_length(16, lim, 256, 300)


def test_steps_nobody_typed_are_refused_in_terms_of_the_answer_length():
    small = limits.Limits(max_steps=100)
    with pytest.raises(limits.LimitError, match=r"^gen_length 256 takes 128 steps at this "
                                                r"model's tokens per step, more than this app's "
                                                r"100 \(HEXVIZ_MAX_STEPS\)"):
        limits.check_decode(256, 128, 5, small, steps_given=False)
    with pytest.raises(limits.LimitError, match=r"^steps must be at most 100 \(got 128"):
        limits.check_decode(256, 128, 5, small)
