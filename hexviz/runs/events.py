"""One expert's decoding as an ordered log of what each step did to its canvas.

A fixed answer region only ever has its masks committed (and, with editing, committed tokens
replaced), so one reveal step per position records it. A canvas that grows and shrinks (DAEDAL,
rho-EOS), or re-masks tokens, does not fit that: its positions shift. The log does: each event
says what happened where, on the canvas as it stood at that moment, and everything else (the
canvas at any step, the final reveal order, commits per step, edits, the length over steps) is
derived from it by one function each. Events of one step apply in the order logged.

Kinds (`KINDS`), with the columns each uses:

- ``commit``: a mask at ``position`` becomes ``token``, with probability ``prob``;
- ``edit``: the committed token ``old`` at ``position`` becomes ``token`` (``prob``);
- ``remask``: the committed token ``old`` at ``position`` becomes a mask again;
- ``insert``: ``count`` masks are inserted before ``position`` (later positions shift right);
- ``delete``: ``count`` positions from ``position`` on are removed (later ones shift left).

numpy only, so a saved run replays without torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

KINDS = ("commit", "edit", "remask", "insert", "delete")
COMMIT, EDIT, REMASK, INSERT, DELETE = range(len(KINDS))
NO_TOKEN = -1


class EventLogError(ValueError):
    """A log whose events do not fit the canvas they act on."""


@dataclass(frozen=True)
class Event:
    """One event, as `EventLog.append` takes it (see the module docstring for the columns)."""

    step: int
    kind: int
    position: int
    token: int = NO_TOKEN
    old: int = NO_TOKEN
    count: int = 1
    prob: float = math.nan


@dataclass(frozen=True)
class EventLog:
    """The events of one expert, column by column, and the canvas length it started from."""

    initial_length: int
    step: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    kind: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int8))
    position: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    token: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    old: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    count: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    prob: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.step)

    @classmethod
    def of(cls, initial_length: int, events: Iterable[Event]) -> EventLog:
        events = list(events)
        column = lambda name, dtype: np.array([getattr(e, name) for e in events],  # noqa: E731
                                               dtype=dtype)
        return cls(initial_length, column("step", np.int32), column("kind", np.int8),
                   column("position", np.int32), column("token", np.int64),
                   column("old", np.int64), column("count", np.int32),
                   column("prob", np.float32))

    def events(self) -> list[Event]:
        return [Event(int(s), int(k), int(p), int(t), int(o), int(c), float(q))
                for s, k, p, t, o, c, q in zip(self.step, self.kind, self.position, self.token,
                                               self.old, self.count, self.prob, strict=True)]

    def before(self, step: int) -> EventLog:
        """The events of the steps before ``step`` (the log of a decode stopped there)."""
        keep = self.step < step
        return EventLog(self.initial_length, *(getattr(self, name)[keep] for name in COLUMNS))

    @property
    def resizes(self) -> bool:
        """Whether the canvas ever changed length."""
        return bool(np.isin(self.kind, (INSERT, DELETE)).any())


COLUMNS = ("step", "kind", "position", "token", "old", "count", "prob")


@dataclass
class Canvas:
    """The canvas after some steps: ids (mask where masked), and for each position the step its
    token was committed (-1 while masked) with that commit's probability (nan while masked)."""

    ids: np.ndarray
    reveal_step: np.ndarray
    reveal_conf: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def empty_canvas(length: int, mask_id: int) -> Canvas:
    return Canvas(np.full(length, mask_id, dtype=np.int64), np.full(length, -1, dtype=np.int32),
                  np.full(length, np.nan, dtype=np.float32))


