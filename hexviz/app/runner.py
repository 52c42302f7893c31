"""The app's engine side: a `RunRequest` in, a stream of `Run` snapshots out.

The UI receives a `Runner` as an argument (``build_demo(runner=...)``) and never decodes itself;
tests pass a fake runner. `LocalRunner` serves requests; its models come from a `ModelShelf`
(`loading`) and, on a ZeroGPU Space, its decodes run under ``spaces.GPU`` (`zerogpu`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from hexviz import limits
from hexviz.app import zerogpu
from hexviz.app.loading import BUILTIN_LABEL, ModelShelf
from hexviz.app.serving import FAST_SAMPLER, RunHub, StoredRuns, plan_key
from hexviz.decode.assemble import Reader
from hexviz.decode.plan import Plan, Settings, plan
from hexviz.eval.batch import default_batch_size, evaluate, read_problems
from hexviz.eval.records import EvalResults
from hexviz.models.meta import ModelDefaults
from hexviz.paths import BUILTIN_DIR, STORED_RUNS, TEST_SET
from hexviz.policy.settings import Expert
from hexviz.runs.record import Run, Trajectory

WARM_UP_PROMPT = "Tom has 5 apples. He buys 3 more. How many apples does Tom have now?"
WARM_UP_STEPS = 8  # warm steps timed after the first, a first rate for the hub's admission

ProgressFn = Callable[[int, int], None]  # (problems done, problems in all)


@dataclass(frozen=True)
class RunRequest(Settings):
    """What the Explore view sends to the engine: a question, the model's picker label and the
    decode `Settings`, all checked when it is made (before any model loads)."""

    prompt: str
    model: str = BUILTIN_LABEL

    def __post_init__(self) -> None:
        limits.check_prompt(self.prompt)  # empty, too long to tokenize, control characters
        super().__post_init__()


@dataclass(frozen=True)
class Job:
    """A request planned against its model: what the decode loop gets, checked against the
    limits. Made in this process before any GPU is asked for."""

    lm: object  # DiffusionLM
    plan: Plan

    @property
    def prompt_ids(self) -> list[int]:
        return self.plan.prompts[0]

    @property
    def planned_rows(self) -> int:
        """Row passes it may take: every expert through every step of the cap."""
        return len(self.plan.experts) * self.plan.config.step_cap

    @property
    def pace(self) -> str:
        """Decodes whose steps end early share this ("" for a fixed schedule, which takes
        every planned row pass): the sampler, canvas, blocks and strategy, as the hub learns
        their share of the planned row passes (`serving.Capacity`)."""
        config = self.plan.config
        if not config.variable:
            return ""
        return (f"{config.sampler.spec} {config.length.mode} {config.adaptive_blocks} "
                f"{config.strategy.name}")

    def key(self, model: str | None = None) -> str:
        """What makes its run (`serving.plan_key`), with the settings as the run records them;
        ``model`` names the model as a stored run does (default: the one loaded)."""
        from hexviz.policy.settings import exact_if_uncached

        p = self.plan
        config = exact_if_uncached(self.lm, p.config).for_experts(p.experts)
        return plan_key(model or self.lm.name, p.questions[0], self.prompt_ids, p.experts,
                        config, p.reader)

    def stored_key(self) -> str | None:
        """Its key among the stored runs, which the built-in model decoded (they name it by
        its folder); None for another model."""
        if Path(self.lm.name).resolve() != BUILTIN_DIR.resolve():
            return None
        return self.key(BUILTIN_DIR.name)


class Runner(Protocol):
    """What the app needs from its engine side; `LocalRunner` and the tests' fake satisfy it."""

    def model_labels(self) -> list[str]: ...

    def run(self, request: RunRequest) -> Iterator[Run]: ...

    def evaluate(self, model: str, problems: int, seeds: int, temperature: float,
                 on_progress: ProgressFn | None = None) -> EvalResults: ...


