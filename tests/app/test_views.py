"""The chart registry, views of a run by name, replay of uploads, and downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr
import pytest

from hexviz.app import views as explore_views
from hexviz.render import figures
from hexviz.runs import record
from tests.conftest import known_run


def test_every_chart_is_named_by_its_figure_function():
    for name, chart in explore_views.CHARTS.items():
        assert getattr(figures, name) is chart.figure and chart.name == name
    assert set(explore_views.all_figures(known_run())) == {
        name for name, chart in explore_views.CHARTS.items() if chart.exported}


def test_full_views_fill_every_output():
    views = explore_views.full_views(known_run())
    assert set(views) == set(explore_views.VIEWS)
    assert "HEX answer **7**" in views["status"] and "1 collapsed" in views["status"]
    assert ">7</mark>" in views["answers"] and "collapsed" in views["answers"]
    first = known_run().trajectories[0]
    assert f"AR-ness {first.ar_ness:.2f}" in views["answers"]  # order metrics per expert
    assert views["vote_panel"].layout.title.text == "Vote: 7"
    assert views["map_expert"]["value"] == (
        "whole (margin) ✗ collapsed")  # the collapse is shown first
    assert "COLLAPSED" in views["unmasking_map"].layout.title.text
    json_file, page_file = views["downloads"]
    assert json_file.endswith(".json") and page_file.endswith(".html")
    page = Path(page_file).read_text()
    assert page.count("<script") >= 4 and "Plotly.newPlot" in page  # figures + embedded plotly


def test_partial_views_redraw_only_cheap_outputs():
    run = known_run()
    run.steps_done = 2
    views = explore_views.partial_views(run)
    assert set(views) == {"status", "answers", "vote_panel", "reveal_order", "end_pressure"}
    assert "Decoding: step 2 of 4" in views["status"]
    assert len(views["reveal_order"].data) >= 1
    # the vote panel, the first chart a visitor sees, says how far the run has got
    assert "step 2 of 4" in views["vote_panel"].layout.title.text


def test_upload_round_trip(tmp_path):
    path = record.save(known_run(), tmp_path / "run.json")
    views = explore_views.replay(str(path))
    assert views["run"].trajectories[1].collapsed
    exported = views["downloads"][0]
    again = explore_views.replay(exported)  # what the app downloads, it can replay
    assert again["status"] == views["status"]
    assert explore_views.replay(None) == {}  # a cleared upload changes nothing


@pytest.mark.parametrize("content,message", [
    ("garbage", "not a JSON file"), ('{"schema": "x"}', "not a hexviz run"),
])
def test_bad_upload_gives_a_message(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(gr.Error, match=message):
        explore_views.replay(str(path))


def test_finished_runs_leave_no_temp_folder_behind():
    before = set(Path(tempfile.gettempdir()).glob("hexviz-*"))
    first = explore_views.export_files(known_run())
    explore_views.export_files(known_run())  # the same run: the same files
    other = known_run()
    other.prompt = "another question"
    second = explore_views.export_files(other)
    folders = set(Path(tempfile.gettempdir()).glob("hexviz-*")) - before
    assert len(folders) <= 1  # the process's one folder, made on first use
    assert Path(first[0]).parent == Path(second[0]).parent
    assert first[0] != second[0]  # runs do not overwrite each other


def test_a_figure_with_frames_travels_to_gradio_with_them_in_its_layout():
    scrubber = figures.scrubber(known_run())
    sent = explore_views.playable(scrubber)
    assert not sent.frames and len(scrubber.frames) == 5  # the original keeps its own
    frames = sent.layout.meta["frames"]
    assert [f["name"] for f in frames] == [f.name for f in scrubber.frames]
    assert sent.layout.sliders == scrubber.layout.sliders
    vote = figures.vote_panel(known_run())
    assert explore_views.playable(vote) is vote  # no frames: as it is
    shown = explore_views.full_views(known_run())["scrubber"]
    assert len(shown.layout.meta["frames"]) == 5  # what Explore shows can play


def test_the_canvas_length_chart_is_registered_and_exported():
    chart = explore_views.CHARTS["canvas_length"]
    assert chart.figure is figures.canvas_length and chart.exported and chart.elem_id == "length-plot"
    flat = explore_views.all_figures(known_run())["canvas_length"]
    assert {y for line in flat.data for y in line.y} == {known_run().config.gen_length}


def test_a_growing_run_fills_every_view_and_replays_from_its_file(tmp_path):
    from tests.render.conftest import grown_run

    run = grown_run()
    views = explore_views.full_views(run)
    assert set(views) == set(explore_views.VIEWS)
    lengths = views["canvas_length"].data
    assert [list(line.y)[1:] for line in lengths] == [t.canvas_length.tolist()
                                                      for t in run.trajectories]
    page = Path(views["downloads"][1]).read_text()
    assert page.count('class="plotly-graph-div"') == len(explore_views.all_figures(run))
    path = record.save(run, tmp_path / "grown.json")
    again = explore_views.replay(str(path))
    assert again["run"].trajectories[1].canvas_length.tolist() == [8, 3]
    assert len(again["scrubber"].layout.meta["frames"]) == run.steps_done + 1
