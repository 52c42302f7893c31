"""Animations: the frames match the trajectory (tokens with reveal_step < t, masks elsewhere) in
the frame model, in the GIF's pixels and in the HTML's data; shared clock, edits, vote, limits
and refusals."""

from __future__ import annotations

import dataclasses
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from hexviz import limits
from hexviz.app import animate, palette
from hexviz.paths import GALLERY
from hexviz.runs import record
from tests.conftest import known_run

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
            np.testing.assert_array_equal(c.states == animate.MASK, ~shown)
            np.testing.assert_array_equal(c.ids[shown], t.token_ids[shown])
            for q, token in enumerate(t.tokens):
                is_text = shown[q] and t.token_ids[q] not in run.special.end_ids
                assert c.texts[q] == (animate.display_text(token) if is_text else "")
            checked += 1
    return checked


def test_hand_built_run_frame_for_step_t(tmp_path):
    run = known_run()
    anim = animate.build(run, animate.Settings(layout="all"))
    assert [f.clock for f in anim.frames[:5]] == [0, 1, 2, 3, 4]
    assert check_frames_match(run, anim, [0, 1]) == 2 * len(anim.frames)
    # Step 2: B=2 has "####" and " 7"; the collapsed row has its last two end tokens.
    c_good, c_bad = anim.frames[2].canvases
    assert c_good.texts == ("####", "7", "", "")
    assert c_good.states.tolist() == [animate.TEXT, animate.TEXT, animate.MASK, animate.MASK]
    assert c_bad.states.tolist() == [animate.MASK, animate.MASK, animate.END_OF_TEXT,
                                     animate.END_OF_TEXT]
    assert c_good.fresh.tolist() == [False, True, False, False]
    # The outline is the block the next step works in: the first until it is full.
    blocks = [f.canvases[0].block for f in anim.frames[:5]]
    assert blocks == [(0, 2), (0, 2), (2, 4), (2, 4), None]
    assert [f.canvases[1].block for f in anim.frames[:5]] == [(0, 4)] * 4 + [None]


def test_stored_run_every_frame_matches(stored):
    anim = animate.build(stored, animate.Settings(layout="all"))
    assert not anim.sampled and anim.clock_steps == stored.steps_done == 64
    assert check_frames_match(stored, anim, range(len(stored.trajectories))) > 8 * 65


def test_gif_pixels_follow_the_frames():
    """Each position's box in each GIF frame has the colour of its state."""
    run = known_run()
    settings = animate.Settings(layout="all", width=640)
    geo = animate.gif_geometry(run, settings)
    anim = animate.build(run, settings)
    image = Image.open(io.BytesIO(animate.render_gif(anim, geo)))
    expected_colour = {animate.MASK: palette.MASK, animate.END_OF_TEXT: palette.END_OF_TEXT,
                       animate.END_OF_TURN: palette.END_OF_TURN, animate.TEXT: palette.BACKGROUND}
    frames = []
    for n in range(image.n_frames):
        image.seek(n)
        frames.append(image.convert("RGB"))
    assert len(frames) == len(anim.frames)  # no two frames alike, so none was merged
    for n, frame in enumerate(anim.frames[:5]):
        for c, box in zip(frame.canvases, geo.boxes, strict=True):
            for q, state in enumerate(c.states):
                x0, y0, _, _ = box.cells[q]
                got = frames[n].getpixel((int(x0) + 1, int(y0) + 1))
                assert got == palette.rgb(expected_colour[int(state)]), (n, q, state)


def test_html_data_and_page_are_offline(stored):
    page = animate.html_page(stored, animate.Settings(layout="all"))
    data = json.loads(re.search(r'id="hexviz-data">(.*?)</script>', page, re.DOTALL).group(1))
    anim = animate.build(stored, animate.Settings(layout="all"))
    for p, t in zip(data["panels"], stored.trajectories, strict=True):
        for n, frame in enumerate(anim.frames):
            shown = np.array(p["appear"]) <= n
            np.testing.assert_array_equal(shown, expected_shown(t, min(frame.clock, 64)))
    assert len(data["durations"]) == len(anim.frames)
    # Nothing is fetched: no URL, no external script, style, image or font.
    assert not re.search(r"https?://|\bsrc=|<link|@import|url\(", page)
    assert len(page) < 2 * 2**20


def test_html_escapes_a_token_that_would_end_the_script():
    run = known_run()
    run.trajectories[0].tokens[0] = "</script><b>"
    page = animate.html_page(run, animate.Settings(layout="one", experts=("2",)))
    assert page.count("</script>") == 2  # the data block's and the player's, nothing else


def with_edits(run):
    """B=2 edited position 0 from id 7 (" 7") to 5 ("####") at step 2."""
    run.trajectories[0].edits = [[2, 0, 7, 5]]
    return run


