"""The Explore tab: decode a question, or replay a trajectory JSON, and see it in every chart.

The question and its summary (status, vote, each expert's answer) on the left, the settings
column on the right, and below them one tab per chart of `hexviz.app.views.CHARTS`, then the
What-if fork (`fork`) and the downloads. Other tabs open a stored run here (`OpenInExplore`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from hexviz import limits
from hexviz.app.runner import Runner
from hexviz.app.serving import RUNS_AT_ONCE
from hexviz.app import presets
from hexviz.app.tabs import fork
from hexviz.app.views import CHARTS, Views, full_views, partial_views, replay
from hexviz.app.widgets import (STRATEGY_SAMPLING, AnimationControls, LengthControls,
                                SettingsColumn, animation_controls, load_settings, run_request,
                                settings_column, user_errors, wire_animation)
from hexviz.render import figures
from hexviz.render.answers import failure_markdown
from hexviz.runs.record import Run

TAB_ID = "explore"

# Run brings the vote panel into view, which shows the run's progress from its first step: on
# a laptop it starts just below the fold, and the page would seem to do nothing. It runs in
# the browser before the request and passes the settings through unchanged.
SHOW_PROGRESS_JS = ("(...settings) => { document.querySelector('#vote-plot')"
                    "?.scrollIntoView({block: 'center', behavior: 'smooth'}); return settings; }")


# The expert pickers above the charts that show some experts of a run, by chart name.
PICKERS = {
    "end_pressure": lambda: gr.CheckboxGroup([], label="Experts shown", elem_id="pressure-pick"),
    "unmasking_map": lambda: gr.Dropdown([], label="Unmasking map of expert"),
}


# --- layout ------------------------------------------------------------------------------------

@dataclass
class Explore:
    """The Explore tab's components: the inputs, every view by name, the fork, the downloads."""

    settings: SettingsColumn
    run_button: gr.Button
    upload: gr.File
    views: dict[str, Any]  # `views.VIEWS` name -> component
    pickers: dict[str, Any]  # chart name -> the expert picker above it (`PICKERS`)
    fork: fork.ForkPanel
    animation: AnimationControls  # the run as a GIF and offline HTML

    def keyed(self, views: Views) -> dict:
        """Views by name -> by component, as event handlers return them."""
        return {self.views[name]: value for name, value in views.items()}

    def show(self, run: Run) -> dict:
        """Every view of ``run``, by component."""
        return self.keyed(full_views(run))


def question_column(examples: list[str]) -> tuple[gr.Textbox, gr.Button, dict[str, Any]]:
    """The question, Run, and under it the summary: status, vote and each expert's answer."""
    prompt = gr.Textbox(label="Question", value=examples[0], lines=3, elem_id="question")
    gr.Examples([[e] for e in examples], inputs=[prompt],
                label="Examples (after the first, ones the experts disagree on)")
    run_button = gr.Button("Run", variant="primary", elem_id="run-button")
    summary = {"status": gr.Markdown(elem_id="status")}
    summary.update({name: chart.plot() for name, chart in CHARTS.items() if chart.in_summary})
    with gr.Accordion("Each expert's answer", open=True):
        summary["answers"] = gr.HTML(elem_id="answers")
    return prompt, run_button, summary


def detail_views(state: gr.State, summary: dict[str, Any]) -> tuple[
        dict[str, Any], dict[str, Any], fork.ForkPanel, AnimationControls]:
    """The charts, one tab each, below the summary; the what-if fork and the downloads last."""
    views, pickers = {"run": state, **summary}, {}
    with gr.Tabs(elem_id="details"):
        for name, chart in CHARTS.items():
            if chart.in_summary:
                continue
            with gr.Tab(chart.tab_title, elem_id=chart.tab_id):
                if name in PICKERS:
                    pickers[name] = PICKERS[name]()
                views[name] = chart.plot()
        with gr.Tab("What-if fork", id=fork.TAB_ID, elem_id="fork-tab"):
            fork_panel = fork.build()
        with gr.Tab("Downloads"):
            views["downloads"] = gr.File(label="Trajectory JSON and all figures (one offline "
                                         "HTML page)", file_count="multiple", interactive=False)
            animation = animation_controls("explore")
    views["map_expert"] = pickers["unmasking_map"]  # filled by every finished run's views
    return views, pickers, fork_panel, animation


