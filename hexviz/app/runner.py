"""The app's engine side: a `RunRequest` in, a stream of `Run` snapshots out.

The UI receives a `Runner` as an argument (``build_demo(runner=...)``) and never decodes itself;
tests pass a fake runner. `LocalRunner` serves requests; its models come from a `ModelShelf`
(`loading`) and, on a ZeroGPU Space, its decodes run under ``spaces.GPU`` (`zerogpu`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from hexviz import limits
from hexviz.app.loading import BUILTIN_LABEL, ModelShelf
from hexviz.app.zerogpu import zero_gpu
from hexviz.decode.rules import RULE_NAMES
from hexviz.decode.settings import (CACHE_MODES, DecodeConfig, Expert, baseline_experts,
                                    hex_experts, parse_blocks, resolve_lengths)
from hexviz.evaluate import EvalResults, default_batch_size, eval_experts, evaluate, read_problems
from hexviz.models.meta import ModelDefaults
from hexviz.paths import TEST_SET
from hexviz.runs.record import Run

WARM_UP_PROMPT = "Tom has 5 apples. He buys 3 more. How many apples does Tom have now?"

ProgressFn = Callable[[int, int], None]  # (problems done, problems in all)


@dataclass(frozen=True)
class RunRequest:
    """Everything the Explore view sends to the engine, checked when it is made."""

    prompt: str
    model: str = BUILTIN_LABEL
    blocks: tuple[int, ...] | None = None  # None: the HEX set for gen_length
    remasking: str = "low_confidence"
    gen_length: int | None = None  # None: the model's default
    steps: int | None = None  # None: the model's default, or gen_length when that is given
    temperature: float = 0.0
    seeds: int = 1
    forbid_end_of_text: bool = False
    end_tokens_last: bool = False
    baselines: bool = True
    cache: str = "none"  # none (exact), prefix or dual: Fast-dLLM's block KV cache

    def __post_init__(self) -> None:
        limits.check_prompt(self.prompt)  # empty, too long to tokenize, control characters
        if self.cache not in CACHE_MODES:
            raise ValueError(f"unknown cache mode {self.cache!r}; choose one of "
                             f"{', '.join(CACHE_MODES)}")
        if self.blocks is not None:
            object.__setattr__(self, "blocks", parse_blocks(self.blocks))
        if self.remasking not in RULE_NAMES:
            raise ValueError(f"unknown remasking rule {self.remasking!r}; "
                             f"choose one of {', '.join(RULE_NAMES)}")
        for name in ("gen_length", "steps"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be a positive integer (got {value})")
        if self.seeds < 1:
            raise ValueError(f"seeds must be at least 1 (got {self.seeds})")
        if not 0 <= self.temperature < float("inf"):
            raise ValueError(f"temperature must be a finite number >= 0 "
                             f"(got {self.temperature!r})")


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
        if not 0 <= self.step < self.run.config.steps:
            raise ValueError(f"a fork starts at a step from 0 to {self.run.config.steps - 1} "
                             f"(got {self.step})")
        if not self.run.complete:
            raise ValueError("wait for the run to finish before forking it")

    def expert_after(self) -> Expert:
        """The expert that decodes the fork's remaining steps."""
        e = self.run.trajectories[self.expert].expert
        block = self.block_length or e.block_length
        return Expert(block, self.remasking or e.remasking, e.seed,
                      e.temperature if self.temperature is None else self.temperature,
                      e.votes or block != e.block_length)


