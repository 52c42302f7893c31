"""Many visitors on one machine: every planned decode served once, its snapshots to all who
asked for it.

A plan fixes its run completely (temperature > 0 draws each step's noise from the expert's
seed and the step alone), so equal plans give equal runs. `RunHub.serve` therefore answers a
plan, in this order:

1. **replayed** from a stored run with the same plan (the gallery's and the lesson's runs) or
   from a recent one (`RecentRuns`), at once, marked as replayed;
2. **joined**: a visitor whose plan is being decoded now follows that decode's snapshots
   (`InFlight`) from the latest one on;
3. **decoded** in a worker thread whose forward passes share a `ForwardPool` with the other
   decodes on the same model (step-level batching), a few decodes at a time. When every
   visitor following a decode has left, it stops at its next step and its rows leave the pool.
   A new decode the machine could not start within the operator's wait (``HEXVIZ_MAX_WAIT_S``,
   at the rate it has decoded so far) is refused at once with the expected wait.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from hexviz import limits
from hexviz.runs.record import Run, loads

RECENT_RUNS_BYTES = 64 * 2**20  # recent finished runs kept for replay, by their arrays' size
# Visitors' run requests handled at once (Gradio's concurrency for the Explore run and /run): a
# replay or a joined decode costs a waiting thread, and decodes beyond the operator's
# ``live_decodes`` wait in the hub, which refuses one that would wait too long
RUNS_AT_ONCE = 32
# Gradio's queue: events beyond this that have not started are refused ("Queue is full"), so
# a crowd can't exhaust memory. A burst arrives before the queue starts any of it, and a run
# fires several events (its views, the fork's form), so it holds two crowds' runs
QUEUE_SIZE = 2 * RUNS_AT_ONCE
FAST_SAMPLER = "threshold:0.9"  # Explore's Fast preset (`presets`); the warm-up decodes it once


def plan_key(model: str, prompt: str, prompt_ids, experts, config, reader) -> str:
    """What makes a decode's run, as one string: the model, the question and its ids, the
    experts, the settings as the run records them and how answers are read. The frozen
    dataclasses' reprs name every field, so plans that differ anywhere differ here; only a
    fixed canvas's ceiling is left out (it grows no canvas, and a run stored under another
    operator's limit is the same run)."""
    if not config.length.grows:
        config = replace(config, max_gen_length=config.gen_length)
    return json.dumps([model, prompt, [int(i) for i in prompt_ids],
                       [repr(e) for e in experts], repr(config),
                       [reader.answer_format, reader.task.name if reader.task else None,
                        reader.tie_rule]])


def run_key(run: Run) -> str:
    """`plan_key` of the plan that decoded ``run``."""
    from hexviz.decode.assemble import Reader

    return plan_key(run.model, run.prompt, run.prompt_ids, [t.expert for t in run.trajectories],
                    run.config, Reader.of(run))


def run_bytes(run: Run) -> int:
    """The size of a run's arrays, what keeping it costs."""
    return sum(v.nbytes for t in run.trajectories for v in vars(t).values()
               if isinstance(v, np.ndarray))


def replayed(run: Run, where: str) -> Run:
    """A visitor's own copy of a stored or recent ``run``, marked as served from ``where``."""
    served = copy.deepcopy(run)
    served.replayed = where
    return served


