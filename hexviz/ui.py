"""The Gradio front end: layout and events only. Decoding happens in the runner it is given."""

from __future__ import annotations

import hashlib
import html
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from hexviz import limits, plots, trajectory, ui_teach
from hexviz.config import divisors, hex_block_lengths, parse_blocks, scaled_steps
from hexviz.evaluate import (EvalResults, format_scaling, format_summary, load_results,
                             scaling_curve, seed_scaling_curve, summarize)
from hexviz.lesson import load_lesson
from hexviz.metrics import MAX_SQUEEZED_TOKENS
from hexviz.models.meta import read_card
from hexviz.paths import BUILTIN_DIR, GALLERY
from hexviz.remasking import RULE_NAMES
from hexviz.runner import Runner, RunRequest
from hexviz.trajectory import Run, Trajectory, TrajectoryFormatError

PAPER = "https://arxiv.org/abs/2510.05040"
# The controls' lengths for a model whose own are unknown until it loads (the loader's too).
FALLBACK_LENGTHS = (64, 64)
DEFAULT_EXAMPLE = "Tom has 5 apples. He buys 3 more. How many apples does Tom have now?"
GEN_LENGTHS = [16, 32, 64, 128, 256, 512]

HEADER = f"""# hexviz — how a diffusion LM unmasks its answer
A masked diffusion LM starts from an all-`[MASK]` answer and reveals tokens over many steps.
Each **block size** is a hidden expert ([HEX, Lee et al. 2025]({PAPER})): run several, vote on
their answers. Whole-answer baselines (one block) are shown for contrast; they don't vote.
"""

ABOUT = f"""
## What a masked diffusion LM does
A masked diffusion language model (dLLM) such as LLaDA answers a prompt by starting from an
answer region that is all `[MASK]` and revealing tokens over a fixed number of **steps**. At each
step one forward pass predicts every masked position at once; a **remasking rule** keeps the
positions it is surest about and leaves the rest masked for later steps:
`low_confidence` (probability of the chosen token), `margin` (top-1 minus top-2 probability),
`entropy` (sharpest distribution first) or `random`.

## Semi-autoregressive blocks
The answer can be split into blocks of `block_length` tokens decoded left to right: a block is
finished before the next one starts, and the rule only chooses inside the current block. One block
of the whole answer is fully "any order"; blocks of 1 token are ordinary left-to-right decoding.

## AfterEoT collapse
LLaDA is fine-tuned with every answer padded by end-of-text tokens, and it learns to be very sure
of them. Decoding the whole answer by confidence therefore reveals the tail's end-of-text tokens
first; each one makes the next one to its left likelier, and the answer can be squeezed into
nothing. That is a **collapse**: hexviz flags an expert when at most {MAX_SQUEEZED_TOKENS} tokens of
text stand before its first end token and the end tokens were committed before that text (median reveal
step). A short answer written first and padded afterwards is not a collapse.
Blocks prevent it: the tail cannot be touched before the blocks before it are done.

## HEX: hidden semi-autoregressive experts
Different block sizes make different mistakes. HEX decodes the same prompt with several block
sizes (for a 256-token answer the paper uses 8, 16, 32, 64 and 128), extracts each final answer
and takes the **majority vote** (ties go to the smallest block). No training is needed; on
LLaDA-8B-Instruct it lifts GSM8K accuracy from 24.7% (whole-answer top-k margin) to 88.1%.
Paper: [Test-Time Scaling in Diffusion LLMs via Hidden Semi-Autoregressive Experts]({PAPER})
(arXiv 2510.05040).

## The views
- **Lesson** (the first tab): five short chapters on stored runs of the built-in model: one
  expert's block-by-block order, the end-of-text wall of whole-answer decoding, experts that
  disagree, the vote, and test-time scaling from the model card's eval records. Every number in
  the text is read from those runs and records; **Try it yourself** loads a chapter into Explore.
- **Explore**: decode a question; the HEX answer, the vote and each expert's answer on top, the
  charts below in tabs. **What-if fork** continues one expert from its canvas after step t with
  another block length, rule or temperature, or with one masked position forced to one of the
  model's top candidates, and shows the original and the fork side by side.
- **Gallery**: stored runs (`assets/gallery/`), replayed in every view without a model; a run
  JSON from elsewhere joins the list when dropped into that folder.
- **Compare**: two experts, of one run or two, on one colour scale, with the positions where
  their final tokens differ marked.

## How to read the charts
- **Vote**: one bar per extracted answer; hover to see which experts voted for it. Green is the
  winner; grey are experts with no answer (they don't vote). Below, each expert's final text with
  its answer highlighted.
- **Reveal order**: one row per expert, one column per answer position; the colour is the step at
  which the token was revealed (dark early, yellow late). White lines are block edges. Left-to-right
  colour ramps are semi-autoregressive decoding; a dark tail means end tokens were revealed first.
- **Step scrubber**: drag the slider or press play to see every expert's canvas after t steps.
- **End-token pressure**: for the experts ticked above it, the share of still-masked positions
  whose current draft is an end token (solid), the share of revealed tokens that are end tokens
  (dotted) and the model's mean end-token probability over the masked positions (dash-dot). A
  solid line near 100% early on is the pull towards AfterEoT collapse.
- **Unmasking map**: one expert in detail, as in the HEX paper's Figure 2: step down, position
  across; grey is masked, blue text, orange end of turn, red end-of-text padding.

"""


