"""Decoding on a Hugging Face ZeroGPU Space: a run in GPU calls of a few snapshots each.

A ZeroGPU Space holds a GPU only inside functions decorated with ``spaces.GPU``, each call for
at most the seconds it asks for. One call per run would hand the page every snapshot at once,
when the run is over, and ask for the longest run's time. Here a run is decoded in chunks of
steps, one GPU call each; the next call resumes from the last snapshot (the engine's
``Resume``: exact, since each step's noise depends on (seed, step) alone), so the page updates
while the GPU works. Each call asks for the seconds its chunk needs, estimated from the model's
FLOPs per step (`ForwardCost`, the formula of bench/gpu_bench.py), and a run whose calls would
ask for more than the Space allows (HEXVIZ_MAX_GPU_S) is refused before any GPU is asked for.

Where ``spaces`` is installed but ZeroGPU is not active (a CPU Space, a laptop), `spaces_gpu`
says so once in the log and decoding runs in this process, streaming as on any CPU.
No torch at import.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from hexviz import limits
from hexviz.runs.record import Run, Trajectory

SPACES_ZERO_GPU_ENV = "SPACES_ZERO_GPU"  # set by a ZeroGPU Space, read by `spaces` itself
FALLBACK_MESSAGE = ("hexviz: ZeroGPU is not active (the spaces package is installed, "
                    f"{SPACES_ZERO_GPU_ENV} is not set): decoding runs in this process")
# The longest call hexviz asks ZeroGPU for: ZeroGPU's own default duration. Chunks are far
# shorter; only a single step (or a fork) this long is refused.
MAX_CALL_S = 60
_said: set[str] = set()


@dataclass(frozen=True)
class Budget:
    """Assumptions behind a call's duration. Not measured: no GPU has run hexviz yet
    (bench/README.md, GPU bench); re-derive them from ``gpu_bench.py``'s seconds per step."""

    tflops: float = 300.0  # model FLOP/s reached on a ZeroGPU H200 slice (30% of bf16 peak)
    call_overhead_s: float = 5.0  # scheduling, a cold worker's CUDA start and weights, transfer
    safety: float = 1.5  # a slower card share: ZeroGPU stops a call that outlasts its duration
    call_target_s: float = 5.0  # decoding per call: the page updates about this often

    def __post_init__(self) -> None:
        for name in ("tflops", "safety", "call_target_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive (got {getattr(self, name)})")
        if self.call_overhead_s < 0:
            raise ValueError(f"call_overhead_s must be >= 0 (got {self.call_overhead_s})")


@dataclass(frozen=True)
class ForwardCost:
    """Matrix-multiply FLOPs of one forward pass (2 per multiply-add), from a model's shapes."""

    body_params: int  # linear-layer weights that run at every position
    head_params: int  # the output layer's weights, run at the ``keep`` answer positions only
    layers: int
    width: int  # attention width (d_model)

    def flops(self, rows: int, length: int, keep: int) -> int:
        """``rows`` sequences of ``length`` tokens, logits at the last ``keep`` positions: the
        linear layers and attention's two products (QK^T, AV) everywhere, the head at ``keep``."""
        per_position = 2 * self.body_params + 4 * self.layers * length * self.width
        return rows * (length * per_position + 2 * keep * self.head_params)


def forward_cost(model: Any) -> ForwardCost:
    """The `ForwardCost` of a transformers model (any module with a ``config``): its
    ``nn.Linear`` weights, the output embeddings as the head (else the widest linear layer)."""
    import torch

    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no linear layers to count")
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if not isinstance(head, torch.nn.Linear):
        head = max(linears, key=lambda m: m.out_features)
    config = model.config
    layers = next((getattr(config, k) for k in ("num_hidden_layers", "n_layers")
                   if getattr(config, k, None)), 0)
    width = next((getattr(config, k) for k in ("hidden_size", "d_model")
                  if getattr(config, k, None)), head.in_features)
    body = sum(m.weight.numel() for m in linears if m is not head)
    return ForwardCost(body, head.weight.numel(), int(layers), int(width))


@dataclass(frozen=True)
class GpuPlan:
    """One run's GPU calls: chunks of ``chunk_steps`` steps, each asking for its estimate."""

    steps: int
    chunk_steps: int
    step_s: float  # estimated GPU seconds of one step (all rows)
    budget: Budget = Budget()

    def __post_init__(self) -> None:
        if not 1 <= self.chunk_steps <= self.steps:
            raise ValueError(f"chunk_steps must be from 1 to steps={self.steps} "
                             f"(got {self.chunk_steps})")
        if self.step_s < 0:
            raise ValueError(f"step_s must be >= 0 (got {self.step_s})")

    def chunks(self) -> list[tuple[int, int]]:
        """(first step, step after the last) of each call, in order; together all steps."""
        return [(s, min(s + self.chunk_steps, self.steps))
                for s in range(0, self.steps, self.chunk_steps)]

    def duration_s(self, start: int, stop: int) -> int:
        """Seconds the call decoding steps ``start`` to ``stop`` asks for."""
        b = self.budget
        return math.ceil(b.call_overhead_s + b.safety * (stop - start) * self.step_s)

    @property
    def total_s(self) -> int:
        return sum(self.duration_s(*chunk) for chunk in self.chunks())


def step_seconds(cost: ForwardCost, rows: int, prompt_tokens: int, gen_length: int,
                 budget: Budget) -> float:
    """Estimated GPU seconds of one decoding step: one forward pass of every row."""
    return cost.flops(rows, prompt_tokens + gen_length, gen_length) / (budget.tflops * 1e12)


