"""The app's components: the Explore and Scaling tabs as dataclasses of Gradio components,
built column by column, and the length controls that follow the chosen model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from hexviz import limits
from hexviz.app import teach
from hexviz.app.format import OWN_FORMAT, task_template_markdown
from hexviz.app.runner import Runner
from hexviz.app.views import VIEWS
from hexviz.decode.rules import RULE_NAMES
from hexviz.decode.samplers import SAMPLER_NAMES, Sampler
from hexviz.decode.settings import CACHE_MODES, divisors, hex_block_lengths, scaled_steps
from hexviz.tasks import TASK_NAMES

# The sampler menu: every registered sampler at its default value; other values can be typed.
SAMPLER_EXAMPLES = tuple(Sampler.parse(name).spec for name in SAMPLER_NAMES)


# The controls' lengths for a model whose own are unknown until it loads (the loader's too).
FALLBACK_LENGTHS = (64, 64)


GEN_LENGTHS = [16, 32, 64, 128, 256, 512]


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
    sampler: gr.Dropdown
    edit: gr.Textbox
    cache: gr.Radio
    task: gr.Dropdown  # the prompt protocol and answer parser (`hexviz.tasks`)

    def inputs(self) -> list:
        return list(vars(self).values())


@dataclass
class Explore:
    settings: Settings
    run_button: gr.Button
    upload: gr.File
    views: dict[str, Any]  # VIEWS name -> component
    pressure_pick: gr.CheckboxGroup  # which experts the pressure chart shows
    fork: teach.ForkPanel
    animation: teach.AnimationControls | None = None  # the run as a GIF and offline HTML


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
    task = gr.Dropdown([OWN_FORMAT, *TASK_NAMES], value=OWN_FORMAT, label="Task (prompt and "
                       "answer parser)", elem_id="task-picker")
    template = gr.Markdown(task_template_markdown(None), elem_id="task-template")
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
    with gr.Row():
        sampler = gr.Dropdown(list(SAMPLER_EXAMPLES), value="fixed", allow_custom_value=True,
                              label="Sampler: tokens per step (NAME or NAME:VALUE)",
                              elem_id="sampler")
        edit = gr.Textbox("", label="Token editing threshold (blank: off)", elem_id="edit",
                          placeholder="e.g. 0.9",
                          info="for models trained to edit (LLaDA 2.1); the built-in model "
                               "is not, and its edits erase most answers")
    baselines = gr.Checkbox(True, label="Whole-answer baselines (no vote)")
    cache = gr.Radio(list(CACHE_MODES), value="none", label="KV cache",
                     info="prefix / dual reuse keys and values within a block: faster, "
                          "approximate (none: exact)", elem_id="cache-mode")
    with gr.Accordion("Replay a trajectory JSON (no model needed)", open=False):
        upload = gr.File(label="Trajectory JSON", file_types=[".json"], type="filepath")
    settings = Settings(prompt, model, blocks, rule, gen_length, steps, temperature, seeds,
                        forbid, end_last, baselines, sampler, edit, cache, task)
    task.change(task_template_markdown, [task], [template], api_visibility="private")
    return settings, upload


def detail_views(state: gr.State, summary: dict[str, Any]) -> tuple[
        dict[str, Any], gr.CheckboxGroup, teach.ForkPanel, teach.AnimationControls]:
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
        with gr.Tab("Tokens per step", elem_id="tokens-tab"):
            views["tokens"] = gr.Plot(label="Tokens per step", elem_id="tokens-plot")
        with gr.Tab("What-if fork", elem_id="fork-tab"):
            fork = teach.fork_panel()
        with gr.Tab("Downloads"):
            views["downloads"] = gr.File(label="Trajectory JSON and all figures (one offline "
                                         "HTML page)", file_count="multiple", interactive=False)
            animation = teach.animation_controls("explore")
    views = {name: views[name] for name in VIEWS}
    return views, pressure_pick, fork, animation


def explore_tab(labels: list[str], examples: list[str], lengths: LengthControls) -> Explore:
    state = gr.State(None)  # this user's last run
    with gr.Row():
        with gr.Column(scale=3):
            prompt, run_button, summary = question_column(examples)
        with gr.Column(scale=2, min_width=300):
            settings, upload = settings_column(prompt, labels, lengths)
    views, pressure_pick, fork, animation = detail_views(state, summary)
    return Explore(settings, run_button, upload, views, pressure_pick, fork, animation)


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
