"""The demo wires the runner and the API and starts from the model's lengths."""

from __future__ import annotations

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
