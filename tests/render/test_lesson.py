"""The lesson: text that quotes the stored runs, no torch to show it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace

import pytest

from hexviz.policy.settings import Expert
from hexviz.render import lesson
from hexviz.render.textfit import plain_title
from hexviz.runs import gallery
from hexviz.runs import record
from tests.conftest import REPO, known_run


def run_with_answers(answers: list[str | None], collapsed_baseline: bool = True):
    """known_run with one voting B=2 row per answer, then its whole-answer baseline: walled
    off by end tokens revealed first (a collapse), or one that writes its text first."""
    run = known_run()
    good, baseline = run.trajectories
    rows = [replace(good, expert=Expert(2, seed=i), answer=a) for i, a in enumerate(answers)]
    if not collapsed_baseline:  # a whole-answer row that writes its text before the padding
        baseline = replace(good, expert=baseline.expert, collapsed=False)
    return replace(run, trajectories=[*rows, baseline])


def test_lesson_and_gallery_load_without_torch_quickly():
    code = ("import sys, time\n"
            "t = time.perf_counter()\n"
            "from hexviz.render import lesson\n"
            "from hexviz.runs import gallery\n"
            "chapters = lesson.load_lesson()\n"
            "entries = gallery.list_entries()\n"
            "print(f'{time.perf_counter() - t:.2f}', len(chapters), len(entries),\n"
            "      'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout.split()
    print(f"lesson and gallery rendered in {out[0]} s without a model")
    assert out[1:] == ["7", str(len(list(gallery.GALLERY_DIR.glob("*.json")))), "False"]


@pytest.fixture
def stored(tmp_path):
    """A gallery folder whose four chapters are known_run variants."""
    runs = {"one_expert": run_with_answers(["7", "7"], False),
            "wall": run_with_answers(["7"], True),
            "disagree": run_with_answers(["7", "8", None], False),
            "vote": run_with_answers(["7", "8"], False)}
    for key, run in runs.items():
        record.save(run, tmp_path / lesson.FILE_NAMES[key])
    index = {"chapters": {k: {"file": lesson.FILE_NAMES[k], "gold": "7"} for k in runs}}
    (tmp_path / lesson.INDEX.name).write_text(json.dumps(index))
    return tmp_path


def test_chapter_text_quotes_the_stored_runs(stored):
    one, wall, disagree, vote, scaling, parallel, growing = lesson.load_lesson(stored)
    assert "Expert **B=2**" in one.text and "answered **7** — right" in one.text
    assert "2 blocks of 2 tokens" in one.text
    assert "**1 of the 1 whole-answer runs collapsed**" in wall.text
    assert "**100%** of the tokens the whole-answer run revealed were end tokens" in wall.text
    assert "gave **2 different answers** and 1 gave none" in disagree.text
    assert "7 ×1, 8 ×1" in vote.text and "**tie**" in vote.text
    assert "test problems" in scaling.text and scaling.figures  # from the card's eval records
    assert [c.key for c in (one, wall, disagree, vote, scaling, parallel, growing)] == [
        "one_expert", "wall", "disagree", "vote", "scaling", "parallel", "growing"]
    assert lesson.BUILD_COMMAND in parallel.text  # no stored parallel run in this folder
    assert lesson.BUILD_COMMAND in growing.text and growing.run is None  # nor a growing one
    assert len(one.figures[0].data[0].z) == 1  # chapter 1 shows one expert


def test_wall_chapter_reads_right_without_a_collapse(stored):
    record.save(run_with_answers(["7"], False), stored / lesson.FILE_NAMES["wall"])
    wall = lesson.load_lesson(stored)[1]
    assert "none of the 1 whole-answer runs collapsed" in wall.text


def test_missing_and_bad_stored_runs_become_messages(stored):
    (stored / lesson.FILE_NAMES["wall"]).unlink()
    (stored / lesson.FILE_NAMES["vote"]).write_text("garbage")
    chapters = lesson.load_lesson(stored)
    assert lesson.BUILD_COMMAND in chapters[1].text and chapters[1].run is None
    assert "not a JSON file" in chapters[3].text
    assert chapters[0].run is not None


def test_the_parallel_chapter_computes_its_numbers_from_the_stored_runs(random_lm, prompt_ids,
                                                                        tmp_path):
    from hexviz.decode.assemble import decode
    from hexviz.policy.settings import DecodeConfig, hex_experts

    experts = hex_experts(32, [4, 16])
    fast = decode(random_lm, prompt_ids, experts, DecodeConfig(32, 32, sampler="threshold:0.3"))
    slow = decode(random_lm, prompt_ids, experts, DecodeConfig(32, 32))
    record.save(fast, tmp_path / lesson.PARALLEL_FILES["run"])
    record.save(slow, tmp_path / lesson.PARALLEL_FILES["fixed"])
    chapter = next(c for c in lesson.load_lesson(tmp_path) if c.key == "parallel")
    tokens, i, step = lesson.largest_burst(fast)
    t = fast.trajectories[i]
    assert f"**B={t.expert.block_length}** committed **{tokens} answer tokens at once** at " \
           f"step {step}" in chapter.text
    assert f"finished in {t.steps_taken} steps instead of 32" in chapter.text
    total = sum(x.steps_taken for x in fast.trajectories)
    assert f"{total} in all, against 64 on the fixed schedule" in chapter.text
    assert chapter.run is fast or chapter.run.config.sampler.spec == "threshold:0.3"
    assert [f.layout.title.text.split(" ·")[0] for f in chapter.figures[:1]] == ["Tokens per step"]


def test_first_two_chapters_play_their_words_inline():
    chapters = lesson.load_lesson()
    pages = {c.key: c.animation for c in chapters}
    assert pages["one_expert"].startswith("<!DOCTYPE html>")
    assert '"layout":"one"' in pages["one_expert"] and '"layout":"compare"' in pages["wall"]
    assert pages["disagree"] is None and pages["vote"] is None and pages["scaling"] is None


def test_the_scaling_chapter_names_the_built_in_model_and_leaves_room_for_its_labels():
    scaling = next(c for c in lesson.load_lesson() if c.key == "scaling")
    fig = scaling.figures[0]
    title = plain_title(fig.layout.title.text)
    assert "(built-in model)" in title and "v6g" not in title  # not the training folder
    seeds = [t for t in fig.data if t.mode == "markers+text"]
    assert seeds and seeds[0].cliponaxis is False and seeds[0].textposition == "top center"
    assert fig.layout.yaxis.range[1] > 1.05 and max(fig.layout.yaxis.tickvals) == 1  # no 110%


def test_two_cures_for_the_wall_side_by_side(tmp_path, grown):
    fixed = known_run()  # its whole-answer row collapsed; the growing one's did not
    record.save(grown, tmp_path / lesson.GROWING_FILES["run"])
    record.save(fixed, tmp_path / lesson.GROWING_FILES["fixed"])
    index = {"chapters": {"growing": {**lesson.GROWING_FILES, "gold": "e"}}}
    (tmp_path / lesson.INDEX.name).write_text(json.dumps(index))
    chapter = lesson.load_lesson(tmp_path)[-1]
    assert chapter.key == "growing" and chapter.run.config.length.grows  # Try it: the growing run
    assert "fixed 4-token canvas: collapsed into the wall" in chapter.text
    assert "it went from 4 to 3 positions (at most 8) in 2 steps, and did not collapse" in (
        chapter.text)
    assert "answer **e** ✓" in chapter.text  # the growing row's, against the gold
    assert "the vote says **7**" in chapter.text and "after 4 forward passes against 4" in (
        chapter.text)
    data = json.loads(re.search(r'id="hexviz-data">(.*?)</script>', chapter.animation,
                                re.DOTALL).group(1))
    assert [p["title"].split(" · ")[0] for p in data["panels"]] == [
        "fixed canvas", "HEX", "growing canvas"]
    assert "shows" in data["panels"][2] and "shows" not in data["panels"][0]
    assert [fig.layout.title.text.split("<br>")[0].split(" —")[0] for fig in chapter.figures] == [
        "Canvas length", "Fixed canvas", "Growing canvas"]


def test_the_stored_growing_chapter_reads_its_runs():
    chapter = next(c for c in lesson.load_lesson() if c.key == "growing")
    assert chapter.run is not None, chapter.text
    assert chapter.run.config.length.mode == "daedal" and "DAEDAL" in chapter.text
    fixed = record.load(lesson.GALLERY_DIR / lesson.GROWING_FILES["fixed"])
    assert fixed.prompt == chapter.run.prompt  # the same question, both canvases


def test_the_answers_table_names_each_experts_blocks(uneven):
    names = [line.split(" | ")[0] for line in lesson.answers_table(uneven).splitlines()[2:]]
    assert names == ["| B=4+4+8", "| B=ada:0.5/4", "| whole (low_confidence), no vote"]
