"""What several tabs share: the settings column (Explore lays it out; the Lesson and the Gallery
fill it from a stored run, Scaling reads its model), stored runs read from the gallery folder
(Gallery, Compare), the animation download controls, and failures as one line for the user."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from hexviz import limits
from hexviz.app.runner import Runner, RunRequest
from hexviz.decode.plan import PAPER_TOKENS_PER_STEP
from hexviz.policy.rules import RULE_NAMES
from hexviz.policy.samplers import SAMPLER_NAMES, Sampler, parse_edit
from hexviz.policy.settings import (CACHE_MODES, divisors, hex_block_lengths, parse_blocks,
                                    scaled_steps)
from hexviz.render import animate
from hexviz.runs import gallery
from hexviz.runs.record import Run, TrajectoryFormatError
from hexviz.tasks import TASK_NAMES, get_task

# --- failures as one line ----------------------------------------------------------------------

LOG = logging.getLogger("hexviz.app")  # refusals and failures; `log_to_stderr` shows them


def log_to_stderr() -> None:
    """The app's log on stderr (a Space's log): a refusal as one line, a failure with its
    traceback. Only hexviz's: other libraries' INFO lines (a line per HTTP request) stay off."""
    if LOG.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    LOG.propagate = False


def one_line(err: BaseException) -> str:
    """A user-facing line: a ValueError's message, else the error's type and first line."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    if isinstance(err, ValueError) and text:
        return text
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def user_errors(what: str, fn: Callable, *args) -> Any:
    """``fn(*args)`` with failures as messages: bad settings as they are, anything else as
    ``what`` failed, so the app stays up and the user sees what went wrong. The server log gets
    one line per refusal (a user's error needs no traceback) and a real failure's traceback."""
    try:
        return fn(*args)
    except gr.Error:
        raise
    except ValueError as err:
        raise refusal(one_line(err)) from None
    except Exception as err:  # noqa: BLE001  one line for the user, whatever failed
        LOG.exception("%s failed", what)  # the traceback, once, for whoever runs the server
        raise gr.Error(f"{what} failed: {one_line(err)}", print_exception=False) from None


def refusal(message: str) -> gr.Error:
    """A user's error as the page shows it, logged as one line: Gradio would print the
    traceback of every refused input otherwise."""
    LOG.info("refused: %s", message)
    return gr.Error(message, print_exception=False)


# --- the settings column -----------------------------------------------------------------------

# The sampler menu: every registered sampler at its default value; other values can be typed.
SAMPLER_EXAMPLES = tuple(Sampler.parse(name).spec for name in SAMPLER_NAMES)


OWN_FORMAT = "the model's own format"  # the task picker's entry for no task


# The controls' lengths for a model whose own are unknown until it loads (the loader's too).
FALLBACK_LENGTHS = (64, 64)


GEN_LENGTHS = [16, 32, 64, 128, 256, 512]


def task_template_markdown(name: str | None) -> str:
    """What the task picker shows: the user turn around the question, and the prefix."""
    if not name or name == OWN_FORMAT:
        return ("The question goes to the model as typed, in its chat template; answers are "
                "read in the model's own format.")
    task = get_task(name)
    prefix = (f" The generation prompt is followed by `{task.generation_prefix}`."
              if task.generation_prefix else "")
    n = task.paper_gen_length
    blocks = hex_block_lengths(n) if n else []
    settings = (f" The paper decodes it with gen_length {n}, {n // PAPER_TOKENS_PER_STEP} steps, "
                f"blocks {blocks[0]}-{blocks[-1]}." if blocks else "")
    return (f"**{html.escape(task.description)}**. User turn:\n\n```text\n{task.template()}\n```"
            f"\n\n{prefix}{settings}")


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
class SettingsColumn:
    """The Explore tab's inputs, in the order ``run_request`` takes them."""

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
        """Every input, in ``run_request``'s order."""
        return list(vars(self).values())

    def of_a_run(self) -> list:
        """The inputs a stored run fills (`load_settings`): the question and all but the
        model, which stays the user's choice."""
        return [self.prompt, *self.inputs()[2:]]


