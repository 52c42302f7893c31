"""Shared by the render tests (and the app's): a hand-made run whose canvases grow and shrink."""

from __future__ import annotations

import numpy as np
import pytest

from hexviz.runs import events as ev
from hexviz.runs.events import COMMIT, DELETE, INSERT, REMASK, Event

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


# Uneven blocks over a 16-token answer that every expert reveals left to right, one position a
# step: a schedule (4+4+8) and AdaBlock with a fallback of 4 that recorded blocks of 6, 3 and 7,
# so that wherever a view counts blocks of ``block_length`` (4) it draws them in the wrong place.
UNEVEN_LENGTH = 16
SCHEDULE_STARTS, ADA_STARTS = (4, 8), (6, 9)
ADA_BLOCKS = [[0, 6], [6, 9], [9, 16]]


def uneven_run():
    """A hand-made run (mask 0, eot 1, eos 2; gen_length 16, 16 steps): B=4+4+8, B=ada:0.5/4
    with its recorded blocks, and a whole-answer row."""
    from hexviz.models.tokens import SpecialTokens
    from hexviz.policy.settings import DecodeConfig, Expert
    from hexviz.runs.record import Run, Timing, Trajectory

    n = UNEVEN_LENGTH
    ids = np.array([5 + p for p in range(n - 1)] + [EOS])
    tokens = [f"t{p}" for p in range(n - 1)] + ["<eos>"]
    text = "".join(tokens[:-1])
    drafts = np.array([[-1] * s + ids[s:].tolist() for s in range(n)])  # (S, L)

    def row(expert, blocks=()):
        return Trajectory(expert, ids.copy(), tokens, np.arange(n, dtype=np.int32),
                          np.full(n, 0.9, dtype=np.float32), drafts,
                          np.where(drafts >= 0, 0.5, np.nan).astype(np.float32), text, None,
                          False, 1 / n, blocks=np.array(blocks, dtype=np.int64))

    experts = [Expert(4, schedule=(4, 4, 8)),
               Expert(4, delimiter_threshold=0.5, delimiter_ids=(9,)),
               Expert(n, votes=False)]
    rows = [row(experts[0]), row(experts[1], ADA_BLOCKS), row(experts[2])]
    config = DecodeConfig(n, n).for_experts(experts)
    return Run("hand-made", "Q", [9, 9], config, SpecialTokens(0, EOS, EOT), "gsm8k", rows,
               Timing(0.1), n)


@pytest.fixture
def uneven():
    return uneven_run()


# dVoting's rounds over an 8-token answer (blocks of 4): round 1 commits two positions a step;
# round 2 starts from round 1's answer (its step 0 carries the 8 tokens over, probability nan),
# masks again position 2 and the last quarter (6, 7), commits 9 at position 2 in the same step
# and the end tokens at step 1.
ROUND_ONE = [5, 6, 7, 8, EOS, EOS, EOS, EOS]
ROUND_TWO_REMASKED = (2, 6, 7)
ROUND_TWO = (8, [Event(0, COMMIT, p, token) for p, token in enumerate(ROUND_ONE)]
             + [Event(0, REMASK, p, old=ROUND_ONE[p]) for p in ROUND_TWO_REMASKED]
             + [Event(0, COMMIT, 2, 9, prob=0.8),
                Event(1, COMMIT, 6, EOS, prob=0.9), Event(1, COMMIT, 7, EOS, prob=0.9)], 2)


def rounds_run():
    """Two dVoting rounds (mask 0, eot 1, eos 2; gen_length 8): round 2 re-masks positions 2,
    6 and 7 at its step 0 and keeps the other five tokens of round 1."""
    from hexviz.models.tokens import SpecialTokens
    from hexviz.policy.settings import DecodeConfig, Expert
    from hexviz.policy.strategies import Strategy
    from hexviz.runs.record import Run, Timing

    one = (8, [Event(p // 2, COMMIT, p, token, prob=0.9) for p, token in enumerate(ROUND_ONE)], 4)
    rows = [trajectory(Expert(4, "entropy", r - 1, 0.6, round=r), *events)
            for r, events in ((1, one), (2, ROUND_TWO))]
    config = DecodeConfig(GEN_LENGTH, GEN_LENGTH, strategy=Strategy("dvoting", 3, 0.3))
    return Run("hand-made", "Q", [9, 9], config, SpecialTokens(MASK, EOS, EOT), "gsm8k", rows,
               Timing(0.1), sum(t.steps_taken for t in rows))


@pytest.fixture
def rounds():
    return rounds_run()
