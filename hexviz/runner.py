"""The app's engine side: a `RunRequest` in, a stream of `Run` snapshots out.

The UI receives a `Runner` as an argument (``build_demo(runner=...)``) and never decodes itself;
tests pass a fake runner. `LocalRunner` loads models lazily, caches them, lists only the models
the operator enabled and, on a ZeroGPU Space, decodes under ``spaces.GPU``.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hexviz import limits
from hexviz.config import (DecodeConfig, Expert, baseline_experts, hex_experts, parse_blocks,
                           resolve_lengths)
from hexviz.evaluate import EvalResults, default_batch_size, eval_experts, evaluate, read_problems
from hexviz.models.meta import ModelDefaults, read_defaults
from hexviz.paths import BUILTIN_DIR, TEST_SET
from hexviz.remasking import RULE_NAMES
from hexviz.trajectory import Run

BUILTIN_LABEL = "built-in tinygsm dLLM (CPU)"
EXTRA_MODELS_ENV = "HEXVIZ_MODELS"  # comma-separated ids/paths the operator enables
TRUST_REMOTE_CODE_ENV = "HEXVIZ_TRUST_REMOTE_CODE"
# Seconds of GPU a ZeroGPU call may hold. An estimate, not a measurement (no GPU was at hand):
# LLaDA-8B with K=5 experts + 2 baselines, gen_length 256, 256 steps and a 120-token prompt is
# about 10 PFLOP (bench/gpu_bench.py's llada_forward_flops), 20-35 s at 300-500 TFLOP/s of bf16;
# 120 s leaves room for a slower card share. 4 seeds or 512 tokens (~32 PFLOP) may need more.
GPU_DURATION_S = 120
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

    def __post_init__(self) -> None:
        limits.check_prompt(self.prompt)  # empty, too long to tokenize, control characters
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


def operator_models() -> dict[str, str]:
    """Picker label -> model id: the built-in model, plus what ``HEXVIZ_MODELS`` enables."""
    extra = [m.strip() for m in os.environ.get(EXTRA_MODELS_ENV, "").split(",") if m.strip()]
    return {BUILTIN_LABEL: "builtin", **{m: m for m in extra}}


def zero_gpu(decode: Callable[[RunRequest], Iterator[Run]]):
    """``decode`` under ``spaces.GPU`` on a ZeroGPU Space (a GPU call returns all snapshots at
    once: it cannot stream), or None where the ``spaces`` package is absent."""
    try:
        import spaces
    except ImportError:
        return None
    return spaces.GPU(duration=GPU_DURATION_S)(lambda request: list(decode(request)))


class LocalRunner:
    """Decodes in this process; models load on first use and stay cached."""

    def __init__(self, models: dict[str, str] | None = None, trust_remote_code: bool | None = None,
                 snapshot_every: int = 8) -> None:
        self.models = models or operator_models()
        if trust_remote_code is None:
            trust_remote_code = os.environ.get(TRUST_REMOTE_CODE_ENV) == "1"
        self.trust_remote_code = trust_remote_code
        self.snapshot_every = snapshot_every
        self._cache: dict[str, object] = {}
        self._lock = threading.Lock()
        self._gpu_decode = zero_gpu(self._decode)
        self._gpu_fork = zero_gpu(self._fork)
        self._gpu_candidates = zero_gpu(lambda args: iter([self._candidates(*args)]))
        self._loading: set[str] = set()

    def model_labels(self) -> list[str]:
        return list(self.models)

    def _model(self, label: str):
        from hexviz import models

        if label not in self.models:
            raise ValueError(f"unknown model {label!r}; this app offers {', '.join(self.models)}")
        with self._lock:  # one load per model, even when two users ask at once
            if label not in self._cache:
                self._cache[label] = models.load(self.models[label],
                                                 trust_remote_code=self.trust_remote_code)
            return self._cache[label]

    def _folder(self, label: str) -> Path:
        """Where ``label``'s files would be on disk (a hub id names no folder that exists)."""
        name = self.models.get(label)
        return BUILTIN_DIR if name == "builtin" else Path(str(name))

    def max_length(self, label: str) -> int | None:
        """Prompt + answer tokens the model allows, read from its config without loading it."""
        if label in self._cache:
            return self._cache[label].max_length
        try:
            d = json.loads((self._folder(label) / "config.json").read_text())
        except (OSError, ValueError):
            return None  # a hub id: unknown until loaded; the engine still checks
        return d.get("max_position_embeddings") or d.get("max_sequence_length")

    def defaults(self, label: str) -> ModelDefaults | None:
        """The model's decoding defaults, read without loading it; None when they are unknown
        until it loads (a hub id) or its hexviz.json is damaged (the Run then says so)."""
        if label in self._cache:
            return self._cache[label].defaults
        try:
            return read_defaults(self._folder(label))
        except (OSError, ValueError):
            return None

    def preload(self, label: str | None = None) -> threading.Thread:
        """Load ``label`` (default: the first model) and decode one step in a background
        thread, so the UI is up at once and the first Run finds the model and kernels warm.
        A Run that arrives earlier waits on the load lock (`is_loading` says so)."""
        label = label or next(iter(self.models))
        self._loading.add(label)
        thread = threading.Thread(target=self._warm, args=(label,), daemon=True,
                                  name=f"hexviz-preload-{label}")
        thread.start()
        return thread

    def _warm(self, label: str) -> None:
        try:
            runs = self._decode(RunRequest(WARM_UP_PROMPT, model=label))  # never a GPU call
            next(runs)  # step 1: tokenizer, forward kernels, snapshot path
            runs.close()
        except Exception:  # noqa: BLE001 - the Run that needs this model reports the error
            pass
        finally:
            self._loading.discard(label)

    def is_loading(self, label: str) -> bool:
        """Whether `preload` is still loading or warming ``label``."""
        return label in self._loading

    def run(self, request: RunRequest) -> Iterator[Run]:
        """Yield a partial run after step 1 (a first figure at once), then every
        ``snapshot_every`` steps, then the finished run."""
        if self._gpu_decode is not None:
            yield from self._gpu_decode(request)
        else:
            yield from self._decode(request)

    def _decode(self, request: RunRequest) -> Iterator[Run]:
        from hexviz.engine import iter_decode

        lm = self._model(request.model)
        gen_length, steps = resolve_lengths(request.gen_length, request.steps,
                                            lm.defaults.gen_length, lm.defaults.steps,
                                            request.blocks)
        config = DecodeConfig(gen_length, steps, request.forbid_end_of_text,
                              request.end_tokens_last)
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
        lm = self._model(label)
        if Path(lm.name).name != Path(run.model).name:
            raise ValueError(f"this run was decoded by {Path(run.model).name!r}, and the model "
                             f"picked is {label!r}; forking needs the run's own model")
        return lm

    def fork(self, request: ForkRequest) -> Iterator[Run]:
        """Decode the fork's remaining steps; yields the finished fork, a one-expert run."""
        yield from (self._gpu_fork or self._fork)(request)

    def _fork(self, request: ForkRequest) -> Iterator[Run]:
        from hexviz.engine import Resume, iter_decode

        run = request.run
        limits.check_decode(run.config.gen_length, run.config.steps, 1)  # an upload may be forked
        limits.check_prompt_tokens(len(run.prompt_ids))
        lm = self._model_of(run, request.model)
        resume = Resume(request.step, [run.trajectories[request.expert]], [request.force])
        *_, progress = iter_decode(lm, [run.prompt_ids], [request.expert_after()], run.config,
                                   run.answer_format, [run.prompt], resume=resume)
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
        from hexviz.engine import top_candidates

        lm = self._model_of(run, model)
        t = run.trajectories[expert]
        answer = [int(i) if 0 <= s < step else lm.mask_id
                  for i, s in zip(t.token_ids, t.reveal_step, strict=True)]
        return top_candidates(lm, run.prompt_ids, answer, position, k)

    def evaluate(self, model: str, problems: int, seeds: int, temperature: float,
                 on_progress: ProgressFn | None = None) -> EvalResults:
        """A small live eval on the built-in test set (the Scaling tab)."""
        limits.check_eval_problems(problems)
        lm = self._model(model)
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
