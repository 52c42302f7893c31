"""Shared by the animation tests: the stored run, and the check that frames show exactly the
tokens revealed before their step."""

from __future__ import annotations

import numpy as np
import pytest

from hexviz.paths import GALLERY
from hexviz.render.animate import panels
from hexviz.render.states import MASK
from hexviz.runs import record

STORED = GALLERY / "lesson-1-one-expert.json"


@pytest.fixture(scope="module")
def stored():
    return record.load(STORED)


def expected_shown(t, step: int) -> np.ndarray:
    return (t.reveal_step >= 0) & (t.reveal_step < step)


def check_frames_match(run, anim, indices) -> int:
    """Every canvas of every frame shows exactly the tokens revealed before its step."""
    checked = 0
    for frame in anim.frames:
        for c, i in zip(frame.canvases, indices, strict=True):
            t = run.trajectories[i]
            assert c.step == min(frame.clock, run.steps_done)
            shown = expected_shown(t, c.step)
            np.testing.assert_array_equal(c.shown, shown)
            np.testing.assert_array_equal(c.states == MASK, ~shown)
            np.testing.assert_array_equal(c.ids[shown], t.token_ids[shown])
            for q, token in enumerate(t.tokens):
                is_text = shown[q] and t.token_ids[q] not in run.special.end_ids
                assert c.texts[q] == (panels.display_text(token) if is_text else "")
            checked += 1
    return checked


def with_edits(run):
    """B=2 edited position 0 from id 7 (" 7") to 5 ("####") at step 2."""
    run.trajectories[0].edits = [[2, 0, 7, 5]]
    return run