def about_builtin(card: dict) -> str:
    """The About tab's words on the built-in model, with its model card's figures."""
    text = ("## The built-in model\nA 1.9M-parameter ModernBERT-style dLLM trained by hexviz "
            "with LLaDA's fine-tuning recipe on \"tinygsm\", generated GSM8K-style word "
            "problems; it runs on a laptop CPU. On a GPU the same app runs LLaDA-8B-Instruct "
            "when the operator enables it (see the README).")
    if card.get("whole_collapse") is None:
        return text
    return text + (
        f" On {card['problems']} held-out problems of its model card "
        f"(`assets/tinygsm-dllm/README.md`), whole-answer `low_confidence` decoding hit the "
        f"end-of-text wall on {card['whole_collapse']:.0%} of them and scored "
        f"{card['whole_accuracy']:.0%}; the HEX vote of its block-size experts scored "
        f"{card['hex_accuracy']:.0%} (mean expert {card['mean_expert_accuracy']:.0%}).")


# Inline styles, so the answers panel looks the same however the app is launched.
# A flex row: on a narrow screen the text wraps under its label instead of beside it.
ROW_STYLE = ("font-family: ui-monospace, monospace; font-size: 13px; margin: 3px 0; "
             "display: flex; flex-wrap: wrap; column-gap: 1em;")
LABEL_STYLE = "flex: 0 0 14em; color: #666;"
TEXT_STYLE = "flex: 1 1 18em;"
MARK_STYLE = "background: #ffe08a; padding: 0 2px; border-radius: 3px;"
COLLAPSED_STYLE = "color: #b22222;"


# --- pure helpers ------------------------------------------------------------------------------

# The Explore view's outputs, by name; a view function returns a dict with some of these keys
# and the outputs it leaves out keep what they show.
VIEWS = ("run", "status", "vote", "answers", "reveal", "scrub", "pressure", "pick", "map",
         "downloads")
Views = dict[str, Any]


def one_line(err: BaseException) -> str:
    """A user-facing line: a ValueError's message, else the error's type and first line."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    if isinstance(err, ValueError) and text:
        return text
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def gen_length_choices(runner: Runner, label: str) -> list[int]:
    """The Gen length menu for a model: what the model's positions and the limits allow."""
    model_max = runner.max_length(label) if hasattr(runner, "max_length") else None
    return limits.gen_length_choices(GEN_LENGTHS, model_max) or [min(GEN_LENGTHS)]


def model_lengths(runner: Runner, label: str) -> tuple[int, int]:
    """The model's own (gen_length, steps), which the controls start from."""
    defaults = runner.defaults(label) if hasattr(runner, "defaults") else None
    return (defaults.gen_length, defaults.steps) if defaults else FALLBACK_LENGTHS


