"""Figures for the hostile-input limits (bench/README.md). Prints figures; not a test.

    python bench/hostile_bench.py uploads   # the issue's uploads: refused or drawn, time, memory
    python bench/hostile_bench.py runs [--runs 100]   # UI runs in a row: disk and memory
    python bench/hostile_bench.py busy [--repeat 3]   # a default run, idle vs a busy core

Memory is this process's RSS (psutil), sampled every 10 ms while a case runs. Exports go to a
temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MB = 2**20
PROMPT = ("Mia has 12 marbles. She gives 3 to Ben. She buys 5 more. "
          "Then she gets 2 times as many. How many marbles does Mia have now?")


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process()
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.01)

    def __enter__(self) -> Sampler:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.join()


def measure(fn) -> tuple[float, float, str]:
    """(seconds, peak extra MB, outcome) of ``fn()``."""
    with Sampler() as s:
        tic = time.perf_counter()
        try:
            fn()
            outcome = "drawn"
        except Exception as err:  # noqa: BLE001  the refusal is the outcome
            outcome = f"refused: {getattr(err, 'message', err)}"
        seconds = time.perf_counter() - tic
    return seconds, (s.peak - s.base) / MB, outcome


def synthetic(experts: int, gen_length: int, steps: int) -> dict:
    """A consistent run JSON of the given size (the test suite's big_run)."""
    from hexviz.runs import record
    from tests.test_hostile import big_run

    return record.run_to_json(big_run(experts, gen_length, steps))


def cmd_uploads(args) -> None:
    from hexviz.app import views as explore_views
    from tests.conftest import known_run

    folder = Path(tempfile.mkdtemp(prefix="hexviz-bench-"))
    os.environ["HEXVIZ_EXPORT_DIR"] = str(folder / "exports")
    try:
        from hexviz.runs import record

        real = record.run_to_json(known_run())
        cases = {}
        d = synthetic(7, 64, 64)  # a default-sized run (7 rows, 64 x 64) ...
        d["steps_done"] = 10**9  # ... claiming a billion steps (the 292 KB file)
        cases["steps_done 1e9"] = d
        cases["gen 1024, steps 1024, 7 experts"] = synthetic(7, 1024, 1024)
        cases["largest allowed: 24 x 256 x 256"] = synthetic(24, 256, 256)
        cases["default size: 7 x 64 x 64"] = synthetic(7, 64, 64)
        cases["hand-made 2 x 4 x 4"] = real
        cases["200k-deep nesting"] = "[" * 200_000 + "]" * 200_000
        for name, content in cases.items():
            path = folder / "upload.json"
            path.write_text(content if isinstance(content, str) else json.dumps(content))
            size = path.stat().st_size / MB
            seconds, extra, outcome = measure(lambda p=path: explore_views.replay(str(p)))
            print(f"{name:<34} {size:7.2f} MB  {seconds:6.2f} s  +{extra:6.0f} MB  "
                  f"{outcome[:110]}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / MB if path.exists() \
        else 0.0


def cmd_runs(args) -> None:
    """What a UI run does: decode (runner), draw every view and export (`views.full_views`), and
    hand the files to Gradio (which serves them in place: they are already in its cache)."""
    folder = Path(tempfile.mkdtemp(prefix="hexviz-bench-"))
    os.environ["GRADIO_TEMP_DIR"] = str(folder / "gradio")
    os.environ.pop("HEXVIZ_EXPORT_DIR", None)
    from hexviz import limits
    from hexviz.app import ui
    from hexviz.app import views as explore_views
    from hexviz.app.runner import LocalRunner, RunRequest

    try:
        limits.set_torch_threads()
        runner = LocalRunner()
        demo = ui.build_demo(runner)
        proc = psutil.Process()
        *_, run = runner.run(RunRequest(prompt=PROMPT))
        explore_views.full_views(run)
        before = proc.memory_info().rss / MB
        big = RunRequest(prompt=PROMPT, gen_length=128, steps=128, seeds=4, temperature=1.0)
        with Sampler() as s:  # the largest request the built-in model allows (gen 128)
            *_, run = runner.run(big)
            explore_views.full_views(run)
        rows = len(run.trajectories)
        del run
        limits.release_memory()
        print(f"one largest request ({rows} rows, gen 128, 128 steps): RSS {before:.0f} MB before, "
              f"peak {s.peak / MB:.0f} MB, {proc.memory_info().rss / MB:.0f} MB after")
        rss, disk = [], []
        tic = time.perf_counter()
        for i in range(args.runs):
            *_, run = runner.run(RunRequest(prompt=PROMPT))
            files = explore_views.full_views(run)["downloads"]
            served = [demo.move_resource_to_block_cache(f) for f in files]
            assert served == files, "Gradio copied an export"
            del run
            limits.release_memory()  # as the Run handler does once its views are sent
            rss.append(proc.memory_info().rss / MB)
            disk.append(folder_mb(folder))
            if i in (0, 9, 49) or i == args.runs - 1:
                print(f"run {i + 1:>3}: RSS {rss[-1]:6.0f} MB, on disk {disk[-1]:6.1f} MB "
                      f"({len(list(limits.export_root().iterdir()))} exported files)")
        print(f"{args.runs} runs in {time.perf_counter() - tic:.0f} s; RSS after run 10 "
              f"{rss[min(9, len(rss) - 1)]:.0f} MB, max {max(rss):.0f} MB, last {rss[-1]:.0f} MB; "
              f"disk max {max(disk):.1f} MB (bound HEXVIZ_EXPORT_MAX_MB="
              f"{limits.current().export_max_mb:g})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def timed_run(threads: int | None, repeat: int) -> list[float]:
    import torch

    from hexviz import limits
    from hexviz.app.runner import LocalRunner, RunRequest

    if threads:
        torch.set_num_threads(threads)
    else:
        limits.set_torch_threads()
    runner = LocalRunner()
    *_, run = runner.run(RunRequest(prompt=PROMPT))  # load and warm up
    times = []
    for _ in range(repeat):
        tic = time.perf_counter()
        *_, run = runner.run(RunRequest(prompt=PROMPT))
        times.append(time.perf_counter() - tic)
    return times


def cmd_busy(args) -> None:
    """A default app run (built-in model, HEX set + baselines) with nothing else of ours
    running, then with a busy-looping process beside it."""
    import torch

    from hexviz import limits

    default, own = limits.torch_threads(), torch.get_num_threads()  # before anything sets it
    print(f"{psutil.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; hexviz threads "
          f"{default}, torch's own default {own}")
    for label, threads in ((f"hexviz default ({default})", default),
                           (f"torch default ({own})", own)):
        idle = timed_run(threads, args.repeat)
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            busy = timed_run(threads, args.repeat)
        finally:
            hog.terminate()
            hog.wait()
        ratio = statistics.median(busy) / statistics.median(idle)
        print(f"{label:<22} idle {statistics.median(idle):6.2f} s, busy core "
              f"{statistics.median(busy):6.2f} s  ({ratio:.2f}x; busy runs "
              f"{[round(t, 2) for t in busy]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("uploads")
    runs = sub.add_parser("runs")
    runs.add_argument("--runs", type=int, default=100)
    busy = sub.add_parser("busy")
    busy.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    {"uploads": cmd_uploads, "runs": cmd_runs, "busy": cmd_busy}[args.command](args)


if __name__ == "__main__":
    main()
