"""Serving many visitors (`RunHub`): equal plans decode once, finished and stored runs replay
marked, a decode nobody follows stops, errors reach every follower, a crowd beyond what the
machine can serve in the operator's wait is refused with the wait; and the runner's wiring on
the built-in model."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from types import SimpleNamespace

import pytest

from hexviz import limits
from hexviz.app.runner import LocalRunner, RunRequest
from hexviz.app.serving import (Capacity, InFlight, RecentRuns, RunHub, StoredRuns,
                                busy_message, plan_key, run_bytes, run_key)
from hexviz.paths import EXAMPLES, GALLERY
from hexviz.policy.samplers import Sampler
from hexviz.runs.record import dumps, loads
from tests.conftest import known_run

JOB = SimpleNamespace(lm=object())


def wait_until(condition, seconds: float = 10.0) -> None:
    deadline = time.perf_counter() + seconds
    while not condition():
        assert time.perf_counter() < deadline, "timed out"
        time.sleep(0.005)


class GatedDecode:
    """A fake decode: a partial run, then waits for ``go`` before the finished one; counts its
    calls and the steps it took, and stops when abandoned."""

    def __init__(self, steps: int = 2, fail: Exception | None = None) -> None:
        self.calls, self.steps, self.steps_after_go = 0, 0, steps
        self.go, self.fail, self.stopped = threading.Event(), fail, threading.Event()

    def __call__(self, job, lm, abandoned):
        self.calls += 1
        partial = known_run()
        partial.steps_done = 1
        yield partial
        self.go.wait(10)
        if self.fail is not None:
            raise self.fail
        while self.steps < self.steps_after_go:
            if abandoned():
                self.stopped.set()
                return
            self.steps += 1
            time.sleep(0.01)
        yield known_run()


def served_in_threads(hub: RunHub, keys: list[str], planned_rows: int = 8
                      ) -> tuple[list, list[threading.Thread]]:
    results: list = [None] * len(keys)

    def visit(i: int, key: str) -> None:
        try:
            results[i] = list(hub.serve(JOB, key, planned_rows))
        except Exception as error:  # noqa: BLE001  checked by the test
            results[i] = error

    threads = [threading.Thread(target=visit, args=(i, k)) for i, k in enumerate(keys)]
    for t in threads:
        t.start()
    return results, threads


def test_equal_plans_decode_once_and_every_visitor_gets_the_run():
    decode = GatedDecode()
    hub = RunHub(decode, live_decodes=2, max_wait_s=60)
    results, threads = served_in_threads(hub, ["q"] * 5)
    wait_until(lambda: len(hub.served) == 5)
    decode.go.set()
    for t in threads:
        t.join(10)
    assert decode.calls == 1
    assert sorted(s.how for s in hub.served) == ["decoded"] + ["joined"] * 4
    for runs in results:
        assert runs[-1].complete and runs[-1].vote.winner == "7" and runs[-1].replayed is None
    assert len({id(runs[-1]) for runs in results}) == 5  # each visitor its own object
    wait_until(lambda: hub.workers() == 0 and hub.decoding == 0)


def test_a_finished_run_is_replayed_marked_without_decoding_again():
    decode = GatedDecode()
    decode.go.set()
    hub = RunHub(decode)
    *_, first = hub.serve(JOB, "q", 8)
    wait_until(lambda: hub.decoding == 0)
    (again,) = hub.serve(JOB, "q", 8)
    assert decode.calls == 1 and again.replayed and "recent run" in again.replayed
    assert dumps(again) == dumps(first)
    again.trajectories[0].token_ids[0] = 99  # a visitor's copy is its own
    (third,) = hub.serve(JOB, "q", 8)
    assert third.trajectories[0].token_ids[0] != 99
    (other, *_) = hub.serve(JOB, "another question", 8)  # a new plan decodes
    assert decode.calls == 2 and other.replayed is None


def test_a_stored_run_with_the_same_plan_is_replayed(tmp_path):
    run = known_run()
    (tmp_path / "stored.json").write_text(dumps(run))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "results.json").write_text(json.dumps({"records": []}))
    imported = replace(known_run(), prompt="a question decoded elsewhere")
    imported.source = {"tool": "hex"}
    (tmp_path / "imported.json").write_text(dumps(imported))
    decode = GatedDecode()
    decode.go.set()
    hub = RunHub(decode, StoredRuns(sorted(tmp_path.glob("*.json"))))
    assert len(hub.stored.index()) == 1  # files that are not runs, and imports, are left out
    *_, decoded = hub.serve(JOB, run_key(run), 8)  # no stored key: decoded
    assert decoded.replayed is None
    (served,) = hub.serve(JOB, "another key", 8, stored_key=run_key(run))
    assert decode.calls == 1 and served.replayed == "the stored run stored.json"
    assert dumps(served) == dumps(loads(dumps(run)))


def test_a_follower_gets_each_snapshot_once_the_end_included():
    flight = InFlight()
    stream = flight.follow()
    partial, finished = known_run(), known_run()
    partial.steps_done = 1
    flight.publish(partial)
    assert next(stream).steps_done == 1
    flight.publish(finished)
    assert next(stream).complete  # read before the end: the end must not repeat it
    flight.end()
    assert list(stream) == []


def test_a_decode_nobody_follows_stops_at_its_next_step():
    decode = GatedDecode(steps=10_000)
    hub = RunHub(decode)
    stream = hub.serve(JOB, "q", 8)
    next(stream)  # the first snapshot; the decode goes on
    decode.go.set()
    wait_until(lambda: decode.steps > 3)
    stream.close()  # the visitor left
    assert decode.stopped.wait(5)
    wait_until(lambda: hub.workers() == 0 and hub.decoding == 0)
    assert decode.steps < 10_000
    assert len(hub.recent) == 0  # an unfinished run is not kept for replay


def test_a_visitor_arriving_as_a_decode_stops_starts_a_new_one():
    decode = GatedDecode()
    hub = RunHub(decode)
    stream = hub.serve(JOB, "q", 8)
    next(stream)
    stream.close()  # nobody follows the first decode, still waiting at its gate
    decode.go.set()
    *_, run = hub.serve(JOB, "q", 8)
    assert run.complete and decode.calls == 2


def test_an_error_reaches_every_visitor_of_the_decode():
    decode = GatedDecode(fail=RuntimeError("out of memory"))
    hub = RunHub(decode)
    results, threads = served_in_threads(hub, ["q"] * 3)
    wait_until(lambda: len(hub.served) == 3)
    decode.go.set()
    for t in threads:
        t.join(10)
    assert all(isinstance(r, RuntimeError) and "out of memory" in str(r) for r in results)
    wait_until(lambda: hub.workers() == 0)
    assert len(hub.recent) == 0


def test_a_new_question_is_refused_when_those_before_it_take_too_long():
    decode = GatedDecode()
    hub = RunHub(decode, live_decodes=1, max_wait_s=5)
    results, threads = served_in_threads(hub, ["first"], planned_rows=100)
    wait_until(lambda: hub.decoding == 1)
    hub.capacity.add(1)  # one row pass in all the time so far: a slow machine
    time.sleep(0.2)
    assert hub.expected_wait() > 5
    with pytest.raises(limits.LimitError, match="busy: 1 question before yours"):
        list(hub.serve(JOB, "second", 8))
    (joined, *_) = hub.serve(JOB, "first", 8)  # the same question still joins
    assert joined.replayed is None
    decode.go.set()
    for t in threads:
        t.join(10)
    fast = RunHub(GatedDecode(), live_decodes=1, max_wait_s=600)
    assert fast.expected_wait() is None  # nothing decoded yet: nothing to estimate from


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_capacity_counts_each_moments_busy_pass_slots():
    clock = Clock()
    capacity = Capacity(parallel=2, clock=clock)
    capacity.observe(100, 1.0)  # the warm-up: a decode alone, one slot, 100 row passes a second
    assert capacity.rate(1) == 100 and capacity.rate(5) == 200  # a crowd fills both slots
    capacity.started()
    capacity.started()
    capacity.started()  # three decodes, two passes at once: both slots busy
    clock.now = 1.0
    capacity.add(200)
    for _ in range(3):
        capacity.finished()
    clock.now = 9.0  # idle time counts for nothing
    assert capacity.rate(1) == 300 / 3.0  # 300 row passes in 3 slot-seconds


def test_decodes_that_end_early_are_expected_at_the_share_they_took():
    capacity = Capacity()
    assert capacity.share("threshold:0.9") == 1.0  # none ended yet: the step cap
    capacity.finished("threshold:0.9", planned_rows=400, row_passes=100)
    capacity.finished("threshold:0.9", planned_rows=400, row_passes=60)
    capacity.finished("", planned_rows=400, row_passes=10)  # a stopped decode teaches nothing
    assert capacity.share("threshold:0.9") == pytest.approx(0.2)
    assert capacity.share("factor:1") == 1.0
    flight = InFlight(400, "threshold:0.9", capacity.share("threshold:0.9"))
    assert flight.rows_left == pytest.approx(80)
    partial = known_run()
    partial.timing = replace(partial.timing, row_passes=50)
    flight.publish(partial)
    assert flight.rows_left == pytest.approx(30)  # its expected rows less those it did


def test_the_hub_learns_what_a_pace_takes_from_the_decodes_that_finished():
    class EndsEarly(GatedDecode):
        def __call__(self, job, lm, abandoned):
            for run in super().__call__(job, lm, abandoned):
                run.timing = replace(run.timing, row_passes=25)
                yield run

    decode = EndsEarly()
    decode.go.set()
    hub = RunHub(decode)
    *_, run = hub.serve(JOB, "q", 100, pace="threshold:0.9")
    assert run.complete and hub.capacity.share("threshold:0.9") == 0.25
    assert hub.capacity.share("") == 1.0


def test_busy_message_says_the_wait():
    assert "3 questions before yours would take about 75 s, longer than the 60 s" in \
        busy_message(3, 75.4, 60)


def test_recent_runs_keep_the_most_recent_within_their_bytes():
    run = known_run()
    size = run_bytes(run)
    recent = RecentRuns(max_bytes=2 * size)
    for key in "abc":
        recent.put(key, run)
    assert recent.get("a") is None and recent.get("b") is run and len(recent) == 2
    recent.put("d", run)  # "c" was used least recently ("b" was just read)
    assert recent.get("c") is None and recent.get("b") is run
    RecentRuns(max_bytes=size - 1).put("e", run)  # too big to keep: not kept, no error


def test_plan_keys_differ_wherever_the_plans_do():
    run = known_run()
    key = run_key(run)
    assert run_key(replace(run, config=replace(run.config, sampler=Sampler("threshold", 0.9)))
                   ) != key
    assert run_key(replace(run, prompt="another")) != key
    # a fixed canvas's ceiling changes nothing in its run
    assert run_key(replace(run, config=replace(run.config, max_gen_length=64))) == key
    reader = SimpleNamespace(answer_format="gsm8k", task=None, tie_rule="first")
    assert plan_key("a/model", "Q", [1], [], run.config, reader) != \
        plan_key("b/model", "Q", [1], [], run.config, reader)


def test_an_example_question_is_replayed_from_its_stored_run_as_decoded_now(builtin):
    stored = loads((GALLERY / "example-1.json").read_text())
    assert stored.prompt in json.loads(EXAMPLES.read_text())
    runner = LocalRunner()
    runner.shelf.cache[runner.model_labels()[0]] = builtin
    (served,) = runner.run(RunRequest(stored.prompt))
    assert served.replayed == "the stored run example-1.json"
    *_, fresh = runner._decode(RunRequest(stored.prompt))
    for s, f in zip(served.trajectories, fresh.trajectories, strict=True):
        assert (s.token_ids == f.token_ids).all() and (s.reveal_step == f.reveal_step).all()
    assert served.vote.winner == fresh.vote.winner


def test_the_runner_decodes_a_new_question_once_then_replays_it(builtin):
    runner = LocalRunner(stored_runs=())
    runner.shelf.cache[runner.model_labels()[0]] = builtin
    request = RunRequest("Ann has 3 coins. She finds 4 more. How many coins does Ann have now?",
                         gen_length=32, steps=16, blocks=(8, 16))
    runs = list(runner.run(request))
    assert runs[-1].complete and runs[-1].replayed is None and len(runs) >= 2
    (again,) = runner.run(request)
    assert again.replayed and dumps(replace(again, replayed=None)) == dumps(runs[-1])
    assert runner.hub.capacity.rate() > 0 and runner.wait_note() is None


def test_a_crowd_through_the_runner_gets_each_run_as_decoded_alone(builtin):
    runner = LocalRunner(stored_runs=())
    runner.shelf.cache[runner.model_labels()[0]] = builtin
    question = "Ann has 3 coins. She finds 4 more. How many coins does Ann have now?"
    small = dict(gen_length=32, steps=16, baselines=False)
    requests = [RunRequest(question, blocks=(8, 16), **small),
                RunRequest(question, blocks=(4,), remasking="margin", **small),
                RunRequest(question, blocks=(8,), sampler="threshold:0.9", **small),
                RunRequest("Tom has 5 apples. He buys 3 more. How many apples does Tom have now?",
                           blocks=(16,), temperature=0.7, seeds=2, **small),
                RunRequest(question, blocks=(8, 16), **small)]  # the first one's plan again
    results: list = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def visit(i: int) -> None:
        start.wait()
        results[i] = list(runner.run(requests[i]))[-1]

    threads = [threading.Thread(target=visit, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for request, run in zip(requests, results, strict=True):
        *_, alone = runner._decode(request)
        assert run.complete and dumps(replace(run, replayed=None, timing=alone.timing)) == \
            dumps(alone), request
    assert sorted(s.how for s in runner.hub.served) in (
        ["decoded"] * 4 + ["joined"], ["decoded"] * 4 + ["replayed"])  # equal plans: one decode
    wait_until(lambda: runner.hub.workers() == 0)
