"""Limits on drawing: which steps a chart or scrubber draws when a run has more than it can show."""

from __future__ import annotations


def sample_steps(last: int, cells_per_frame: int, max_frames: int, max_cells: int) -> list[int]:
    """Steps 0..last to draw: all of them when they fit, else evenly spaced with both ends."""
    budget = max(2, min(max_frames, max_cells // max(cells_per_frame, 1)))
    if last + 1 <= budget:
        return list(range(last + 1))
    return sorted({round(i * last / (budget - 1)) for i in range(budget)})
