"""Stored runs: listing, bounded reads, messages for bad files, the settings they carry."""

from __future__ import annotations

from hexviz.app.widgets import settings_values
from hexviz.runs import gallery, record
from tests.conftest import known_run


def test_gallery_lists_runs_and_explains_bad_files(tmp_path):
    record.save(known_run(), tmp_path / "good.json")
    (tmp_path / "bad.json").write_text('{"schema": "x"}')
    (tmp_path / "notes.txt").write_text("not listed")
    good_size = (tmp_path / "good.json").stat().st_size
    bad, good = gallery.list_entries(tmp_path)
    assert "not a hexviz run" in bad.error and "cannot replay" in bad.label
    assert good.error is None and good.prompt == "Q" and good.model == "hand-made"
    assert good.settings == "blocks 2 · low_confidence · gen_length 4 · 4 steps"
    too_big = gallery.list_entries(tmp_path, max_bytes=good_size - 1)[1]
    assert "stored runs may be at most" in too_big.error


def test_stored_gallery_runs_replay_and_carry_their_settings():
    entries = gallery.list_entries()
    assert entries and all(e.error is None for e in entries)
    for path in gallery.GALLERY_DIR.glob("*.json"):
        assert path.stat().st_size < 800_000  # small enough to ship (a 128-token model: ~550 KB)
    for entry in entries:
        run = gallery.read_run(entry.path)
        s = gallery.explore_settings(run)
        assert s["prompt"] == run.prompt
        assert s["baselines"] is any(not t.expert.votes for t in run.trajectories)
        assert s["gen_length"] == run.config.gen_length and s["steps"] == run.config.steps
        plain, more = settings_values(run)[:2]  # ticked sizes, then schedules and AdaBlock
        assert plain == [b for b in s["blocks"] if isinstance(b, int)]
        assert (len(more.split(",")) if more else 0) == len(s["blocks"]) - len(plain)
    assert gallery.explore_settings(gallery.read_run(
        gallery.GALLERY_DIR / "example-1.json"))["baselines"] is True


def test_the_listing_names_schedules_and_adaptive_experts():
    from hexviz.policy.settings import Expert
    experts = [Expert(32), Expert(8), Expert(8, delimiter_threshold=0.3, delimiter_ids=(5,)),
               Expert(8, schedule=(8, 120)), Expert(8, seed=1, temperature=0.5)]
    assert gallery.blocks_of(experts) == [8, 32, "ada:0.3", "8+120"]
