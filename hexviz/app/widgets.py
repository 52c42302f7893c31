"""What several tabs share: the settings column (Explore lays it out; the Lesson and the Gallery
fill it from a stored run, Scaling reads its model) with its strategy and growing-canvas
controls (the API reads their settings alike), stored runs read from the gallery folder
(Gallery, Compare), the animation download controls, and failures as one line for the user."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from hexviz import limits
from hexviz.app.presets import SpeedControls, speed_controls
from hexviz.app.runner import Runner, RunRequest
from hexviz.decode.plan import PAPER_TOKENS_PER_STEP, Settings, experts_of
from hexviz.policy.blocks import normal_spec
from hexviz.policy.length import (
    EOS_SIGNALS,
    LENGTH_MODES,
    SCHEDULERS,
    LengthConfig,
    fitted_to,
)
from hexviz.policy.length import flag as length_flag
from hexviz.policy.rules import RULE_NAMES
from hexviz.policy.samplers import (
    EDIT_SCOPES,
    SAMPLER_NAMES,
    Sampler,
    check_edit_scope,
    parse_edit,
)
from hexviz.policy.settings import (CACHE_MODES, Expert, divisors, hex_block_lengths,
                                    parse_blocks, scaled_steps)
from hexviz.policy.strategies import (DVOTING_ENTROPY_THRESHOLD, DVOTING_ROUNDS,
                                      DVOTING_TEMPERATURE, MAX_ROUNDS)
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

# The experts beyond one block size (`hexviz.policy.blocks`), typed beside the ticked sizes.
MORE_EXPERTS = "More experts: schedules, grow, shrink, ada, ada:0.5"
MORE_EXPERTS_INFO = ("comma-separated: sizes left to right summing to gen length; grow / "
                     "shrink; AdaBlock ada:T (T 0.3 by default; its fallback block and "
                     "delimiters: the model's)")
EDIT_INFO = ("for models trained to edit (LLaDA 2.1), as the built-in model is: blank edits at its "
             "0.9 over the answer so far, which on its 500 test problems turned 327 wrong expert "
             "answers right and 15 right ones wrong")
MODEL_SCOPE = "the model's"
SCOPE_CHOICES = (MODEL_SCOPE, *EDIT_SCOPES)
SCOPE_INFO = ("which committed tokens editing may replace: the current block's (LLaDA 2.1) or "
              "any of the answer's before the block's end")


def scope_of(choice: str | None) -> str | None:
    """The editing scope picked in the form (None: the model's)."""
    return None if choice in (None, "", MODEL_SCOPE) else check_edit_scope(choice)


def expert_specs(ticked: Sequence[int | str] | None, more: str | None) -> list[int | str]:
    """The ticked block sizes and the More experts text's items, as ``--blocks`` lists them."""
    return [*(ticked or []), *(item for item in str(more or "").split(",") if item.strip())]


def expert_picks(run: Run) -> tuple[list[int], str]:
    """``run``'s voting experts as the form shows them: plain block sizes ticked, the others
    (schedules, AdaBlock) as More experts text; seeds of one expert once."""
    specs = dict.fromkeys(picked_spec(run.trajectories[i].expert) for i in run.voters)
    return (sorted(int(s) for s in specs if s.isdigit()),
            ", ".join(s for s in specs if not s.isdigit()))


def picked_spec(expert: Expert) -> str:
    """An expert's blocks as the form writes them (a bare ``ada`` at the default threshold)."""
    try:
        return normal_spec(expert.blocks_spec)
    except ValueError:  # a threshold the form cannot give (a parity test's inf): as recorded
        return expert.blocks_spec


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
    canvas: LengthConfig  # a growing canvas's settings: the authors', fitted to gen_length

    @classmethod
    def of(cls, runner: Runner, label: str, gen_length: int | None = None,
           blocks: list[int] | None = None, more: str = "",
           strategy: str = "hex") -> LengthControls:
        """For ``gen_length`` (default the model's own), ticked ``blocks`` (default the
        ``strategy``'s: the HEX set, or the one size seeds and dVoting decode) and the
        ``more`` experts' text: steps at the model's tokens per step, whole steps for every
        expert whose blocks fit (a schedule's too; AdaBlock's are sized while decoding)."""
        choices = gen_length_choices(runner, label)
        model_gen, model_steps = model_lengths(runner, label)
        n = gen_length or min(model_gen, max(choices))
        choices = sorted({*choices, n})
        experts = ([b for b in blocks if n % b == 0] if blocks
                   else strategy_blocks(str(strategy or "hex"), n))
        steps = scaled_steps(n, model_gen, model_steps, expert_specs(experts, more) or None)
        return cls(choices, n, steps, divisors(n), experts, canvas_defaults(n))


def strategy_blocks(strategy: str, gen_length: int) -> list[int]:
    """The block sizes a strategy decodes when none are given, as its plan chooses them: the
    HEX set, seeds' gen_length / 8, dVoting's gen_length / 16."""
    if strategy == "hex":
        return hex_block_lengths(gen_length)
    return sorted({e.block_length for e in experts_of(Settings(strategy=strategy,
                                                               baselines=False), gen_length)})


# --- the test-time strategy (`hexviz.policy.strategies`, docs/strategies.md) -------------------

STRATEGY_CHOICES = [("HEX", "hex"), ("seeds", "seeds"), ("dVoting", "dvoting")]
# What picking a strategy sets: votes per block size and temperature (seeds need one above 0)
STRATEGY_SAMPLING = {"hex": (1, 0.0), "seeds": (4, 0.7), "dvoting": (1, DVOTING_TEMPERATURE)}
STRATEGY_NOTES = {
    "hex": "",
    "seeds": "**seeds** samples the one block size ticked once per seed, at the temperature, "
             "and the samples vote.",
    "dvoting": "**dVoting** decodes rounds with blocks of the one size ticked, committing the "
               "masks whose entropy is below the threshold; later rounds re-mask where earlier "
               "ones disagree, and they stop once the answers agree. What it does not read is "
               "greyed out (docs/strategies.md).",
}


@dataclass
class StrategyControls:
    """The Strategy picker, and dVoting's settings shown when it is picked."""

    name: gr.Radio
    rounds: gr.Number
    entropy_threshold: gr.Number
    dvoting: gr.Column  # dVoting's settings: hidden for the others
    note: gr.Markdown


def strategy_controls() -> StrategyControls:
    name = gr.Radio(STRATEGY_CHOICES, value="hex", label="Strategy", elem_id="strategy",
                    info="how the decodes are spent: HEX's block sizes vote; seeds: one block "
                         "size sampled several times; dVoting: rounds that re-mask where they "
                         "disagree")
    note = gr.Markdown(elem_id="strategy-note")
    with gr.Column(visible=False) as dvoting:
        with gr.Accordion("dVoting settings", open=False):
            rounds = gr.Number(DVOTING_ROUNDS, precision=0, minimum=2, maximum=MAX_ROUNDS,
                               label="Rounds (at most)", info=f"--rounds; the authors' "
                                                              f"{DVOTING_ROUNDS}")
            entropy = gr.Number(DVOTING_ENTROPY_THRESHOLD, minimum=0, step=0.05,
                                label="Entropy threshold: commit every mask of the block below it",
                                info=f"--entropy-threshold; the authors' "
                                     f"{DVOTING_ENTROPY_THRESHOLD}")
    return StrategyControls(name, rounds, entropy, dvoting, note)


# --- the growing canvas (`hexviz.policy.length`) ------------------------------------------------

@dataclass(frozen=True)
class CanvasOption:
    """One setting of a growing canvas in the form: a `LengthConfig` field (the API's parameter,
    the CLI's flag), what it does, and the length modes that read it."""

    name: str
    label: str
    modes: tuple[str, ...] = ("daedal", "rho-eos")


# The initial length first (always in view), then the accordion's, in `run_request`'s order.
CANVAS_OPTIONS = (
    CanvasOption("initial_length", "Initial length: masks the canvas starts with"),
    CanvasOption("expansion_factor", "Expansion factor: masks added per growth"),
    CanvasOption("high_conf_threshold", "Commit threshold: every mask of the block above it"),
    CanvasOption("eos_check_tokens", "End-of-text window: tail positions averaged"),
    CanvasOption("low_conf_threshold", "Expand a mask less sure than", ("daedal",)),
    CanvasOption("eos_confidence_threshold", "Grow the start while end-of-text is below",
                 ("daedal",)),
    CanvasOption("expand_eos_confidence_threshold", "No insertions once end-of-text is above",
                 ("daedal",)),
    CanvasOption("low_density_threshold", "Grow while the end-of-text signal is below",
                 ("rho-eos",)),
    CanvasOption("high_density_threshold", "Shrink while the end-of-text signal is above",
                 ("rho-eos",)),
    CanvasOption("scheduler", "Growth outside the band (times 1, 2, 4, 8 with exp)",
                 ("rho-eos",)),
    CanvasOption("max_adjust_steps", "Steps in which the length may change", ("rho-eos",)),
    CanvasOption("eos_signal", "End-of-text signal: tail (its code) or density (its paper)",
                 ("rho-eos",)),
)
MENUS = {"scheduler": SCHEDULERS, "eos_signal": EOS_SIGNALS}  # the options chosen from a menu

# What the form says under the picker when a growing canvas is chosen.
CANVAS_NOTES = {
    "daedal": "**DAEDAL** grows the all-mask start until the model expects end-of-text there, "
              "then, while decoding, turns masks it is unsure of into several.",
    "rho-eos": "**rho-EOS** grows the canvas while the model expects little end-of-text at "
               "its tail and cuts the tail while it expects much, in its first steps.",
}
NOT_WITH_A_GROWING_CANVAS = (
    " Gen length is the most it may reach. It commits by its own threshold: remasking rule, "
    "steps, sampler, editing, KV cache and baselines are greyed out (docs/length.md).")


def canvas_defaults(gen_length: int) -> LengthConfig:
    """A growing canvas's settings before the user changes any: the authors', fitted to a
    maximum of ``gen_length`` as `hexviz run` fits them."""
    return fitted_to(LengthConfig(mode="daedal"), gen_length)[0]


def given_length_options(values: Mapping[str, object]) -> dict[str, object]:
    """The growing canvas's settings that were given (None or "" is the authors' default), as
    `LengthConfig` takes them; a value of the wrong kind is refused in one line."""
    defaults, given = LengthConfig(), {}
    for name, value in values.items():
        if value is None or value == "":
            continue
        default = getattr(defaults, name)
        given[name] = (limits.as_int(value, name) if isinstance(default, int)
                       else limits.as_float(value, name) if isinstance(default, float)
                       else str(value))
    return given


def form_length_options(mode: str, values: Sequence) -> dict[str, object]:
    """What the form's growing-canvas controls (`CANVAS_OPTIONS` order) ask for: the settings
    ``mode`` reads (a hidden one of the other mode is not sent), none for a fixed canvas."""
    if mode == "fixed":
        return {}
    return given_length_options({o.name: value for o, value in zip(CANVAS_OPTIONS, values)
                                 if mode in o.modes})


@dataclass
class CanvasControls:
    """The Canvas length picker, and the growing canvas's settings shown when it grows."""

    mode: gr.Radio
    options: dict[str, Any]  # `CanvasOption.name` -> its control, in `CANVAS_OPTIONS` order
    growing: gr.Column  # the note, initial length and the accordion: hidden for fixed
    note: gr.Markdown


def option_control(option: CanvasOption, defaults: LengthConfig) -> Any:
    """A number box (the scheduler and the signal: menus) at ``defaults``' value, naming its
    CLI flag, which a refusal names too."""
    value = getattr(defaults, option.name)
    info = f"{length_flag(option.name)}; the authors' {getattr(LengthConfig(), option.name)}"
    if isinstance(value, str):
        return gr.Dropdown(list(MENUS[option.name]), value=value, label=option.label, info=info)
    return gr.Number(value, label=option.label, info=info,
                     precision=0 if isinstance(value, int) else None,
                     step=1 if isinstance(value, int) else 0.05)


def canvas_controls(defaults: LengthConfig) -> CanvasControls:
    """Fixed by default; the settings' values start at ``defaults`` (`canvas_defaults`)."""
    mode = gr.Radio(list(LENGTH_MODES), value="fixed", label="Canvas length",
                    info="fixed: gen length masks throughout; daedal, rho-eos: start shorter, "
                         "grow or shrink up to gen length", elem_id="canvas-length")
    with gr.Column(visible=False) as growing:
        note = gr.Markdown(elem_id="canvas-note")
        first, *rest = CANVAS_OPTIONS
        options = {first.name: option_control(first, defaults)}
        with gr.Accordion("Growing canvas settings", open=False):
            options.update({o.name: option_control(o, defaults) for o in rest})
    return CanvasControls(mode, options, growing, note)


@dataclass
class SettingsColumn:
    """The Explore tab's inputs, in the order ``run_request`` takes them."""

    prompt: gr.Textbox
    model: gr.Dropdown
    blocks: gr.CheckboxGroup
    more_blocks: gr.Textbox  # experts beyond one block size, joining the ticked ones
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
    edit_scope: gr.Radio
    cache: gr.Radio
    task: gr.Dropdown  # the prompt protocol and answer parser (`hexviz.tasks`)
    strategy: StrategyControls  # its name, then dVoting's settings
    canvas: CanvasControls  # its mode, then its settings
    speed: SpeedControls  # sets sampler and cache (`presets`), which Run sends: no input

    def inputs(self) -> list:
        """Every input, in ``run_request``'s order."""
        *plain, strategy, canvas, _ = vars(self).values()
        return [*plain, strategy.name, strategy.rounds, strategy.entropy_threshold,
                canvas.mode, *canvas.options.values()]

    def of_a_run(self) -> list:
        """The inputs a stored run fills (`load_settings`): the question and all but the
        model, which stays the user's choice."""
        return [self.prompt, *self.inputs()[2:]]


def settings_column(prompt: gr.Textbox, labels: list[str],
                    lengths: LengthControls) -> tuple[SettingsColumn, gr.File]:
    """The settings column under ``prompt`` (model, speed, task, experts, sampler, cache...)
    for ``labels``' models and ``lengths``, and the trajectory upload below it."""
    model = gr.Dropdown(labels, value=labels[0], label="Model")
    speed = speed_controls()
    task = gr.Dropdown([OWN_FORMAT, *TASK_NAMES], value=OWN_FORMAT, label="Task (prompt and "
                       "answer parser)", elem_id="task-picker")
    template = gr.Markdown(task_template_markdown(None), elem_id="task-template")
    blocks = gr.CheckboxGroup(lengths.blocks, value=lengths.experts, label="Experts: block sizes")
    more_blocks = gr.Textbox("", label=MORE_EXPERTS, placeholder="8+8+16+32+64, ada",
                             info=MORE_EXPERTS_INFO, max_lines=1, elem_id="more-experts")
    strategy = strategy_controls()
    with gr.Row():
        rule = gr.Dropdown(list(RULE_NAMES), value="low_confidence", label="Remasking rule")
        gen_length = gr.Dropdown(lengths.choices, value=lengths.gen_length, label="Gen length")
        steps = gr.Number(lengths.steps, precision=0, label="Steps", minimum=1,
                          maximum=limits.current().max_steps)
    with gr.Row():
        temperature = gr.Slider(0, 2, value=0, step=0.1, label="Temperature")
        seeds = gr.Slider(1, 4, value=1, step=1, label="Votes per block size (seeds)")
    canvas = canvas_controls(lengths.canvas)
    with gr.Accordion("End-of-sequence controls", open=False):
        forbid = gr.Checkbox(False, label="Forbid end-of-text in the logits")
        end_last = gr.Checkbox(False, label="Exclude end tokens from confidence "
                                            "(reveal them last)")
    with gr.Row():
        sampler = gr.Dropdown(list(SAMPLER_EXAMPLES), value="fixed", allow_custom_value=True,
                              label="Sampler: tokens per step (NAME or NAME:VALUE)",
                              elem_id="sampler")
        edit = gr.Textbox("", label="Token editing threshold (blank: the model's; off: none)",
                          elem_id="edit", placeholder="e.g. 0.9, or off", info=EDIT_INFO)
        edit_scope = gr.Radio(list(SCOPE_CHOICES), value=MODEL_SCOPE, label="Editing scope",
                              info=SCOPE_INFO, elem_id="edit-scope")
    baselines = gr.Checkbox(True, label="Whole-answer baselines (no vote)")
    cache = gr.Radio(list(CACHE_MODES), value="none", label="KV cache",
                     info="prefix / dual reuse keys and values within a block: faster, "
                          "approximate (none: exact)", elem_id="cache-mode")
    with gr.Accordion("Replay a trajectory JSON (no model needed)", open=False):
        upload = gr.File(label="Trajectory JSON", file_types=[".json"], type="filepath")
    settings = SettingsColumn(prompt, model, blocks, more_blocks, rule, gen_length, steps,
                              temperature, seeds, forbid, end_last, baselines, sampler, edit,
                              edit_scope, cache, task, strategy, canvas, speed)
    task.change(task_template_markdown, [task], [template], api_visibility="private")
    wire_form(settings)
    return settings, upload


def decode_form(settings: SettingsColumn, mode: str, strategy: str = "hex") -> dict:
    """``{component: update}`` for the length mode ``mode`` and the ``strategy``: a growing
    canvas shows its note and the settings it reads, dVoting its own; each sets the controls
    it does not read to what it runs with, greyed out (their other values would be refused),
    and the Speed picker that would set them; fixed and HEX or seeds give them back."""
    grows, rounds = mode != "fixed", strategy == "dvoting"
    canvas, picked = settings.canvas, settings.strategy
    out = {canvas.growing: gr.update(visible=grows),
           canvas.note: CANVAS_NOTES[mode] + NOT_WITH_A_GROWING_CANVAS if grows else "",
           picked.dvoting: gr.update(visible=rounds),
           picked.note: STRATEGY_NOTES.get(strategy, "")}
    out.update({canvas.options[o.name]: gr.update(visible=mode in o.modes)
                for o in CANVAS_OPTIONS})
    fixed_by = {settings.rule: "low_confidence", settings.sampler: "fixed", settings.edit: "",
                settings.edit_scope: MODEL_SCOPE, settings.cache: "none",
                settings.baselines: False} if grows else {}
    if rounds:
        fixed_by.update({settings.rule: "entropy", settings.sampler: "fixed", settings.edit: "",
                         settings.edit_scope: MODEL_SCOPE, settings.cache: "none",
                         settings.baselines: False, settings.seeds: 1, canvas.mode: "fixed"})
    for control in (settings.rule, settings.sampler, settings.edit, settings.edit_scope,
                    settings.cache, settings.baselines, settings.seeds, canvas.mode):
        out[control] = (gr.update(value=fixed_by[control], interactive=False)
                        if control in fixed_by else gr.update(interactive=True))
    out[settings.steps] = gr.update(interactive=not grows)
    out[settings.speed.preset] = gr.update(interactive=settings.sampler not in fixed_by)
    return out


def wire_form(settings: SettingsColumn) -> None:
    """The form follows the Canvas length and Strategy pickers, also when a stored run fills
    them (.change); picking fixed or HEX again ticks the baselines again (.input: not when a
    run's settings load)."""
    mode, strategy = settings.canvas.mode, settings.strategy.name
    shown = list(decode_form(settings, "fixed"))
    for picker in (mode, strategy):
        picker.change(lambda m, s: decode_form(settings, m, s), [mode, strategy], shown,
                      api_visibility="private")
    mode.input(lambda m: gr.update(value=True) if m == "fixed" else gr.skip(), [mode],
               [settings.baselines], api_visibility="private")


def run_request(prompt, model, blocks, more_blocks, rule, gen_length, steps, temperature, seeds,
                forbid, end_last, baselines, sampler="fixed", edit=None, edit_scope=None,
                cache="none", task=None, strategy="hex", rounds=DVOTING_ROUNDS,
                entropy_threshold=DVOTING_ENTROPY_THRESHOLD, length="fixed",
                *canvas_options) -> RunRequest:
    """The settings column's values as a request (validated as it is made): the experts are
    the ticked ``blocks`` and the ``more_blocks`` text's; ``strategy`` and dVoting's settings
    as `hexviz run --strategy` takes them; ``canvas_options`` are the growing canvas's
    controls in `CANVAS_OPTIONS` order (none: the authors')."""
    length = str(length or "fixed")
    return RunRequest(prompt=prompt or "", model=model,
                      blocks=parse_blocks(expert_specs(blocks, more_blocks)),
                      remasking=rule, gen_length=int(gen_length), steps=int(steps),
                      temperature=float(temperature), seeds=int(seeds),
                      forbid_end_of_text=bool(forbid), end_tokens_last=bool(end_last),
                      baselines=bool(baselines), sampler=str(sampler or "fixed"),
                      edit=parse_edit(edit), edit_scope=scope_of(edit_scope),
                      cache=str(cache or "none"),
                      task=None if task in (None, "", OWN_FORMAT) else str(task),
                      strategy=str(strategy or "hex"), rounds=limits.as_int(rounds, "rounds"),
                      entropy_threshold=limits.as_float(entropy_threshold, "entropy_threshold"),
                      length=length, length_options=form_length_options(length, canvas_options))


def settings_values(run: Run) -> list[Any]:
    """The settings that decode ``run`` again, in `SettingsColumn.of_a_run`'s order after the
    question: blocks (the plain sizes), more blocks (schedules, AdaBlock: `expert_picks`),
    rule, gen_length, steps, temperature, seeds, forbid, end_last, baselines, sampler, edit,
    edit scope, cache, task, the strategy and dVoting's settings, the length mode and its
    settings (a fixed run's: the defaults for its gen_length, should the user pick a growing
    canvas)."""
    s = gallery.explore_settings(run)
    length, strategy = run.config.length, run.config.strategy
    canvas = length if length.grows else canvas_defaults(run.config.gen_length)
    seeds = 1 if strategy.rounds_voting else s["seeds"]  # dVoting's rounds are not seeds
    # dVoting decodes without editing: blank, as its form sends it, rather than "off"
    edit = ("" if strategy.rounds_voting else "off") if s["edit"] is None else f"{s['edit']:g}"
    return [*expert_picks(run), s["remasking"], s["gen_length"], s["steps"], s["temperature"],
            seeds, s["forbid_end_of_text"], s["end_tokens_last"], s["baselines"],
            s["sampler"], edit, s["edit_scope"] if s["edit"] is not None else MODEL_SCOPE,
            s["cache"], run.task or OWN_FORMAT,
            strategy.name, strategy.rounds, strategy.entropy_threshold,
            length.mode, *(getattr(canvas, o.name) for o in CANVAS_OPTIONS)]


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
