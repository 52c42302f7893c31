"""The Explore tab's speed preset: a picker that sets the Sampler and KV cache controls, and a
line saying what Fast changes and costs. It only sets controls (the run's settings are theirs;
the plan decodes what they say). The Lesson's stored runs keep the paper's settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from hexviz.app.serving import FAST_SAMPLER
from hexviz.policy.samplers import Sampler

PAPER, FAST = "Paper settings", "Fast"
# What each preset sets: the Sampler and KV cache controls' values, as `--sampler` and
# `--cache` take them. Paper settings: the paper's tokens per step, exact; Fast: Fast-dLLM's
# confidence threshold. Not its block KV cache: on the built-in model the prefix cache took
# more row passes (119 against 114), as its blocks refresh often, and editing stays in the block.
PRESETS = {PAPER: ("fixed", "none"), FAST: (FAST_SAMPLER, "none")}

# What Fast changes and costs, measured on the built-in model with the default question (both
# after a warm-up run; docs/app.md): steps_done 64 -> 36, timing.row_passes 442 -> 114.
FAST_NOTE = ("**Fast** commits, in each step, every token the model is at least 90% sure of "
             "(at least one) instead of a fixed number. On the built-in model the default "
             "question then takes 36 steps instead of 64 and 114 row passes instead of 442 "
             "(one expert's row through the model once): about a quarter of the work. Its "
             "answers can differ from the paper settings', and the run's record says which "
             "sampler it used.")


@dataclass
class SpeedControls:
    """The Speed picker and the line under it."""

    preset: gr.Radio
    note: gr.Markdown


def speed_controls() -> SpeedControls:
    preset = gr.Radio(list(PRESETS), value=PAPER, label="Speed", elem_id="speed-preset",
                      info="sets Sampler and KV cache below")
    note = gr.Markdown(FAST_NOTE, elem_id="speed-note")
    return SpeedControls(preset, note)


def preset_values(preset: str | None) -> tuple[Any, Any]:
    """The (sampler, cache) controls' values that ``preset`` sets; none for another value."""
    return PRESETS.get(str(preset), (gr.skip(), gr.skip()))


def preset_of(sampler: str | None, cache: str | None) -> str | None:
    """The preset whose settings the Sampler and KV cache controls show; None for neither (a
    sampler or cache picked by hand, a stored run's)."""
    try:
        shown = (Sampler.parse(str(sampler or "fixed")).spec, str(cache or "none"))
    except ValueError:  # a sampler being typed
        return None
    return next((name for name, values in PRESETS.items() if values == shown), None)


def wire(speed: SpeedControls, sampler: gr.Dropdown, cache: gr.Radio) -> None:
    """Picking a preset sets the two controls (.input: a stored run's settings do not fire it);
    the picker follows them, whoever sets them (a user, a stored run, a greyed-out form)."""
    speed.preset.input(preset_values, [speed.preset], [sampler, cache],
                       api_visibility="private")
    for control in (sampler, cache):
        control.change(preset_of, [sampler, cache], [speed.preset], api_visibility="private",
                       show_progress="hidden")