@dataclass(frozen=True)
class ForkRequest:
    """A what-if fork: continue expert ``expert`` of ``run`` from its canvas after ``step``
    steps, with other settings (None keeps the original's) and/or one forced token."""

    run: Run
    expert: int  # index into run.trajectories
    step: int  # steps done before the fork, 0 .. steps - 1
    model: str = BUILTIN_LABEL  # the picker label of the model that decoded the run
    block_length: int | None = None
    remasking: str | None = None
    temperature: float | None = None
    force: tuple[int, int] | None = None  # (answer position, token id) committed at ``step``

    def __post_init__(self) -> None:
        if not 0 <= self.expert < len(self.run.trajectories):
            raise ValueError(f"pick an expert of the run (0 to {len(self.run.trajectories) - 1};"
                             f" got {self.expert})")
        steps = self.run.trajectories[self.expert].steps_taken  # its own, with any sampler
        if not 0 <= self.step < steps:
            raise ValueError(f"a fork starts at a step from 0 to {steps - 1} (got {self.step})")
        if not self.run.complete:
            raise ValueError("wait for the run to finish before forking it")
        if self.run.config.strategy.rounds_voting:
            raise ValueError("a dVoting round starts from the rounds before it, so it is not "
                             "forked alone; fork an expert of a HEX or seeds run")

    def expert_after(self) -> Expert:
        """The expert that decodes the fork's remaining steps: the original's blocks (its
        schedule or AdaBlock's too) unless a block length is given."""
        e = self.run.trajectories[self.expert].expert
        remasking = self.remasking or e.remasking
        temperature = e.temperature if self.temperature is None else self.temperature
        if self.block_length is None:
            return replace(e, remasking=remasking, temperature=temperature)
        return Expert(self.block_length, remasking, e.seed, temperature,
                      e.votes or self.block_length != e.block_length)