def build(labels: list[str], examples: list[str], lengths: LengthControls) -> Explore:
    state = gr.State(None)  # this user's last run
    with gr.Row():
        with gr.Column(scale=3):
            prompt, run_button, summary = question_column(examples)
        with gr.Column(scale=2, min_width=300):
            settings, upload = settings_column(prompt, labels, lengths)
    views, pickers, fork_panel, animation = detail_views(state, summary)
    return Explore(settings, run_button, upload, views, pickers, fork_panel, animation)


@dataclass(frozen=True)
class OpenInExplore:
    """Opening a stored run in Explore from another tab: every view, the run's settings in
    the inputs (all but the model), and the switch to the Explore tab."""

    explore: Explore
    tabs: gr.Tabs

    @property
    def outputs(self) -> list:
        return [*self.explore.views.values(), *self.explore.settings.of_a_run(), self.tabs]

    def __call__(self, run: Run) -> dict:
        return {**self.explore.show(run), **load_settings(self.explore.settings.of_a_run(), run),
                self.tabs: gr.Tabs(selected=TAB_ID)}


# --- events ------------------------------------------------------------------------------------

# The growing canvas's settings whose defaults follow gen length (`policy.length.fitted_to`).
FITTED_TO_GEN_LENGTH = ("initial_length", "eos_check_tokens")


def canvas_fits(c: LengthControls) -> list:
    """The growing canvas's settings that follow gen length, as the form shows them."""
    return [gr.update(value=getattr(c.canvas, name)) for name in FITTED_TO_GEN_LENGTH]


