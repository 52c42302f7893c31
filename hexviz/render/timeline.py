"""One expert's canvas at every step as the views draw it, each position given an identity.

A growing canvas (`hexviz.policy.length`) inserts and deletes positions, so "position p" holds
another token from one step to the next. Here every position that ever stood on the canvas is a
*slot*, and the slots keep one order in which a deleted slot keeps its place: the canvas after
s steps is the slots standing then, in that order, and a frame can draw a slot deleted during
its step struck through where it stood, and an inserted one between its neighbours. Replayed
once from the event log (`hexviz.runs.events`); numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hexviz.runs import events as ev
from hexviz.runs.events import EventLog

NEVER = np.iinfo(np.int32).max  # the step a slot that was never deleted goes at


@dataclass(frozen=True, eq=False)
class Timeline:
    """Slots in display order (N of them) over S steps."""

    born: np.ndarray  # (N,) the step whose insert made the slot; -1 on the first canvas
    gone: np.ndarray  # (N,) the step whose delete removed it; NEVER if it stands at the end
    ids: np.ndarray  # (S + 1, N) each slot's id after s steps: the mask while masked (and
    # before it is born), the id it held once deleted
    committed: np.ndarray  # (S + 1, N) the step its current token was committed at; -1 masked
    edited: np.ndarray  # (S + 1, N) the last step its token was edited at; -1 never

    @property
    def steps(self) -> int:
        return len(self.ids) - 1

    def __len__(self) -> int:
        return len(self.born)

    @property
    def cuts(self) -> bool:
        """Whether any slot was deleted."""
        return bool((self.gone != NEVER).any())

    def live(self, step: int) -> np.ndarray:
        """(N,) the slots on the canvas after ``step`` steps."""
        return (self.born < step) & (self.gone >= step)

    def struck(self, step: int, since: int) -> np.ndarray:
        """(N,) the slots deleted in steps ``since`` .. ``step - 1``: a frame after ``step``
        steps, whose previous frame was after ``since``, draws them struck through."""
        return (self.gone >= since) & (self.gone < step)

    def at(self, step: int) -> int:
        """The snapshot row for ``step`` steps (a finished expert keeps its last)."""
        return min(max(step, 0), self.steps)


def timeline(log: EventLog, steps: int, mask_id: int) -> Timeline:
    """Replay ``log`` over ``steps`` steps with an identity per slot."""
    count = log.initial_length
    order = list(range(count))  # every slot so far, in display order
    live = list(range(count))  # the slots on the canvas, in order
    born, gone = [-1] * count, [NEVER] * count
    ids, committed, edited = [mask_id] * count, [-1] * count, [-1] * count
    snapshots = []
    events, i = log.events(), 0
    for step in range(steps + 1):
        while i < len(events) and events[i].step < step:
            e = events[i]
            i += 1
            if e.kind == ev.INSERT:
                new = list(range(count, count + e.count))
                count += e.count
                # before the slot standing at the position; appended masks after everything
                at = order.index(live[e.position]) if e.position < len(live) else len(order)
                order[at:at] = new
                live[e.position:e.position] = new
                born += [e.step] * e.count
                gone += [NEVER] * e.count
                ids += [mask_id] * e.count
                committed += [-1] * e.count
                edited += [-1] * e.count
            elif e.kind == ev.DELETE:
                for slot in live[e.position:e.position + e.count]:
                    gone[slot] = e.step
                del live[e.position:e.position + e.count]
            else:
                slot = live[e.position]
                ids[slot] = mask_id if e.kind == ev.REMASK else e.token
                if e.kind == ev.COMMIT:
                    committed[slot] = e.step
                elif e.kind == ev.REMASK:
                    committed[slot] = -1
                else:
                    edited[slot] = e.step
        snapshots.append((list(ids), list(committed), list(edited)))
    columns = np.array(order, dtype=np.int64)

    def table(k: int, fill: int) -> np.ndarray:  # (S + 1, N), slots born later padded
        rows = np.full((steps + 1, count), fill, dtype=np.int64)
        for s, snapshot in enumerate(snapshots):
            rows[s, :len(snapshot[k])] = snapshot[k]
        return rows[:, columns]

    return Timeline(np.array(born, dtype=np.int64)[columns],
                    np.array(gone, dtype=np.int64)[columns], table(0, mask_id),
                    table(1, -1), table(2, -1))