class RecentRuns:
    """Finished runs by `plan_key`, the least recently used dropped beyond ``max_bytes``."""

    def __init__(self, max_bytes: int = RECENT_RUNS_BYTES) -> None:
        self.max_bytes = max_bytes
        self._runs: OrderedDict[str, tuple[Run, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._runs)

    def get(self, key: str) -> Run | None:
        with self._lock:
            if key not in self._runs:
                return None
            self._runs.move_to_end(key)
            return self._runs[key][0]

    def put(self, key: str, run: Run) -> None:
        size = run_bytes(run)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._runs:
                self._bytes -= self._runs.pop(key)[1]
            self._runs[key] = (run, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._bytes -= self._runs.popitem(last=False)[1][1]


class StoredRuns:
    """Stored run files (the gallery's, the lesson's: the built-in model's) by `run_key`, read
    when first asked for; a file that does not read as a run, and a run imported from
    elsewhere, are left out."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self._index: dict[str, Path] | None = None
        self._lock = threading.Lock()

    def index(self) -> dict[str, Path]:
        with self._lock:
            if self._index is None:
                self._index = {}
                for path in self.paths:
                    try:
                        run = loads(path.read_text())
                    except (OSError, ValueError, KeyError, TypeError):
                        continue
                    if run.source is None:
                        self._index.setdefault(run_key(run), path)
            return self._index

    def get(self, key: str) -> tuple[Run, Path] | None:
        path = self.index().get(key)
        return None if path is None else (loads(path.read_text()), path)


class Capacity:
    """How fast this machine decodes, learnt from its decodes as they go.

    Row passes (one row through one forward pass) a second per pass slot: ``parallel`` passes
    run at once (`ForwardPool`), a decode alone fills one slot and a crowd all of them, so the
    time counted is each moment's busy slots. And, per pace (a sampler and canvas whose steps
    are not known before they end), the share of its planned row passes a decode took: a
    threshold sampler stops far below its step cap."""

    def __init__(self, parallel: int = 1, clock: Callable[[], float] = time.perf_counter
                 ) -> None:
        self.parallel = parallel
        self._clock = clock
        self._lock = threading.Lock()
        self._rows = 0
        self._slot_seconds = 0.0
        self._live = 0
        self._mark = clock()
        self._shares: dict[str, list[float]] = {}  # pace: [sum of shares, decodes]

    def _count_busy(self) -> None:  # under the lock, before the number of live decodes changes
        now = self._clock()
        self._slot_seconds += (now - self._mark) * min(self._live, self.parallel)
        self._mark = now

    def started(self) -> None:
        with self._lock:
            self._count_busy()
            self._live += 1

    def observe(self, row_passes: int, seconds: float) -> None:
        """Row passes a decode alone did in ``seconds``, outside the hub (the app's warm-up)."""
        with self._lock:
            self._rows += row_passes
            self._slot_seconds += seconds

    def add(self, row_passes: int) -> None:
        """Row passes a decode did since it last said (at each of its snapshots)."""
        with self._lock:
            self._rows += row_passes

    def finished(self, pace: str = "", planned_rows: int = 0, row_passes: int = 0) -> None:
        """A decode ended; a complete one of ``pace`` took ``row_passes`` of ``planned_rows``."""
        with self._lock:
            self._count_busy()
            self._live -= 1
        self.learn(pace, planned_rows, row_passes)

    def learn(self, pace: str, planned_rows: int, row_passes: int) -> None:
        """A complete decode of ``pace`` took ``row_passes`` of its ``planned_rows``."""
        if not (pace and planned_rows and row_passes):
            return
        with self._lock:
            total = self._shares.setdefault(pace, [0.0, 0])
            total[0] += min(1.0, row_passes / planned_rows)
            total[1] += 1

    def share(self, pace: str) -> float:
        """The share of its planned row passes a decode of ``pace`` takes (1 until one ended)."""
        with self._lock:
            total, n = self._shares.get(pace, (0.0, 0))
        return total / n if n else 1.0

    def rate(self, decodes: int = 1) -> float | None:
        """Row passes a second with ``decodes`` decoding; None before a decode took a step."""
        with self._lock:
            self._count_busy()
            if not self._rows or self._slot_seconds <= 0:
                return None
            return self._rows / self._slot_seconds * max(1, min(decodes, self.parallel))


class InFlight:
    """One decode's snapshots for every visitor who asked for it: the latest one, a count
    that says when a newer one came, the end, or the decode's error; and the row passes it is
    expected to take, for the wait of the visitors behind it."""

    def __init__(self, planned_rows: int = 0, pace: str = "", share: float = 1.0) -> None:
        self._cond = threading.Condition()
        self.planned_rows, self.pace = planned_rows, pace
        self.expected_rows = planned_rows * share  # what decodes of its pace took so far
        self.latest: Run | None = None
        self.published = 0
        self.done = False
        self.error: BaseException | None = None
        self.followers = 0

    def publish(self, run: Run) -> None:
        with self._cond:
            self.latest, self.published = run, self.published + 1
            self._cond.notify_all()

    def end(self, error: BaseException | None = None) -> None:
        with self._cond:
            self.done, self.error = True, error
            self._cond.notify_all()

    @property
    def rows_left(self) -> float:
        """Its expected row passes not yet done (by its latest snapshot)."""
        with self._cond:
            run = self.latest
        done = 0 if run is None else run.timing.row_passes or 0
        return max(0.0, self.expected_rows - done)

    @property
    def abandoned(self) -> bool:
        """Nobody follows it any more: the decode stops at its next step."""
        with self._cond:
            return self.followers == 0

    def follow(self) -> Iterator[Run]:
        """Each snapshot from the latest on (a slow follower skips to the newest), until the
        end; the decode's error is raised here, in the follower's thread."""
        seen = 0
        while True:
            with self._cond:
                while self.published == seen and not self.done:
                    self._cond.wait()
                fresh = self.published != seen  # the end alone brings nothing new
                run, seen, done, error = self.latest, self.published, self.done, self.error
            if error is not None:
                raise error
            if done and run is None:
                raise RuntimeError("the decode ended before its first step")
            if fresh:
                yield copy.copy(run)  # its own object: views may cache on it
            if done:
                return


@dataclass(frozen=True)
class Served:
    """Where a run came from, for the logs and the bench: replayed, joined or decoded."""

    how: str
    key: str


Decode = Callable[[object, object, Callable[[], bool]], Iterator[Run]]


def busy_message(ahead: int, wait: float, max_wait: float) -> str:
    return (f"The app is busy: {ahead} question{'s' if ahead != 1 else ''} before yours would "
            f"take about {wait:.0f} s, longer than the {max_wait:.0f} s a visitor is asked to "
            "wait. Try again in a minute, or pick an example question: stored and recent runs "
            "are served at once.")


class RunHub:
    """Serves planned decodes (`serve`): replays, joins a decode in flight, or decodes in a
    worker thread through the model's `ForwardPool`, ``live_decodes`` at a time; a new decode
    is refused (`LimitError`) when the ones before it would keep it waiting beyond
    ``max_wait_s`` at the rate this machine has decoded so far (`Capacity`).

    ``decode(job, lm, abandoned)`` yields a job's snapshots, decoding with ``lm`` (the pool's
    view of the model) and stopping at the next step once ``abandoned()`` says so.
    """

    def __init__(self, decode: Decode, stored: StoredRuns | None = None,
                 recent: RecentRuns | None = None, live_decodes: int | None = None,
                 max_wait_s: float | None = None, parallel: int | None = None) -> None:
        bounds = limits.current()
        self._decode = decode
        self.stored = stored or StoredRuns([])
        self.recent = recent or RecentRuns()
        self.live_decodes = live_decodes or bounds.live_decodes
        self.max_wait_s = bounds.max_wait_s if max_wait_s is None else max_wait_s
        # forward passes at once: a CPU's cores shared out at torch's threads per pass
        self.parallel = parallel or max(1, limits.available_cpus() // limits.torch_threads())
        self.capacity = Capacity(self.parallel)
        self._live = threading.BoundedSemaphore(self.live_decodes)
        self._flights: dict[str, InFlight] = {}
        self._pools: dict[int, object] = {}
        self._lock = threading.Lock()
        self.served: list[Served] = []  # the last few, newest last
        self._workers: set[threading.Thread] = set()

    @property
    def decoding(self) -> int:
        """Decodes in flight now, waiting ones included."""
        with self._lock:
            return len(self._flights)

    def expected_wait(self) -> float | None:
        """Seconds the decodes in flight need before a new one gets the machine to itself;
        None before this machine has decoded anything (nothing to estimate from)."""
        with self._lock:
            flights = list(self._flights.values())
        rate = self.capacity.rate(len(flights))
        return None if rate is None else sum(f.rows_left for f in flights) / rate

    def serve(self, job, key: str, planned_rows: int = 0, stored_key: str | None = None,
              pace: str = "") -> Iterator[Run]:
        """The runs of ``job`` (planned, with the `plan_key` ``key`` and at most
        ``planned_rows`` row passes) as snapshots; the last one complete. ``stored_key`` is
        its key among the stored runs (None: a model that has none); ``pace`` groups decodes
        that end early, so its wait is their share of the planned rows (`Capacity.share`)."""
        stored = None if stored_key is None else self.stored.get(stored_key)
        if stored is not None:
            run, path = stored
            self._note("replayed", key)
            yield replayed(run, f"the stored run {path.name}")
            return
        recent = self.recent.get(key)
        if recent is not None:
            self._note("replayed", key)
            yield replayed(recent, "a recent run with the same question and settings")
            return
        flight, started = self._flight(job, key, planned_rows, pace)
        self._note("decoded" if started else "joined", key)
        try:
            yield from flight.follow()
        finally:
            with flight._cond:
                flight.followers -= 1

    def _flight(self, job, key: str, planned_rows: int, pace: str) -> tuple[InFlight, bool]:
        """The decode of ``key`` in flight, joined, or a new one (refused when too busy)."""
        with self._lock:
            flight = self._flights.get(key)
            started = flight is None or flight.abandoned  # one stopping is not joined
            if started:
                self._admit()
                flight = self._flights[key] = InFlight(planned_rows, pace,
                                                       self.capacity.share(pace))
                worker = threading.Thread(target=self._drive, args=(job, key, flight),
                                          name="hexviz-decode", daemon=True)
                self._workers.add(worker)
            with flight._cond:
                flight.followers += 1
        if started:
            worker.start()
        return flight, started

    def _admit(self) -> None:
        """Refuse a new decode the machine cannot start within ``max_wait_s`` (under the lock)."""
        rate = self.capacity.rate(len(self._flights))
        if rate is None or len(self._flights) < self.live_decodes:
            return
        wait = sum(f.rows_left for f in self._flights.values()) / rate
        if wait > self.max_wait_s:
            raise limits.LimitError(busy_message(len(self._flights), wait, self.max_wait_s))

    def _pool(self, lm):
        from hexviz.decode.pool import ForwardPool  # torch only when decoding

        with self._lock:
            pool = self._pools.get(id(lm))
            if pool is None or pool.lm is not lm:
                pool = self._pools[id(lm)] = ForwardPool(lm, parallel=self.parallel)
            return pool

    def _drive(self, job, key: str, flight: InFlight) -> None:
        error = None
        try:
            with self._live:
                if not flight.abandoned:
                    self._decode_live(job, key, flight)
        except BaseException as err:  # noqa: BLE001  the followers raise it in their threads
            error = err
        finally:
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
                self._workers.discard(threading.current_thread())
                pool = self._pools.get(id(job.lm))
                if pool is not None and pool.members == 0:
                    del self._pools[id(job.lm)]  # a model the shelf drops is not kept here
            flight.end(error)

    def _decode_live(self, job, key: str, flight: InFlight) -> None:
        last, counted = None, 0
        self.capacity.started()
        try:
            with self._pool(job.lm).joined() as pooled:
                for last in self._decode(job, pooled, lambda: flight.abandoned):
                    flight.publish(last)
                    rows = last.timing.row_passes or 0
                    self.capacity.add(rows - counted)
                    counted = rows
        finally:
            complete = last is not None and last.complete
            self.capacity.finished(flight.pace if complete else "", flight.planned_rows, counted)
        if complete:
            self.recent.put(key, last)

    def _note(self, how: str, key: str) -> None:
        with self._lock:
            self.served = [*self.served[-63:], Served(how, key)]

    def workers(self) -> int:
        """Decode threads alive (the bench and the leak tests read it)."""
        with self._lock:
            return sum(t.is_alive() for t in self._workers)
