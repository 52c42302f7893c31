"""The Explore tab lays its charts out from the registry: one plot per chart, each in its tab
(the vote in the summary), and a chart added to the registry is laid out, filled and exported
with no other change."""

from __future__ import annotations

import gradio as gr
import pytest
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


def handler(demo: gr.Blocks, name: str):
    return next(f.fn for f in demo.fns.values() if f.name == name)


def test_a_failed_run_keeps_its_reason_in_the_status_line():
    from tests.conftest import FakeRunner

    demo = ui.build_demo(FakeRunner(fail=RuntimeError("CUDA out of memory")))
    status = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "status")
    settings = ("Q", "fake model", [2], "low_confidence", 4, 4, 0, 1, False, False, True,
                "fixed", "", "none", None)
    with pytest.warns(UserWarning):  # the toast, outside a request: a warning
        shown = list(handler(demo, "on_run")(*settings, progress=lambda *a, **k: None))
    assert shown[-1] == {status: ("**The run failed:** decoding failed: RuntimeError: CUDA out "
                                  "of memory. Anything shown below is from an earlier run.")}


def test_run_brings_the_vote_panel_and_its_progress_into_view():
    from hexviz.app.tabs import explore

    demo = ui.build_demo(FakeRunner())
    run = next(d for d in demo.config["dependencies"] if d.get("backend_fn")
               and d.get("js") == explore.SHOW_PROGRESS_JS)
    assert "#vote-plot" in explore.SHOW_PROGRESS_JS and "scrollIntoView" in explore.SHOW_PROGRESS_JS
    assert run["show_progress"] == "minimal"  # Gradio's overlay would hide the panel
