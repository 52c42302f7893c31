"""Limits on the machine's work: pruned exports, the thread count, memory handed back."""

from __future__ import annotations

import os
import threading
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


def test_requests_ending_together_share_releases_and_the_last_one_is_covered(monkeypatch):
    from hexviz.limits import machine

    releases: list[float] = []
    ended: list[float] = []

    def slow_release() -> None:
        releases.append(time.perf_counter())
        time.sleep(0.05)  # a full collection under a loaded heap

    def request_ends() -> None:
        ended.append(time.perf_counter())
        machine.release_memory()

    monkeypatch.setattr(machine, "_collect_and_trim", slow_release)
    threads = [threading.Thread(target=request_ends) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= len(releases) < len(threads)  # not one collection each
    assert releases[-1] > max(ended)  # what the last request freed was released too
    machine.release_memory()
    assert len(releases) >= 2  # a later request releases again


def test_requests_in_quick_succession_are_released_once_after_the_last(monkeypatch):
    from hexviz.limits import machine

    releases: list[float] = []
    monkeypatch.setattr(machine, "_collect_and_trim", lambda: releases.append(time.monotonic()))
    for _ in range(10):  # a crowd's results, sent one after another
        machine.release_memory_soon(quiet_s=0.2)
        time.sleep(0.02)
    last = time.monotonic()
    assert releases == []  # nothing while the requests keep ending
    deadline = time.monotonic() + 5
    while not releases and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(releases) == 1 and releases[0] >= last + 0.15
    machine.release_memory_soon(quiet_s=0.05)  # a later request: released again
    while len(releases) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(releases) == 2
    time.sleep(0.1)
    assert not any(t.name == "hexviz-release-memory" for t in threading.enumerate())
