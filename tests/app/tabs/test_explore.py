"""The Explore tab lays its charts out from the registry: one plot per chart, each in its tab
(the vote in the summary), and a chart added to the registry is laid out, filled and exported
with no other change."""

from __future__ import annotations

import gradio as gr
import plotly.graph_objects as go

from hexviz.app import ui, views
from tests.conftest import FakeRunner, known_run


def laid_out(demo: gr.Blocks) -> tuple[dict[str, gr.Plot], list[tuple[str, str | None]]]:
    """The demo's plots by DOM id, and every tab's (title, DOM id) in layout order."""
    blocks = list(demo.blocks.values())
    plots = {b.elem_id: b for b in blocks if isinstance(b, gr.Plot) and b.elem_id}
    tabs = [(b.label, b.elem_id) for b in blocks if isinstance(b, gr.Tab)]
    return plots, tabs


def test_every_chart_has_its_plot_in_its_tab():
    plots, tabs = laid_out(ui.build_demo(FakeRunner()))
    for chart in views.CHARTS.values():
        assert plots[chart.elem_id].label == chart.label
        assert ((chart.tab_title, chart.tab_id) in tabs) is not chart.in_summary
    details = [title for title, _ in tabs]
    start = details.index("Reveal order")
    assert details[start:start + 7] == ["Reveal order", "Scrubber", "End-token pressure",
                                        "Unmasking map", "Tokens per step", "What-if fork",
                                        "Downloads"]


def test_a_new_chart_is_one_registry_line(monkeypatch):
    def answer_lengths(run) -> go.Figure:
        return go.Figure(go.Bar(y=[len(t.text) for t in run.trajectories]))

    chart = views.Chart(answer_lengths, "Answer lengths", "lengths-plot")
    monkeypatch.setitem(views.CHARTS, chart.name, chart)
    plots, tabs = laid_out(ui.build_demo(FakeRunner()))
    assert plots["lengths-plot"].label == "Answer lengths"
    titles = [title for title, _ in tabs]
    assert ("Answer lengths", "lengths-tab") in tabs
    assert titles.index("Answer lengths") == titles.index("What-if fork") - 1  # after the others
    run = known_run()
    shown = views.full_views(run)["answer_lengths"]
    assert list(shown.data[0].y) == [len(t.text) for t in run.trajectories]
    assert "answer_lengths" in views.all_figures(run)  # on the downloads' figures page
    assert "answer_lengths" not in views.partial_views(run)  # not live: drawn once, at the end