def settings_column(prompt: gr.Textbox, labels: list[str],
                    lengths: LengthControls) -> tuple[SettingsColumn, gr.File]:
    """The settings column under ``prompt`` (model, task, experts, lengths, sampler, cache...)
    for ``labels``' models and ``lengths``, and the trajectory upload below it."""
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
        edit = gr.Textbox("", label="Token editing threshold (blank: the model's; off: none)",
                          elem_id="edit", placeholder="e.g. 0.9, or off",
                          info="for models trained to edit (LLaDA 2.1); the built-in model "
                               "is not, and its edits erase most answers")
    baselines = gr.Checkbox(True, label="Whole-answer baselines (no vote)")
    cache = gr.Radio(list(CACHE_MODES), value="none", label="KV cache",
                     info="prefix / dual reuse keys and values within a block: faster, "
                          "approximate (none: exact)", elem_id="cache-mode")
    with gr.Accordion("Replay a trajectory JSON (no model needed)", open=False):
        upload = gr.File(label="Trajectory JSON", file_types=[".json"], type="filepath")
    settings = SettingsColumn(prompt, model, blocks, rule, gen_length, steps, temperature,
                              seeds, forbid, end_last, baselines, sampler, edit, cache, task)
    task.change(task_template_markdown, [task], [template], api_visibility="private")
    return settings, upload


def run_request(prompt, model, blocks, rule, gen_length, steps, temperature, seeds, forbid,
                end_last, baselines, sampler="fixed", edit=None, cache="none",
                task=None) -> RunRequest:
    """The settings column's values as a request (validated as it is made)."""
    return RunRequest(prompt=prompt or "", model=model, blocks=parse_blocks(blocks or []),
                      remasking=rule, gen_length=int(gen_length), steps=int(steps),
                      temperature=float(temperature), seeds=int(seeds),
                      forbid_end_of_text=bool(forbid), end_tokens_last=bool(end_last),
                      baselines=bool(baselines), sampler=str(sampler or "fixed"),
                      edit=parse_edit(edit), cache=str(cache or "none"),
                      task=None if task in (None, "", OWN_FORMAT) else str(task))


def settings_values(run: Run) -> list[Any]:
    """The settings that decode ``run`` again, in `SettingsColumn.of_a_run`'s order after the
    question: blocks, rule, gen_length, steps, temperature, seeds, forbid, end_last,
    baselines, sampler, edit, cache, task."""
    s = gallery.explore_settings(run)
    return [s["blocks"], s["remasking"], s["gen_length"], s["steps"], s["temperature"],
            s["seeds"], s["forbid_end_of_text"], s["end_tokens_last"], s["baselines"],
            s["sampler"],
            "off" if s["edit"] is None else f"{s['edit']:g}", s["cache"], run.task or OWN_FORMAT]


def load_settings(settings: list, run: Run) -> dict:
    """``{component: value}`` filling ``settings`` (`SettingsColumn.of_a_run`) from ``run``."""
    prompt, blocks, *rest = settings
    values = settings_values(run)
    out = {prompt: run.prompt,
           blocks: gr.update(choices=divisors(run.config.gen_length), value=values[0])}
    out.update(dict(zip(rest, values[1:], strict=True)))
    return out


# --- stored runs (the gallery folder) ---------------------------------------------------------

def load_stored(folder: Path, name: str | None) -> Run:
    """A stored run by file name, only from ``folder``; bad files become a message."""
    if not name:
        raise refusal("pick a stored run first")
    path = (folder / Path(name).name).resolve()
    if path.parent != folder.resolve():
        raise refusal("that file is not in the gallery")
    try:
        return gallery.read_run(path)
    except TrajectoryFormatError as err:
        raise refusal(f"cannot replay {path.name}: {err}") from None


# --- animation downloads (GIF and offline HTML; `hexviz.render.animate` draws them) ------------

@dataclass
class AnimationControls:
    button: gr.Button
    files: gr.File


def animation_controls(key: str) -> AnimationControls:
    button = gr.Button("Animation: GIF for slides, HTML that plays offline",
                       elem_id=f"animate-{key}", size="sm")
    files = gr.File(label="Animation", file_count="multiple", interactive=False,
                    elem_id=f"animation-{key}", visible=False)  # shown once made
    return AnimationControls(button, files)


def animation_files(run: Run | None) -> list[str]:
    """Every expert of ``run`` as a GIF and an HTML page in the export folder."""
    if run is None:
        raise refusal("run a prompt or open a stored run first")
    try:
        return [str(animate.export(run, suffix)) for suffix in animate.FORMATS]
    except ValueError as err:  # the operator's limits: one line
        raise refusal(f"cannot animate this run: {err}") from None


def wire_animation(controls: AnimationControls, inputs: list,
                   to_run: Callable[..., Run | None]) -> None:
    controls.button.click(
        lambda *values: gr.File(value=animation_files(to_run(*values)), visible=True), inputs,
        controls.files, api_visibility="private")
