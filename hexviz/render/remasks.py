"""Positions a decode masked again, in the charts.

A dVoting round (``--strategy dvoting``, docs/strategies.md) after the first starts from the
round before's answer: its step 0 commits that answer's tokens (probability unknown: nan), then
masks again the positions the rounds so far disagree on (``remask`` events,
`hexviz.runs.events`), which the round decodes anew. The reveal order, the unmasking map and the
scrubber mark each re-masked position with a ring (○), what it held on hover; the tokens carried
over say so on hover, and tokens per step counts them apart. A run without remask events draws
exactly as before. Numpy and plotly only.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from hexviz.render import palette
from hexviz.runs import events as ev
from hexviz.runs.record import Trajectory

REMASK_COLOR = palette.REMASK  # vermillion rings: apart from the Viridis steps and the masks
SYMBOL = "circle-open"
NOTE = "○ re-masked at the round's start, decoded again: hover for what it held"


@dataclass(frozen=True)
class Remask:
    """A committed token masked again: at ``step``, at ``position`` (on the canvas of that
    step), holding ``old``."""

    step: int
    position: int
    old: int


def remasks(t: Trajectory) -> list[Remask]:
    """The expert's remask events, in log order."""
    log = t.events
    at = log.kind == ev.REMASK
    return [Remask(s, p, o) for s, p, o in zip(log.step[at].tolist(), log.position[at].tolist(),
                                               log.old[at].tolist(), strict=True)]


def marked(t: Trajectory) -> bool:
    """Whether the expert re-masked positions of a canvas that kept its length (a growing
    canvas's positions shift, so its marks would not stand where they happened)."""
    return not t.resized and bool((t.events.kind == ev.REMASK).any())


def carried_commits(t: Trajectory) -> np.ndarray:
    """(E,) for each event: a commit that carries a token over, one with no probability at a
    step that re-masks (a dVoting round's step 0). All False without remask events."""
    log = t.events
    remasking = np.isin(log.step, log.step[log.kind == ev.REMASK])
    return (log.kind == ev.COMMIT) & np.isnan(log.prob) & remasking


def carried(t: Trajectory) -> np.ndarray:
    """(L,) the final positions whose token was carried over and never re-masked (only for a
    canvas that kept its length; all False otherwise)."""
    kept = np.zeros(len(t.token_ids), dtype=bool)
    if not marked(t):
        return kept
    for e, carries in zip(t.events.events(), carried_commits(t).tolist(), strict=True):
        if e.kind in (ev.COMMIT, ev.REMASK):
            kept[e.position] = carries
    return kept


def carried_per_step(t: Trajectory, steps: int) -> np.ndarray:
    """(steps,) the tokens carried over at each step (a dVoting round's step 0)."""
    at = carried_commits(t)
    return np.bincount(t.events.step[at], minlength=steps).astype(np.int32)[:steps]


def remask_hover(t: Trajectory, r: Remask, vocab: dict[int, str]) -> str:
    old = html.escape(repr(vocab.get(r.old, f"#{r.old}")), quote=False)
    again = int(t.reveal_step[r.position])
    then = f"decoded again at step {again}" if again >= 0 else "still masked"
    return f"pos {r.position}<br>re-masked at step {r.step}: it held {old}<br>{then}"


def remask_marks(t: Trajectory, y, vocab: dict[int, str], before: int | None = None,
                 name: str = "re-masked") -> go.Scatter:
    """The expert's re-masked positions (those re-masked before step ``before``, if given) as
    rings at (position, ``y``): ``y`` a row label, or "step" for the step each happened at."""
    rows = [r for r in remasks(t) if before is None or r.step < before] if marked(t) else []
    return go.Scatter(x=[r.position for r in rows],
                      y=[r.step for r in rows] if y == "step" else [y] * len(rows),
                      mode="markers", name=name, showlegend=False,
                      marker=dict(symbol=SYMBOL, color=REMASK_COLOR, size=12,
                                  line=dict(width=2, color=REMASK_COLOR)),
                      hovertext=[remask_hover(t, r, vocab) for r in rows], hoverinfo="text")
