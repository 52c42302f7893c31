"""The Gradio front end: `build_demo` puts the tabs side by side and wires them to each other.
Decoding happens in the runner it is given; each tab's layout and events are in `tabs/`, the
charts in the `views` registry, the widgets several tabs share in `widgets`, the API in `api`."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from hexviz import limits
from hexviz.app import api
from hexviz.app.runner import Runner
from hexviz.app.tabs import about, compare, explore, gallery, lesson, scaling
from hexviz.app.tabs.about import PAPER
from hexviz.app.views import RESTORE_FRAMES_JS
from hexviz.app.widgets import LengthControls
from hexviz.paths import GALLERY
from hexviz.render.lesson import load_lesson
from hexviz.render.textfit import FIT_CELL_TEXT_JS
from hexviz.tasks.tinygsm import FIRST_QUESTION

HEADER = f"""# hexviz — how a diffusion LM unmasks its answer
A masked diffusion LM starts from an all-`[MASK]` answer and reveals tokens over many steps.
Each **block size** is a hidden expert ([HEX, Lee et al. 2025]({PAPER})): run several, vote on
their answers. Whole-answer baselines (one block) are shown for contrast; they don't vote.
"""


# Run once when the page loads: the scrubbers' frames put back where Gradio leaves them out,
# and each heatmap cell's text hidden where it is wider than its cell (Plotly lets it spill).
PAGE_JS = f"() => {{ ({RESTORE_FRAMES_JS})(); ({FIT_CELL_TEXT_JS})(); }}"


DEFAULT_EXAMPLE = FIRST_QUESTION  # the README's question: the app opens on it


def examples_shown(stored: list[str] | None) -> list[str]:
    """The Explore examples: `DEFAULT_EXAMPLE` first, then the stored ones
    (``assets/examples.json``, which ``python -m hexviz.train.card`` rewrites), each once."""
    return [DEFAULT_EXAMPLE, *(q for q in dict.fromkeys(stored or []) if q != DEFAULT_EXAMPLE)]


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
        with gr.Tabs(selected=lesson.TAB_ID) as tabs:
            with gr.Tab("Lesson", id=lesson.TAB_ID):
                lesson_tab = lesson.build(chapters)
            with gr.Tab("Explore", id=explore.TAB_ID):
                explore_tab = explore.build(labels, examples,
                                            LengthControls.of(runner, labels[0]))
            with gr.Tab("Gallery", id=gallery.TAB_ID):
                gallery_tab = gallery.build(gallery_dir)
            with gr.Tab("Compare", id=compare.TAB_ID):
                compare_tab = compare.build(gallery_dir)
            with gr.Tab("Scaling", id=scaling.TAB_ID):
                scaling_tab = scaling.build()
            with gr.Tab("About", id=about.TAB_ID):
                about.build()
        model, run = explore_tab.settings.model, explore_tab.views["run"]
        explore.wire(runner, explore_tab)
        scaling.wire(runner, scaling_tab, model)
        api.wire(runner, labels[0])
        open_in_explore = explore.OpenInExplore(explore_tab, tabs)
        lesson.wire(lesson_tab, open_in_explore, scaling.TAB_ID)
        gallery.wire(gallery_tab, gallery_dir, open_in_explore)
        compare.wire(compare_tab, gallery_dir, run, runner, model)
        demo.load(None, js=PAGE_JS, api_visibility="private")
    return demo
