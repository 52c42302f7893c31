"""Shared by the render tests (and the app's): a hand-made run whose canvases grow and shrink."""

from __future__ import annotations

import numpy as np
import pytest

from hexviz.runs import events as ev
from hexviz.runs.events import COMMIT, DELETE, INSERT, Event

MASK, EOT, EOS = 0, 1, 2
TOKENS = {5: "A", 6: " b", 7: " c", 8: " d", 9: " e", EOT: "<eot>", EOS: "<eos>"}
GEN_LENGTH = 8

# B=2 grows as DAEDAL does: appended masks, then masks inserted in the middle of the canvas.
GROWS = (2, [Event(0, INSERT, 2, count=2),
             Event(1, COMMIT, 0, 5, prob=0.9), Event(1, INSERT, 1, count=2),
             Event(2, COMMIT, 1, 6, prob=0.8), Event(2, COMMIT, 2, 7, prob=0.7),
             Event(3, COMMIT, 3, 8, prob=0.9), Event(3, COMMIT, 4, EOS, prob=0.9),
             Event(3, COMMIT, 5, EOS, prob=0.9)], 4)
# whole (4) grows at its tail, then is cut back as rho-EOS does: the end token it committed at
# step 0 and four masks go at step 1.
CUT = (4, [Event(0, COMMIT, 0, 5, prob=0.9), Event(0, COMMIT, 1, 9, prob=0.6),
           Event(0, COMMIT, 3, EOS, prob=0.9), Event(0, INSERT, 4, count=4),
           Event(1, COMMIT, 2, EOS, prob=0.9), Event(1, DELETE, 3, count=5)], 2)


def trajectory(expert, initial: int, events: list, steps: int):
    from hexviz.runs.record import Trajectory

    log = ev.EventLog.of(initial, events)
    drafts = np.full((steps, GEN_LENGTH), -1, dtype=np.int64)
    for s in range(steps):  # every mask drafts an end token: the pressure is plain to read
        c = ev.canvas_at(log, s, MASK)
        drafts[s, :len(c)] = np.where(c.ids == MASK, EOS, -1)
    final = ev.final_canvas(log, MASK)
    tokens = [TOKENS[int(i)] for i in final.ids]
    text = "".join(TOKENS[int(i)] for i in final.ids if i not in (EOT, EOS))
    return Trajectory.from_events(
        expert, log, MASK, steps, tokens=tokens, draft_ids=drafts,
        draft_prob=np.where(drafts >= 0, 0.5, np.nan).astype(np.float32), text=text,
        answer=text.split()[-1] if text else None, collapsed=False,
        end_fraction=float(np.isin(final.ids, (EOT, EOS)).mean()))


def grown_run():
    """Two experts of a growing canvas (mask 0, eot 1, eos 2; gen_length 8): B=2 grows from 2 to
    4 positions, then 2 masks are inserted before position 1; the whole-answer row grows from 4
    to 8 and is cut back to 3 at step 1 (positions 3..7: an end token and four masks)."""
    from hexviz.models.tokens import SpecialTokens
    from hexviz.policy.length import LengthConfig
    from hexviz.policy.settings import DecodeConfig, Expert
    from hexviz.runs.record import Run, Timing

    grows, cut = GROWS, CUT
    rows = [trajectory(Expert(2), *grows), trajectory(Expert(GEN_LENGTH, votes=False), *cut)]
    config = DecodeConfig(GEN_LENGTH, GEN_LENGTH, length=LengthConfig("daedal", initial_length=2))
    return Run("hand-made", "Q", [9, 9], config, SpecialTokens(MASK, EOS, EOT), "gsm8k", rows,
               Timing(0.1), max(t.steps_taken for t in rows))


@pytest.fixture
def grown():
    return grown_run()
