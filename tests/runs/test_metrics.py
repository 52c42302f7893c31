"""Order metrics on hand-built reveal orders whose values are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hexviz.runs.metrics import ar_ness, early_end_share, is_wall_collapse, order_correlation

END = (90, 91)  # end-of-turn, end-of-text
LEFT_TO_RIGHT = np.array([0, 1, 2, 3, 4, 5])
RIGHT_TO_LEFT = np.array([5, 4, 3, 2, 1, 0])
SHUFFLED = np.array([2, 0, 3, 1])  # hand-worked: rho 0, AR-ness 2/4


def test_left_to_right_is_fully_autoregressive():
    assert order_correlation(LEFT_TO_RIGHT) == pytest.approx(1.0)
    assert ar_ness(LEFT_TO_RIGHT) == 1.0


def test_right_to_left_is_the_opposite():
    assert order_correlation(RIGHT_TO_LEFT) == pytest.approx(-1.0)
    assert ar_ness(RIGHT_TO_LEFT) == pytest.approx(1 / 6)  # only the last reveal is leftmost


def test_a_shuffled_order():
    # positions 0..3 revealed at steps 2, 0, 3, 1: sum of squared rank differences 10,
    # rho = 1 - 6 * 10 / (4 * 15) = 0. Leftmost reveals: position 0 at step 2 (leftmost
    # masked), position 2 at step 3 (0, 1 and 3 done); 1 at step 0 and 3 at step 1 are not.
    assert order_correlation(SHUFFLED) == pytest.approx(0.0)
    assert ar_ness(SHUFFLED) == pytest.approx(0.5)


def test_several_tokens_per_step_count_while_they_extend_the_frontier():
    # step 0 reveals 0 and 1, step 1 reveals 2 and 3: each extends the frontier.
    assert ar_ness(np.array([0, 0, 1, 1])) == 1.0
    # step 0 reveals 0 and 2 (gap at 1): only 0 counts; step 1 reveals 1 and 3: both count.
    assert ar_ness(np.array([0, 1, 0, 1])) == pytest.approx(3 / 4)
    # tied steps share average ranks (0.5, 0.5, 2.5, 2.5): rho = 4 / (2 * sqrt(5))
    assert order_correlation(np.array([0, 0, 1, 1])) == pytest.approx(2 / math.sqrt(5))


def test_undefined_cases_are_nan():
    assert math.isnan(order_correlation(np.array([-1, -1, 0])))
    assert math.isnan(order_correlation(np.array([0, 0, 0])))
    assert math.isnan(ar_ness(np.array([-1, -1])))


def test_early_end_share_counts_the_first_half_of_steps():
    tokens = np.array([5, 6, 90, 91, 91, 91])
    # steps 0..1 are the first half of 4: the two end tokens revealed at 0 and 1 -> 2 of 2
    assert early_end_share(tokens, np.array([3, 2, 3, 2, 1, 0]), END, steps=4) == 1.0
    # left to right: steps 0 and 1 revealed text -> 0 of 2
    assert early_end_share(tokens, np.array([0, 1, 2, 2, 3, 3]), END, steps=4) == 0.0
    assert math.isnan(early_end_share(tokens, np.full(6, -1), END, steps=4))


def test_wall_collapse_needs_short_text_behind_end_tokens_committed_first():
    squeezed = np.array([7, 8, 9, 90, 91, 91, 91, 91])
    wall_first = np.array([6, 7, 7, 5, 3, 2, 1, 0])  # tail first, "#### N" written last
    assert is_wall_collapse(squeezed, wall_first, END)
    text_first = np.array([0, 0, 1, 1, 2, 2, 3, 3])  # the same short answer, written first
    assert not is_wall_collapse(squeezed, text_first, END)
    nothing = np.array([90, 91, 91, 91])
    assert is_wall_collapse(nothing, np.array([3, 2, 1, 0]), END)  # LLaDA's empty answers
    worked = np.array([1, 2, 3, 4, 5, 6, 90, 91])
    assert not is_wall_collapse(worked, np.array([7, 6, 5, 4, 3, 2, 1, 0]), END)
    assert not is_wall_collapse(np.array([1, 2, 3]), np.array([0, 1, 2]), END)  # no end token
