"""The Gradio front end: `build_demo` lays out the tabs and wires their events. Decoding
happens in the runner it is given; components are in `layout`, events in `wiring`, views in
`views`, words in `format`."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from hexviz import limits
from hexviz.app import teach
from hexviz.app.format import ABOUT, HEADER, about_builtin
from hexviz.app.layout import LengthControls, explore_tab, scaling_tab
from hexviz.app.lesson import load_lesson
from hexviz.app.runner import Runner
from hexviz.app.wiring import keyed_views, wire_api, wire_explore, wire_scaling
from hexviz.models.meta import read_card
from hexviz.paths import BUILTIN_DIR, GALLERY


DEFAULT_EXAMPLE = ("Mia has 12 marbles. She gives 3 to Ben. She buys 5 more. "
                   "Then she gets 2 times as many. How many marbles does Mia have now?")


def build_demo(runner: Runner, examples: list[str] | None = None,
               gallery_dir: Path | None = None) -> gr.Blocks:
    """The app; every decode and fork goes through ``runner``. The lesson and the gallery read
    the stored runs in ``gallery_dir`` (default ``assets/gallery``)."""
    examples = examples or [DEFAULT_EXAMPLE]
    labels = runner.model_labels()
    gallery_dir = Path(gallery_dir or GALLERY)
    chapters = load_lesson(gallery_dir)
    # Gradio deletes its cached files (uploads, served exports) once older than the export age.
    cache_age = int(limits.current().export_max_age_s)
    with gr.Blocks(title="hexviz", delete_cache=(min(cache_age, 600), cache_age)) as demo:
        gr.Markdown(HEADER)
        with gr.Tabs(selected="lesson") as tabs:
            with gr.Tab("Lesson", id="lesson"):
                lesson = teach.lesson_tab(chapters)
            with gr.Tab("Explore", id="explore"):
                explore = explore_tab(labels, examples, LengthControls.of(runner, labels[0]))
            with gr.Tab("Gallery", id="gallery"):
                gallery = teach.gallery_tab(gallery_dir)
            with gr.Tab("Compare", id="compare"):
                compare = teach.compare_tab(gallery_dir)
            with gr.Tab("Scaling", id="scaling"):
                scaling = scaling_tab()
            with gr.Tab("About"):
                gr.Markdown(ABOUT + about_builtin(read_card(BUILTIN_DIR)))
        wire_explore(runner, explore)
        wire_scaling(runner, scaling, explore.settings.model)
        wire_api(runner, labels[0])
        show, outputs = keyed_views(explore), list(explore.views.values())
        settings = [explore.settings.prompt, *explore.settings.inputs()[2:]]  # all but model
        teach.wire_lesson(lesson, show, outputs, settings, tabs, "explore", "scaling")
        teach.wire_gallery(gallery, gallery_dir, show, outputs, settings, tabs, "explore")
        teach.wire_compare(compare, gallery_dir, explore.views["run"], runner,
                           explore.settings.model)
        teach.wire_fork(explore.fork, runner, explore.views["run"], explore.settings.model)
        teach.wire_animation(explore.animation, [explore.views["run"]], lambda run: run)
    return demo
