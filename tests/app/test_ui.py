"""The demo wires the runner and the API and starts from the model's lengths."""

from __future__ import annotations

import gradio as gr

from hexviz.app import ui
from tests.conftest import FakeRunner, RunnerWithDefaults


def test_demo_wires_the_runner_and_the_api():
    runner = FakeRunner()
    demo = ui.build_demo(runner, examples=["Q1", "Q2"])
    config = demo.get_config_file()
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    assert {"run-button", "status", "vote-plot", "reveal-plot", "scaling-plot"} <= ids
    assert "run" in {d.get("api_name") for d in config["dependencies"]}
    values = [c["props"].get("value") for c in config["components"]]
    assert "Q1" in values  # the first example fills the question box


def test_the_demo_starts_from_the_models_lengths():
    demo = ui.build_demo(RunnerWithDefaults())
    values = {getattr(b, "label", None): getattr(b, "value", None) for b in demo.blocks.values()}
    assert (values["Gen length"], values["Steps"]) == (128, 64)
    assert values["Experts: block sizes"] == [4, 8, 16, 32, 64]


def test_the_demo_starts_on_a_fixed_canvas_with_the_authors_growing_settings():
    """Canvas length is fixed until a user picks daedal or rho-eos; their settings wait
    hidden, at the authors' values fitted to the model's gen length (the API takes them too)."""
    from hexviz.app.widgets import CANVAS_OPTIONS

    demo = ui.build_demo(RunnerWithDefaults())
    picker = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "canvas-length")
    assert picker.value == "fixed"
    assert [c[0] for c in picker.choices] == ["fixed", "daedal", "rho-eos"]
    values = {getattr(b, "label", None): getattr(b, "value", None) for b in demo.blocks.values()}
    start = CANVAS_OPTIONS[0].label
    assert (values[start], values["Expansion factor: masks added per growth"]) == (64, 8)
    note = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "canvas-note")
    growing = next(b for b in demo.blocks.values()
                   if isinstance(b, gr.Column) and note in getattr(b, "children", []))
    assert growing.visible is False
    api = demo.get_api_info()["named_endpoints"]["/run"]["parameters"]
    assert {"length", "initial_length", "scheduler"} <= {p["parameter_name"] for p in api}


def test_the_app_opens_on_the_readmes_question_whatever_examples_json_holds():
    assert ui.examples_shown(None) == [ui.DEFAULT_EXAMPLE]
    assert ui.examples_shown(["Q1", ui.DEFAULT_EXAMPLE, "Q2", "Q1"]) == [
        ui.DEFAULT_EXAMPLE, "Q1", "Q2"]


def test_the_page_puts_back_frames_and_hides_cell_text_that_does_not_fit():
    from hexviz.app.views import RESTORE_FRAMES_JS
    from hexviz.render.textfit import FIT_CELL_TEXT_JS

    config = ui.build_demo(FakeRunner()).get_config_file()
    loads = [d["js"] for d in config["dependencies"] if d.get("js") and not d.get("backend_fn")]
    assert loads == [ui.PAGE_JS]
    assert RESTORE_FRAMES_JS in ui.PAGE_JS and FIT_CELL_TEXT_JS in ui.PAGE_JS
