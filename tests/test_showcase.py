"""The showcase builder: chapters chosen by rule, runs stored for any model, the README's GIF."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np

from hexviz import showcase
from hexviz.render import lesson
from hexviz.runs import gallery
from tests.conftest import known_run
from tests.render.test_lesson import run_with_answers


def test_chapters_are_picked_by_rule():
    gold = ["7", "7", "7", "7"]
    runs = [run_with_answers(["7", "8", "7"], False),  # right vote, not unanimous
            run_with_answers(["7", "7", "7"], False),  # unanimous: chapter 1
            run_with_answers(["1", "2", "3"], True),  # most answers, and a collapse
            run_with_answers(["1", "2", None], False)]  # a tie (1 vs 2)
    picks = showcase.pick_chapters(runs, gold)
    assert picks["one_expert"] == 1
    assert picks["wall"] == 2  # the only collapse
    assert picks["disagree"] == 0  # 2 has the most answers but is taken; 0 and 3 have two
    assert picks["vote"] == 3  # the tie


def test_wall_score_counts_collapses_then_early_end_tokens():
    run = known_run()  # the baseline reveals only end tokens, all in the first half too
    assert showcase.wall_score(run) == (1, 1.0)


def test_build_stores_chapter_runs_for_any_model(random_model_dir, tmp_path):
    """The command decodes with the model's own defaults and writes runs the lesson reads."""
    written = showcase.build(tmp_path, candidates=4, model=str(random_model_dir), examples=1)
    assert sorted(p.name for p in written) == sorted([*lesson.FILE_NAMES.values(),
                                                      *lesson.PARALLEL_FILES.values(),
                                                      *lesson.GROWING_FILES.values(),
                                                      "example-1.json", "unmasking.gif"])
    assert (tmp_path / "unmasking.gif").read_bytes()[:6] == b"GIF89a"  # the README's, remade
    index = json.loads((tmp_path / lesson.INDEX.name).read_text())
    assert index["model"] == random_model_dir.name and index["candidates"] == 4
    run = gallery.read_run(tmp_path / lesson.FILE_NAMES["wall"])
    assert run.model == random_model_dir.name  # portable: no machine path
    assert (run.config.gen_length, run.config.steps) == (index["gen_length"], index["steps"])
    chapters = lesson.load_lesson(tmp_path)
    assert all(c.run is not None for c in chapters[:4])
    parallel = chapters[5]
    assert parallel.key == "parallel" and parallel.run.config.sampler.spec == showcase.PARALLEL_SAMPLER
    assert index["chapters"]["parallel"]["test_index"] < 4
    assert "On all 4 problems this chapter was chosen from" in parallel.text
    assert f"{run.config.gen_length}-token answer" in chapters[1].text
    growing = chapters[6]
    assert growing.key == "growing" and growing.run.config.length.mode == showcase.GROWING_LENGTH
    assert index["chapters"]["growing"]["test_index"] < 4


def burst_run(reveal: list[int]):
    """known_run whose voting row commits at the given steps (tokens 5, 7: text; 1, 2: ends)."""
    run = known_run()
    good = run.trajectories[0]
    t = replace(good, reveal_step=np.array(reveal, dtype=np.int32), steps_taken=max(reveal) + 1,
                commits=np.bincount(reveal).astype(np.int32))
    return replace(run, trajectories=[t, run.trajectories[1]])


def test_the_parallel_chapter_is_picked_where_most_answer_tokens_commit_at_once():
    one_at_a_time, both_text, ends_together = (burst_run([0, 1, 2, 3]), burst_run([0, 0, 1, 2]),
                                               burst_run([0, 1, 2, 2]))
    assert lesson.largest_burst(both_text) == (2, 0, 0)
    assert lesson.largest_burst(ends_together) == (1, 0, 0)  # end tokens left out...
    assert lesson.largest_burst(ends_together, text_only=False) == (2, 0, 2)  # ...unless asked
    assert showcase.pick_parallel([one_at_a_time, ends_together, both_text, both_text]) == 2


