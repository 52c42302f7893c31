"""The lesson, the gallery and the teaching views, on hand-made runs and the stored ones."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import gradio as gr
import numpy as np
import pytest

from hexviz import gallery, lesson, plots, trajectory, ui_teach
from hexviz.config import Expert
from tests.conftest import REPO, known_run


def run_with_answers(answers: list[str | None], collapsed_baseline: bool = True):
    """known_run with one voting B=2 row per answer, then its whole-answer baseline."""
    run = known_run()
    good, baseline = run.trajectories
    rows = [replace(good, expert=Expert(2, seed=i), answer=a) for i, a in enumerate(answers)]
    baseline = replace(baseline, collapsed=collapsed_baseline)
    return replace(run, trajectories=[*rows, baseline])


def test_lesson_and_gallery_load_without_torch_quickly():
    code = ("import sys, time\n"
            "t = time.perf_counter()\n"
            "from hexviz import gallery, lesson\n"
            "chapters = lesson.load_lesson()\n"
            "entries = gallery.list_entries()\n"
            "print(f'{time.perf_counter() - t:.2f}', len(chapters), len(entries),\n"
            "      'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout.split()
    print(f"lesson and gallery rendered in {out[0]} s without a model")
    assert out[1:] == ["5", str(len(list(gallery.GALLERY_DIR.glob("*.json")))), "False"]


def test_chapters_are_picked_by_rule():
    gold = ["7", "7", "7", "7"]
    runs = [run_with_answers(["7", "8", "7"], False),  # right vote, not unanimous
            run_with_answers(["7", "7", "7"], False),  # unanimous: chapter 1
            run_with_answers(["1", "2", "3"], True),  # most answers, and a collapse
            run_with_answers(["1", "2", None], False)]  # a tie (1 vs 2)
    picks = lesson.pick_chapters(runs, gold)
    assert picks["one_expert"] == 1
    assert picks["wall"] == 2  # the only collapse
    assert picks["disagree"] == 0  # 2 has the most answers but is taken; 0 and 3 have two
    assert picks["vote"] == 3  # the tie


def test_wall_score_counts_collapses_then_early_end_tokens():
    run = known_run()  # the baseline reveals only end tokens, all in the first half too
    assert lesson.wall_score(run) == (1, 1.0)


@pytest.fixture
def stored(tmp_path):
    """A gallery folder whose four chapters are known_run variants."""
    runs = {"one_expert": run_with_answers(["7", "7"], False),
            "wall": run_with_answers(["7"], True),
            "disagree": run_with_answers(["7", "8", None], False),
            "vote": run_with_answers(["7", "8"], False)}
    for key, run in runs.items():
        trajectory.save(run, tmp_path / lesson.FILE_NAMES[key])
    index = {"chapters": {k: {"file": lesson.FILE_NAMES[k], "gold": "7"} for k in runs}}
    (tmp_path / lesson.INDEX.name).write_text(json.dumps(index))
    return tmp_path


def test_chapter_text_quotes_the_stored_runs(stored):
    one, wall, disagree, vote, scaling = lesson.load_lesson(stored)
    assert "Expert **B=2**" in one.text and "answered **7** — right" in one.text
    assert "2 blocks of 2 tokens" in one.text
    assert "**1 of the 1 whole-answer runs collapsed**" in wall.text
    assert "**100%** of the tokens the whole-answer run revealed were end tokens" in wall.text
    assert "gave **2 different answers** and 1 gave none" in disagree.text
    assert "7 ×1, 8 ×1" in vote.text and "**tie**" in vote.text
    assert "test problems" in scaling.text and scaling.figures  # from the card's eval records
    assert [c.key for c in (one, wall, disagree, vote, scaling)] == [
        "one_expert", "wall", "disagree", "vote", "scaling"]
    assert len(one.figures[0].data[0].z) == 1  # chapter 1 shows one expert


def test_wall_chapter_reads_right_without_a_collapse(stored):
    trajectory.save(run_with_answers(["7"], False), stored / lesson.FILE_NAMES["wall"])
    wall = lesson.load_lesson(stored)[1]
    assert "none of the 1 whole-answer runs collapsed" in wall.text


def test_missing_and_bad_stored_runs_become_messages(stored):
    (stored / lesson.FILE_NAMES["wall"]).unlink()
    (stored / lesson.FILE_NAMES["vote"]).write_text("garbage")
    chapters = lesson.load_lesson(stored)
    assert lesson.BUILD_COMMAND in chapters[1].text and chapters[1].run is None
    assert "not a JSON file" in chapters[3].text
    assert chapters[0].run is not None


def test_gallery_lists_runs_and_explains_bad_files(tmp_path):
    trajectory.save(known_run(), tmp_path / "good.json")
    (tmp_path / "bad.json").write_text('{"schema": "x"}')
    (tmp_path / "notes.txt").write_text("not listed")
    good_size = (tmp_path / "good.json").stat().st_size
    bad, good = gallery.list_entries(tmp_path)
    assert "not a hexviz run" in bad.error and "cannot replay" in bad.label
    assert good.error is None and good.prompt == "Q" and good.model == "hand-made"
    assert good.settings == "blocks 2 · low_confidence · gen_length 4 · 4 steps"
    too_big = gallery.list_entries(tmp_path, max_bytes=good_size - 1)[1]
    assert "stored runs may be at most" in too_big.error
    markdown = ui_teach.gallery_markdown([bad, good])
    assert "⚠ cannot replay" in markdown and "| good.json | Q |" in markdown


def test_stored_gallery_runs_replay_and_carry_their_settings():
    entries = gallery.list_entries()
    assert entries and all(e.error is None for e in entries)
    for path in gallery.GALLERY_DIR.glob("*.json"):
        assert path.stat().st_size < 600_000  # small enough to ship
    run = gallery.read_run(entries[0].path)
    s = gallery.explore_settings(run)
    assert s["prompt"] == run.prompt and s["baselines"] is True
    assert s["gen_length"] == run.config.gen_length and s["steps"] == run.config.steps
    assert ui_teach.settings_values(run)[0] == s["blocks"]


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
    from hexviz.runner import ForkRequest, LocalRunner

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
    from hexviz.runner import ForkRequest

    with pytest.raises(ValueError, match="a fork starts at a step from 0 to 3"):
        ForkRequest(known_run(), 0, 4)
    with pytest.raises(ValueError, match="pick an expert of the run"):
        ForkRequest(known_run(), 5, 0)
    assert ForkRequest(known_run(), 0, 1, block_length=4).expert_after().block_length == 4