def apply(canvas: Canvas, e: Event, mask_id: int) -> Canvas:
    """``canvas`` after one event; EventLogError when the event does not fit it."""
    n = len(canvas)
    if e.kind == INSERT:
        if not 0 <= e.position <= n or e.count < 1:
            raise EventLogError(f"step {e.step}: insert of {e.count} at {e.position} on a "
                                f"canvas of {n}")
        new = empty_canvas(e.count, mask_id)
        cut = e.position
        return Canvas(*(np.concatenate([getattr(canvas, f)[:cut], getattr(new, f),
                                        getattr(canvas, f)[cut:]])
                        for f in ("ids", "reveal_step", "reveal_conf")))
    if e.kind == DELETE:
        if not (0 <= e.position and e.count >= 1 and e.position + e.count <= n):
            raise EventLogError(f"step {e.step}: delete of {e.count} at {e.position} on a "
                                f"canvas of {n}")
        keep = np.r_[0:e.position, e.position + e.count:n]
        return Canvas(canvas.ids[keep], canvas.reveal_step[keep], canvas.reveal_conf[keep])
    if not 0 <= e.position < n:
        raise EventLogError(f"step {e.step}: {KINDS[e.kind]} at {e.position} on a canvas of {n}")
    masked = canvas.ids[e.position] == mask_id
    if e.kind == COMMIT:
        if not masked or e.token == mask_id:
            raise EventLogError(f"step {e.step}: commit at {e.position}, which is not masked")
        canvas.ids[e.position] = e.token
        canvas.reveal_step[e.position] = e.step
        canvas.reveal_conf[e.position] = e.prob
    elif e.kind == EDIT:
        if masked or e.token == mask_id:
            raise EventLogError(f"step {e.step}: edit at {e.position}, which is masked")
        canvas.ids[e.position] = e.token
    elif e.kind == REMASK:
        if masked:
            raise EventLogError(f"step {e.step}: remask at {e.position}, already masked")
        canvas.ids[e.position] = mask_id
        canvas.reveal_step[e.position] = -1
        canvas.reveal_conf[e.position] = np.nan
    else:
        raise EventLogError(f"unknown event kind {e.kind}")
    return canvas


def canvas_at(log: EventLog, step: int, mask_id: int) -> Canvas:
    """The canvas after ``step`` steps (the events of steps 0 .. step - 1 applied)."""
    canvas = empty_canvas(log.initial_length, mask_id)
    for e in log.events():
        if e.step >= step:
            break
        canvas = apply(canvas, e, mask_id)
    return canvas


def final_canvas(log: EventLog, mask_id: int) -> Canvas:
    """The canvas after every event: final ids, reveal order and commit probabilities."""
    return canvas_at(log, math.inf, mask_id)  # type: ignore[arg-type]


def canvases(log: EventLog, steps: int, mask_id: int) -> list[Canvas]:
    """The canvas after each of ``steps`` steps (index s: after s + 1 steps), in one replay."""
    out, canvas, events, i = [], empty_canvas(log.initial_length, mask_id), log.events(), 0
    for step in range(steps):
        while i < len(events) and events[i].step <= step:
            canvas = apply(canvas, events[i], mask_id)
            i += 1
        out.append(Canvas(canvas.ids.copy(), canvas.reveal_step.copy(),
                          canvas.reveal_conf.copy()))
    return out


def commits_per_step(log: EventLog, steps: int) -> np.ndarray:
    """(steps,) tokens committed at each step."""
    committed = log.step[(log.kind == COMMIT) & (log.step < steps)]
    return np.bincount(committed, minlength=steps).astype(np.int32)[:steps]


def edit_table(log: EventLog) -> np.ndarray:
    """(E, 4) the edits, one [step, position, old id, new id] each, position on the canvas of
    their step."""
    e = log.kind == EDIT
    return np.stack([log.step[e], log.position[e], log.old[e], log.token[e]],
                    axis=1).astype(np.int64).reshape(-1, 4)


def canvas_lengths(log: EventLog, steps: int) -> np.ndarray:
    """(steps,) the canvas length after each step."""
    change = np.where(log.kind == INSERT, log.count, 0) - np.where(log.kind == DELETE,
                                                                   log.count, 0)
    per_step = np.bincount(log.step, weights=change, minlength=steps)[:steps]
    return (log.initial_length + np.cumsum(per_step)).astype(np.int32)


@dataclass(frozen=True)
class Deletion:
    """Positions removed at ``step``: where they stood, and what they held (masks included)."""

    step: int
    position: int
    ids: tuple[int, ...]


def deletions(log: EventLog, mask_id: int) -> list[Deletion]:
    """Every delete event with the ids it removed, in log order."""
    out, canvas = [], empty_canvas(log.initial_length, mask_id)
    for e in log.events():
        if e.kind == DELETE:
            gone = canvas.ids[e.position:e.position + e.count]
            out.append(Deletion(e.step, e.position, tuple(int(i) for i in gone)))
        canvas = apply(canvas, e, mask_id)
    return out


