"""The teaching views' helpers: stored-run loading, compare, the fork canvas and summary."""

from __future__ import annotations

from dataclasses import replace

import gradio as gr
import numpy as np
import pytest

from hexviz.app import gallery
from hexviz.app import lesson
from hexviz.app import plots
from hexviz.app import teach as ui_teach
from hexviz.runs import record as trajectory
from tests.conftest import known_run


def test_load_stored_refuses_paths_outside_the_gallery(tmp_path):
    trajectory.save(known_run(), tmp_path / "run.json")
    assert ui_teach.load_stored(tmp_path, "run.json").prompt == "Q"
    with pytest.raises(gr.Error, match="pick a stored run"):
        ui_teach.load_stored(tmp_path, None)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(gr.Error, match="cannot replay broken.json"):
        ui_teach.load_stored(tmp_path, "broken.json")


def test_compare_marks_differing_positions_on_one_scale():
    run = known_run()
    reveal, maps, answers = ui_teach.compare_outputs(run, 0, run, 1)
    heat, marks = reveal.data[0], reveal.data[1]
    assert np.array(heat.z).tolist() == [[0, 1, 2, 3], [3, 2, 1, 0]]
    assert heat.zmax == 3 and heat.zmin == 0  # one colour scale for both rows
    assert list(marks.x) == [0, 1, 2]  # [5, 7, 1, 2] vs [1, 2, 2, 2]
    assert "3 positions differ" in reveal.layout.title.text
    assert len([d for d in maps.data if d.type == "heatmap"]) == 2
    assert "answer <b>7</b>" in answers and "no answer" in answers
    same = plots.differing_positions(run.trajectories[0], run.trajectories[0])
    assert len(same) == 0


def test_first_divergence():
    run = known_run()
    a = run.trajectories[0]
    b = replace(a, token_ids=np.array([5, 7, 1, 9]))
    assert ui_teach.first_divergence(a, a) is None
    assert ui_teach.first_divergence(a, b) == 3
    c = replace(a, reveal_step=np.array([0, 2, 1, 3], dtype=np.int32))
    assert ui_teach.first_divergence(a, c, after=1) == 1


def test_canvas_shows_masks_and_end_tokens():
    html = ui_teach.canvas_html(known_run(), 0, 2)
    assert "2 positions still masked" in html and "####" in html and "·" in html
    assert html.count("∎") == 1  # the legend only: the end tokens are still masked
    assert ui_teach.canvas_html(known_run(), 0, 4).count("∎") == 2


def test_fork_of_a_stored_run_reproduces_it_and_a_forced_token_changes_it():
    from hexviz.app.runner import ForkRequest, LocalRunner

    runner = LocalRunner()
    run = gallery.read_run(gallery.GALLERY_DIR / lesson.FILE_NAMES["disagree"])
    index, step = run.voters[1], run.config.steps // 4
    original = run.trajectories[index]
    *_, same = runner.fork(ForkRequest(run, index, step))
    assert same.trajectories[0].token_ids.tolist() == original.token_ids.tolist()
    assert same.trajectories[0].reveal_step.tolist() == original.reveal_step.tolist()
    position = int(np.flatnonzero(original.reveal_step == step)[0])
    top = runner.candidates(runner.model_labels()[0], run, index, step, position, k=4)
    assert top[0][0] == original.draft_ids[step, position]
    token = next(t for t, _, _ in top if t != original.token_ids[position])
    *_, forced = runner.fork(ForkRequest(run, index, step, force=(position, token)))
    assert forced.trajectories[0].token_ids[position] == token
    assert forced.trajectories[0].token_ids.tolist() != original.token_ids.tolist()
    summary = ui_teach.fork_summary(run, index, forced, step, (position, "x"))
    assert f"they diverge at step {step}" in summary


def test_a_fork_request_is_checked_when_it_is_made():
    from hexviz.app.runner import ForkRequest

    with pytest.raises(ValueError, match="a fork starts at a step from 0 to 3"):
        ForkRequest(known_run(), 0, 4)
    with pytest.raises(ValueError, match="pick an expert of the run"):
        ForkRequest(known_run(), 5, 0)
    assert ForkRequest(known_run(), 0, 1, block_length=4).expert_after().block_length == 4


def test_the_app_builds_without_stored_runs(tmp_path):
    from hexviz.app import ui
    from tests.app.test_ui import FakeRunner

    assert isinstance(ui.build_demo(FakeRunner(), gallery_dir=tmp_path), gr.Blocks)
    chapters = lesson.load_lesson(tmp_path)
    assert [c.run for c in chapters[:4]] == [None] * 4
    assert "python -m hexviz.app.lesson build" in ui_teach.gallery_markdown([])


def test_animation_downloads_are_a_gif_and_an_offline_page(monkeypatch, tmp_path):
    monkeypatch.setenv("HEXVIZ_EXPORT_DIR", str(tmp_path))
    files = ui_teach.animation_files(known_run())
    assert [f.rsplit(".", 1)[1] for f in files] == ["gif", "html"]
    assert all(f.startswith(str(tmp_path)) for f in files)
    assert ui_teach.animation_files(known_run()) == files  # the same run: the same files
    with pytest.raises(gr.Error, match="first"):
        ui_teach.animation_files(None)
    monkeypatch.setenv("HEXVIZ_MAX_ANIMATION_FRAMES", "3")
    other = known_run()
    other.prompt = "another"
    with pytest.raises(gr.Error, match="cannot animate this run: .*HEXVIZ_MAX_ANIMATION_FRAMES"):
        ui_teach.animation_files(other)


def test_exact_against_cached_says_where_each_expert_parts():
    from hexviz.app.loading import BUILTIN_LABEL
    from hexviz.app.runner import LocalRunner, RunRequest

    local = LocalRunner()
    *_, exact = local.run(RunRequest("Tom has 5 apples. He buys 3 more. How many now?",
                                     blocks=(4, 8, 16), gen_length=32, steps=16))
    assert ui_teach.decoded_with(local, exact, BUILTIN_LABEL, "none") is exact
    cached = ui_teach.decoded_with(local, exact, BUILTIN_LABEL, "dual")
    assert cached.config.cache == "dual"
    text = ui_teach.cache_divergence(exact, cached)
    lines = text.splitlines()
    assert lines[0].startswith("**Exact against dual cache**")
    assert "computed" in lines[0] and "of the positions exact decoding did" in lines[0]
    rows = [line for line in lines if line.startswith("| B=") or line.startswith("| whole")]
    assert len(rows) == len(exact.trajectories)
    for row, a, b in zip(rows, exact.trajectories, cached.trajectories, strict=True):
        step = ui_teach.first_divergence(a, b)
        assert row.split(" | ")[1] == ("none" if step is None else str(step))
        assert f"{len(plots.differing_positions(a, b))} of 32" in row
    same = text.split(": ")[1].split(" of ")[0]
    assert int(same) == sum(ui_teach.first_divergence(a, b) is None
                            for a, b in zip(exact.trajectories, cached.trajectories, strict=True))
