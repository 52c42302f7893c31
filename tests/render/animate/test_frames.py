"""Panels -> frames: each frame shows the tokens with reveal_step < t and masks elsewhere; one
shared clock, edits, the vote after the clock and its tie rule, sampling in time, limits."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from hexviz import limits
from hexviz.render import animate
from hexviz.render.states import END_OF_TEXT, MASK, TEXT
from tests.conftest import known_run
from tests.render.animate.conftest import check_frames_match, with_edits


def test_hand_built_run_frame_for_step_t(tmp_path):
    run = known_run()
    anim = animate.build(run, animate.AnimationSettings(layout="all"))
    assert [f.clock for f in anim.frames[:5]] == [0, 1, 2, 3, 4]
    assert check_frames_match(run, anim, [0, 1]) == 2 * len(anim.frames)
    # Step 2: B=2 has "####" and " 7"; the collapsed row has its last two end tokens.
    c_good, c_bad = anim.frames[2].canvases
    assert c_good.texts == ("####", "7", "", "")
    assert c_good.states.tolist() == [TEXT, TEXT, MASK, MASK]
    assert c_bad.states.tolist() == [MASK, MASK, END_OF_TEXT, END_OF_TEXT]
    assert c_good.fresh.tolist() == [False, True, False, False]
    # The outline is the block the next step works in: the first until it is full.
    blocks = [f.canvases[0].block for f in anim.frames[:5]]
    assert blocks == [(0, 2), (0, 2), (2, 4), (2, 4), None]
    assert [f.canvases[1].block for f in anim.frames[:5]] == [(0, 4)] * 4 + [None]


def test_stored_run_every_frame_matches(stored):
    anim = animate.build(stored, animate.AnimationSettings(layout="all"))
    assert not anim.sampled and anim.clock_steps == stored.steps_done == 64
    assert check_frames_match(stored, anim, range(len(stored.trajectories))) > 8 * 65


def test_edits_change_the_text_and_flash():
    run = with_edits(known_run())
    anim = animate.build(run, animate.AnimationSettings(layout="one", experts=("2",)))
    texts = [f.canvases[0].texts[0] for f in anim.frames[:5]]
    assert texts == ["", "7", "7", "####", "####"]  # revealed at 0 as "7", edited during 2
    flash = [bool(f.canvases[0].flash[0]) for f in anim.frames[:5]]
    assert flash == [False, False, False, True, False]
    assert [bool(f.canvases[0].edited[0]) for f in anim.frames[:5]] == [0, 0, 0, 1, 1]
    page = animate.html_page(run, animate.AnimationSettings(layout="one", experts=("2",)))
    data = json.loads(re.search(r'id="hexviz-data">(.*?)</script>', page, re.DOTALL).group(1))
    assert [3, 0] in data["panels"][0]["flash"]
    assert [c[2] for c in data["panels"][0]["changes"] if c[1] == 0] == ["7", "####"]


def test_experts_of_different_step_counts_share_one_clock():
    run = known_run()
    run.trajectories[0].steps_taken = 2  # as a threshold sampler would record
    run.trajectories[0].reveal_step = np.array([0, 1, 1, 1], dtype=np.int32)
    anim = animate.build(run, animate.AnimationSettings(layout="all"))
    assert anim.clock_steps == 4
    steps = [[c.step for c in f.canvases] for f in anim.frames[:5]]
    assert steps == [[0, 0], [1, 1], [2, 2], [2, 3], [2, 4]]
    done = [[c.done for c in f.canvases] for f in anim.frames[:5]]
    assert done[2] == [True, False] and done[4] == [True, True]
    assert anim.frames[3].canvases[0].fresh.sum() == 0  # a finished expert holds its canvas


def test_the_vote_fills_in_after_the_clock(stored):
    anim = animate.build(stored, animate.AnimationSettings(layout="all"))
    voters = len(stored.voters)
    tail = anim.frames[-(voters + 1):]
    assert [f.votes_shown for f in tail] == list(range(1, voters + 1)) + [voters]
    assert tail[-1].final and not any(f.final for f in anim.frames[:-1])
    assert anim.vote_at(tail[-1]).winner == stored.vote.winner
    one = animate.build(stored, animate.AnimationSettings(layout="one"))
    assert all(f.votes_shown == 0 for f in one.frames) and len(one.frames) == 65


def test_long_runs_are_sampled_and_say_so(stored):
    lim = dataclasses.replace(limits.current(), max_animation_frames=20)
    anim = animate.build(stored, animate.AnimationSettings(layout="one"), lim=lim)
    clocks = [f.clock for f in anim.frames]
    assert len(clocks) <= 20 and clocks[0] == 0 and clocks[-1] == 64 and anim.sampled
    assert "sampled in time: 20 of 65 steps shown" in anim.caption(anim.frames[1])
    check_frames_match(stored, anim, [animate.middle_voter(stored)])
    # Fresh means "since the frame before": nothing is lost between sampled frames.
    c = anim.frames[5].canvases[0]
    prev = anim.frames[4].canvases[0]
    np.testing.assert_array_equal(c.fresh, c.shown & ~prev.shown)


def test_too_many_experts_are_refused():
    run = known_run()
    lim = dataclasses.replace(limits.current(), max_experts=1)
    with pytest.raises(limits.LimitError, match="HEXVIZ_MAX_EXPERTS"):
        animate.build(run, animate.AnimationSettings(layout="all"), lim=lim)


def test_the_vote_follows_the_runs_tie_rule():
    run = known_run()
    b = dataclasses.replace(run.trajectories[0], expert=dataclasses.replace(
        run.trajectories[0].expert, block_length=4), answer="8")
    run.trajectories = [run.trajectories[0], b]  # "7" and "8": a tie
    for t, ll in zip(run.trajectories, (-3.0, -1.0), strict=True):
        t.one_step_log_likelihood = ll
    first = animate.build(run, animate.AnimationSettings(layout="all"))
    assert "HEX answer 7" in first.result(first.frames[-1])
    assert "tie, broken by the smallest block" in first.result(first.frames[-1])
    run.tie_rule = "lowest_nll"
    nll = animate.build(run, animate.AnimationSettings(layout="all"))
    assert nll.result(nll.frames[-1]).startswith("HEX answer 8")
    assert nll.vote_at(nll.frames[-1]).winner == run.vote.winner == "8"


def test_every_frame_of_a_growing_canvas_is_its_canvas_at_that_step(grown):
    anim = animate.build(grown, animate.AnimationSettings(layout="all"))
    mask = grown.special.mask_id
    for frame in anim.frames:
        for c, t in zip(frame.canvases, grown.trajectories, strict=True):
            canvas = t.canvas_at(c.step, mask)
            standing = c.standing
            assert len(standing) == len(canvas)
            np.testing.assert_array_equal(c.shown[standing], canvas.reveal_step >= 0)
            np.testing.assert_array_equal(c.ids[standing],
                                          np.where(canvas.reveal_step >= 0, canvas.ids, -1))
    cut = [f.canvases[1].cut.sum() for f in anim.frames]
    assert cut[:4] == [0, 0, 5, 0]  # drawn struck once, at the frame after the cut
    assert not any(f.canvases[1].cut.any() for f in anim.frames if f.votes_shown)
    # the block is counted along the canvas, then given as slots: at step 1 B=2's first block
    # is positions 0 and 1, slots 0 and 3 (slots 1 and 2 are inserted during step 1)
    assert anim.frames[1].canvases[0].block == (0, 4)


def test_the_current_block_is_the_one_the_expert_recorded(uneven):
    """Left to right, one position a step: at clock s the outline is the recorded block that
    holds position s (block_length, 4, would outline 8..12 at clock 10, 4..8 at clock 7)."""
    anim = animate.build(uneven, animate.AnimationSettings(layout="all"))
    assert [f.clock for f in anim.frames[:17]] == list(range(17))
    schedule, ada, whole = zip(*([c.block for c in f.canvases] for f in anim.frames[:16]),
                               strict=True)
    assert schedule == ((0, 4),) * 4 + ((4, 8),) * 4 + ((8, 16),) * 8
    assert ada == ((0, 6),) * 6 + ((6, 9),) * 3 + ((9, 16),) * 7
    assert whole == ((0, 16),) * 16
    assert all(c.block is None for c in anim.frames[16].canvases)
    data = animate.html_data(anim)  # the HTML player outlines the same blocks
    assert data["panels"][1]["block"][7] == [6, 9]
    assert data["panels"][0]["block"][10] == [8, 16]
