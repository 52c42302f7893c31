"""The Gallery: with an empty folder the app still builds (the listing: tests/render)."""

from __future__ import annotations

import gradio as gr

from hexviz.render import lesson


def test_the_app_builds_without_stored_runs(tmp_path):
    from hexviz.app import ui
    from tests.app.test_ui import FakeRunner

    assert isinstance(ui.build_demo(FakeRunner(), gallery_dir=tmp_path), gr.Blocks)
    chapters = lesson.load_lesson(tmp_path)
    assert [c.run for c in chapters[:4]] == [None] * 4
