"""The speed preset: Fast sets the Sampler and KV cache controls to the threshold sampler and
no cache, Paper settings sets them back, the picker follows the controls whoever sets them,
and the Lesson's stored runs open in Explore with their own settings."""

from __future__ import annotations

import gradio as gr
import pytest

from hexviz.app import presets, ui, widgets
from hexviz.render.lesson import load_lesson
from hexviz.runs import gallery
from tests.conftest import FakeRunner


@pytest.fixture(scope="module")
def demo() -> gr.Blocks:
    return ui.build_demo(FakeRunner())


def by_id(demo: gr.Blocks, elem_id: str):
    return next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id)


def listening(demo: gr.Blocks, control, event: str) -> list:
    return [f for f in demo.fns.values() if (control._id, event) in f.targets]


def test_picking_fast_sets_the_sampler_and_cache_and_paper_settings_restores_them(demo):
    picker, sampler, cache = (by_id(demo, i) for i in ("speed-preset", "sampler", "cache-mode"))
    assert (picker.label, picker.value) == ("Speed", presets.PAPER)
    assert [value for _, value in picker.choices] == [presets.PAPER, presets.FAST]
    assert (sampler.value, cache.value) == presets.PRESETS[presets.PAPER] == ("fixed", "none")
    (picked,) = listening(demo, picker, "input")
    assert picked.outputs == [sampler, cache]  # nothing else: the other settings stay
    assert picked.fn(presets.FAST) == ("threshold:0.9", "none")
    assert picked.fn(presets.PAPER) == ("fixed", "none")
    offered = ([value for _, value in sampler.choices], [value for _, value in cache.choices])
    assert all(v in menu for v, menu in zip(presets.PRESETS[presets.FAST], offered))
    fast_sampler, fast_cache = presets.PRESETS[presets.FAST]
    request = widgets.run_request("Q", "m", [4], "", "low_confidence", 64, 64, 0, 1, False,
                                  False, True, fast_sampler, "", widgets.MODEL_SCOPE, fast_cache)
    assert (request.sampler.spec, request.cache) == ("threshold:0.9", "none")


def test_fast_says_what_it_changes_and_costs(demo):
    note = by_id(demo, "speed-note").value
    assert "90%" in note and "114 row passes instead of 442" in note and "differ" in note
    assert "36 steps instead of 64" in note  # measured: `presets.FAST_NOTE`'s comment


@pytest.mark.parametrize("sampler,cache,shown", [
    ("fixed", "none", presets.PAPER),
    ("threshold:0.9", "none", presets.FAST),
    ("threshold", "none", presets.FAST),  # the sampler's default value, as typed
    ("threshold:0.8", "none", None),  # by hand: neither
    ("threshold:0.9", "prefix", None),
    ("fixed", "prefix", None),
    ("thresh:", "none", None),  # being typed
])
def test_the_picker_follows_the_sampler_and_cache(demo, sampler, cache, shown):
    assert presets.preset_of(sampler, cache) == shown
    picker = by_id(demo, "speed-preset")
    for control in (by_id(demo, "sampler"), by_id(demo, "cache-mode")):
        (follows,) = [f for f in listening(demo, control, "change") if picker in f.outputs]
        assert follows.outputs == [picker] and follows.fn(sampler, cache) == shown


def test_the_picker_is_no_input_and_loading_a_run_does_not_fire_it(demo):
    picker = by_id(demo, "speed-preset")
    run = next(f for f in demo.fns.values() if f.name == "on_run")
    assert picker not in run.inputs  # Run sends the sampler and cache it set
    assert listening(demo, picker, "change") == []  # only a user's pick (.input) sets them


def test_the_lessons_runs_open_with_their_own_settings_whatever_the_preset(demo):
    """Try it yourself fills the sampler and cache from the chapter's stored run (the paper's
    settings, or a chapter's own threshold expert), never from the Speed picker."""
    picker, sampler, cache = (by_id(demo, i) for i in ("speed-preset", "sampler", "cache-mode"))
    chapters = [c for c in load_lesson(gallery.GALLERY_DIR) if c.run is not None]
    tries = [f for f in demo.fns.values() if f.name == "on_try"]
    assert len(tries) == len(chapters) > 0
    for chapter, opens in zip(chapters, tries):
        assert picker not in opens.outputs and not opens.inputs  # nothing of the preset's
        shown = opens.fn()
        run = gallery.read_run(chapter.path)
        settings = gallery.explore_settings(run)
        assert (shown[sampler], shown[cache]) == (settings["sampler"], settings["cache"])
        assert settings["cache"] == "none"  # the lesson decodes exactly
    # the picker then shows what the chapter ran with: Paper settings, or neither preset
    first = tries[0].fn()
    assert presets.preset_of(first[sampler], first[cache]) == presets.PAPER
