"""Frames -> GIF: each position's box has the colour of its state in every frame, the pixel
limit samples or refuses, characters the font lacks are drawn as '?'."""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image

from hexviz import limits
from hexviz.render import animate, palette
from hexviz.render.animate.gif import Metrics, cell_width, drawable, font
from hexviz.render.states import END_OF_TEXT, END_OF_TURN, MASK, TEXT
from tests.conftest import known_run
from tests.render.conftest import UNEVEN_LENGTH


def test_gif_pixels_follow_the_frames():
    """Each position's box in each GIF frame has the colour of its state."""
    run = known_run()
    settings = animate.AnimationSettings(layout="all", width=640)
    geo = animate.gif_geometry(run, settings)
    anim = animate.build(run, settings)
    image = Image.open(io.BytesIO(animate.render_gif(anim, geo)))
    expected_colour = {MASK: palette.MASK, END_OF_TEXT: palette.END_OF_TEXT,
                       END_OF_TURN: palette.END_OF_TURN, TEXT: palette.BACKGROUND}
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


def test_pixel_limit_samples_a_gif_and_refuses_beyond(stored):
    settings = animate.AnimationSettings(layout="one", width=640)
    geo = animate.gif_geometry(stored, settings)
    pixels = geo.width * geo.height
    lim = dataclasses.replace(limits.current(), max_animation_pixels=pixels * 10)
    image = Image.open(io.BytesIO(animate.gif(stored, settings, lim=lim)))
    assert image.n_frames <= 10
    tiny = dataclasses.replace(limits.current(), max_animation_pixels=pixels)
    with pytest.raises(limits.LimitError, match="HEXVIZ_MAX_ANIMATION_PIXELS") as err:
        animate.gif(stored, settings, lim=tiny)
    assert "\n" not in str(err.value)


def test_non_ascii_tokens_are_drawn_and_kept():
    run = known_run()
    run.trajectories[0].tokens[0] = "π≈"
    assert drawable("π≈ x", 16) == "?? x"
    image = Image.open(io.BytesIO(animate.gif(run, animate.AnimationSettings(layout="one",
                                                                    experts=("2",)))))
    assert image.n_frames >= 2
    page = animate.html_page(run, animate.AnimationSettings(layout="one", experts=("2",)))
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
    m = Metrics(16)
    assert cell_width(p, 1, m) < font(16).getlength("<eos>")
    anim = animate.build(run, animate.AnimationSettings(layout="one", experts=("2",)))
    states = [int(f.canvases[0].states[1]) for f in anim.frames[:5]]
    assert states == [MASK, MASK, TEXT, TEXT, END_OF_TEXT]


def test_a_cut_position_is_struck_through_in_the_frame_it_went(grown):
    from hexviz.render.animate.gif import GifPainter, geometry

    settings = animate.AnimationSettings(layout="all", width=640)
    anim = animate.build(grown, settings)
    painter = GifPainter(anim, geometry(anim.panels, settings))
    for frame in anim.frames[:3]:  # to the frame after the cut (step 2)
        painter.paint(frame)
    x0, y0, x1, y1 = painter.cells[1][4]  # a masked slot cut at step 1
    middle = (y0 + y1) // 2
    assert painter.image.getpixel((int(x0) + 2, middle)) == palette.rgb(palette.INK)
    assert painter.image.getpixel((int(x0) + 2, int(y0) + 1)) == palette.rgb(palette.MASK)
    assert painter.layouts[1][1] == (0, 1, 2, 3, 4, 5, 6, 7)
    painter.paint(anim.frames[3])  # then the panel is laid out without it
    assert painter.layouts[1][1] == (0, 1, 2)
    for layout in animate.LAYOUTS:
        gif = animate.gif(grown, animate.AnimationSettings(layout=layout, width=400))
        assert Image.open(io.BytesIO(gif)).n_frames > 2


def test_gif_cells_leave_room_for_an_outline_where_recorded_blocks_start(uneven):
    """The answer's tokens are written together ("t0t1..."): the only gaps inside it are the
    block edges, at the schedule's and AdaBlock's own starts (not every 4 positions)."""
    from hexviz.render.animate.gif import flow

    m = Metrics(16)
    for index, starts in ((0, [4, 8]), (1, [6, 9])):
        boxes, _ = flow(animate.panel(uneven, index), 100_000, m)
        text = range(1, UNEVEN_LENGTH - 1)  # the last position is an end token, apart
        assert [q for q in text if boxes[q][0] > boxes[q - 1][2]] == starts