class LocalRunner:
    """Serves the app's requests in this process: decodes, forks, candidates and live evals,
    with models from its `ModelShelf`; on a ZeroGPU Space each call runs under ``spaces.GPU``."""

    def __init__(self, models: dict[str, str] | None = None, trust_remote_code: bool | None = None,
                 snapshot_every: int = 8, stored_runs: Sequence[Path] = STORED_RUNS) -> None:
        self.shelf = ModelShelf(models, trust_remote_code)
        self.snapshot_every = snapshot_every
        self.hub = RunHub(self._snapshots, StoredRuns(list(stored_runs)))
        # spaces.GPU on a ZeroGPU Space, else None (said once where `spaces` is installed)
        self._gpu = zerogpu.spaces_gpu()
        self._zerogpu_budget = zerogpu.Budget()
        if self._gpu is not None:
            self._gpu_chunk = zerogpu.on_gpu(self._gpu, self._decode_chunk)
            self._gpu_fork = zerogpu.on_gpu(self._gpu, lambda r: list(self._fork(r)))
            self._gpu_candidates = zerogpu.on_gpu(self._gpu, self._candidates)
            self._gpu_redo = zerogpu.on_gpu(self._gpu, lambda *a: list(self._redo(*a)))

    def model_labels(self) -> list[str]:
        return self.shelf.labels()

    def max_length(self, label: str) -> int | None:
        return self.shelf.max_length(label)

    def defaults(self, label: str) -> ModelDefaults | None:
        return self.shelf.defaults(label)

    def is_loading(self, label: str) -> bool:
        """Whether `preload` is still loading or warming ``label``."""
        return self.shelf.is_loading(label)

    def preload(self, label: str | None = None) -> threading.Thread:
        """Load ``label`` (default: the first model) and decode a few steps in a background
        thread, so the UI is up at once, the first Run finds the model and kernels warm, and
        the hub knows how fast this machine decodes before a crowd arrives."""
        return self.shelf.preload(label or self.shelf.labels()[0], self._warm)

    def _warm(self, label: str, steps: int = WARM_UP_STEPS) -> None:
        if self._gpu is not None:
            return  # loaded is warm enough: on ZeroGPU this process has no GPU to decode on
        job = self._prepare(RunRequest(WARM_UP_PROMPT, model=label))  # never a GPU call
        decode = self._steps(job)
        try:
            progress = next(decode)  # step 1: tokenizer, forward kernels, snapshot path
            rows, tic = progress.runs()[0].timing.row_passes or 0, time.perf_counter()
            for progress in decode:  # then a few warm steps, at the machine's pace
                if progress.step > steps:
                    break
            timing = progress.runs()[0].timing
            self.hub.capacity.observe((timing.row_passes or 0) - rows,
                                      time.perf_counter() - tic)
        finally:
            decode.close()
        # The Fast preset's sampler ends far below its step cap: one decode of it tells the
        # hub its share of the planned row passes before a crowd of Fast runs arrives
        fast = self._prepare(RunRequest(WARM_UP_PROMPT, model=label, sampler=FAST_SAMPLER))
        *_, progress = self._steps(fast)
        self.hub.capacity.learn(fast.pace, fast.planned_rows,
                                progress.runs()[0].timing.row_passes or 0)

    def run(self, request: RunRequest) -> Iterator[Run]:
        """Yield a partial run after step 1 (a first figure at once), then every
        ``snapshot_every`` steps, then the finished run. On ZeroGPU: one snapshot per GPU
        call of a few snapshots' steps (`zerogpu`), after checking that all calls fit."""
        if self._gpu is None:
            job = self._prepare(request)
            yield from self.hub.serve(job, job.key(), job.planned_rows, job.stored_key(),
                                      job.pace)
            return
        calls = self.gpu_plan(self._prepare(request))  # refused here: no GPU was asked for
        yield from zerogpu.stream(self._gpu_chunk, request, calls)

    def wait_note(self) -> str | None:
        """What a new question would wait for when the machine is busy (the decodes before it
        and their expected time); None when it would start at once."""
        ahead = self.hub.decoding
        if ahead < self.hub.live_decodes:
            return None
        wait = self.hub.expected_wait()
        about = "" if wait is None else f", about {wait:.0f} s"
        return f"{ahead} questions are being decoded before yours{about}"

    def admit(self, request: RunRequest) -> None:
        """Refuse, before the request queues, a run whose ZeroGPU calls would not fit
        (`LimitError`). Only on ZeroGPU, and once the model is loaded (its tokenizer counts
        the prompt); `run` checks again before asking for a GPU."""
        if self._gpu is not None and request.model in self.shelf.cache:
            self.gpu_plan(self._prepare(request))

    def gpu_plan(self, job: Job) -> zerogpu.GpuPlan:
        """The ZeroGPU calls of ``job``, or `LimitError` when they would not fit."""
        config = job.plan.config
        return zerogpu.plan_run(zerogpu.forward_cost(job.lm.model), len(job.plan.experts),
                                len(job.prompt_ids), config.gen_length, config.step_cap,
                                self.snapshot_every, self._zerogpu_budget,
                                whole=config.variable or config.cache != "none")

    def notes(self, request: RunRequest) -> tuple[str, ...]:
        """What the plan of ``request`` changed from what it asked for (the paper's lengths
        fitted to the model, a cache the model lacks), as the CLI prints them."""
        return self._prepare(request).plan.notes

    def check(self, request: RunRequest) -> None:
        """Refuse ``request`` (ValueError, one line) as its decode would, without its model's
        weights: the same `plan`, against the tokenizer, context and defaults
        (`ModelShelf.outline`), so a refusal answers in milliseconds, not after a load."""
        planned = plan(self.shelf.outline(request.model), [request.prompt], request)
        limits.check_prompt_tokens(len(planned.prompts[0]))

    def _prepare(self, request: RunRequest) -> Job:
        if request.model not in self.shelf.cache:
            self.check(request)  # before the weights load: a refusal must not wait seconds
        lm = self.shelf.get(request.model)
        job = Job(lm, plan(lm, [request.prompt], request))
        limits.check_prompt_tokens(len(job.prompt_ids))
        return job

    def _steps(self, job: Job, resume=None):
        from hexviz.decode.assemble import iter_runs  # torch only when decoding

        p = job.plan
        return iter_runs(job.lm, p.prompts, p.experts, p.config, p.reader, p.questions,
                         resume=resume)

    def _decode(self, request: RunRequest) -> Iterator[Run]:
        job = self._prepare(request)
        yield from self._snapshots(job, job.lm)

    def _snapshots(self, job: Job, lm, abandoned: Callable[[], bool] = lambda: False
                   ) -> Iterator[Run]:
        """``job`` decoded with ``lm``: a partial run after step 1, then every
        ``snapshot_every`` steps, then the finished run; it stops at the next step once
        ``abandoned()`` (nobody is following it any more)."""
        progress, shown = None, 0
        for progress in self._steps(replace(job, lm=lm)):
            if abandoned():
                return
            if progress.step == 1 or progress.step % self.snapshot_every == 0:
                shown = progress.step
                yield progress.runs()[0]
        if progress is not None and shown != progress.step:  # the last step, wherever it fell
            yield progress.runs()[0]

    def _decode_chunk(self, request: RunRequest, start: int, stop: int,
                      history: tuple[Trajectory, ...]) -> Run:
        """Steps ``start`` to ``stop`` of ``request`` (one GPU call), from the canvas that
        ``history`` recorded after ``start`` steps; the snapshot after step ``stop``, or after
        the last step when a parallel sampler's experts all finish before it."""
        from hexviz.decode.assemble import with_fresh_one_step_likelihood
        from hexviz.decode.engine import Resume

        job = self._prepare(request)
        steps = self._steps(job, Resume(start, history) if start else None)
        progress = None
        try:
            for progress in steps:
                if progress.step == stop:
                    break
        finally:
            steps.close()
        if progress is None:
            raise ValueError(f"the decode has no steps left after step {start}")
        run = progress.runs()[0]
        if start and run.complete:  # step 0 was an earlier call's: its logits are computed again
            run = with_fresh_one_step_likelihood(job.lm, run)
        return run

    def _model_of(self, run: Run, label: str):
        lm = self.shelf.get(label)
        if Path(lm.name).name != Path(run.model).name:
            raise ValueError(f"this run was decoded by {Path(run.model).name!r}, and the model "
                             f"picked is {label!r}; forking needs the run's own model")
        return lm

    def fork(self, request: ForkRequest) -> Iterator[Run]:
        """Decode the fork's remaining steps; yields the finished fork, a one-expert run."""
        if self._gpu is None:
            yield from self._fork(request)
            return
        run = request.run
        lm = self._model_of(run, request.model)
        seconds = zerogpu.call_seconds(zerogpu.forward_cost(lm.model), 1, len(run.prompt_ids),
                                       run.config.gen_length, run.config.step_cap - request.step,
                                       self._zerogpu_budget)
        yield from self._gpu_fork(zerogpu.GpuCall((request,), seconds))

    def _fork(self, request: ForkRequest) -> Iterator[Run]:
        from hexviz.decode.assemble import iter_runs
        from hexviz.decode.engine import Resume

        run = request.run
        limits.check_decode(run.config.gen_length, run.config.steps, 1,
                            step_cap=run.config.step_cap)  # an upload may be forked
        limits.check_prompt_tokens(len(run.prompt_ids))
        lm = self._model_of(run, request.model)
        resume = Resume(request.step, [run.trajectories[request.expert]], [request.force])
        *_, progress = iter_runs(lm, [run.prompt_ids], [request.expert_after()], run.config,
                                 Reader.of(run), [run.prompt], resume=resume)
        yield progress.runs()[0]

    def redo(self, run: Run, model: str, cache: str) -> Iterator[Run]:
        """``run``'s prompt and experts decoded again with another cache mode (Compare: exact
        against cached); yields the finished run, whose ``config.cache`` says what it ran with
        (``none`` for a model without a cache)."""
        if self._gpu is None:
            yield from self._redo(run, model, cache)
            return
        lm = self._model_of(run, model)
        seconds = zerogpu.call_seconds(zerogpu.forward_cost(lm.model),
                                       len(run.trajectories), len(run.prompt_ids),
                                       run.config.gen_length, run.config.step_cap,
                                       self._zerogpu_budget)
        yield from self._gpu_redo(zerogpu.GpuCall((run, model, cache), seconds))

    def _redo(self, run: Run, model: str, cache: str) -> Iterator[Run]:
        from hexviz.decode.assemble import decode

        experts = [t.expert for t in run.trajectories]
        limits.check_decode(run.config.gen_length, run.config.steps, len(experts),
                            step_cap=run.config.step_cap)
        limits.check_prompt_tokens(len(run.prompt_ids))
        lm = self._model_of(run, model)
        yield decode(lm, run.prompt_ids, experts, run.config.with_cache(cache),
                     Reader.of(run), run.prompt)

    def candidates(self, model: str, run: Run, expert: int, step: int, position: int,
                   k: int = 8) -> list[tuple[int, str, float]]:
        """The model's top ``k`` tokens at ``position`` on the expert's canvas after ``step``:
        (token id, text, probability), best first."""
        args = (model, run, expert, step, position, k)
        if self._gpu is None:
            return self._candidates(*args)
        lm = self._model_of(run, model)
        seconds = zerogpu.call_seconds(zerogpu.forward_cost(lm.model), 1, len(run.prompt_ids),
                                       run.config.gen_length, 1, self._zerogpu_budget)
        return self._gpu_candidates(zerogpu.GpuCall(args, seconds))

    def _candidates(self, model: str, run: Run, expert: int, step: int, position: int,
                    k: int) -> list[tuple[int, str, float]]:
        from hexviz.decode.engine import top_candidates

        lm = self._model_of(run, model)
        t = run.trajectories[expert]
        answer = [int(i) if 0 <= s < step else lm.mask_id  # the canvas as it stood then
                  for i, s in zip(t.ids_at(step), t.reveal_step, strict=True)]
        return top_candidates(lm, run.prompt_ids, answer, position, k)

    def evaluate(self, model: str, problems: int, seeds: int, temperature: float,
                 on_progress: ProgressFn | None = None) -> EvalResults:
        """A small live eval on the built-in test set (the Scaling tab)."""
        limits.check_eval_problems(problems)
        lm = self.shelf.get(model)
        data = read_problems(TEST_SET, problems)
        planned = plan(lm, data, Settings(seeds=seeds, temperature=temperature))
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if on_progress:
                on_progress(done, len(data))

        return evaluate(lm, planned, data, batch_size=default_batch_size(lm.device),
                        data=str(TEST_SET), on_batch=step)