class LocalRunner:
    """Serves the app's requests in this process: decodes, forks, candidates and live evals,
    with models from its `ModelShelf`; on a ZeroGPU Space each call runs under ``spaces.GPU``."""

    def __init__(self, models: dict[str, str] | None = None, trust_remote_code: bool | None = None,
                 snapshot_every: int = 8) -> None:
        self.shelf = ModelShelf(models, trust_remote_code)
        self.snapshot_every = snapshot_every
        self._gpu_decode = zero_gpu(self._decode)
        self._gpu_fork = zero_gpu(self._fork)
        self._gpu_redo = zero_gpu(self._redo)
        self._gpu_candidates = zero_gpu(lambda args: iter([self._candidates(*args)]))

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
        """Load ``label`` (default: the first model) and decode one step in a background
        thread, so the UI is up at once and the first Run finds the model and kernels warm."""
        return self.shelf.preload(label or self.shelf.labels()[0], self._warm)

    def _warm(self, label: str) -> None:
        runs = self._decode(RunRequest(WARM_UP_PROMPT, model=label))  # never a GPU call
        next(runs)  # step 1: tokenizer, forward kernels, snapshot path
        runs.close()

    def run(self, request: RunRequest) -> Iterator[Run]:
        """Yield a partial run after step 1 (a first figure at once), then every
        ``snapshot_every`` steps, then the finished run."""
        if self._gpu_decode is not None:
            yield from self._gpu_decode(request)
        else:
            yield from self._decode(request)

    def _decode(self, request: RunRequest) -> Iterator[Run]:
        from hexviz.decode.engine import iter_decode

        lm = self.shelf.get(request.model)
        gen_length, steps = resolve_lengths(request.gen_length, request.steps,
                                            lm.defaults.gen_length, lm.defaults.steps,
                                            request.blocks)
        config = DecodeConfig(gen_length, steps, request.forbid_end_of_text,
                              request.end_tokens_last, cache=request.cache)
        experts = hex_experts(gen_length, request.blocks, request.remasking, request.seeds,
                              request.temperature)
        if request.baselines:
            experts += baseline_experts(gen_length, request.remasking, request.temperature)
        limits.check_decode(gen_length, steps, len(experts))
        prompt_ids = lm.format_prompt(request.prompt)
        limits.check_prompt_tokens(len(prompt_ids))
        for progress in iter_decode(lm, [prompt_ids], experts, config,
                                    prompt_texts=[request.prompt]):
            if (progress.step in (1, progress.steps)
                    or progress.step % self.snapshot_every == 0):
                yield progress.runs()[0]

    def _model_of(self, run: Run, label: str):
        lm = self.shelf.get(label)
        if Path(lm.name).name != Path(run.model).name:
            raise ValueError(f"this run was decoded by {Path(run.model).name!r}, and the model "
                             f"picked is {label!r}; forking needs the run's own model")
        return lm

    def fork(self, request: ForkRequest) -> Iterator[Run]:
        """Decode the fork's remaining steps; yields the finished fork, a one-expert run."""
        yield from (self._gpu_fork or self._fork)(request)

    def _fork(self, request: ForkRequest) -> Iterator[Run]:
        from hexviz.decode.engine import Resume, iter_decode

        run = request.run
        limits.check_decode(run.config.gen_length, run.config.steps, 1)  # an upload may be forked
        limits.check_prompt_tokens(len(run.prompt_ids))
        lm = self._model_of(run, request.model)
        resume = Resume(request.step, [run.trajectories[request.expert]], [request.force])
        *_, progress = iter_decode(lm, [run.prompt_ids], [request.expert_after()], run.config,
                                   run.answer_format, [run.prompt], resume=resume)
        yield progress.runs()[0]

    def redo(self, run: Run, model: str, cache: str) -> Iterator[Run]:
        """``run``'s prompt and experts decoded again with another cache mode (Compare: exact
        against cached); yields the finished run, whose ``config.cache`` says what it ran with
        (``none`` for a model without a cache)."""
        yield from (self._gpu_redo or self._redo)(run, model, cache)

    def _redo(self, run: Run, model: str, cache: str) -> Iterator[Run]:
        from hexviz.decode.engine import iter_decode

        experts = [t.expert for t in run.trajectories]
        limits.check_decode(run.config.gen_length, run.config.steps, len(experts))
        limits.check_prompt_tokens(len(run.prompt_ids))
        lm = self._model_of(run, model)
        *_, progress = iter_decode(lm, [run.prompt_ids], experts,
                                   replace(run.config, cache=cache), run.answer_format,
                                   [run.prompt])
        yield progress.runs()[0]

    def candidates(self, model: str, run: Run, expert: int, step: int, position: int,
                   k: int = 8) -> list[tuple[int, str, float]]:
        """The model's top ``k`` tokens at ``position`` on the expert's canvas after ``step``:
        (token id, text, probability), best first."""
        args = (model, run, expert, step, position, k)
        if self._gpu_candidates is not None:
            return self._gpu_candidates(args)[0]
        return self._candidates(*args)

    def _candidates(self, model: str, run: Run, expert: int, step: int, position: int,
                    k: int) -> list[tuple[int, str, float]]:
        from hexviz.decode.engine import top_candidates

        lm = self._model_of(run, model)
        t = run.trajectories[expert]
        answer = [int(i) if 0 <= s < step else lm.mask_id
                  for i, s in zip(t.token_ids, t.reveal_step, strict=True)]
        return top_candidates(lm, run.prompt_ids, answer, position, k)

    def evaluate(self, model: str, problems: int, seeds: int, temperature: float,
                 on_progress: ProgressFn | None = None) -> EvalResults:
        """A small live eval on the built-in test set (the Scaling tab)."""
        limits.check_eval_problems(problems)
        lm = self.shelf.get(model)
        config = DecodeConfig(lm.defaults.gen_length, lm.defaults.steps)
        experts = eval_experts(config.gen_length, None, "low_confidence", seeds, temperature)
        limits.check_decode(config.gen_length, config.steps, len(experts))
        data = read_problems(TEST_SET, problems)
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if on_progress:
                on_progress(done, len(data))

        return evaluate(lm, data, experts, config, batch_size=default_batch_size(lm.device),
                        data=str(TEST_SET), on_batch=step)
