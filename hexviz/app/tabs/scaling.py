"""The Scaling tab: HEX as test-time scaling. The accuracy curve over votes (block sizes x
seeds) from an eval results file, or from a small eval run here on the built-in test set; and
under it, strategies compared at equal compute, drawn from stored curves (no model)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import gradio as gr
import plotly.graph_objects as go

from hexviz import limits
from hexviz.app.runner import Runner
from hexviz.app.widgets import one_line, refusal, user_errors
from hexviz.eval.lab import Curve, curves_from_json, frontier
from hexviz.eval.records import EvalResults, load_results
from hexviz.eval.report import format_scaling, format_summary
from hexviz.eval.scoring import scaling_curve, seed_scaling_curve, summarize
from hexviz.paths import SCALING_LAB, STORED_EVALS
from hexviz.render.scaling import BUILTIN_NAME, lab_figure, scaling_figure

INTRO = ("HEX is test-time scaling: more votes (block sizes x seeds), more accuracy, "
         "fewer ties. It opens on the built-in model's eval from its model card; plot a results "
         "file from `hexviz eval --out results.json`, or run a small eval on the built-in test "
         "set here (temperature > 0 makes seeds differ).")

TAB_ID = "scaling"

LAB_HEADING = "### Strategies at equal compute"
LAB_NOTES = ("A **row pass** is one expert's row through the model in one forward step (a "
             "finished expert costs none), so a strategy's row passes per problem are the "
             "compute it spent. Each curve adds decodes (HEX: its first 1..K experts; seeds: one "
             "block size sampled 1..N times), with 95% bootstrap intervals over problems; "
             "dashed, the same vote stopped once its answer is decided (the same accuracy for "
             "fewer row passes); dVoting is one point. The curves are stored results of "
             "`bench/scaling_bench.py`, so no model runs here.")
LAB_MISSING = ("The comparison of strategies is not stored yet: "
               "`python bench/scaling_bench.py --lab assets/scaling-lab.json` makes it.")
# Shown at first: HEX with and without its decided vote, each seeds curve plain, dVoting.
DEFAULT_STRATEGIES = ("hex", "hex-decided", "seeds", "dvoting")
BUDGETS = 5  # rows of the best-per-budget table


# --- the stored lab: strategies at equal compute -----------------------------------------------

@dataclass(frozen=True)
class Lab:
    """Strategies at equal compute as `bench/scaling_bench.py` stored them (`hexviz.eval.lab`),
    read once when the tab builds."""

    curves: tuple[Curve, ...]
    header: dict  # problems, model, sampler

    def figure(self, shown: list[str] | None = None) -> go.Figure:
        """The chart of the curves labelled ``shown`` (the picks' callback: no model)."""
        return lab_figure(self.curves, self.header, shown)


def read_lab() -> Lab:
    """The stored lab (`SCALING_LAB`, looked up at each call); OSError where it is missing,
    ValueError where it is damaged or a curve has no point."""
    curves, header = curves_from_json(json.loads(SCALING_LAB.read_text()))
    if not curves or not all(c.points for c in curves):
        raise ValueError("it holds no curve, or a curve without points")
    return Lab(tuple(curves), header)


def lab_unavailable(err: Exception) -> str:
    """The one sentence the section shows instead of its chart."""
    if isinstance(err, FileNotFoundError):
        return LAB_MISSING
    return (f"The stored comparison of strategies cannot be read ({one_line(err)}); "
            "`python bench/scaling_bench.py --table --lab assets/scaling-lab.json` rebuilds it.")


def default_shown(curves: tuple[Curve, ...]) -> list[str]:
    """The labels drawn at first (`DEFAULT_STRATEGIES`; every curve where none is one)."""
    shown = [c.label for c in curves if c.strategy in DEFAULT_STRATEGIES]
    return shown or [c.label for c in curves]


def round_up(x: float) -> float:
    """``x`` rounded up to two significant digits: 23.4 -> 24, 156 -> 160."""
    unit = 10 ** (math.floor(math.log10(x)) - 1)
    return math.ceil(x / unit - 1e-9) * unit


def budgets(curves: tuple[Curve, ...], count: int = BUDGETS) -> list[float]:
    """``count`` budgets spread evenly on a log scale from the cheapest point's row passes to
    the dearest's, rounded up (so the first admits a point)."""
    passes = [p.row_passes for c in curves for p in c.points]
    low, high = max(min(passes), 1.0), max(max(passes), 1.0)
    steps = [low * (high / low) ** (i / max(count - 1, 1)) for i in range(count)]
    return sorted({round_up(x) for x in steps})


def frontier_table(curves: tuple[Curve, ...]) -> str:
    """The best strategy at each budget (`hexviz.eval.lab.frontier`) as a markdown table."""
    lines = ["| row passes per problem, at most | best strategy | accuracy |", "|---|---|---|"]
    for budget, label, accuracy in frontier(curves, budgets(curves)):
        shown = "-" if math.isnan(accuracy) else f"{accuracy:.1%}"
        lines.append(f"| {budget:g} | {label} | {shown} |")
    return "\n".join(lines)


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
    lab: Lab | None = None  # the stored strategies at equal compute; None: missing or damaged
    picks: gr.CheckboxGroup | None = None  # the strategies drawn,
    lab_plot: gr.Plot | None = None  # accuracy against row passes


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
    table = gr.Markdown(card[1])
    return Scaling(results_file, problems, seeds, temperature, button, plot, table,
                   *build_lab())


def build_lab() -> tuple:
    """The section of strategies at equal compute: which to draw, the chart and what it shows;
    one sentence where the stored file is missing or damaged. (lab, picks, plot)"""
    gr.Markdown(LAB_HEADING)
    try:
        lab = read_lab()
    except (OSError, ValueError) as err:
        gr.Markdown(lab_unavailable(err))
        return None, None, None
    shown = default_shown(lab.curves)
    picks = gr.CheckboxGroup([c.label for c in lab.curves], value=shown, label="Strategies")
    plot = gr.Plot(lab.figure(shown), label="Strategies at equal compute",
                   elem_id="scaling-lab-plot", show_label=False)
    gr.Markdown(f"{LAB_NOTES}\n\n{frontier_table(lab.curves)}")
    return lab, picks, plot


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
    if tab.lab is not None:  # redrawn from the stored curves: no model, no decoding
        tab.picks.change(tab.lab.figure, [tab.picks], [tab.lab_plot], api_visibility="private")
