"""Limits on the machine's work: pruned exports, the thread count."""

from __future__ import annotations

import os
import time

from hexviz import limits


def test_old_exports_are_pruned(tmp_path):
    old, new = tmp_path / "old.html", tmp_path / "new.html"
    for f in (old, new):
        f.write_bytes(b"x" * 100)
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    limits.prune_exports(tmp_path, limits.Limits(export_max_age_s=3600))
    assert not old.exists() and new.exists()


def test_thread_count_is_set_deliberately(monkeypatch):
    import torch

    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("HEXVIZ_THREADS", "1")
        assert limits.set_torch_threads() == 1 == torch.get_num_threads()
        monkeypatch.delenv("HEXVIZ_THREADS")
        monkeypatch.setenv("OMP_NUM_THREADS", "2")  # e.g. set by accelerate launch: respected
        assert limits.set_torch_threads() == torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
