"""A crowd at a local app: N concurrent ``/run`` calls, then one normal request.

    python bench/crowd.py [--calls 30] [--prompt TEXT] [--distinct] [--sampler SPEC]

Starts ``app.py`` (built-in model) on 127.0.0.1 at a free port in a subprocess with its own
temporary Gradio and export folders, warms it with another question (so the crowd's question
is new to it), fires the calls at once through gradio_client (a `Client` each, as each
visitor's page reads the app's config), and prints how many were served (and how many of those
were replayed) and refused, the latency of the served ones (p50 / p95) and the part of it spent
connecting, the server's peak and final memory (RSS), and whether a normal request works
afterwards. By default every call asks the default question (a class following one link);
``--distinct`` gives each call its own test question, so every call is a decode of its own.
Everything it started or wrote is removed at the end. A benchmark that prints figures, not a
test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
PROMPT = ("Mia has 12 marbles. She gives 3 to Ben. She buys 5 more. "
          "Then she gets 2 times as many. How many marbles does Mia have now?")
WARM_UP = "Tom has 5 apples. He buys 3 more. How many apples does Tom have now?"
REFUSALS = ("queue is full", "the app is busy")  # Gradio's queue, the app's own admission


def crowd_questions(n: int) -> list[str]:
    """The first ``n`` questions of the built-in model's test set."""
    lines = (REPO / "assets" / "tinygsm" / "test.jsonl").read_text().splitlines()[:n]
    return [json.loads(line)["question"] for line in lines]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the app exited with status {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the app did not answer at {url} within {timeout:.0f} s")


class PeakRSS(threading.Thread):
    """Samples the RSS of a process and its children every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()

    def rss(self) -> int:
        procs = [self.proc, *self.proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs if p.is_running())

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, self.rss())
            except psutil.Error:
                pass
            time.sleep(0.05)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--prompt", default=PROMPT)
    parser.add_argument("--distinct", action="store_true",
                        help="each call its own test question instead of --prompt")
    parser.add_argument("--sampler", default="fixed", help="as /run's sampler")
    args = parser.parse_args()
    prompts = crowd_questions(args.calls) if args.distinct else [args.prompt] * args.calls

    from gradio_client import Client

    scratch = Path(tempfile.mkdtemp(prefix="hexviz-crowd-"))
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_TEMP_DIR": str(scratch / "gradio"), "HEXVIZ_EXPORT_DIR": str(scratch / "ex"),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_up(url, proc)
        client = Client(url, verbose=False)
        client.predict(prompt=WARM_UP, api_name="/run")  # load the model once
        rss = PeakRSS(proc.pid)
        before = rss.rss()
        rss.start()
        served, replayed, refused, errors = [], [], [], []

        connecting: list[float] = []

        def call(prompt: str) -> None:
            tic = time.perf_counter()
            try:
                visitor = Client(url, verbose=False)  # as a visitor's page asks for the app
                connecting.append(time.perf_counter() - tic)
                run = visitor.predict(prompt=prompt, sampler=args.sampler, api_name="/run")
                served.append(time.perf_counter() - tic)
                if run.get("replayed"):
                    replayed.append(run["replayed"])
            except Exception as err:  # noqa: BLE001  counted by its message
                message = str(err).lower()
                (refused if any(r in message for r in REFUSALS) else errors).append(
                    (time.perf_counter() - tic, str(err).splitlines()[0][:120]))

        threads = [threading.Thread(target=call, args=(p,)) for p in prompts]
        tic = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - tic
        tic = time.perf_counter()
        after = client.predict(prompt=args.prompt, api_name="/run")
        normal_s = time.perf_counter() - tic
        rss.stop.set()
        rss.join()
        end = rss.rss()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(scratch, ignore_errors=True)

    mb = 2**20
    asked = "distinct test questions" if args.distinct else "the same question"
    print(f"{args.calls} concurrent /run calls ({asked}, sampler {args.sampler}) in {wall:.1f} s "
          f"on {psutil.cpu_count()} CPUs")
    print(f"served {len(served)} ({len(replayed)} replayed), refused {len(refused)}, other "
          f"errors {len(errors)}")
    if served:
        print(f"served latency: p50 {percentile(served, 0.5):.1f} s, p95 "
              f"{percentile(served, 0.95):.1f} s, max {max(served):.1f} s")
    if connecting:
        print(f"of which connecting (each visitor's Client reading the app's config): p50 "
              f"{percentile(connecting, 0.5):.1f} s, max {max(connecting):.1f} s")
    if refused:
        print(f"refused after: median {statistics.median(r[0] for r in refused):.2f} s "
              f"({refused[0][1]!r})")
    for err in errors[:3]:
        print(f"error: {err[1]}")
    print(f"server memory: {before / mb:.0f} MB before, peak {rss.peak / mb:.0f} MB, "
          f"{end / mb:.0f} MB after")
    print(f"normal request afterwards: {'ok' if after['vote'] else 'FAILED'} in {normal_s:.1f} s "
          f"(winner {after['vote']['winner']!r})")


if __name__ == "__main__":
    main()