def test_edits_change_the_text_and_flash():
    run = with_edits(known_run())
    anim = animate.build(run, animate.Settings(layout="one", experts=("2",)))
    texts = [f.canvases[0].texts[0] for f in anim.frames[:5]]
    assert texts == ["", "7", "7", "####", "####"]  # revealed at 0 as "7", edited during 2
    flash = [bool(f.canvases[0].flash[0]) for f in anim.frames[:5]]
    assert flash == [False, False, False, True, False]
    assert [bool(f.canvases[0].edited[0]) for f in anim.frames[:5]] == [0, 0, 0, 1, 1]
    page = animate.html_page(run, animate.Settings(layout="one", experts=("2",)))
    data = json.loads(re.search(r'id="hexviz-data">(.*?)</script>', page, re.DOTALL).group(1))
    assert [3, 0] in data["panels"][0]["flash"]
    assert [c[2] for c in data["panels"][0]["changes"] if c[1] == 0] == ["7", "####"]


def test_a_run_without_edits_or_steps_taken_loads_as_before():
    run = known_run()  # recorded no edits (as files written before samplers)
    assert len(run.trajectories[0].edits) == 0
    p = animate.panel(run, 0)
    assert p.edits == () and p.steps == run.steps_done


def test_experts_of_different_step_counts_share_one_clock():
    run = known_run()
    run.trajectories[0].steps_taken = 2  # as a threshold sampler would record
    run.trajectories[0].reveal_step = np.array([0, 1, 1, 1], dtype=np.int32)
    anim = animate.build(run, animate.Settings(layout="all"))
    assert anim.clock_steps == 4
    steps = [[c.step for c in f.canvases] for f in anim.frames[:5]]
    assert steps == [[0, 0], [1, 1], [2, 2], [2, 3], [2, 4]]
    done = [[c.done for c in f.canvases] for f in anim.frames[:5]]
    assert done[2] == [True, False] and done[4] == [True, True]
    assert anim.frames[3].canvases[0].fresh.sum() == 0  # a finished expert holds its canvas


def test_the_vote_fills_in_after_the_clock(stored):
    anim = animate.build(stored, animate.Settings(layout="all"))
    voters = len(stored.voters)
    tail = anim.frames[-(voters + 1):]
    assert [f.votes_shown for f in tail] == list(range(1, voters + 1)) + [voters]
    assert tail[-1].final and not any(f.final for f in anim.frames[:-1])
    assert anim.vote_at(tail[-1]).winner == stored.vote.winner
    one = animate.build(stored, animate.Settings(layout="one"))
    assert all(f.votes_shown == 0 for f in one.frames) and len(one.frames) == 65


def test_long_runs_are_sampled_and_say_so(stored):
    lim = dataclasses.replace(limits.current(), max_animation_frames=20)
    anim = animate.build(stored, animate.Settings(layout="one"), lim=lim)
    clocks = [f.clock for f in anim.frames]
    assert len(clocks) <= 20 and clocks[0] == 0 and clocks[-1] == 64 and anim.sampled
    assert "sampled in time: 20 of 65 steps shown" in anim.caption(anim.frames[1])
    check_frames_match(stored, anim, [animate.middle_voter(stored)])
    # Fresh means "since the frame before": nothing is lost between sampled frames.
    c = anim.frames[5].canvases[0]
    prev = anim.frames[4].canvases[0]
    np.testing.assert_array_equal(c.fresh, c.shown & ~prev.shown)


def test_pixel_limit_samples_a_gif_and_refuses_beyond(stored):
    settings = animate.Settings(layout="one", width=640)
    geo = animate.gif_geometry(stored, settings)
    pixels = geo.width * geo.height
    lim = dataclasses.replace(limits.current(), max_animation_pixels=pixels * 10)
    image = Image.open(io.BytesIO(animate.gif(stored, settings, lim=lim)))
    assert image.n_frames <= 10
    tiny = dataclasses.replace(limits.current(), max_animation_pixels=pixels)
    with pytest.raises(limits.LimitError, match="HEXVIZ_MAX_ANIMATION_PIXELS") as err:
        animate.gif(stored, settings, lim=tiny)
    assert "\n" not in str(err.value)


def test_too_many_experts_are_refused():
    run = known_run()
    lim = dataclasses.replace(limits.current(), max_experts=1)
    with pytest.raises(limits.LimitError, match="HEXVIZ_MAX_EXPERTS"):
        animate.build(run, animate.Settings(layout="all"), lim=lim)


@pytest.mark.parametrize("kwargs,needle", [
    ({"layout": "grid"}, "layout must be one of"), ({"fps": 0}, "fps must be"),
    ({"fps": 100}, "fps must be"), ({"width": 100}, "width must be"),
    ({"width": 640.5}, "width must be")])
def test_bad_settings_are_refused(kwargs, needle):
    with pytest.raises(ValueError, match=needle) as err:
        animate.Settings(**kwargs)
    assert "(got" in str(err.value)


