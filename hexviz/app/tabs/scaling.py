"""The Scaling tab: HEX as test-time scaling. The accuracy curve over votes (block sizes x
seeds) from an eval results file, or from a small eval run here on the built-in test set."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from hexviz import limits
from hexviz.app.runner import Runner
from hexviz.app.widgets import one_line, refusal, user_errors
from hexviz.eval.records import EvalResults, load_results
from hexviz.eval.report import format_scaling, format_summary
from hexviz.eval.scoring import scaling_curve, seed_scaling_curve, summarize
from hexviz.paths import STORED_EVALS
from hexviz.render.scaling import BUILTIN_NAME, scaling_figure

INTRO = ("HEX is test-time scaling: more votes (block sizes x seeds), more accuracy, "
         "fewer ties. It opens on the built-in model's eval from its model card; plot a results "
         "file from `hexviz eval --out results.json`, or run a small eval on the built-in test "
         "set here (temperature > 0 makes seeds differ).")

TAB_ID = "scaling"


# --- layout ------------------------------------------------------------------------------------

@dataclass
class Scaling:
    """The Scaling tab's components."""

    results_file: gr.File  # a results file of `hexviz eval --out`, plotted as it is
    problems: gr.Slider  # the live eval: problems of the built-in test set,
    seeds: gr.Slider  # seeds per block size,
    temperature: gr.Slider  # and the temperature that makes seeds differ
    button: gr.Button
    plot: gr.Plot  # votes against accuracy
    table: gr.Markdown  # per expert: accuracy, no answer, collapse, steps


def build() -> Scaling:
    """A results file to plot, or a small live eval to run, and the curve with its table."""
    gr.Markdown(INTRO)
    with gr.Row():
        results_file = gr.File(label="Eval results JSON", file_types=[".json"], type="filepath")
        with gr.Column():
            problems = gr.Slider(4, limits.current().max_eval_problems, value=20, step=4,
                                 label="Problems")
            seeds = gr.Slider(1, 4, value=2, step=1, label="Seeds per block size")
            temperature = gr.Slider(0, 1.5, value=0.5, step=0.1, label="Temperature")
            button = gr.Button("Run a small eval", variant="primary")
    # Not an empty box on a first visit: the model card's eval, until the visitor plots another
    card = card_views()
    plot = gr.Plot(card[0], label="Scaling curve", elem_id="scaling-plot", show_label=False)
    return Scaling(results_file, problems, seeds, temperature, button, plot,
                   gr.Markdown(card[1]))


# --- events ------------------------------------------------------------------------------------

def scaling_views(results: EvalResults, model: str | None = None) -> tuple:
    """The plot's and the table's values: the curve (`hexviz.render.scaling`, titled with
    ``model``), and the eval report's summary and scaling tables (as `hexviz eval` prints
    them) as monospace text."""
    tables = (f"{format_summary(summarize(results))}\n\n"
              f"{format_scaling(scaling_curve(results), seed_scaling_curve(results))}")
    return scaling_figure(results, model), f"```\n{tables}\n```"


def card_views(path=STORED_EVALS[0]) -> tuple:
    """The views of the built-in model's card eval (its records, whatever folder they name),
    or none where the file is missing or unreadable."""
    try:
        return scaling_views(load_results(path), BUILTIN_NAME)
    except (OSError, ValueError):
        return None, ""


def scaling_from_file(path: str | None) -> tuple:
    """The plot's and the table's values for an uploaded results file; a bad file is one line."""
    if path is None:
        return gr.skip(), gr.skip()
    try:
        return scaling_views(load_results(path))
    except Exception as err:  # noqa: BLE001  ValueError says what is wrong; others, their type
        raise refusal(f"cannot read this results file: {one_line(err)}") from None


def wire(runner: Runner, tab: Scaling, model: gr.Dropdown) -> None:
    """``model``: Explore's model picker; the small eval runs on the model chosen there."""
    def on_eval(model, problems, seeds, temperature, progress=gr.Progress()) -> tuple:
        report = lambda done, total: progress((done, total), unit="problems")  # noqa: E731
        results = user_errors("the eval", runner.evaluate, model, int(problems), int(seeds),
                              float(temperature), report)
        return scaling_views(results)

    outputs = [tab.plot, tab.table]
    tab.results_file.upload(scaling_from_file, [tab.results_file], outputs,
                            api_visibility="private")
    tab.button.click(on_eval, [model, tab.problems, tab.seeds, tab.temperature], outputs,
                     api_visibility="private")
