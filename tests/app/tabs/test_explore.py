"""The Explore tab lays its charts out from the registry: one plot per chart, each in its tab
(the vote in the summary), and a chart added to the registry is laid out, filled and exported
with no other change."""

from __future__ import annotations

import re

import gradio as gr
import pytest
import plotly.graph_objects as go

from hexviz.app import ui, views, widgets
from tests.conftest import FakeRunner, RunnerWithDefaults, known_run


class Recording(RunnerWithDefaults):
    """A runner that keeps each request and draws nothing: the request is what matters."""

    def run(self, request):
        self.requests.append(request)
        return iter(())


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
    charts = [c.tab_title for c in views.CHARTS.values() if not c.in_summary]
    assert charts[:5] == ["Reveal order", "Scrubber", "End-token pressure", "Unmasking map",
                          "Tokens per step"]
    assert details[start:start + len(charts) + 2] == [*charts, "What-if fork", "Downloads"]


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


def no_progress(*args, **kwargs) -> None:
    """Gradio's progress tracker, outside a request."""


def test_a_failed_run_keeps_its_reason_in_the_status_line():
    from tests.conftest import FakeRunner

    demo = ui.build_demo(FakeRunner(fail=RuntimeError("CUDA out of memory")))
    status = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "status")
    settings = ("Q", "fake model", [2], "", "low_confidence", 4, 4, 0, 1, False, False, True,
                "fixed", "", widgets.MODEL_SCOPE, "none", None)
    with pytest.warns(UserWarning):  # the toast, outside a request: a warning
        shown = list(handler(demo, "on_run")(no_progress, *settings))
    assert shown[-1] == {status: ("**The run failed:** decoding failed: RuntimeError: CUDA out "
                                  "of memory. Anything shown below is from an earlier run.")}


def test_run_brings_the_vote_panel_and_its_progress_into_view():
    from hexviz.app.tabs import explore

    demo = ui.build_demo(FakeRunner())
    run = next(d for d in demo.config["dependencies"] if d.get("backend_fn")
               and d.get("js") == explore.SHOW_PROGRESS_JS)
    assert "#vote-plot" in explore.SHOW_PROGRESS_JS and "scrollIntoView" in explore.SHOW_PROGRESS_JS
    assert run["show_progress"] == "minimal"  # Gradio's overlay would hide the panel


def form_values(demo: gr.Blocks, **changed) -> list:
    """The values Run sends as the form first shows them, with ``changed`` by label."""
    run = next(f for f in demo.fns.values() if f.name == "on_run")
    return [changed.get(getattr(c, "label", None), c.value) for c in run.inputs]


def test_run_sends_the_canvas_length_and_the_settings_it_reads():
    from hexviz.app import widgets
    from hexviz.policy.length import LengthConfig

    runner = Recording()
    demo = ui.build_demo(runner)
    list(handler(demo, "on_run")(no_progress, *form_values(demo)))
    assert (runner.requests[-1].length, runner.requests[-1].length_options) == ("fixed", {})
    growing = form_values(demo, **{"Canvas length": "rho-eos", "Remasking rule": "low_confidence",
                                   widgets.CANVAS_OPTIONS[0].label: 32})
    list(handler(demo, "on_run")(no_progress, *growing))
    request = runner.requests[-1]
    assert request.length == "rho-eos" and request.length_options["initial_length"] == 32
    assert request.length_config() == LengthConfig("rho-eos", initial_length=32)


def test_the_more_experts_box_reaches_the_run_and_the_steps():
    from hexviz.app import widgets

    runner = Recording()
    demo = ui.build_demo(runner)
    box = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "more-experts")
    assert box.label == widgets.MORE_EXPERTS and box.value == ""
    values = form_values(demo, **{widgets.MORE_EXPERTS: "8+8+16+32+64, ada"})
    list(handler(demo, "on_run")(no_progress, *values))
    assert runner.requests[-1].blocks == (4, 8, 16, 32, 64, "8+8+16+32+64", "ada")
    typed = next(f for f in demo.fns.values() if (box._id, "input") in f.targets)
    steps = next(b for b in demo.blocks.values() if getattr(b, "label", None) == "Steps")
    assert typed.outputs == [steps]
    assert typed.fn("fake model", 128, [64], "1+127")["value"] == 128  # one token a step
    assert typed.fn("fake model", 128, [64], "ada")["value"] == 64


@pytest.fixture(scope="module")
def refusing_demo():
    """The app on the built-in model, whose weights never load: refusals come first."""
    from hexviz.app.runner import LocalRunner

    return ui.build_demo(LocalRunner())


@pytest.mark.parametrize("changed,message", [
    ({"Initial length: masks the canvas starts with": 300},
     "--initial-length (300) must not be above the maximum length --gen-length (128)"),
    ({"Expansion factor: masks added per growth": 0},
     "--expansion-factor must be a positive integer (got 0)"),
    ({"Commit threshold: every mask of the block above it": 1.5},
     "--high-conf-threshold must be a number strictly between 0 and 1 (got 1.5)"),
    ({"Gen length": 250}, "gen_length must be at most 221 for this model and prompt (got 250): "
                          "the prompt takes 35 of the model's 256 positions"),
])
def test_bad_growing_canvas_settings_are_refused_in_one_line(refusing_demo, monkeypatch,
                                                             changed, message):
    """The status line says what is wrong, before the weights load; nothing is raised, so the
    app stays up."""
    from hexviz.models import loader
    from hexviz.render.answers import failure_markdown

    monkeypatch.setattr(loader, "load", lambda *a, **kw: pytest.fail("weights loaded"))
    demo = refusing_demo
    status = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "status")
    question = ("Mia has 12 marbles. She gives 3 to Ben. She buys 5 more. Then she gets 2 times "
                "as many. How many marbles does Mia have now?")
    values = form_values(demo, **{"Question": question, "Canvas length": "daedal", **changed})
    with pytest.warns(UserWarning, match=re.escape(message)):  # the toast
        shown = list(handler(demo, "on_run")(no_progress, *values))
    assert shown[-1] == {status: failure_markdown(message)}


