"""Limits on the machine's work: torch threads, heap handed back, and the bounded downloads
folder."""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
from pathlib import Path

from hexviz.limits.operator import Limits, current


def available_cpus() -> int:
    """CPUs this process may use: affinity, and a cgroup v2 quota (a Space reports the host's)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus or 1, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus or 1)


def torch_threads(limits: Limits | None = None) -> int:
    """Half the usable CPUs: a busy neighbour on a shared core stalls every thread of a
    spinning OpenMP team (measured 48-56 s vs 2.75 s for one decode on 2 cores)."""
    limits = limits or current()
    return int(limits.threads) or max(1, available_cpus() // 2)


def set_torch_threads(limits: Limits | None = None) -> int:
    """Apply `torch_threads`, unless only OMP_NUM_THREADS was set (e.g. by accelerate launch)."""
    import torch

    limits = limits or current()
    if not limits.threads and os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    n = torch_threads(limits)
    torch.set_num_threads(n)
    return n


_releasing = threading.Lock()
_release_asked = False


def release_memory() -> None:
    """Hand freed heap back to the OS after a request: glibc keeps it in its arenas otherwise
    (after the largest built-in run, 55 of 89 MB came back; bench/README.md).

    One release at a time, and one more after it for all that asked meanwhile: a full
    collection holds the GIL (0.24 s in the app), and a crowd of 30 runs ending together spent
    most of its wait in 30 of them (bench/README.md, A crowd)."""
    global _release_asked
    _release_asked = True
    while _release_asked and _releasing.acquire(blocking=False):
        try:
            _release_asked = False
            _collect_and_trim()
        finally:
            _releasing.release()


# Requests ending closer together than this share one release: a crowd's results are sent
# without a full collection between each two
RELEASE_QUIET_S = 0.5
_quiet = threading.Lock()
_last_asked = 0.0
_releaser: threading.Thread | None = None


def release_memory_soon(quiet_s: float = RELEASE_QUIET_S) -> None:
    """`release_memory` in a background thread once no request has asked for ``quiet_s``
    seconds: what a request handler calls, so it returns at once."""
    global _last_asked, _releaser
    with _quiet:
        _last_asked = time.monotonic()
        if _releaser is None:
            _releaser = threading.Thread(target=_release_when_quiet, args=(quiet_s,),
                                         name="hexviz-release-memory", daemon=True)
            _releaser.start()


def _release_when_quiet(quiet_s: float) -> None:
    global _releaser
    while True:
        with _quiet:
            wait = _last_asked + quiet_s - time.monotonic()
            if wait <= 0:
                _releaser = None  # an ask from now on starts a new wait
                break
        time.sleep(wait)
    release_memory()


def _collect_and_trim() -> None:
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def export_root() -> Path:
    """One folder for every download: inside Gradio's cache, so Gradio serves it without copying."""
    if os.environ.get("HEXVIZ_EXPORT_DIR"):
        return Path(os.environ["HEXVIZ_EXPORT_DIR"])
    base = os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio"
    return Path(base) / "hexviz-exports"


def prune_exports(folder: Path, limits: Limits | None = None, now: float | None = None,
                  keep: set[Path] | None = None) -> None:
    """Delete exported files older than the age limit, then the oldest until the folder is
    under the size limit; ``keep`` (what was just written) always stays."""
    limits = limits or current()
    now = time.time() if now is None else now
    keep = keep or set()
    files = sorted((f for f in folder.iterdir() if f.is_file()), key=lambda f: f.stat().st_mtime)
    total = sum(f.stat().st_size for f in files)
    for f in files:
        if f in keep:
            continue
        size, age = f.stat().st_size, now - f.stat().st_mtime
        if age > limits.export_max_age_s or total > limits.export_max_mb * 2**20:
            f.unlink(missing_ok=True)
            total -= size


def export_folder() -> Path:
    folder = export_root()
    folder.mkdir(parents=True, exist_ok=True)
    return folder
