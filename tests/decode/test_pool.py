"""Concurrent decodes sharing forward passes (`ForwardPool`): every run equals the same run
decoded alone, token for token; a closed decode leaves the next pass; mixed settings."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from hexviz.decode.assemble import iter_runs
from hexviz.decode.plan import Settings, plan
from hexviz.decode.pool import ForwardPool, PooledLM
from hexviz.runs.record import Run

QUESTIONS = [
    "Mia has 12 marbles. She gives 3 to Ben. How many marbles does Mia have now?",
    "Tom has 5 apples. He buys 3 more. Then he gets 2 times as many. How many apples does "
    "Tom have now?",
]


def decoded(lm, question: str, settings: Settings) -> Run:
    p = plan(lm, [question], settings)
    *_, progress = iter_runs(lm, p.prompts, p.experts, p.config, p.reader, p.questions)
    return progress.runs()[0]


def same_run(a: Run, b: Run) -> bool:
    """Equal tokens, reveal order, edits and answers in every trajectory, and the same vote."""
    return a.vote.winner == b.vote.winner and all(
        (s.token_ids == t.token_ids).all() and (s.reveal_step == t.reveal_step).all()
        and [tuple(e) for e in s.edits] == [tuple(e) for e in t.edits] and s.answer == t.answer
        for s, t in zip(a.trajectories, b.trajectories, strict=True))


def crowd(lm, jobs: list[tuple[str, Settings]], pool: ForwardPool) -> list[Run]:
    """Each job decoded in its own thread through ``pool``, all started at once."""
    results: list[Run | BaseException | None] = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def work(i: int, question: str, settings: Settings) -> None:
        try:
            with pool.joined() as pooled:
                start.wait()
                results[i] = decoded(pooled, question, settings)
        except BaseException as error:  # noqa: BLE001  re-raised in the test's thread
            results[i] = error

    threads = [threading.Thread(target=work, args=(i, *job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results  # type: ignore[return-value]


SMALL = dict(gen_length=32, steps=16, blocks=(8, 16))

CROWDS = {
    "fixed, temperature 0": [Settings(**SMALL)] * 3,
    "threshold, temperature 0": [Settings(**SMALL, sampler="threshold:0.9")] * 3,
    "fixed, temperature 0.7, seeds": [Settings(**SMALL, temperature=0.7, seeds=s)
                                      for s in (1, 2, 3)],
    "threshold, temperature 0.7, seeds": [Settings(**SMALL, sampler="threshold:0.8",
                                                   temperature=0.7, seeds=s) for s in (1, 2)],
}


@pytest.mark.parametrize("name", CROWDS)
def test_a_batched_run_equals_the_same_run_alone(builtin, name):
    jobs = [(QUESTIONS[i % 2], s) for i, s in enumerate(CROWDS[name])]
    jobs.append((QUESTIONS[1], jobs[0][1]))  # a second question of its own length
    pool = ForwardPool(builtin, gather_seconds=0.2)  # long enough that every decode joins
    together = crowd(builtin, jobs, pool)
    for (question, settings), run in zip(jobs, together, strict=True):
        assert same_run(run, decoded(builtin, question, settings)), (name, question, settings)
    # the same question's decodes had one shape, so they shared passes
    assert pool.stats.asks_per_pass > 1.2, pool.stats


def test_a_crowd_of_mixed_settings_decodes_as_each_alone(builtin):
    jobs = [
        (QUESTIONS[0], Settings(gen_length=32, steps=16, blocks=(4, 8, 32))),
        (QUESTIONS[0], Settings(gen_length=64, steps=32, blocks=(16,))),
        (QUESTIONS[0], Settings(gen_length=32, steps=32, blocks=(8,), remasking="margin")),
        (QUESTIONS[1], Settings(gen_length=32, steps=16, blocks=(8, 16), sampler="threshold:0.9", edit=0.9)),
        (QUESTIONS[0], Settings(gen_length=64, length="daedal", blocks=(8,))),
        (QUESTIONS[1], Settings(gen_length=32, steps=16, cache="prefix", blocks=(8,))),
        (QUESTIONS[1], Settings(gen_length=64, steps=64, blocks=("grow",))),
    ]
    pool = ForwardPool(builtin, gather_seconds=0.2)
    together = crowd(builtin, jobs, pool)
    for (question, settings), run in zip(jobs, together, strict=True):
        assert same_run(run, decoded(builtin, question, settings)), settings
        assert run.complete
    assert pool.stats.passes > 0 and pool.members == 0


class CountingLM:
    """The model with each forward pass's row count written down."""

    def __init__(self, lm) -> None:
        self.lm, self.passes = lm, []

    def __getattr__(self, name):
        return getattr(self.lm, name)

    def logits(self, x, attention=None, keep=None):
        self.passes.append((time.perf_counter(), len(x)))
        return self.lm.logits(x, attention, keep)