@dataclass(frozen=True)
class LengthControls:
    """What the Gen length, Steps and block-size controls show for one model and length."""

    choices: list[int]  # the Gen length menu
    gen_length: int
    steps: int
    blocks: list[int]  # the block sizes offered (divisors of gen_length)
    experts: list[int]  # the ticked ones: the HEX set

    @classmethod
    def of(cls, runner: Runner, label: str, gen_length: int | None = None,
           blocks: list[int] | None = None) -> LengthControls:
        """For ``gen_length`` (default the model's own) and ticked ``blocks`` (default the
        HEX set): steps at the model's tokens per step, whole steps for every ticked expert."""
        choices = gen_length_choices(runner, label)
        model_gen, model_steps = model_lengths(runner, label)
        n = gen_length or min(model_gen, max(choices))
        choices = sorted({*choices, n})
        experts = [b for b in blocks if n % b == 0] if blocks else hex_block_lengths(n)
        steps = scaled_steps(n, model_gen, model_steps, experts or None)
        return cls(choices, n, steps, divisors(n), experts)


def order_summary(t: Trajectory) -> str:
    """How left to right the expert decoded, and how early it committed end tokens."""
    def number(value: float, fmt: str) -> str:
        return "-" if math.isnan(value) else format(value, fmt)

    return (f"AR-ness {number(t.ar_ness, '.2f')} · order rho "
            f"{number(t.order_correlation, '+.2f')} · "
            f"early end {number(t.early_end_share, '.0%')}")


def expert_texts_html(run: Run) -> str:
    """Each expert's final text with its extracted answer highlighted."""
    rows = []
    for t, label in zip(run.trajectories, plots.row_labels(run), strict=True):
        text = html.escape(t.text) or "<i>(empty)</i>"
        if t.answer is not None:
            needle = html.escape(t.answer)
            cut = text.rfind(needle)
            if cut >= 0:
                text = (f'{text[:cut]}<mark style="{MARK_STYLE}">{needle}</mark>'
                        f"{text[cut + len(needle):]}")
        style = ROW_STYLE + (COLLAPSED_STYLE if t.collapsed else "")
        rows.append(f'<div style="{style}"><span style="{LABEL_STYLE}">{html.escape(label)}'
                    f'<br><small>{order_summary(t)}</small></span>'
                    f'<span style="{TEXT_STYLE}">{text}</span></div>')
    return "\n".join(rows)


def status_markdown(run: Run) -> str:
    vote = run.vote
    done = f"step {run.steps_done}/{run.config.steps}"
    if not run.complete:
        return f"**Decoding…** {done}"
    collapsed = sum(t.collapsed for t in run.trajectories)
    head = ("no expert produced an answer" if vote.winner is None else
            f"HEX answer **{vote.winner}**" + (" (tie, broken by the smallest block)"
                                               if vote.tie else ""))
    return (f"{head} · {len(run.voters)} voting experts · {collapsed} collapsed · "
            f"{run.steps_done} forward passes in {run.timing.decode_s:.2f} s · "
            f"model `{Path(run.model).name}`")


def figures_html(run: Run, figures: dict | None = None) -> str:
    """Every figure in one self-contained page (plotly.js embedded once: works offline)."""
    figures = figures or plots.all_figures(run)
    parts = [fig.to_html(full_html=False, include_plotlyjs=(i == 0))
             for i, fig in enumerate(figures.values())]
    title = html.escape(run.prompt)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>hexviz: {title}</title>"
            f"</head><body><h2>{title}</h2>{''.join(parts)}</body></html>")


def export_files(run: Run, folder: Path | None = None, figures: dict | None = None) -> list[str]:
    """The run as trajectory JSON and its figures as one HTML page, named by the run's content
    so that runs never overwrite each other and a replayed run reuses its files. They go to the
    app's one export folder, inside Gradio's cache (served in place, not copied), which is
    pruned to HEXVIZ_EXPORT_MAX_MB and HEXVIZ_EXPORT_MAX_AGE_S after each export."""
    text = trajectory.dumps(run)
    folder = folder or limits.export_folder()
    stem = hashlib.sha1(text.encode()).hexdigest()[:12]
    run_path, page = folder / f"hexviz-run-{stem}.json", folder / f"hexviz-figures-{stem}.html"
    run_path.write_text(text)
    page.write_text(figures_html(run, figures))
    limits.prune_exports(folder, keep={run_path, page})
    return [str(run_path), str(page)]


