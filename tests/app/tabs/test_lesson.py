"""The Lesson tab: a Try it yourself button per chapter with a stored run, which opens that run
in Explore with its settings; the scaling chapter's button opens the Scaling tab."""

from __future__ import annotations

import gradio as gr

from hexviz.app import ui
from hexviz.app.tabs import explore, scaling
from hexviz.policy.samplers import Sampler
from hexviz.render.lesson import load_lesson
from hexviz.runs import gallery
from tests.conftest import FakeRunner


def handlers(demo: gr.Blocks, name: str) -> list:
    return [f for f in demo.fns.values() if f.name == name]


def test_try_it_yourself_opens_the_chapters_run_in_explore():
    demo = ui.build_demo(FakeRunner())
    chapters = [c for c in load_lesson(gallery.GALLERY_DIR) if c.run is not None]
    tries = handlers(demo, "on_try")
    assert len(tries) == len(chapters) > 0
    shown = tries[0].fn()  # the first chapter's run, read from its file
    run = gallery.read_run(chapters[0].path)
    by_label = {getattr(c, "label", None): v for c, v in shown.items()}
    assert by_label["Question"] == run.prompt
    assert by_label["Gen length"] == run.config.gen_length
    sampler = by_label["Sampler: tokens per step (NAME or NAME:VALUE)"]
    assert isinstance(sampler, str) and Sampler.parse(sampler).spec == sampler  # the menu's text
    status = next(v for c, v in shown.items() if getattr(c, "elem_id", None) == "status")
    assert "voting experts" in status
    switch = next(v for c, v in shown.items() if isinstance(c, gr.Tabs))
    assert switch.selected == explore.TAB_ID
    assert set(shown) == set(tries[0].outputs)  # every view, the settings but the model, the tab


def test_the_scaling_chapter_opens_the_scaling_tab():
    demo = ui.build_demo(FakeRunner())
    button = next(i for i, b in demo.blocks.items() if getattr(b, "elem_id", None) == "try-scaling")
    opens = [f for f in demo.fns.values() if (button, "click") in f.targets]
    assert len(opens) == 1 and opens[0].fn().selected == scaling.TAB_ID