def test_a_visitor_who_disconnects_frees_its_rows_at_the_next_step(builtin):
    counting = CountingLM(builtin)
    pool = ForwardPool(counting, gather_seconds=1.0)  # waits only while one has not asked
    settings = Settings(gen_length=32, steps=32, blocks=(4, 8, 16))  # 3 experts + 3 baselines
    p = plan(builtin, [QUESTIONS[0]], settings)
    # sampled, so its rows differ from the other's (equal rows would be computed once)
    q = plan(builtin, [QUESTIONS[0]], Settings(gen_length=32, steps=32, blocks=(2, 32),
                                                temperature=0.7, seeds=1))
    both_in = threading.Barrier(2)  # a loaded machine must not let one decode run ahead
    left = threading.Event()
    closed_at: list[float] = []
    runs: list[Run] = []

    def stays() -> None:
        with pool.joined() as pooled:
            both_in.wait()
            *_, progress = iter_runs(pooled, p.prompts, p.experts, p.config, p.reader)
            runs.append(progress.runs()[0])

    def leaves() -> None:  # the same question, so both decodes' rows have one shape
        with pool.joined() as pooled:
            both_in.wait()
            steps = iter_runs(pooled, q.prompts, q.experts, q.config, q.reader)
            for progress in steps:
                if progress.step == 12:
                    steps.close()  # as Gradio closes the stream of a visitor who left
                    break
        closed_at.append(time.perf_counter())
        left.set()

    threads = [threading.Thread(target=stays), threading.Thread(target=leaves)]
    for t in threads:
        t.start()
    left.wait(60)
    assert pool.members == 1  # the closed decode left the pool at once
    for t in threads:
        t.join()
    before = [n for t, n in counting.passes if t < closed_at[0]]
    after = [n for t, n in counting.passes if t > closed_at[0]]
    alone = CountingLM(builtin)
    decoded(alone, QUESTIONS[0], settings)
    rows_alone = max(n for _, n in alone.passes)
    assert max(before) > rows_alone  # both visitors' rows were stacked while both decoded
    assert after and max(after) <= rows_alone  # then only the one who stayed
    assert same_run(runs[0], decoded(builtin, QUESTIONS[0], settings))


def test_an_error_in_a_shared_pass_reaches_every_decode_in_it(builtin):
    class Failing:
        def __getattr__(self, name):
            return getattr(builtin, name)

        def logits(self, *args):
            raise RuntimeError("out of memory")

    pool = ForwardPool(Failing(), gather_seconds=0.2)
    with pytest.raises(RuntimeError, match="out of memory"):
        crowd(builtin, [(QUESTIONS[0], Settings(**SMALL))] * 2, pool)
    assert pool.members == 0


def test_a_lone_decode_does_not_wait():
    pool = ForwardPool(object(), gather_seconds=60)

    class Ones:
        def logits(self, x, attention, keep):
            return torch.ones(len(x), keep, 3)

    pool.lm = Ones()
    with pool.joined() as pooled:
        assert isinstance(pooled, PooledLM)
        tic = time.perf_counter()
        logits = pooled.logits(torch.zeros(2, 5, dtype=torch.long), None, 4)
    assert logits.shape == (2, 4, 3) and time.perf_counter() - tic < 5


def test_gather_seconds_must_not_be_negative(builtin):
    with pytest.raises(ValueError, match="got -1"):
        ForwardPool(builtin, gather_seconds=-1)


def test_two_passes_at_once_give_each_decode_its_own_rows(builtin):
    """With two passes allowed (a CPU's two cores), a decode whose ask is inside one pass
    must not lead the other: every decode still equals itself alone."""
    jobs = [(QUESTIONS[0], Settings(**SMALL)),
            (QUESTIONS[0], Settings(**SMALL, remasking="margin")),
            (QUESTIONS[0], Settings(**SMALL, sampler="threshold:0.9")),
            (QUESTIONS[1], Settings(**SMALL))]
    pool = ForwardPool(builtin, gather_seconds=0.05, parallel=2)
    together = crowd(builtin, jobs, pool)
    for (question, settings), run in zip(jobs, together, strict=True):
        assert same_run(run, decoded(builtin, question, settings)), settings
    with pytest.raises(ValueError, match="got 0"):
        ForwardPool(builtin, parallel=0)