def full_views(run: Run) -> Views:
    """Every output of the Explore view for a finished (or uploaded) run."""
    labels = plots.row_labels(run)
    first_collapsed = next((i for i, t in enumerate(run.trajectories) if t.collapsed), 0)
    figs = plots.all_figures(run)  # drawn once, for the views and the export page
    return {"run": run, "status": status_markdown(run), "vote": figs["vote"],
            "answers": expert_texts_html(run), "reveal": figs["reveal_order"],
            "scrub": figs["scrubber"],
            "pressure": plots.end_pressure(run, plots.default_pressure_rows(run)),
            "pick": gr.update(choices=labels, value=labels[first_collapsed]),
            "map": plots.unmasking_map(run, first_collapsed),
            "downloads": export_files(run, figures=figs)}


def partial_views(run: Run) -> Views:
    """What is cheap to redraw while decoding: status, answers, reveal order, end pressure."""
    return {"status": status_markdown(run), "answers": expert_texts_html(run),
            "reveal": plots.reveal_order(run),
            "pressure": plots.end_pressure(run, plots.default_pressure_rows(run))}


def replay(path: str | None) -> Views:
    """All views of an uploaded trajectory JSON; a bad file becomes a message, not a crash."""
    if path is None:
        return {}
    try:
        return full_views(trajectory.load(path))
    except TrajectoryFormatError as err:
        raise gr.Error(f"cannot replay this file: {err}") from None
    except Exception as err:  # noqa: BLE001  the app stays up; the user gets one line
        raise gr.Error(f"cannot replay this file: {one_line(err)}") from None


def scaling_views(results: EvalResults) -> tuple:
    """The Scaling tab: the curve, and the summary table as monospace text."""
    table = format_summary(summarize(results))
    title = f"Test-time scaling on {len(results.records)} problems ({Path(results.model).name})"
    curve, by_seeds = scaling_curve(results), seed_scaling_curve(results)
    figure = plots.scaling(curve, title, by_seeds)
    return figure, f"```\n{table}\n\n{format_scaling(curve, by_seeds)}\n```"


def scaling_from_file(path: str | None) -> tuple:
    if path is None:
        return gr.skip(), gr.skip()
    try:
        return scaling_views(load_results(path))
    except Exception as err:  # noqa: BLE001  ValueError says what is wrong; others, their type
        raise gr.Error(f"cannot read this results file: {one_line(err)}") from None


def user_errors(what: str, fn: Callable, *args) -> Any:
    """``fn(*args)`` with failures as messages: bad settings as they are, anything else as
    ``what`` failed, so the app stays up and the user sees what went wrong."""
    try:
        return fn(*args)
    except gr.Error:
        raise
    except ValueError as err:
        raise gr.Error(one_line(err)) from None
    except Exception as err:  # noqa: BLE001  one line, whatever failed
        raise gr.Error(f"{what} failed: {one_line(err)}") from None


# --- layout ------------------------------------------------------------------------------------

@dataclass
class Settings:
    """The Explore view's inputs, in the order ``on_run`` takes them."""

    prompt: gr.Textbox
    model: gr.Dropdown
    blocks: gr.CheckboxGroup
    rule: gr.Dropdown
    gen_length: gr.Dropdown
    steps: gr.Number
    temperature: gr.Slider
    seeds: gr.Slider
    forbid: gr.Checkbox
    end_last: gr.Checkbox
    baselines: gr.Checkbox

    def inputs(self) -> list:
        return list(vars(self).values())


@dataclass
class Explore:
    settings: Settings
    run_button: gr.Button
    upload: gr.File
    views: dict[str, Any]  # VIEWS name -> component
    pressure_pick: gr.CheckboxGroup  # which experts the pressure chart shows
    fork: ui_teach.ForkPanel


@dataclass
class Scaling:
    results_file: gr.File
    problems: gr.Slider
    seeds: gr.Slider
    temperature: gr.Slider
    button: gr.Button
    plot: gr.Plot
    table: gr.Markdown


def question_column(examples: list[str]) -> tuple[gr.Textbox, gr.Button, dict[str, Any]]:
    """The question, Run, and under it the summary: status, vote and each expert's answer."""
    prompt = gr.Textbox(label="Question", value=examples[0], lines=3)
    gr.Examples([[e] for e in examples], inputs=[prompt],
                label="Examples (the experts disagree on these)")
    run_button = gr.Button("Run", variant="primary", elem_id="run-button")
    summary = {"status": gr.Markdown(elem_id="status"),
               "vote": gr.Plot(label="Vote", elem_id="vote-plot", show_label=False)}
    with gr.Accordion("Each expert's answer", open=True):
        summary["answers"] = gr.HTML(elem_id="answers")
    return prompt, run_button, summary