def from_positional(token_ids: np.ndarray, reveal_step: np.ndarray, reveal_conf: np.ndarray,
                    edits: np.ndarray, steps: int) -> EventLog:
    """The log of a fixed-length record (files of schema version 1, the fixed-length engine):
    each step's commits in position order, then its edits. A commit's token is the one that
    stood there before the position's first edit."""
    edits = np.asarray(edits, dtype=np.int64).reshape(-1, 4)
    committed_as = np.asarray(token_ids, dtype=np.int64).copy()
    for _, position, old, _ in reversed(edits.tolist()):
        committed_as[position] = old  # latest first: the first edit's old token stays
    events = []
    for step in range(steps):
        for position in np.flatnonzero(reveal_step == step).tolist():
            events.append(Event(step, COMMIT, position, int(committed_as[position]),
                                prob=float(reveal_conf[position])))
        for made, position, old, new in edits[edits[:, 0] == step].tolist():
            events.append(Event(made, EDIT, position, new, old))
    return EventLog.of(len(token_ids), events)


# --- JSON -------------------------------------------------------------------------------------

def to_json(log: EventLog) -> dict[str, Any]:
    """Column by column: a few kilobytes for an expert's hundreds of events."""
    return {"initial_length": log.initial_length, "step": log.step.tolist(),
            "kind": [KINDS[k] for k in log.kind.tolist()], "position": log.position.tolist(),
            "token": log.token.tolist(), "old": log.old.tolist(), "count": log.count.tolist(),
            "prob": [None if math.isnan(p) else round(p, 4) for p in log.prob.tolist()]}


def from_json(d: Any, steps: int, top_id: int, max_length: int) -> EventLog:
    """A stored log; EventLogError unless its columns agree, its steps lie below ``steps``
    (in order), its ids in -1 .. ``top_id`` and its lengths up to ``max_length``."""
    if not isinstance(d, dict):
        raise EventLogError("events must be an object of columns")
    initial = d.get("initial_length")
    if not isinstance(initial, int) or isinstance(initial, bool) or not 0 <= initial <= max_length:
        raise EventLogError(f"events initial_length must be from 0 to {max_length} "
                            f"(got {initial!r})")
    columns = {name: d.get(name) for name in COLUMNS}
    sizes = {len(v) if isinstance(v, list) else -1 for v in columns.values()}
    if len(sizes) != 1 or -1 in sizes:
        raise EventLogError("events columns must be lists of one length: " + ", ".join(COLUMNS))
    try:
        kinds = np.array([KINDS.index(k) for k in columns["kind"]], dtype=np.int8)
    except ValueError:
        raise EventLogError(f"event kinds must be among {', '.join(KINDS)}") from None
    ints = {name: _ints(columns[name], name) for name in ("step", "position", "token", "old",
                                                          "count")}
    prob = np.array([math.nan if p is None else p for p in columns["prob"]], dtype=np.float64)
    if len(prob) and (np.nanmin(prob, initial=0) < 0 or np.nanmax(prob, initial=0) > 1):
        raise EventLogError("event probabilities must lie in [0, 1]")
    step = ints["step"]
    if len(step) and (step.min() < 0 or step.max() >= steps or (np.diff(step) < 0).any()):
        raise EventLogError(f"event steps must rise from 0 and stay below {steps}")
    if len(step) and (min(ints["token"].min(), ints["old"].min()) < NO_TOKEN
                      or max(ints["token"].max(), ints["old"].max()) > top_id):
        raise EventLogError(f"event token ids must lie from -1 to {top_id}")
    if len(step) and (ints["count"].min() < 1 or ints["count"].max() > max_length):
        raise EventLogError(f"event counts must be from 1 to {max_length}")
    log = EventLog(initial, step.astype(np.int32), kinds, ints["position"].astype(np.int32),
                   ints["token"], ints["old"], ints["count"].astype(np.int32),
                   prob.astype(np.float32))
    lengths = canvas_lengths(log, steps)
    if len(lengths) and lengths.max(initial=initial) > max_length:
        raise EventLogError(f"the canvas grows past {max_length} positions")
    return log


def _ints(values: list, name: str) -> np.ndarray:
    if any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise EventLogError(f"event {name}s must be integers")
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        raise EventLogError(f"event {name}s must be integers that fit 64 bits") from None