def call_seconds(cost: ForwardCost, rows: int, prompt_tokens: int, gen_length: int, steps: int,
                 budget: Budget = Budget()) -> int:
    """The duration one call of ``steps`` steps asks for (a fork, the candidates), or
    `LimitError` when that is more than a ZeroGPU call may ask for."""
    step_s = step_seconds(cost, rows, prompt_tokens, gen_length, budget)
    seconds = GpuPlan(steps, steps, step_s, budget).duration_s(0, steps)
    if seconds > MAX_CALL_S:
        raise limits.LimitError(f"this needs about {seconds} s of GPU in one call, more than "
                                f"the {MAX_CALL_S} s a ZeroGPU call may ask for")
    return seconds


def plan_run(cost: ForwardCost, rows: int, prompt_tokens: int, gen_length: int, steps: int,
             snapshot_every: int, budget: Budget = Budget(),
             lim: limits.Limits | None = None, whole: bool = False) -> GpuPlan:
    """The GPU calls for a run of ``rows`` experts, or `LimitError` (before any call is made)
    when one call cannot fit or all calls together exceed HEXVIZ_MAX_GPU_S.

    A chunk holds as many steps as ``budget.call_target_s`` of decoding allows, in whole
    snapshots (multiples of ``snapshot_every``) once that many fit, at least one step. With
    ``whole``, one call decodes every step: a parallel sampler's experts end at their own steps
    and a block cache refreshes at each new call, so those runs are not cut into pieces."""
    lim = lim or limits.current()
    step_s = step_seconds(cost, rows, prompt_tokens, gen_length, budget)
    fits = int(budget.call_target_s / step_s) if step_s > 0 else steps
    if fits >= snapshot_every:
        fits -= fits % snapshot_every
    plan = GpuPlan(steps, steps if whole else min(max(1, fits), steps), step_s, budget)
    first = plan.duration_s(*plan.chunks()[0])
    if first > MAX_CALL_S:
        what = "this run" if whole else "one step of this run"
        raise limits.LimitError(
            f"{what} needs about {first} s of GPU, more than the {MAX_CALL_S} s a ZeroGPU call "
            f"may ask for; use fewer block sizes, seeds or a shorter gen_length")
    calls = len(plan.chunks())
    if plan.total_s > lim.max_gpu_s:  # ZeroGPU would stop it part-way, or never start it
        raise limits.LimitError(
            f"this run would ask ZeroGPU for {plan.total_s} s of GPU ({calls} call"
            f"{'s' * (calls > 1)}; {rows} experts x {steps} steps of {gen_length} tokens); this "
            f"Space allows {lim.max_gpu_s:g} s a run (HEXVIZ_MAX_GPU_S); use fewer steps, block "
            f"sizes or seeds")
    return plan


@dataclass(frozen=True)
class GpuCall:
    """One call's arguments and the seconds it asks for (read by ``spaces.GPU(duration=)``)."""

    args: tuple
    duration_s: int


def call_duration(call: GpuCall) -> int:
    """``spaces.GPU``'s dynamic duration: called with the decorated function's arguments."""
    return call.duration_s


def on_gpu(gpu: Callable, fn: Callable) -> Callable[[GpuCall], Any]:
    """``fn(*call.args)`` under ``gpu`` (``spaces.GPU``), each call asking for its duration.
    Arguments and results cross to the GPU worker by pickling: runs, not tensors."""
    def task(call: GpuCall) -> Any:
        return fn(*call.args)

    task.__name__ = task.__qualname__ = f"gpu_{getattr(fn, '__name__', 'task')}"
    return gpu(duration=call_duration)(task)


def stream(decode_chunk: Callable[[GpuCall], Run], request: Any,
           plan: GpuPlan) -> Iterator[Run]:
    """A run in ``plan``'s GPU calls: ``decode_chunk`` gets GpuCall((request, start, stop,
    history), seconds) and returns the snapshot after step ``stop``, whose trajectories the
    next call resumes from. Yields each snapshot, timed over all calls so far."""
    history: Sequence[Trajectory] = ()
    elapsed = 0.0
    for start, stop in plan.chunks():
        run = decode_chunk(GpuCall((request, start, stop, tuple(history)),
                                   plan.duration_s(start, stop)))
        elapsed += run.timing.decode_s
        history = run.trajectories
        yield replace(run, timing=replace(run.timing, decode_s=elapsed))
        if run.complete:  # a parallel sampler's experts may all finish before the step cap
            return


def zerogpu_active(spaces_module: Any) -> bool:
    """Whether ``spaces`` runs on ZeroGPU: its own setting, else the variable it reads."""
    config = getattr(getattr(spaces_module, "config", None), "Config", None)
    if config is not None and hasattr(config, "zero_gpu"):
        return bool(config.zero_gpu)
    return os.environ.get(SPACES_ZERO_GPU_ENV, "").lower() in ("1", "t", "true")


def say_once(message: str) -> None:
    """One line on stderr (a Space's log), the first time only."""
    if message not in _said:
        _said.add(message)
        print(message, file=sys.stderr, flush=True)


def spaces_gpu() -> Callable | None:
    """``spaces.GPU`` on a ZeroGPU Space; None elsewhere: without ``spaces``, silently; with
    it installed but ZeroGPU inactive, saying so once (its GPU would be a no-op wrapper)."""
    try:
        import spaces
    except ImportError:
        return None
    if not zerogpu_active(spaces):
        say_once(FALLBACK_MESSAGE)
        return None
    return spaces.GPU