def test_readme_animation_is_made_by_the_cli_command(tmp_path):
    from PIL import Image

    command = showcase.animation_command(out=tmp_path / "a.gif")
    assert command[:1] == ["animate"] and command[-2:] == ["--layout", "all"]
    out = showcase.readme_animation(out=tmp_path / "a.gif")
    assert Image.open(out).n_frames > 60


def with_whole_row(run, collapsed: bool, answer: str | None):
    """``run`` with its whole-answer row collapsed or not, and answering ``answer``."""
    i = lesson.whole_row(run)
    rows = list(run.trajectories)
    rows[i] = replace(rows[i], collapsed=collapsed, answer=answer)
    return replace(run, trajectories=rows)


def test_the_growing_chapter_is_picked_where_only_the_fixed_canvas_collapses():
    from tests.render.conftest import grown_run

    fixed = [with_whole_row(known_run(), True, None)] * 3
    grown = [with_whole_row(grown_run(), True, "e"),  # collapsed on both canvases
             with_whole_row(grown_run(), False, "x"),  # cured, but wrong
             with_whole_row(grown_run(), False, "e")]  # cured and right
    assert showcase.pick_growing(fixed, grown, ["e"] * 3) == 2
    assert showcase.pick_growing(fixed[:2], grown[:2], ["e"] * 2) == 1
    assert showcase.pick_growing(fixed[:1], grown[:1], ["e"]) == 0  # the only one


def test_chapter_7_alone_is_added_and_every_other_stored_file_kept(random_model_dir, tmp_path):
    kept = {"lesson-1-one-expert.json": "{}", lesson.INDEX.name:
            json.dumps({"model": "m", "chapters": {"wall": {"file": "w.json"}}}, indent=1) + "\n"}
    for name, text in kept.items():
        (tmp_path / name).write_text(text)
    written = showcase.build_growing_only(tmp_path, candidates=2, model=str(random_model_dir))
    assert sorted(p.name for p in written) == sorted([*lesson.GROWING_FILES.values(),
                                                      lesson.INDEX.name])
    assert (tmp_path / "lesson-1-one-expert.json").read_text() == "{}"
    index = json.loads((tmp_path / lesson.INDEX.name).read_text())
    assert index["model"] == "m" and index["chapters"]["wall"] == {"file": "w.json"}
    assert index["chapters"]["growing"]["length"] == "daedal"
    grown = gallery.read_run(tmp_path / lesson.GROWING_FILES["run"])
    fixed = gallery.read_run(tmp_path / lesson.GROWING_FILES["fixed"])
    assert grown.prompt == fixed.prompt and grown.config.length.grows
    assert not fixed.config.length.grows


def test_the_blocks_run_is_the_first_problem_a_schedule_alone_got_right(tmp_path, capsys):
    from hexviz.eval.records import EvalResults, Record
    from hexviz.eval.report import results_to_json
    from hexviz.policy.settings import DecodeConfig, Expert

    experts = [Expert(4), Expert(4, schedule=(4, 12)),
               Expert(4, delimiter_threshold=0.3, delimiter_ids=(5,))]
    records = [Record(0, "q0", "1", ["1", "1", "2"], [False] * 3),
               Record(1, "q1", "1", ["2", "2", "1"], [False] * 3),
               Record(2, "q2", "1", ["2", "1", "2"], [False] * 3)]
    results = EvalResults("m", "d.jsonl", DecodeConfig(16, 16), experts, "gsm8k", records)
    assert showcase.pick_rescue(results) == (1, 2)
    results.records = records[:1]
    assert showcase.pick_rescue(results) is None
    path = tmp_path / "fixed.json"
    path.write_text(json.dumps(results_to_json(results)))
    assert showcase.build_blocks(path, tmp_path / "gallery") == []
    assert "no problem of 1 was right" in capsys.readouterr().err