def settings_column(prompt: gr.Textbox, labels: list[str],
                    lengths: LengthControls) -> tuple[Settings, gr.File]:
    model = gr.Dropdown(labels, value=labels[0], label="Model")
    blocks = gr.CheckboxGroup(lengths.blocks, value=lengths.experts, label="Experts: block sizes")
    with gr.Row():
        rule = gr.Dropdown(list(RULE_NAMES), value="low_confidence", label="Remasking rule")
        gen_length = gr.Dropdown(lengths.choices, value=lengths.gen_length, label="Gen length")
        steps = gr.Number(lengths.steps, precision=0, label="Steps", minimum=1,
                          maximum=limits.current().max_steps)
    with gr.Row():
        temperature = gr.Slider(0, 2, value=0, step=0.1, label="Temperature")
        seeds = gr.Slider(1, 4, value=1, step=1, label="Votes per block size (seeds)")
    with gr.Accordion("End-of-sequence controls", open=False):
        forbid = gr.Checkbox(False, label="Forbid end-of-text in the logits")
        end_last = gr.Checkbox(False, label="Exclude end tokens from confidence "
                                            "(reveal them last)")
    baselines = gr.Checkbox(True, label="Whole-answer baselines (no vote)")
    with gr.Accordion("Replay a trajectory JSON (no model needed)", open=False):
        upload = gr.File(label="Trajectory JSON", file_types=[".json"], type="filepath")
    settings = Settings(prompt, model, blocks, rule, gen_length, steps, temperature, seeds,
                        forbid, end_last, baselines)
    return settings, upload


def detail_views(state: gr.State, summary: dict[str, Any]) -> tuple[dict[str, Any],
                                                                      gr.CheckboxGroup,
                                                                      ui_teach.ForkPanel]:
    """The charts, one tab each, below the summary; the what-if fork panel in the last tabs."""
    views = {"run": state, **summary}
    with gr.Tabs(elem_id="details"):
        with gr.Tab("Reveal order"):
            views["reveal"] = gr.Plot(label="Reveal order", elem_id="reveal-plot")
        with gr.Tab("Scrubber"):
            views["scrub"] = gr.Plot(label="Step scrubber", elem_id="scrub-plot")
        with gr.Tab("End-token pressure"):
            pressure_pick = gr.CheckboxGroup([], label="Experts shown", elem_id="pressure-pick")
            views["pressure"] = gr.Plot(label="End-token pressure", elem_id="pressure-plot")
        with gr.Tab("Unmasking map"):
            views["pick"] = gr.Dropdown([], label="Unmasking map of expert")
            views["map"] = gr.Plot(label="Unmasking map", elem_id="map-plot")
        with gr.Tab("What-if fork", elem_id="fork-tab"):
            fork = ui_teach.fork_panel()
        with gr.Tab("Downloads"):
            views["downloads"] = gr.File(label="Trajectory JSON and all figures (one offline "
                                         "HTML page)", file_count="multiple", interactive=False)
    views = {name: views[name] for name in VIEWS}
    return views, pressure_pick, fork


def explore_tab(labels: list[str], examples: list[str], lengths: LengthControls) -> Explore:
    state = gr.State(None)  # this user's last run
    with gr.Row():
        with gr.Column(scale=3):
            prompt, run_button, summary = question_column(examples)
        with gr.Column(scale=2, min_width=300):
            settings, upload = settings_column(prompt, labels, lengths)
    views, pressure_pick, fork = detail_views(state, summary)
    return Explore(settings, run_button, upload, views, pressure_pick, fork)


def scaling_tab() -> Scaling:
    gr.Markdown("HEX is test-time scaling: more votes (block sizes x seeds), more accuracy, "
                "fewer ties. Plot a results file from `hexviz eval --out results.json`, or run "
                "a small eval on the built-in test set here (temperature > 0 makes seeds "
                "differ).")
    with gr.Row():
        results_file = gr.File(label="Eval results JSON", file_types=[".json"], type="filepath")
        with gr.Column():
            problems = gr.Slider(4, limits.current().max_eval_problems, value=20, step=4,
                                 label="Problems")
            seeds = gr.Slider(1, 4, value=2, step=1, label="Seeds per block size")
            temperature = gr.Slider(0, 1.5, value=0.5, step=0.1, label="Temperature")
            button = gr.Button("Run a small eval", variant="primary")
    plot = gr.Plot(label="Scaling curve", elem_id="scaling-plot")
    return Scaling(results_file, problems, seeds, temperature, button, plot, gr.Markdown())


