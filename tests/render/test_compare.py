"""Two experts side by side: differing positions on one scale, where two experts part, the
canvas at a step."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hexviz.render import compare, figures
from tests.conftest import known_run


def test_compare_marks_differing_positions_on_one_scale():
    run = known_run()
    reveal, maps, answers = compare.compare_outputs(run, 0, run, 1)
    heat, marks = reveal.data[0], reveal.data[1]
    assert np.array(heat.z).tolist() == [[0, 1, 2, 3], [3, 2, 1, 0]]
    assert heat.zmax == 3 and heat.zmin == 0  # one colour scale for both rows
    assert list(marks.x) == [0, 1, 2]  # [5, 7, 1, 2] vs [1, 2, 2, 2]
    assert "3 positions differ" in reveal.layout.title.text
    assert len([d for d in maps.data if d.type == "heatmap"]) == 2
    assert "answer <b>7</b>" in answers and "no answer" in answers
    same = figures.differing_positions(run.trajectories[0], run.trajectories[0])
    assert len(same) == 0


def test_first_divergence():
    run = known_run()
    a = run.trajectories[0]
    b = replace(a, token_ids=np.array([5, 7, 1, 9]))
    assert compare.first_divergence(a, a) is None
    assert compare.first_divergence(a, b) == 3
    c = replace(a, reveal_step=np.array([0, 2, 1, 3], dtype=np.int32))
    assert compare.first_divergence(a, c, after=1) == 1


def test_canvas_shows_masks_and_end_tokens():
    html = compare.canvas_html(known_run(), 0, 2)
    assert "2 positions still masked" in html and "####" in html and "·" in html
    assert html.count("∎") == 1  # the legend only: the end tokens are still masked
    assert compare.canvas_html(known_run(), 0, 4).count("∎") == 2


def test_growing_canvases_compare_step_by_step(grown):
    a, b = grown.trajectories
    assert compare.first_divergence(a, a) is None and compare.first_divergence(a, b) == 0
    assert compare.first_divergence(a, b, after=2) == 2  # B=2 commits at 2; the other ended
    strip = compare.canvas_html(grown, 1, 2)  # after the cut: three positions
    assert strip.count("title=") == 3 and "0 positions still masked" in strip
    assert compare.canvas_html(grown, 0, 1).count("title=") == 4  # B=2's canvas after one step


def test_a_fork_that_changes_the_blocks_names_them(uneven):
    def fork_of(i: int):
        return replace(uneven, trajectories=[uneven.trajectories[i]])

    assert "(blocks ada:0.5/4)" in compare.fork_summary(uneven, 0, fork_of(1), 3, None)
    assert "(blocks 4+4+8)" in compare.fork_summary(uneven, 1, fork_of(0), 3, None)
    assert "(nothing changed)" in compare.fork_summary(uneven, 1, fork_of(1), 3, None)
    run = known_run()
    b = replace(run.trajectories[0], expert=replace(run.trajectories[0].expert, block_length=4))
    fork = replace(run, trajectories=[b])
    assert "(block length 4)" in compare.fork_summary(run, 0, fork, 1, None)