def wire(runner: Runner, tab: Explore) -> None:
    views = tab.views

    # Gradio finds the progress tracker by its default among the leading positional
    # parameters, so it comes first; the settings follow in `SettingsColumn.inputs` order.
    def on_run(progress=gr.Progress(), *settings) -> Iterator[dict]:
        """The views at every snapshot; a failure is a toast, and its reason stays in the
        status line once the toast fades (raised, it would leave only "Error" badges)."""
        try:
            yield from decode_views(settings, progress)
        except gr.Error as err:
            gr.Warning(err.message)
            yield {views["status"]: failure_markdown(err.message)}

    def decode_views(settings: tuple, progress: gr.Progress) -> Iterator[dict]:
        request = user_errors("reading the settings", run_request, *settings)
        waiting = getattr(runner, "is_loading", lambda _: False)(request.model)
        busy = getattr(runner, "wait_note", lambda: None)()  # other visitors' decodes first
        start = ("waiting for the model to finish loading" if waiting
                 else f"waiting: {busy}" if busy
                 else "loading the model and decoding the first step")
        progress(0, desc=start)
        yield {views["status"]: f"**{start.capitalize()}…**"}  # until the first snapshot
        # what the plan changed from the request, as `hexviz run` says it on stderr
        for note in user_errors("decoding", getattr(runner, "notes", lambda _: ()), request):
            gr.Info(note.removeprefix("note: "))
        runs = iter(runner.run(request))  # a generator: decoding starts at the first next()
        while (run := user_errors("decoding", next, runs, None)) is not None:
            progress((run.steps_done, run.config.step_cap), desc="decoding", unit="steps")
            yield tab.keyed(full_views(run) if run.complete else partial_views(run))
        limits.release_memory_soon()  # the views are sent; memory returns to its level

    def on_admit(*settings) -> list[dict]:
        """Gradio's validator, run before the queue: a run ZeroGPU cannot fit waits for
        nothing; the message shows on the question box."""
        valid = [gr.validate(True, "")] * len(settings)
        try:
            request = run_request(*settings)
        except ValueError:  # bad settings are reported by on_run, as before
            return valid
        try:
            getattr(runner, "admit", lambda _: None)(request)
        except limits.LimitError as err:
            return [gr.validate(False, str(err)), *valid[1:]]
        return valid

    def on_model(label, more, strategy) -> tuple:  # the length controls follow the model
        c = LengthControls.of(runner, label, more=more, strategy=strategy)
        return (gr.update(choices=c.choices, value=c.gen_length), gr.update(value=c.steps),
                gr.update(choices=c.blocks, value=c.experts), *canvas_fits(c))

    def on_gen_length(label, gen_length, more, strategy) -> tuple:
        c = LengthControls.of(runner, label, int(gen_length), more=more, strategy=strategy)
        return (gr.update(choices=c.blocks, value=c.experts), gr.update(value=c.steps),
                *canvas_fits(c))

    def on_strategy(label, gen_length, more, strategy) -> tuple:
        """Picking a strategy ticks the block sizes it decodes (seeds and dVoting: one, and
        no other experts), with steps to fit, and the votes and temperature it samples at."""
        more = more if strategy == "hex" else ""
        c = LengthControls.of(runner, label, int(gen_length), more=more, strategy=strategy)
        seeds, temperature = STRATEGY_SAMPLING[strategy]
        return (gr.update(value=c.experts), more, gr.update(value=c.steps), seeds, temperature,
                gr.update(value=True) if strategy == "hex" else gr.skip())

    def on_blocks(label, gen_length, blocks, more) -> Any:  # whole steps for every expert
        return gr.update(value=LengthControls.of(runner, label, int(gen_length), blocks,
                                                 more).steps)

    outputs = list(views.values())
    # Gradio's own progress only on the status line, small: the status line and the vote
    # panel say how far the run has got, and its overlay would hide the panel
    tab.run_button.click(on_run, tab.settings.inputs(), outputs, api_visibility="private",
                         validator=on_admit, js=SHOW_PROGRESS_JS, show_progress="minimal",
                         show_progress_on=[views["status"]],
                         concurrency_limit=RUNS_AT_ONCE, concurrency_id="run")
    tab.upload.upload(lambda path: tab.keyed(replay(path)), [tab.upload], outputs,
                      api_visibility="private")
    wire_map_picker(tab)
    c = tab.settings
    fitted = [c.canvas.options[name] for name in FITTED_TO_GEN_LENGTH]
    strategy = c.strategy.name
    c.model.input(on_model, [c.model, c.more_blocks, strategy],
                  [c.gen_length, c.steps, c.blocks, *fitted], api_visibility="private")
    # .input, not .change: loading a stored run's settings must not reset blocks and steps
    c.gen_length.input(on_gen_length, [c.model, c.gen_length, c.more_blocks, strategy],
                       [c.blocks, c.steps, *fitted], api_visibility="private")
    strategy.input(on_strategy, [c.model, c.gen_length, c.more_blocks, strategy],
                   [c.blocks, c.more_blocks, c.steps, c.seeds, c.temperature, c.baselines],
                   api_visibility="private")
    experts = [c.model, c.gen_length, c.blocks, c.more_blocks]
    c.blocks.input(on_blocks, experts, [c.steps], api_visibility="private")
    c.more_blocks.input(on_blocks, experts, [c.steps], api_visibility="private",
                        trigger_mode="always_last", show_progress="hidden")  # as one types
    presets.wire(c.speed, c.sampler, c.cache)  # Speed sets the sampler and cache controls
    wire_pressure_picker(tab)
    fork.wire(tab.fork, runner, views["run"], c.model)
    wire_animation(tab.animation, [views["run"]], lambda run: run)


def wire_map_picker(tab: Explore) -> None:
    """The unmasking map shows the expert picked above it (a finished run's views fill the
    menu, opening on the first collapsed expert)."""
    state, picker = tab.views["run"], tab.pickers["unmasking_map"]

    def on_pick(label, run) -> Any:
        if run is None or label not in figures.row_labels(run):
            return gr.skip()
        return figures.unmasking_map(run, figures.row_labels(run).index(label))

    picker.change(on_pick, [picker, state], [tab.views["unmasking_map"]],
                  api_visibility="private")


def wire_pressure_picker(tab: Explore) -> None:
    """The pressure chart shows the experts ticked above it (a readable few by default)."""
    state, picker = tab.views["run"], tab.pickers["end_pressure"]

    def on_run(run) -> Any:
        if run is None:
            return gr.skip()
        labels = figures.row_labels(run)
        return gr.update(choices=labels,
                         value=[labels[i] for i in figures.default_pressure_rows(run)])

    def on_pick(chosen, run) -> Any:
        if run is None:
            return gr.skip()
        labels = figures.row_labels(run)
        return figures.end_pressure(run, [i for i, label in enumerate(labels) if label in chosen])

    state.change(on_run, [state], [picker], api_visibility="private")
    picker.input(on_pick, [picker, state], [tab.views["end_pressure"]], api_visibility="private")
