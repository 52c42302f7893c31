"""Growing canvases in the charts: rows of their own length, inserts and cuts marked, the
canvas-length chart."""

from __future__ import annotations

import numpy as np

from hexviz.render import growing
from hexviz.render.states import END_OF_TEXT, MASK, TEXT
from hexviz.runs import events as ev
from tests.conftest import known_run
from tests.render.conftest import GEN_LENGTH


def test_rows_of_different_lengths_are_padded_to_the_widest():
    z = growing.padded([[1, 2], [3]], np.nan)
    assert z.shape == (2, 2) and np.isnan(z[1, 1])
    assert growing.padded([["a"]], "", object, width=3).tolist() == [["a", "", ""]]
    assert growing.runs_of(np.array([0, 1, 1, 0, 1], dtype=bool)) == [(1, 3), (4, 5)]


def test_the_canvas_length_chart_draws_each_experts_length_after_every_step(grown):
    fig = growing.canvas_length(grown)
    for line, t in zip(fig.data, grown.trajectories, strict=True):
        assert list(line.y)[0] == t.events.initial_length  # step 0: where it started
        assert list(line.y)[1:] == t.canvas_length.tolist()
        assert list(line.x) == list(range(t.steps_taken + 1))
    assert fig.layout.shapes[0].y0 == GEN_LENGTH  # the maximum, dashed
    assert "daedal" in fig.layout.title.text


def test_a_fixed_run_draws_flat_lines_at_gen_length():
    run = known_run()
    fig = growing.canvas_length(run)
    assert all(set(line.y) == {run.config.gen_length} for line in fig.data)
    assert "fixed length" in fig.layout.title.text


def test_unmasking_map_rows_are_each_steps_canvas(grown):
    t = grown.trajectories[1]  # 8 positions after step 0, 3 after the cut at step 1
    z, hover = growing.map_rows(grown, t, [0, 1])
    assert z.shape == (2, 8)
    assert (~np.isnan(z)).sum(1).tolist() == t.canvas_length.tolist()
    assert z[1, :3].tolist() == [TEXT, TEXT, END_OF_TEXT] and hover[1, 3] == ""
    assert "pos 1 of 8" in hover[0, 1] and "still masked" in hover[0, 5]


def test_inserts_and_cuts_are_marked_where_and_when_they_happened(grown):
    marks = growing.resize_marks(grown, grown.trajectories[1])
    assert list(marks.x) == [3.5, 2.5] and list(marks.y) == [0, 1]
    assert "4 masks inserted" in marks.hovertext[0]
    assert "5 positions cut" in marks.hovertext[1] and "(1 held a token)" in marks.hovertext[1]


def test_a_scrubber_row_keeps_the_cut_cells_where_they_stood(grown):
    tl = growing.timelines(grown)[1]
    vocab = growing.vocabulary(grown)
    states, texts, hover, cut = growing.scrub_row(grown, tl, vocab, 2, 1)
    assert len(states) == 8 and cut.tolist() == [False] * 3 + [True] * 5
    assert texts[3] == "<s>∎</s>" and texts[4] == "<s>·</s>"
    assert "cut at step 1" in hover[3] and "pos 2 of 3" in hover[2]
    states, _, _, cut = growing.scrub_row(grown, tl, vocab, 2, 2)  # drawn once: then gone
    assert len(states) == 3 and not cut.any()
    states, _, hover, _ = growing.scrub_row(grown, growing.timelines(grown)[0], vocab, 2, 1)
    assert states.tolist() == [TEXT, MASK, MASK, MASK, MASK, MASK]
    assert "inserted at step 1" in hover[1]


def test_end_tokens_are_counted_on_each_steps_canvas(grown):
    t = grown.trajectories[1]
    ends, committed = growing.end_tokens_per_step(grown, t, 2)
    canvases = ev.canvases(t.events, 2, grown.special.mask_id)
    assert committed.tolist() == [int((c.reveal_step >= 0).sum()) for c in canvases] == [3, 3]
    assert ends.tolist() == [1, 1]  # the end token cut at step 1 counts while it stood


def test_a_cut_token_shows_its_own_text(grown):
    t = grown.trajectories[1]
    cut = [i for d in ev.deletions(t.events, grown.special.mask_id) for i in d.ids
           if i != grown.special.mask_id]
    assert cut
    t.cut_texts = {cut[0]: "apples"}
    assert growing.token_text(growing.vocabulary(grown), cut[0]) == "apples"
