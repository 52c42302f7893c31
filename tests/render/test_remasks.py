"""Positions a dVoting round masked again: read off the event log, and ringed where the charts and
the animations draw a run; a run without remask events draws as it did."""

from __future__ import annotations

import numpy as np

from hexviz.render import figures, remasks
from hexviz.render.animate import AnimationSettings
from hexviz.render.animate.frames import build
from hexviz.render.animate.page import html_data
from hexviz.render.textfit import plain_title
from tests.conftest import known_run
from tests.render.conftest import ROUND_ONE, ROUND_TWO_REMASKED


def rings(fig) -> list:
    return [trace for trace in fig.data if trace.type == "scatter"
            and trace.marker.symbol == remasks.SYMBOL]


def test_the_remasks_and_the_tokens_carried_over_are_read_off_the_log(rounds):
    first, second = rounds.trajectories
    assert remasks.remasks(first) == [] and not remasks.marked(first)
    assert remasks.remasks(second) == [remasks.Remask(0, p, ROUND_ONE[p])
                                       for p in ROUND_TWO_REMASKED]
    assert remasks.carried(second).tolist() == [p not in ROUND_TWO_REMASKED for p in range(8)]
    assert remasks.carried_per_step(second, 2).tolist() == [8, 0]
    assert not remasks.carried(first).any() and remasks.carried_per_step(first, 4).sum() == 0


def test_the_reveal_order_rings_each_position_re_masked(rounds):
    fig = figures.reveal_order(rounds)
    (ring,) = rings(fig)
    labels = figures.row_labels(rounds)
    assert list(ring.x) == list(ROUND_TWO_REMASKED) and set(ring.y) == {labels[1]}
    assert "re-masked at step 0: it held ' c'<br>decoded again at step 0" in ring.hovertext[0]
    assert "re-masked" in plain_title(fig.layout.title.text)
    hover = fig.data[0].text[1]  # round 2's row: what was carried over says so
    assert "carried over from the round before" in hover[0] and "conf" not in hover[0]
    assert "step 0 of 2<br>conf 0.800" in hover[2]


def test_the_unmasking_map_rings_them_at_the_step_they_were_re_masked(rounds):
    fig = figures.unmasking_map(rounds, 1)
    (ring,) = rings(fig)
    assert list(ring.x) == list(ROUND_TWO_REMASKED) and list(ring.y) == [0, 0, 0]
    assert "3 re-masked at the round's start (○), 8 carried over" in plain_title(fig.layout.title.text)
    assert rings(figures.unmasking_map(rounds, 0)) == []


def test_the_scrubber_rings_them_from_the_step_after(rounds):
    fig = figures.scrubber(rounds)
    frames = {int(f.name): f for f in fig.frames}
    ringed = {step: list(frame.data[-1].x) for step, frame in frames.items()}
    assert ringed[0] == [] and ringed[1] == list(ROUND_TWO_REMASKED)
    assert all(len(frame.data) == 2 for frame in fig.frames)  # one trace of rings in every frame
    assert figures.marked(fig)  # played without the transition that drops the heatmap


def test_tokens_per_step_leaves_the_carried_tokens_out_and_dashes_the_remasks(rounds):
    fig = figures.tokens_per_step(rounds)
    committed = [t for t in fig.data if t.mode == "lines+markers"]
    assert [list(t.y) for t in committed] == [[2, 2, 2, 2], [1, 2]]
    (dashed,) = [t for t in fig.data if t.line.dash == "dash"]
    assert list(dashed.y) == [3, 0]
    assert "dVoting rounds, entropy below 0.3" in plain_title(fig.layout.title.text)


def test_a_run_without_remasks_draws_as_before():
    run = known_run()
    for fig in (figures.reveal_order(run), figures.unmasking_map(run, 0), figures.scrubber(run),
                figures.tokens_per_step(run)):
        assert rings(fig) == [] and "re-masked" not in plain_title(fig.layout.title.text)
    assert all("carried" not in h for h in figures.reveal_order(run).data[0].text[0])
    assert not figures.scrubber(run).frames[0].data[1:]  # no marks trace beside the heatmap
    assert "sampler fixed" in plain_title(figures.tokens_per_step(run).layout.title.text)


def test_the_animation_rings_the_re_masked_positions_until_they_show(rounds):
    anim = build(rounds, AnimationSettings("all"))
    first, second = anim.panels
    assert first.remasked_at is None
    assert second.remasked_at.tolist() == [0 if p in ROUND_TWO_REMASKED else -1
                                           for p in range(8)]
    at = {f.clock: f.canvases[1] for f in anim.frames}
    assert at[0].remasked.sum() == 0  # the all-mask start: nothing re-masked yet
    assert np.flatnonzero(at[1].remasked).tolist() == [6, 7]  # 2 was decoded again at step 0
    assert at[2].remasked.sum() == 0
    data = html_data(anim)
    assert "remask" not in data["panels"][0]
    assert data["panels"][1]["remask"] == [[6, 1], [7, 1]]


def test_a_rounds_run_animates_as_a_gif_and_a_page(rounds, tmp_path):
    from PIL import Image

    from hexviz.render import animate

    from hexviz.render import palette

    gif = animate.write(rounds, tmp_path / "rounds.gif", AnimationSettings("all"))
    ring = []
    with Image.open(gif) as image:
        for frame in (0, 1):  # the start (the legend's key only); after step 0: two rings more
            image.seek(frame)
            ring.append((np.array(image.convert("RGB")) == palette.rgb(palette.REMASK)).all(-1))
    assert ring[0].any() and ring[1].sum() > ring[0].sum()
    page = animate.write(rounds, tmp_path / "rounds.html", AnimationSettings("all")).read_text()
    assert palette.REMASK in page and '"remask":[[6,1],[7,1]]' in page
