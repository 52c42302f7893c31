"""Animation files: the suffix picks the format; the app's downloads are named by run and
settings and reused."""

from __future__ import annotations

import pytest

from hexviz.render import animate
from tests.conftest import known_run


def test_write_picks_the_format(tmp_path, stored):
    gif_path = animate.write(stored, tmp_path / "a.gif", animate.AnimationSettings(layout="one"))
    assert gif_path.read_bytes()[:6] == b"GIF89a"
    html_path = animate.write(stored, tmp_path / "a.HTML", animate.AnimationSettings(layout="one"))
    assert html_path.read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError, match=r"must end in .gif or .html \(got 'a.mp4'\)"):
        animate.write(stored, tmp_path / "a.mp4", animate.AnimationSettings())


def test_export_names_the_file_by_run_and_settings_and_reuses_it(tmp_path):
    run = known_run()
    settings = animate.AnimationSettings(layout="one", experts=("2",))
    first = animate.export(run, ".html", settings, folder=tmp_path)
    assert first.parent == tmp_path and first.name.startswith("hexviz-animation-")
    written = first.stat().st_mtime_ns
    assert animate.export(run, ".html", settings, folder=tmp_path) == first
    assert first.stat().st_mtime_ns == written  # the second request reuses the file
    other = animate.export(run, ".gif", settings, folder=tmp_path)
    assert other != first and other.read_bytes()[:6] == b"GIF89a"
