"""bench/gpu_bench.py: its FLOP count, and its CPU smoke run (the path a GPU-less machine takes)."""

from __future__ import annotations

import importlib.util
import sys

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from hexviz.models.llada import LLaDAConfig
from tests.conftest import REPO

spec = importlib.util.spec_from_file_location("gpu_bench", REPO / "bench" / "gpu_bench.py")
gpu_bench = importlib.util.module_from_spec(spec)
sys.modules["gpu_bench"] = gpu_bench  # dataclasses look the module up while it loads
spec.loader.exec_module(gpu_bench)


def test_flop_formula_matches_torchs_counter():
    config = LLaDAConfig(**gpu_bench.TINY_CONFIG)
    lm = gpu_bench.build_lm(config, torch.device("cpu"), torch.float32)
    ids = torch.randint(0, 400, (3, 20))
    # The math backend spells attention as matrix products, which the counter sees (it misses
    # the fused CPU kernel).
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        lm.logits(ids, keep=8)
    assert gpu_bench.llada_forward_flops(config, 3, 20, 8) == counter.get_total_flops()


def test_window_flop_formula_matches_torchs_counter():
    from hexviz.models.kvcache import Window

    config = LLaDAConfig(**gpu_bench.TINY_CONFIG)
    lm = gpu_bench.build_lm(config, torch.device("cpu"), torch.float32)
    ids = torch.randint(0, 400, (3, 20))
    cache = lm.forward_window(ids, None, Window.full(3, 20), None, 8).cache
    window = Window(torch.tensor([12, 14, 16]), torch.tensor([16, 20, 20]))
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        out = lm.forward_window(ids, None, window, cache, 8)
    assert int(window.width.sum()) == len(out.rows) == 14  # every window is in the last 8
    assert gpu_bench.llada_window_flops(config, 14, 20, 14) == counter.get_total_flops()


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU this is the full 8B bench")
@pytest.mark.slow
def test_gpu_bench_runs_a_cpu_smoke_run_without_cuda(capsys):
    assert gpu_bench.main(["--cases", "1,7,batch2"]) == 0
    out = capsys.readouterr().out
    assert "CUDA is not available" in out
    rows = [line.split(":")[0].strip() for line in out.splitlines() if "per step" in line]
    assert rows == ["1", "1+prefix", "1+dual", "7", "7+prefix", "7+dual", "batch2",
                    "batch2+prefix", "batch2+dual"]


@pytest.mark.slow
def test_gpu_bench_times_growing_canvases_beside_fixed_length(capsys):
    assert gpu_bench.main(["--cases", "1", "--caches", "none", "--lengths",
                           "fixed,daedal,rho-eos"]) == 0
    out = capsys.readouterr().out
    rows = {line.split(":")[0].strip(): line for line in out.splitlines() if "per step" in line}
    assert list(rows) == ["1", "1@daedal", "1@rho-eos"]
    assert " 32 steps" in rows["1"] and " 32 steps" not in rows["1@daedal"]
