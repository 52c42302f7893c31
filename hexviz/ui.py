"""The Gradio front end: layout and events only. Decoding happens in the runner it is given."""

from __future__ import annotations

import html
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from hexviz import plots, trajectory
from hexviz.config import divisors, hex_block_lengths
from hexviz.evaluate import (EvalResults, format_scaling, format_summary, load_results,
                             scaling_curve, seed_scaling_curve, summarize)
from hexviz.remasking import RULE_NAMES
from hexviz.runner import RunRequest
from hexviz.trajectory import Run, TrajectoryFormatError

PAPER = "https://arxiv.org/abs/2510.05040"
DEFAULT_GEN_LENGTH = 64
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
nothing: the answer region ends up mostly end tokens with no final answer. That is a
**collapse** (hexviz flags an expert with no extractable answer and at least 80% end tokens).
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
- **End-token pressure**: for the experts picked above it, the share of still-masked positions whose current
  draft is an end token (solid) and the share of revealed tokens that are end tokens (dotted).
  A solid line near 100% early on is the pull towards AfterEoT collapse.
- **Unmasking map**: one expert in detail, as in the HEX paper's Figure 2: step down, position
  across; grey is masked, blue text, orange end of turn, red end-of-text padding.

## The built-in model
A 1.8M-parameter ModernBERT-style dLLM trained by hexviz with LLaDA's fine-tuning recipe on
"tinygsm", generated GSM8K-style word problems; it runs on a laptop CPU. Its whole-answer runs
reveal the end-of-text tail first, as LLaDA's do, but unlike LLaDA it does not collapse: on 500
held-out problems no whole-answer run lost its answer, and its small blocks fail the other way,
by not stopping. Its model card (`assets/tinygsm-dllm/README.md`) has the numbers. On a GPU the
same app runs LLaDA-8B-Instruct when the operator enables it (see the README).
"""

# Inline styles, so the answers panel looks the same however the app is launched.
ROW_STYLE = "font-family: ui-monospace, monospace; font-size: 13px; margin: 3px 0;"
LABEL_STYLE = "display: inline-block; min-width: 15em; color: #666;"
MARK_STYLE = "background: #ffe08a; padding: 0 2px; border-radius: 3px;"
COLLAPSED_STYLE = "color: #b22222;"


# --- pure helpers ------------------------------------------------------------------------------

def parse_blocks(values: list[Any]) -> tuple[int, ...]:
    if not values:
        raise ValueError("pick at least one block size (expert)")
    return tuple(sorted(int(v) for v in values))


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
                    f"</span>{text}</div>")
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
            f"{run.timing.forward_passes} forward passes in {run.timing.decode_s:.2f} s · "
            f"model `{Path(run.model).name}`")


def figures_html(run: Run) -> str:
    """Every figure in one self-contained page (plotly.js embedded once: works offline)."""
    parts = [fig.to_html(full_html=False, include_plotlyjs=(i == 0))
             for i, fig in enumerate(plots.all_figures(run).values())]
    title = html.escape(run.prompt)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>hexviz: {title}</title>"
            f"</head><body><h2>{title}</h2>{''.join(parts)}</body></html>")


def export_files(run: Run) -> list[str]:
    """The run as trajectory JSON, and its figures as one HTML page."""
    folder = Path(tempfile.mkdtemp(prefix="hexviz-"))
    page = folder / "hexviz-figures.html"
    page.write_text(figures_html(run))
    return [str(trajectory.save(run, folder / "hexviz-run.json")), str(page)]


def full_views(run: Run) -> tuple:
    """Every output of the Explore view for a finished (or uploaded) run."""
    labels = plots.row_labels(run)
    first_collapsed = next((i for i, t in enumerate(run.trajectories) if t.collapsed), 0)
    return (run, status_markdown(run), plots.vote_panel(run), expert_texts_html(run),
            plots.reveal_order(run), plots.scrubber(run),
            plots.end_pressure(run, plots.default_pressure_rows(run)),
            gr.update(choices=labels, value=labels[first_collapsed]),
            plots.unmasking_map(run, first_collapsed), export_files(run))


def replay(path: str | None) -> tuple:
    """All views of an uploaded trajectory JSON; a bad file becomes a message, not a crash."""
    if path is None:
        return tuple(gr.skip() for _ in range(10))
    try:
        return full_views(trajectory.load(path))
    except TrajectoryFormatError as err:
        raise gr.Error(f"cannot replay this file: {err}") from None


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
    except ValueError as err:
        raise gr.Error(f"cannot read this results file: {err}") from None


def partial_views(run: Run) -> tuple:
    """What is cheap to redraw while decoding: status, reveal order and end-token pressure."""
    skip = gr.skip()
    return (skip, status_markdown(run), skip, expert_texts_html(run), plots.reveal_order(run),
            skip, plots.end_pressure(run, plots.default_pressure_rows(run)), skip, skip, skip)


# --- layout and events -------------------------------------------------------------------------

def build_demo(runner, examples: list[str] | None = None,
               gallery_dir: Path | None = None) -> gr.Blocks:
    """The app. ``runner`` has ``model_labels()`` and ``run(RunRequest) -> Iterator[Run]``
    (and ``fork``/``candidates`` for what-if forks); the lesson and the gallery read the stored
    runs in ``gallery_dir`` (default ``assets/gallery``)."""
    from hexviz import ui_teach
    from hexviz.gallery import GALLERY_DIR
    from hexviz.lesson import load_lesson

    examples = examples or ["Tom has 5 apples. He buys 3 more. How many apples does Tom have now?"]
    labels = runner.model_labels()
    gallery_dir = Path(gallery_dir or GALLERY_DIR)
    chapters = load_lesson(gallery_dir)

    def on_run(prompt, model, blocks, rule, gen_length, steps, temperature, seeds, forbid,
               end_last, baselines, progress=gr.Progress()) -> Iterator[tuple]:
        try:
            request = RunRequest(
                prompt=prompt or "", model=model, blocks=parse_blocks(blocks), remasking=rule,
                gen_length=int(gen_length), steps=int(steps), temperature=float(temperature),
                seeds=int(seeds), forbid_end_of_text=bool(forbid), end_tokens_last=bool(end_last),
                baselines=bool(baselines))
            progress(0, desc="loading model and decoding")
            for run in runner.run(request):
                progress((run.steps_done, run.config.steps), desc="decoding", unit="steps")
                yield full_views(run) if run.complete else partial_views(run)
        except ValueError as err:
            raise gr.Error(str(err)) from None
        except Exception as err:  # the app stays up; the user sees what went wrong
            raise gr.Error(f"decoding failed: {type(err).__name__}: {err}") from None

    def on_pick(label, run) -> Any:
        if run is None or label not in plots.row_labels(run):
            return gr.skip()
        return plots.unmasking_map(run, plots.row_labels(run).index(label))

    def on_gen_length(gen_length) -> tuple:
        n = int(gen_length)
        return (gr.update(choices=divisors(n), value=hex_block_lengths(n)), gr.update(value=n))

    def on_scaling_eval(model, problems, seeds, temperature, progress=gr.Progress()) -> tuple:
        try:
            results = runner.evaluate(model, int(problems), int(seeds), float(temperature),
                                      lambda done, total: progress((done, total), unit="problems"))
        except ValueError as err:
            raise gr.Error(str(err)) from None
        return scaling_views(results)

    def api_run(prompt: str, blocks: str = "", remasking: str = "low_confidence",
                gen_length: int = 0, steps: int = 0, temperature: float = 0.0,
                seeds: int = 1, baselines: bool = True) -> dict:
        """Decode ``prompt`` with HEX experts and return the run's JSON (the CLI's --json)."""
        try:
            request = RunRequest(
                prompt=prompt, model=labels[0], remasking=remasking,
                blocks=tuple(int(b) for b in blocks.split(",") if b.strip()) or None,
                gen_length=int(gen_length) or None, steps=int(steps) or None,
                temperature=float(temperature), seeds=int(seeds), baselines=bool(baselines))
            *_, run = runner.run(request)
        except ValueError as err:
            raise gr.Error(str(err)) from None
        return trajectory.run_to_json(run)

    with gr.Blocks(title="hexviz") as demo:
        state = gr.State(None)  # this user's last run
        gr.Markdown(HEADER)
        with gr.Tabs(selected="lesson") as tabs:
            with gr.Tab("Lesson", id="lesson"):
                lesson_tab = ui_teach.lesson_tab(chapters)
            with gr.Tab("Explore", id="explore"):
                with gr.Row():
                    with gr.Column(scale=3):
                        prompt = gr.Textbox(label="Question", value=examples[0], lines=3)
                        gr.Examples([[e] for e in examples], inputs=[prompt],
                                    label="Examples (the experts disagree on these)")
                        run_button = gr.Button("Run", variant="primary", elem_id="run-button")
                        status = gr.Markdown(elem_id="status")
                        vote_plot = gr.Plot(label="Vote", elem_id="vote-plot", show_label=False)
                        with gr.Accordion("Each expert's answer", open=True):
                            answers = gr.HTML(elem_id="answers")
                    with gr.Column(scale=2, min_width=300):
                        model = gr.Dropdown(labels, value=labels[0], label="Model")
                        blocks = gr.CheckboxGroup(divisors(DEFAULT_GEN_LENGTH),
                                                  value=hex_block_lengths(DEFAULT_GEN_LENGTH),
                                                  label="Experts: block sizes")
                        with gr.Row():
                            rule = gr.Dropdown(list(RULE_NAMES), value="low_confidence",
                                               label="Remasking rule")
                            gen_length = gr.Dropdown(GEN_LENGTHS, value=DEFAULT_GEN_LENGTH,
                                                     label="Gen length")
                            steps = gr.Number(DEFAULT_GEN_LENGTH, precision=0, label="Steps")
                        with gr.Row():
                            temperature = gr.Slider(0, 2, value=0, step=0.1, label="Temperature")
                            seeds = gr.Slider(1, 4, value=1, step=1,
                                              label="Votes per block size (seeds)")
                        with gr.Accordion("End-of-sequence controls", open=False):
                            forbid = gr.Checkbox(False, label="Forbid end-of-text in the logits")
                            end_last = gr.Checkbox(False, label="Exclude end tokens from "
                                                   "confidence (reveal them last)")
                        baselines = gr.Checkbox(True, label="Whole-answer baselines (no vote)")
                        with gr.Accordion("Replay a trajectory JSON (no model needed)",
                                          open=False):
                            upload = gr.File(label="Trajectory JSON", file_types=[".json"],
                                             type="filepath")
                with gr.Tabs(elem_id="details"):
                    with gr.Tab("Reveal order"):
                        reveal_plot = gr.Plot(label="Reveal order", elem_id="reveal-plot")
                    with gr.Tab("Scrubber"):
                        scrub_plot = gr.Plot(label="Step scrubber", elem_id="scrub-plot")
                    with gr.Tab("End-token pressure"):
                        pressure_pick = gr.CheckboxGroup([], label="Experts shown",
                                                         elem_id="pressure-pick")
                        pressure_plot = gr.Plot(label="End-token pressure",
                                                elem_id="pressure-plot")
                    with gr.Tab("Unmasking map"):
                        expert_pick = gr.Dropdown([], label="Unmasking map of expert")
                        map_plot = gr.Plot(label="Unmasking map", elem_id="map-plot")
                    with gr.Tab("What-if fork", elem_id="fork-tab"):
                        fork = ui_teach.fork_panel()
                    with gr.Tab("Downloads"):
                        downloads = gr.File(label="Trajectory JSON and all figures (one offline "
                                            "HTML page)", file_count="multiple",
                                            interactive=False)
            with gr.Tab("Gallery", id="gallery"):
                gallery_tab = ui_teach.gallery_tab(gallery_dir)
            with gr.Tab("Compare", id="compare"):
                compare_tab = ui_teach.compare_tab(gallery_dir)
            with gr.Tab("Scaling", id="scaling"):
                gr.Markdown("HEX is test-time scaling: more votes (block sizes x seeds), more "
                            "accuracy, fewer ties. Plot a results file from `python -m hexviz "
                            "eval --out results.json`, or run a small eval on the built-in "
                            "test set here (temperature > 0 makes seeds differ).")
                with gr.Row():
                    results_file = gr.File(label="Eval results JSON", file_types=[".json"],
                                           type="filepath")
                    with gr.Column():
                        n_problems = gr.Slider(4, 100, value=20, step=4, label="Problems")
                        eval_seeds = gr.Slider(1, 4, value=2, step=1, label="Seeds per block size")
                        eval_temperature = gr.Slider(0, 1.5, value=0.5, step=0.1,
                                                     label="Temperature")
                        eval_button = gr.Button("Run a small eval", variant="primary")
                scaling_plot = gr.Plot(label="Scaling curve", elem_id="scaling-plot")
                scaling_table = gr.Markdown()
            with gr.Tab("About"):
                gr.Markdown(ABOUT)

        views = [state, status, vote_plot, answers, reveal_plot, scrub_plot, pressure_plot,
                 expert_pick, map_plot, downloads]
        settings = [prompt, model, blocks, rule, gen_length, steps, temperature, seeds, forbid,
                    end_last, baselines]
        run_button.click(on_run, settings, views, api_visibility="private")
        upload.upload(replay, [upload], views, api_visibility="private")
        expert_pick.change(on_pick, [expert_pick, state], [map_plot], api_visibility="private")
        # .input, not .change: loading a stored run's settings must not reset blocks and steps
        gen_length.input(on_gen_length, [gen_length], [blocks, steps], api_visibility="private")

        def show(run: Run) -> dict:
            return dict(zip(views, full_views(run), strict=True))

        def on_pressure_rows(run) -> Any:
            if run is None:
                return gr.skip(), gr.skip()
            labels = plots.row_labels(run)
            chosen = [labels[i] for i in plots.default_pressure_rows(run)]
            return gr.update(choices=labels, value=chosen), gr.skip()

        def on_pressure_pick(chosen, run) -> Any:
            if run is None:
                return gr.skip()
            labels = plots.row_labels(run)
            return plots.end_pressure(run, [i for i, lab in enumerate(labels) if lab in chosen])

        state.change(on_pressure_rows, [state], [pressure_pick, pressure_plot],
                     api_visibility="private")
        pressure_pick.input(on_pressure_pick, [pressure_pick, state], [pressure_plot],
                            api_visibility="private")
        explore_settings = [prompt, blocks, rule, gen_length, steps, temperature, seeds, forbid,
                            end_last, baselines]
        ui_teach.wire_lesson(lesson_tab, show, views, explore_settings, tabs, "explore",
                             "scaling")
        ui_teach.wire_gallery(gallery_tab, gallery_dir, show, views, explore_settings, tabs,
                              "explore")
        ui_teach.wire_compare(compare_tab, gallery_dir, state)
        ui_teach.wire_fork(fork, runner, state, model)
        results_file.upload(scaling_from_file, [results_file], [scaling_plot, scaling_table],
                            api_visibility="private")
        eval_button.click(on_scaling_eval, [model, n_problems, eval_seeds, eval_temperature],
                          [scaling_plot, scaling_table], api_visibility="private")
        gr.api(api_run, api_name="run")
    return demo