# --- events ------------------------------------------------------------------------------------

def run_request(prompt, model, blocks, rule, gen_length, steps, temperature, seeds, forbid,
                end_last, baselines) -> RunRequest:
    """The Explore view's settings as a request (validated as it is made)."""
    return RunRequest(prompt=prompt or "", model=model, blocks=parse_blocks(blocks or []),
                      remasking=rule, gen_length=int(gen_length), steps=int(steps),
                      temperature=float(temperature), seeds=int(seeds),
                      forbid_end_of_text=bool(forbid), end_tokens_last=bool(end_last),
                      baselines=bool(baselines))


def api_request(label: str, prompt: str, blocks: str, remasking: str, gen_length: int,
                steps: int, temperature: float, seeds: int, baselines: bool) -> RunRequest:
    """The API's arguments as a request: "" blocks is the HEX set, 0 the model's defaults."""
    blocks = str(blocks or "")
    return RunRequest(prompt=str(prompt or ""), model=label, remasking=str(remasking),
                      blocks=parse_blocks(blocks) if blocks.strip() else None,
                      gen_length=limits.as_int(gen_length, "gen_length") or None,
                      steps=limits.as_int(steps, "steps") or None,
                      temperature=limits.as_float(temperature, "temperature"),
                      seeds=limits.as_int(seeds, "seeds"), baselines=bool(baselines))


def wire_explore(runner: Runner, tab: Explore) -> None:
    views = tab.views

    def keyed(v: Views) -> dict:
        return {views[name]: value for name, value in v.items()}

    def on_run(prompt, model, blocks, rule, gen_length, steps, temperature, seeds, forbid,
               end_last, baselines, progress=gr.Progress()) -> Iterator[dict]:
        request = user_errors("reading the settings", run_request, prompt, model, blocks, rule,
                              gen_length, steps, temperature, seeds, forbid, end_last, baselines)
        waiting = getattr(runner, "is_loading", lambda _: False)(model)
        progress(0, desc="waiting for the model to finish loading" if waiting
                 else "loading model and decoding")
        runs = iter(runner.run(request))  # a generator: decoding starts at the first next()
        while (run := user_errors("decoding", next, runs, None)) is not None:
            progress((run.steps_done, run.config.steps), desc="decoding", unit="steps")
            yield keyed(full_views(run) if run.complete else partial_views(run))
        limits.release_memory()  # the views are sent; memory returns to its level

    def on_pick(label, run) -> Any:
        if run is None or label not in plots.row_labels(run):
            return gr.skip()
        return plots.unmasking_map(run, plots.row_labels(run).index(label))

    def on_model(label) -> tuple:  # the length controls follow the model
        c = LengthControls.of(runner, label)
        return (gr.update(choices=c.choices, value=c.gen_length), gr.update(value=c.steps),
                gr.update(choices=c.blocks, value=c.experts))

    def on_gen_length(label, gen_length) -> tuple:
        c = LengthControls.of(runner, label, int(gen_length))
        return gr.update(choices=c.blocks, value=c.experts), gr.update(value=c.steps)

    def on_blocks(label, gen_length, blocks) -> Any:  # whole steps for every ticked expert
        return gr.update(value=LengthControls.of(runner, label, int(gen_length), blocks).steps)

    outputs = list(views.values())
    tab.run_button.click(on_run, tab.settings.inputs(), outputs, api_visibility="private")
    tab.upload.upload(lambda path: keyed(replay(path)), [tab.upload], outputs,
                      api_visibility="private")
    views["pick"].change(on_pick, [views["pick"], views["run"]], [views["map"]],
                         api_visibility="private")
    c = tab.settings
    c.model.input(on_model, [c.model], [c.gen_length, c.steps, c.blocks],
                  api_visibility="private")
    # .input, not .change: loading a stored run's settings must not reset blocks and steps
    c.gen_length.input(on_gen_length, [c.model, c.gen_length], [c.blocks, c.steps],
                       api_visibility="private")
    c.blocks.input(on_blocks, [c.model, c.gen_length, c.blocks], [c.steps],
                   api_visibility="private")
    wire_pressure_pick(tab)