@pytest.mark.parametrize("more,message", [
    ("8+8", "block schedule 8+8 sums to 16, not the answer length gen_length=128"),
    ("8+0+120", "block sizes must be positive (got 0 in '8+0+120')"),
    ("7+121", "each size must be a multiple of it (got 7, 121)"),
])
def test_a_bad_schedule_is_refused_in_one_line(refusing_demo, monkeypatch, more, message):
    from hexviz.app import widgets
    from hexviz.models import loader
    from hexviz.render.answers import failure_markdown

    monkeypatch.setattr(loader, "load", lambda *a, **kw: pytest.fail("weights loaded"))
    status = next(b for b in refusing_demo.blocks.values()
                  if getattr(b, "elem_id", None) == "status")
    values = form_values(refusing_demo, **{widgets.MORE_EXPERTS: more})
    with pytest.warns(UserWarning) as toast:
        shown = list(handler(refusing_demo, "on_run")(no_progress, *values))
    (line,) = [str(w.message) for w in toast]
    assert message in line and "\n" not in line
    assert shown[-1] == {status: failure_markdown(line)}


def test_picking_a_strategy_sets_its_blocks_and_sampling_and_run_sends_it():
    from hexviz.app import widgets

    runner = Recording()
    demo = ui.build_demo(runner)
    picker = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "strategy")
    picked = next(f for f in demo.fns.values() if (picker._id, "input") in f.targets)
    blocks, more, steps, seeds, temperature, baselines = picked.fn("fake model", 128, "ada",
                                                                   "dvoting")
    assert (blocks["value"], more, steps["value"], seeds, temperature) == ([8], "", 64, 1, 0.6)
    blocks, more, _, seeds, temperature, _ = picked.fn("fake model", 128, "", "seeds")
    assert (blocks["value"], seeds, temperature) == ([16], 4, 0.7)
    blocks, more, _, seeds, temperature, baselines = picked.fn("fake model", 128, "ada", "hex")
    assert (blocks["value"], more, seeds, temperature, baselines["value"]) == (
        [4, 8, 16, 32, 64], "ada", 1, 0.0, True)
    # the gen length menu keeps dVoting's one block size
    resized = next(f for f in demo.fns.values() if f.name == "on_gen_length")
    assert resized.fn("fake model", 64, "", "dvoting")[0]["value"] == [4]
    values = form_values(demo, **{"Strategy": "dvoting", "Experts: block sizes": [8],
                                  "Temperature": 0.6, "Remasking rule": "entropy",
                                  "Whole-answer baselines (no vote)": False,
                                  "Rounds (at most)": 3})
    list(handler(demo, "on_run")(no_progress, *values))
    request = runner.requests[-1]
    assert (request.strategy, request.rounds, request.entropy_threshold, request.blocks) == (
        "dvoting", 3, 0.3, (8,))
    assert widgets.STRATEGY_SAMPLING["dvoting"][1] == request.temperature


def test_the_speed_preset_sets_the_sampler_and_cache_that_run_sends():
    """Fast and Paper settings set only the Sampler and KV cache controls; Run sends them."""
    from hexviz.app import presets

    runner = Recording()
    demo = ui.build_demo(runner)
    picker = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "speed-preset")
    (picked,) = [f for f in demo.fns.values() if (picker._id, "input") in f.targets]
    sent = {}
    for preset in (presets.FAST, presets.PAPER):
        values = dict(zip((c.label for c in picked.outputs), picked.fn(preset)))
        list(handler(demo, "on_run")(no_progress, *form_values(demo, **values)))
        sent[preset] = runner.requests[-1]
    fast, paper = sent[presets.FAST], sent[presets.PAPER]
    assert (fast.sampler.spec, fast.cache) == ("threshold:0.9", "none")
    assert (paper.sampler.spec, paper.cache) == ("fixed", "none")
    first = handler(demo, "on_run")
    list(first(no_progress, *form_values(demo)))
    assert runner.requests[-1] == paper  # Paper settings is the form as it opens
    assert fast.blocks == paper.blocks and fast.steps == paper.steps  # the rest untouched


def test_a_visitor_behind_other_decodes_sees_the_expected_wait_first():
    class Busy(Recording):
        def wait_note(self):
            return "5 questions are being decoded before yours, about 17 s"

    demo = ui.build_demo(Busy())
    status = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "status")
    first = next(iter(handler(demo, "on_run")(no_progress, *form_values(demo))))
    assert first == {status: "**Waiting: 5 questions are being decoded before yours, about 17 "
                             "s…**"}
    idle = ui.build_demo(Recording())
    status = next(b for b in idle.blocks.values() if getattr(b, "elem_id", None) == "status")
    first = next(iter(handler(idle, "on_run")(no_progress, *form_values(idle))))
    assert first == {status: "**Loading the model and decoding the first step…**"}


def test_run_requests_are_served_many_at_once_in_one_concurrency_group():
    from hexviz.app.serving import RUNS_AT_ONCE

    demo = ui.build_demo(FakeRunner())
    runs = [d for d in demo.config["dependencies"]
            if d.get("api_name") == "run" or d.get("js") and "scrollIntoView" in d["js"]]
    assert len(runs) == 2
    fns = {d["id"]: d for d in runs}
    limits = {(f.concurrency_limit, f.concurrency_id) for i, f in demo.fns.items() if i in fns}
    assert limits == {(RUNS_AT_ONCE, "run")}
