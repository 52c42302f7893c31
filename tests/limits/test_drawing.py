"""Limits on drawing: the steps a long run draws, evenly spaced with both ends."""

from __future__ import annotations

import pytest

from hexviz import limits


@pytest.mark.parametrize("last,per_frame,expected", [
    (4, 10, [0, 1, 2, 3, 4]),  # fits: every step
    (256, 10, None),  # too many frames: 65 evenly spaced, both ends kept
    (256, 100_000, [0, 256]),  # a huge frame: still the first and the last
])
def test_sample_steps(last, per_frame, expected):
    steps = limits.sample_steps(last, per_frame, 65, 200_000)
    if expected is not None:
        assert steps == expected
    else:
        assert len(steps) == 65 and steps[0] == 0 and steps[-1] == 256
        assert steps == sorted(set(steps))