def wire_pressure_pick(tab: Explore) -> None:
    """The pressure chart shows the experts ticked above it (a readable few by default)."""
    state, plot = tab.views["run"], tab.views["pressure"]

    def on_run(run) -> Any:
        if run is None:
            return gr.skip()
        labels = plots.row_labels(run)
        return gr.update(choices=labels, value=[labels[i] for i in plots.default_pressure_rows(run)])

    def on_pick(chosen, run) -> Any:
        if run is None:
            return gr.skip()
        labels = plots.row_labels(run)
        return plots.end_pressure(run, [i for i, label in enumerate(labels) if label in chosen])

    state.change(on_run, [state], [tab.pressure_pick], api_visibility="private")
    tab.pressure_pick.input(on_pick, [tab.pressure_pick, state], [plot], api_visibility="private")


def keyed_views(tab: Explore) -> ui_teach.Show:
    """A run -> every Explore view, keyed by component (for the lesson and the gallery)."""
    return lambda run: {tab.views[name]: value for name, value in full_views(run).items()}


def wire_scaling(runner: Runner, tab: Scaling, model: gr.Dropdown) -> None:
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


def wire_api(runner: Runner, label: str) -> None:
    def api_run(prompt: str, blocks: str = "", remasking: str = "low_confidence",
                gen_length: int = 0, steps: int = 0, temperature: float = 0.0,
                seeds: int = 1, baselines: bool = True) -> dict:
        """Decode ``prompt`` with HEX experts and return the run's JSON (the CLI's --json)."""
        request = user_errors("reading the arguments", api_request, label, prompt, blocks,
                              remasking, gen_length, steps, temperature, seeds, baselines)
        *_, run = user_errors("decoding", list, runner.run(request))
        result = trajectory.run_to_json(run)
        del run
        limits.release_memory()
        return result

    gr.api(api_run, api_name="run")


def build_demo(runner: Runner, examples: list[str] | None = None,
               gallery_dir: Path | None = None) -> gr.Blocks:
    """The app; every decode and fork goes through ``runner``. The lesson and the gallery read
    the stored runs in ``gallery_dir`` (default ``assets/gallery``)."""
    examples = examples or [DEFAULT_EXAMPLE]
    labels = runner.model_labels()
    gallery_dir = Path(gallery_dir or GALLERY)
    chapters = load_lesson(gallery_dir)
    # Gradio deletes its cached files (uploads, served exports) once older than the export age.
    cache_age = int(limits.current().export_max_age_s)
    with gr.Blocks(title="hexviz", delete_cache=(min(cache_age, 600), cache_age)) as demo:
        gr.Markdown(HEADER)
        with gr.Tabs(selected="lesson") as tabs:
            with gr.Tab("Lesson", id="lesson"):
                lesson = ui_teach.lesson_tab(chapters)
            with gr.Tab("Explore", id="explore"):
                explore = explore_tab(labels, examples, LengthControls.of(runner, labels[0]))
            with gr.Tab("Gallery", id="gallery"):
                gallery = ui_teach.gallery_tab(gallery_dir)
            with gr.Tab("Compare", id="compare"):
                compare = ui_teach.compare_tab(gallery_dir)
            with gr.Tab("Scaling", id="scaling"):
                scaling = scaling_tab()
            with gr.Tab("About"):
                gr.Markdown(ABOUT + about_builtin(read_card(BUILTIN_DIR)))
        wire_explore(runner, explore)
        wire_scaling(runner, scaling, explore.settings.model)
        wire_api(runner, labels[0])
        show, outputs = keyed_views(explore), list(explore.views.values())
        settings = [explore.settings.prompt, *explore.settings.inputs()[2:]]  # all but model
        ui_teach.wire_lesson(lesson, show, outputs, settings, tabs, "explore", "scaling")
        ui_teach.wire_gallery(gallery, gallery_dir, show, outputs, settings, tabs, "explore")
        ui_teach.wire_compare(compare, gallery_dir, explore.views["run"])
        ui_teach.wire_fork(explore.fork, runner, explore.views["run"], explore.settings.model)
    return demo
