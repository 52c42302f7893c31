"""Measures of one expert's decoding order, computed from its recorded arrays alone.

Every function takes the numpy arrays a `Trajectory` holds (no model, no torch), so the same
numbers come out of a live run, a replayed JSON file and an eval record, for any model.

- `order_correlation`: Spearman's rank correlation between position and reveal step; 1 is
  left to right, -1 right to left, about 0 an order unrelated to position.
- `ar_ness`: the share of reveals that took the leftmost still-masked position (DiffuCoder's
  "AR-ness"); 1 for left to right.
- `early_end_share`: the share of end tokens among the tokens revealed in the first half of the
  steps (Rainbow Padding's diagnostic of the end-of-text wall).
- `is_wall_collapse`: the AfterEoT collapse itself, see its docstring.
"""

from __future__ import annotations

import numpy as np

MAX_SQUEEZED_TOKENS = 4  # text this short before the first end token can't hold worked reasoning


def _ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean of their ranks), as Spearman's rho needs."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.arange(len(values), dtype=np.float64)
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def order_correlation(reveal_step: np.ndarray) -> float:
    """Spearman's rho between position and reveal step over revealed positions; nan when it is
    undefined (fewer than two revealed positions, or all revealed in one step)."""
    revealed = np.flatnonzero(reveal_step >= 0)
    if len(revealed) < 2:
        return float("nan")
    steps = _ranks(reveal_step[revealed])
    positions = _ranks(revealed)
    if steps.std() == 0:
        return float("nan")
    return float(np.corrcoef(positions, steps)[0, 1])


def ar_ness(reveal_step: np.ndarray) -> float:
    """Share of revealed tokens that were, at their step, the leftmost still-masked position or
    next to it in one run of positions revealed together; nan when nothing is revealed."""
    revealed = reveal_step >= 0
    if not revealed.any():
        return float("nan")
    in_line = 0
    for step in np.unique(reveal_step[revealed]):
        before = (reveal_step >= 0) & (reveal_step < step)  # committed by earlier steps
        now = np.flatnonzero(reveal_step == step)
        frontier = int(np.argmin(before)) if not before.all() else len(before)
        # Tokens revealed this step count while they extend the frontier without a gap.
        for position in now:
            if position != frontier:
                break
            in_line += 1
            frontier += 1
            while frontier < len(before) and before[frontier]:
                frontier += 1
    return in_line / int(revealed.sum())


def early_end_share(token_ids: np.ndarray, reveal_step: np.ndarray, end_ids: tuple[int, ...],
                    steps: int) -> float:
    """Share of end tokens among the tokens revealed in the first half of ``steps``; nan if
    none was revealed then."""
    early = (reveal_step >= 0) & (reveal_step < steps / 2)
    if not early.any():
        return float("nan")
    return float(np.isin(token_ids[early], end_ids).mean())


def is_wall_collapse(token_ids: np.ndarray, reveal_step: np.ndarray,
                     end_ids: tuple[int, ...]) -> bool:
    """AfterEoT collapse: the answer was walled off by end tokens committed before it.

    True when the text before the first end token is at most `MAX_SQUEEZED_TOKENS` tokens and
    the end tokens were committed earlier (median reveal step) than that text, or there is no
    text at all. A short answer written first and padded afterwards is not a collapse; neither
    is a normal worked answer, however much padding follows it.
    """
    is_end = np.isin(token_ids, end_ids) & (reveal_step >= 0)
    if not is_end.any():
        return False
    first_end = int(np.argmax(is_end))
    if first_end > MAX_SQUEEZED_TOKENS:
        return False
    text_steps = reveal_step[:first_end]
    if len(text_steps) == 0:
        return True
    if (text_steps < 0).any():
        return False  # the text is not finished yet
    return bool(np.median(reveal_step[is_end]) < np.median(text_steps))
