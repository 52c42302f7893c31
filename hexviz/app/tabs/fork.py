"""The What-if fork, a tab inside Explore: continue one expert of the current run from its
canvas after step t with another block length, rule or temperature, or with one masked position
forced to one of the model's top candidates, and show the original and the fork side by side.
Forks and candidates are asked of the runner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from hexviz.app.runner import ForkRequest
from hexviz.app.widgets import refusal
from hexviz.policy.rules import RULE_NAMES
from hexviz.policy.settings import divisors
from hexviz.render import figures
from hexviz.render.compare import canvas_html, compare_outputs, expert_choices, fork_summary

INTRO = ("Pick an expert and a step, then continue decoding from that exact canvas with "
         "another block length, rule or temperature, or with one masked position forced "
         "to a token from the model's top candidates. Unchanged settings reproduce the "
         "original token for token.")

SAME = "same"
TAB_ID = "fork"  # inside Explore's tabs


# --- the form's text ---------------------------------------------------------------------------

def parse_temperature(text: str | None) -> float | None:
    """The temperature box: None for blank or "same" (the expert's own), else a number >= 0."""
    text = (text or "").strip()
    if text in ("", SAME):
        return None
    try:
        value = float(text)
    except ValueError:
        raise refusal(f"temperature must be 'same' or a number >= 0 (got {text!r})") from None
    if not value >= 0:
        raise refusal(f"temperature must be a number >= 0 (got {text!r})")
    return value


def parse_position(text: str | None) -> int | None:
    """The forced position's box: None when blank, else a whole number (checked later)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise refusal(f"the position must be a whole number (got {text!r})") from None


def check_forkable(run) -> None:
    """Refuse, in the engine's words, a run whose canvas grew or shrank (DAEDAL, rho-EOS): a
    fork resumes a fixed canvas, and candidates are asked of one."""
    if run.config.length.grows:
        raise refusal("a what-if fork needs a fixed-length canvas (--length fixed)")


# --- layout ------------------------------------------------------------------------------------

@dataclass
class ForkPanel:
    """The fork's components: the expert and step, the canvas there, what to change, and the
    original against the fork."""

    expert: gr.Dropdown
    step: gr.Slider
    canvas: gr.HTML
    block: gr.Dropdown
    rule: gr.Dropdown
    temperature: gr.Textbox
    position: gr.Textbox
    show_candidates: gr.Button
    candidate: gr.Dropdown
    button: gr.Button
    summary: gr.Markdown
    reveal: gr.Plot
    maps: gr.Plot
    answers: gr.HTML


def build() -> ForkPanel:
    """The fork form (expert, step, block length, rule, temperature, a forced token) and views."""
    gr.Markdown(INTRO)
    with gr.Row():
        expert = gr.Dropdown([], label="Expert", elem_id="fork-expert")
        step = gr.Slider(0, 63, value=16, step=1, label="Fork after step", elem_id="fork-step")
    canvas = gr.HTML(elem_id="fork-canvas")
    with gr.Row():
        block = gr.Dropdown([SAME], value=SAME, label="Block length from here")
        rule = gr.Dropdown([SAME, *RULE_NAMES], value=SAME, label="Remasking rule")
        temperature = gr.Textbox(SAME, label="Temperature (same, or a number)")
    with gr.Row():
        position = gr.Textbox("", label="Force position (optional: a masked position's number)",
                              elem_id="fork-position")
        show_candidates = gr.Button("Top candidates there", elem_id="fork-candidates")
        candidate = gr.Dropdown([], label="Forced token", elem_id="fork-token")
    button = gr.Button("Fork", variant="primary", elem_id="fork-button")
    summary = gr.Markdown(elem_id="fork-summary")
    answers = gr.HTML(elem_id="fork-answers")
    reveal = gr.Plot(show_label=False, elem_id="fork-reveal")
    maps = gr.Plot(show_label=False, elem_id="fork-maps")
    return ForkPanel(expert, step, canvas, block, rule, temperature, position, show_candidates,
                     candidate, button, summary, reveal, maps, answers)


# --- events ------------------------------------------------------------------------------------

def wire(panel: ForkPanel, runner, state: gr.State, model: gr.Dropdown) -> None:
    """``state``: the current Explore run; ``model``: the model picker (forks decode with it)."""
    def on_run_step(run) -> Any:
        if run is None or not run.complete:
            return gr.skip()
        return gr.update(maximum=run.config.steps - 1, value=run.config.steps // 4)

    def on_run_expert(run) -> tuple:
        if run is None or not run.complete:
            return gr.skip(), gr.skip()
        return (gr.update(choices=expert_choices(run),
                          value=figures.default_pressure_rows(run)[-1]),
                gr.update(choices=[SAME, *divisors(run.config.gen_length)], value=SAME))

    def on_canvas(run, index, step) -> str:
        if run is None or index is None or not 0 <= int(index) < len(run.trajectories):
            return ""  # the expert of the run before, until its own arrives
        return canvas_html(run, int(index), int(step))

    def on_candidates(run, index, step, position, model_label) -> Any:
        if run is None or index is None:
            raise refusal("run something in Explore (or replay a stored run) first")
        check_forkable(run)
        p = parse_position(position)
        if p is None:
            raise refusal("type the position to force (the small number of a masked token)")
        t = run.trajectories[int(index)]
        if not 0 <= p < len(t.token_ids):
            raise refusal(f"position must be from 0 to {len(t.token_ids) - 1} (got {p})")
        if 0 <= t.reveal_step[p] < int(step):
            raise refusal(f"position {p} is already revealed after step {int(step)}; pick a "
                           "masked one (·)")
        if not hasattr(runner, "candidates"):
            raise refusal("this app's engine cannot list candidates")
        try:
            top = runner.candidates(model_label, run, int(index), int(step), p)
        except ValueError as err:
            raise refusal(str(err)) from None
        except Exception as err:  # the app stays up; the user sees what went wrong
            raise gr.Error(f"listing candidates failed: {type(err).__name__}: {err}") from None
        choices = [(f"{text!r}  {prob:.1%}", token) for token, text, prob in top]
        return gr.update(choices=choices, value=choices[0][1])

    def on_fork(run, index, step, block, rule, temperature, position, token, model_label,
                progress=gr.Progress()) -> tuple:
        if run is None or index is None:
            raise refusal("run something in Explore (or replay a stored run) first")
        check_forkable(run)
        p = parse_position(position)
        if p is not None and token is None:
            raise refusal("pick the forced token: press 'Top candidates there' first")
        force = None if p is None else (p, int(token))
        try:
            request = ForkRequest(
                run, int(index), int(step), model_label,
                block_length=None if block in (None, SAME) else int(block),
                remasking=None if rule in (None, SAME) else rule,
                temperature=parse_temperature(temperature), force=force)
            progress(0, desc="forking")
            *_, fork = runner.fork(request)
        except ValueError as err:
            raise refusal(str(err)) from None
        except AttributeError:
            raise refusal("this app's engine cannot fork runs") from None
        except Exception as err:  # the app stays up; the user sees what went wrong
            raise gr.Error(f"the fork failed: {type(err).__name__}: {err}") from None
        shown = None if force is None else (force[0], fork.trajectories[0].tokens[force[0]])
        reveal, maps, answers = compare_outputs(run, int(index), fork, 0,
                                                ("original", "fork"), int(step))
        return fork_summary(run, int(index), fork, int(step), shown), reveal, maps, answers

    # The step first, in an event of its own: sent together, the expert's change read the
    # slider's old value against its new maximum (16 > 3 after a short run) and Gradio refused
    state.change(on_run_step, [state], [panel.step], api_visibility="private").then(
        on_run_expert, [state], [panel.expert, panel.block], api_visibility="private")
    for trigger in (panel.expert.change, panel.step.change):
        trigger(on_canvas, [state, panel.expert, panel.step], [panel.canvas],
                api_visibility="private")
    for trigger in (panel.expert.change, panel.step.change, panel.position.change):
        trigger(lambda: gr.update(choices=[], value=None), None, [panel.candidate],
                api_visibility="private")
    panel.show_candidates.click(on_candidates,
                                [state, panel.expert, panel.step, panel.position, model],
                                [panel.candidate], api_visibility="private")
    panel.button.click(on_fork, [state, panel.expert, panel.step, panel.block, panel.rule,
                                 panel.temperature, panel.position, panel.candidate, model],
                       [panel.summary, panel.reveal, panel.maps, panel.answers],
                       api_visibility="private")
