"""ZeroGPU: on a Hugging Face ZeroGPU Space a decode runs under ``spaces.GPU``; elsewhere (no
``spaces`` package) the runner decodes in place."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
# Seconds of GPU a ZeroGPU call may hold. An estimate, not a measurement (no GPU was at hand):
# LLaDA-8B with K=5 experts + 2 baselines, gen_length 256, 256 steps and a 120-token prompt is
# about 10 PFLOP (bench/gpu_bench.py's llada_forward_flops), 20-35 s at 300-500 TFLOP/s of bf16;
# 120 s leaves room for a slower card share. 4 seeds or 512 tokens (~32 PFLOP) may need more.
GPU_DURATION_S = 120


def zero_gpu(decode: Callable[..., Iterator[T]]) -> Callable[..., list[T]] | None:
    """``decode`` under ``spaces.GPU`` on a ZeroGPU Space (a GPU call returns all snapshots at
    once: it cannot stream), or None where the ``spaces`` package is absent."""
    try:
        import spaces
    except ImportError:
        return None
    return spaces.GPU(duration=GPU_DURATION_S)(lambda *args: list(decode(*args)))
