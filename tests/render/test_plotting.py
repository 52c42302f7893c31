"""What every chart shares: titles that fit, the states' flat colours, row labels, cell text."""

from __future__ import annotations

import plotly.graph_objects as go

from hexviz.policy.settings import Expert
from hexviz.render import palette, plotting
from hexviz.render.states import END_OF_TEXT, MASK
from tests.conftest import known_run


def test_a_long_title_grows_the_figure_by_its_lines():
    one = plotting.fit_layout(go.Figure(), "Short", 300)
    two = plotting.fit_layout(go.Figure(), "Short<br><sup>" + "words " * 30 + "</sup>", 300)
    assert one.layout.height == 300 and two.layout.height > 300
    assert two.layout.margin.t - one.layout.margin.t == two.layout.height - 300


def test_each_state_is_one_flat_colour():
    scale = plotting.state_scale()
    assert len(scale) == 2 * len(palette.STATE_COLORS)
    assert scale[2 * MASK][1] == scale[2 * MASK + 1][1] == palette.MASK
    assert scale[2 * END_OF_TEXT][1] == palette.END_OF_TEXT


def test_rows_are_labelled_by_expert_and_collapse():
    assert plotting.row_labels(known_run()) == ["B=2 low_confidence", "whole (margin) ✗ collapsed"]
    assert plotting.steps_scale(known_run()) == 3  # steps 0..3 on the fixed schedule


def test_scrubber_cells_write_no_markup():
    assert plotting.cell_texts([" <b>", "x "]) == ["‹b›", "x"]
    assert plotting.CELL_MARKS[MASK] == "·"


def test_an_experts_block_name_says_its_schedule_or_adablock_fallback():
    sizes = Expert(8, schedule=(8, 8, 16, 32, 64))
    ada = Expert(8, delimiter_threshold=0.3, delimiter_ids=(1,))
    names = [plotting.block_name(e) for e in (Expert(8), sizes, ada)]
    assert names == ["B=8", "B=8+8+16+32+64", "B=ada:0.3/8"]
    assert names == [e.label.split(" ")[0] for e in (Expert(8), sizes, ada)]


def test_block_edges_are_where_the_recorded_blocks_meet(uneven):
    assert [plotting.block_edges(t) for t in uneven.trajectories] == [[4, 8], [6, 9], []]
    assert plotting.block_edges(known_run().trajectories[0]) == [2]
