"""The Lesson tab, the app's first: seven short chapters (`hexviz.render.lesson`) drawn from
stored runs, no decoding and no waiting. Try it yourself opens a chapter's run, with its
settings, in Explore."""

from __future__ import annotations

from dataclasses import dataclass, field

import gradio as gr

from hexviz.app.tabs.explore import OpenInExplore
from hexviz.app.views import playable
from hexviz.app.widgets import AnimationControls, animation_controls, wire_animation
from hexviz.render import animate
from hexviz.render.lesson import Chapter
from hexviz.runs import gallery

INTRO = (
    "A short tour of how a masked diffusion LM decodes, in seven chapters. Every figure is a "
    "**stored run** of the built-in model (no decoding, no waiting); **Try it yourself** loads "
    "a chapter's run and settings into Explore, where you can change them and run again.")
INLINE_HEIGHT = 520  # px: a chapter's inline animation
TAB_ID = "lesson"


@dataclass
class LessonTab:
    chapters: list[Chapter]
    tries: list[gr.Button]  # one per chapter with a run, in chapter order
    scaling_button: gr.Button | None
    animations: list[AnimationControls] = field(default_factory=list)  # as ``tries``


def build(chapters: list[Chapter]) -> LessonTab:
    gr.Markdown(INTRO)
    tries, scaling_button, animations = [], None, []
    with gr.Tabs(elem_id="lesson-chapters") as chapter_tabs:
        for n, chapter in enumerate(chapters):
            with gr.Tab(chapter.short, id=f"chapter-{n}", elem_id=f"chapter-{chapter.key}"):
                gr.Markdown(f"### {chapter.title}\n{chapter.text}")
                figures = list(chapter.figures)
                if chapter.animation is not None and figures:
                    with gr.Row(equal_height=False):  # the words appearing, beside the chart
                        with gr.Column(min_width=320):
                            gr.Plot(playable(figures.pop(0)), show_label=False)
                        with gr.Column(min_width=320):
                            gr.HTML(animate.iframe(chapter.animation, INLINE_HEIGHT),
                                    elem_id=f"animation-inline-{chapter.key}")
                for figure in figures:
                    gr.Plot(playable(figure), show_label=False)
                if chapter.run is not None:
                    animations.append(animation_controls(chapter.key))
                with gr.Row():
                    if chapter.run is not None:
                        tries.append(gr.Button("Try it yourself in Explore →", variant="primary",
                                               elem_id=f"try-{chapter.key}"))
                    elif chapter.key == "scaling":
                        scaling_button = gr.Button("Open the Scaling tab →", variant="primary",
                                                   elem_id="try-scaling")
                    if n + 1 < len(chapters):
                        nxt = gr.Button("Next chapter", elem_id=f"next-{chapter.key}")
                        nxt.click(lambda n=n: gr.Tabs(selected=f"chapter-{n + 1}"), None,
                                  chapter_tabs, api_visibility="private")
    return LessonTab(chapters, tries, scaling_button, animations)


def wire(tab: LessonTab, open_in_explore: OpenInExplore, scaling_id: str) -> None:
    """Try it yourself: the chapter's run in every Explore view, its settings in the inputs;
    the scaling chapter's button opens the tab ``scaling_id``."""
    runs = [c for c in tab.chapters if c.run is not None]
    for chapter, button in zip(runs, tab.tries, strict=True):
        def on_try(path=chapter.path) -> dict:
            return open_in_explore(gallery.read_run(path))

        button.click(on_try, None, open_in_explore.outputs, api_visibility="private")
    for chapter, controls in zip(runs, tab.animations, strict=True):
        wire_animation(controls, [], lambda path=chapter.path: gallery.read_run(path))
    if tab.scaling_button is not None:
        tab.scaling_button.click(lambda: gr.Tabs(selected=scaling_id), None,
                                 open_in_explore.tabs, api_visibility="private")
