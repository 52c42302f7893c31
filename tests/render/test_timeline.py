"""Slots with identities: every step's canvas, a cut slot kept where it stood."""

from __future__ import annotations

import numpy as np

from hexviz.render.timeline import NEVER, timeline
from hexviz.runs import events as ev
from tests.conftest import known_run
from tests.render.conftest import EOS, MASK


def test_the_slots_standing_at_each_step_are_that_steps_canvas(grown):
    for t in grown.trajectories:
        tl = timeline(t.events, t.steps_taken, MASK)
        for step in range(t.steps_taken + 1):
            canvas = ev.canvas_at(t.events, step, MASK)
            live = tl.live(step)
            np.testing.assert_array_equal(tl.ids[step][live], canvas.ids)
            np.testing.assert_array_equal(tl.committed[step][live], canvas.reveal_step)


def test_inserted_slots_stand_between_their_neighbours(grown):
    t = grown.trajectories[0]  # 2 masks inserted before position 1 at step 1
    tl = timeline(t.events, t.steps_taken, MASK)
    assert tl.born.tolist() == [-1, 1, 1, -1, 0, 0]  # in display order
    assert tl.ids[-1].tolist() == t.token_ids.tolist()  # nothing cut: the final canvas
    assert not tl.cuts


def test_a_cut_slot_keeps_its_place_and_what_it_held(grown):
    t = grown.trajectories[1]  # positions 3..7 cut at step 1: an end token and four masks
    tl = timeline(t.events, t.steps_taken, MASK)
    assert len(tl) == 8 and tl.cuts
    assert tl.gone.tolist() == [NEVER] * 3 + [1] * 5
    assert tl.ids[2, 3:].tolist() == [EOS, MASK, MASK, MASK, MASK]  # after the cut
    assert tl.live(1).sum() == 8 and tl.live(2).sum() == 3
    assert tl.struck(2, 1).tolist() == [False] * 3 + [True] * 5  # drawn struck at step 2
    assert not tl.struck(2, 2).any() and not tl.struck(1, 0).any()


def test_a_fixed_canvas_has_one_slot_per_position():
    t = known_run().trajectories[0]
    tl = timeline(t.events, t.steps_taken, 0)
    assert (tl.born == -1).all() and (tl.gone == NEVER).all()
    for step in range(t.steps_taken + 1):
        shown = (t.reveal_step >= 0) & (t.reveal_step < step)
        np.testing.assert_array_equal(tl.committed[step] >= 0, shown)
    assert tl.at(99) == t.steps_taken  # a finished expert holds its last canvas