def test_expert_selectors(stored):
    assert animate.parse_experts("8, 32,whole") == ("8", "32", "whole")
    assert [stored.trajectories[i].expert.block_length for i in animate.select(stored, "8")] == [8]
    assert len(animate.select(stored, "whole")) == 3
    margin = animate.select(stored, "whole:margin")
    assert [stored.trajectories[i].expert.remasking for i in margin] == ["margin"]
    with pytest.raises(ValueError, match=r"no expert '7' in this run; it has 4, 8, 16"):
        animate.select(stored, "7")
    with pytest.raises(ValueError, match="block sizes or whole"):
        animate.select(stored, "big")
    anim = animate.build(stored, animate.Settings(layout="all", experts=("8", "whole")))
    assert [p.title for p in anim.panels] == ["B=8 low_confidence", "whole (low_confidence)",
                                              "whole (margin)", "whole (random)"]


def test_compare_layout(stored):
    anim = animate.build(stored, animate.Settings(layout="compare", experts=("8", "whole")))
    assert [p.title for p in anim.panels] == ["A: B=8 low_confidence",
                                              "B: whole (low_confidence)"]
    other = record.load(GALLERY / "lesson-2-end-of-text-wall.json")
    both = animate.build(stored, animate.Settings(layout="compare", experts=("16",)), other)
    assert both.panels[1].answer == other.trajectories[animate.select(other, "16")[0]].answer
    with pytest.raises(ValueError, match="two experts"):
        animate.build(stored, animate.Settings(layout="compare", experts=("16",)))
    with pytest.raises(ValueError, match="different answer lengths"):
        animate.build(stored, animate.Settings(layout="compare"), known_run())


def test_words_read_like_the_answer(stored):
    t = stored.trajectories[2]
    p = animate.panel(stored, 2)
    # "First, Ruby starts with 5 stamps." : no space before the comma and the full stop
    assert t.tokens[:8] == ["First", ",", "Ruby", "starts", "with", "5", "stamps", "."]
    assert p.space_before[:8] == (False, False, True, True, True, True, True, False)
    groups = animate.words(p)
    assert groups[0] == [0, 1] and [6, 7] in groups  # punctuation never starts a line


def test_write_picks_the_format(tmp_path, stored):
    gif_path = animate.write(stored, tmp_path / "a.gif", animate.Settings(layout="one"))
    assert gif_path.read_bytes()[:6] == b"GIF89a"
    html_path = animate.write(stored, tmp_path / "a.HTML", animate.Settings(layout="one"))
    assert html_path.read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError, match=r"must end in .gif or .html \(got 'a.mp4'\)"):
        animate.write(stored, tmp_path / "a.mp4", animate.Settings())


def test_non_ascii_tokens_are_drawn_and_kept():
    run = known_run()
    run.trajectories[0].tokens[0] = "π≈"
    assert animate.drawable("π≈ x", 16) == "?? x"
    image = Image.open(io.BytesIO(animate.gif(run, animate.Settings(layout="one",
                                                                    experts=("2",)))))
    assert image.n_frames >= 2
    page = animate.html_page(run, animate.Settings(layout="one", experts=("2",)))
    assert "\\u03c0" in page  # the HTML keeps the real characters


def test_an_edit_to_an_end_token_keeps_the_box_small():
    """A position edited from text to end-of-text is as wide as its text, not "<eos>"."""
    run = known_run()
    run.trajectories[0].edits = [[3, 1, 7, 2]]  # " 7" -> <eos> during step 3
    run.trajectories[0].token_ids[1] = 2
    run.trajectories[0].tokens[1] = "<eos>"
    run.trajectories[0].edit_texts = [(" 7", "<eos>")]  # issue 22 records each edit's texts
    p = animate.panel(run, 0)
    assert p.texts_ever(1) == ["7"]
    m = animate.Metrics(16)
    assert animate.cell_width(p, 1, m) < animate.font(16).getlength("<eos>")
    anim = animate.build(run, animate.Settings(layout="one", experts=("2",)))
    states = [int(f.canvases[0].states[1]) for f in anim.frames[:5]]
    assert states == [animate.MASK, animate.MASK, animate.TEXT, animate.TEXT,
                      animate.END_OF_TEXT]


def test_the_vote_follows_the_runs_tie_rule():
    run = known_run()
    b = dataclasses.replace(run.trajectories[0], expert=dataclasses.replace(
        run.trajectories[0].expert, block_length=4), answer="8")
    run.trajectories = [run.trajectories[0], b]  # "7" and "8": a tie
    for t, ll in zip(run.trajectories, (-3.0, -1.0), strict=True):
        t.one_step_log_likelihood = ll
    first = animate.build(run, animate.Settings(layout="all"))
    assert "HEX answer 7" in first.result(first.frames[-1])
    assert "tie, broken by the smallest block" in first.result(first.frames[-1])
    run.tie_rule = "lowest_nll"
    nll = animate.build(run, animate.Settings(layout="all"))
    assert nll.result(nll.frames[-1]).startswith("HEX answer 8")
    assert nll.vote_at(nll.frames[-1]).winner == run.vote.winner == "8"
