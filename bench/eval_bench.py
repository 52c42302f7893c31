"""Benchmark (not a test): HEX eval throughput on the built-in test set.

    python bench/eval_bench.py [--model PATH_OR_ID] [--problems 32] [--batch-sizes 1,4,16]

Prints, for each batch size (problems per forward pass): problems per second for HEX eval
(K experts, batched), time per forward pass, and peak memory; then the ratio of HEX (K experts
batched) to a single expert on the same problems. All figures come from one run on one machine.
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from hexviz import models
from hexviz.decode.plan import Settings, plan
from hexviz.eval.batch import evaluate, read_problems
from hexviz.paths import TEST_SET


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def timed_eval(lm, hex_plan, problems, batch_size) -> float:
    tic = time.perf_counter()
    evaluate(lm, hex_plan, problems, batch_size)
    if lm.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - tic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--data", default=str(TEST_SET))
    parser.add_argument("--problems", type=int, default=32)
    parser.add_argument("--batch-sizes", default="1,4,16")
    args = parser.parse_args()
    lm = models.load(args.model)
    problems = read_problems(args.data, args.problems)
    hex_plan = plan(lm, problems, Settings(baselines=False))  # HEX experts, the model's lengths
    config, experts = hex_plan.config, hex_plan.experts
    evaluate(lm, hex_plan, problems, 2, indices=[0, 1])  # warm-up
    print(f"model {lm.name} on {lm.device} ({torch.get_num_threads()} threads); "
          f"{len(problems)} problems, K={len(experts)} experts "
          f"{[e.block_length for e in experts]}, steps {config.steps}")
    for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
        seconds = timed_eval(lm, hex_plan, problems, batch_size)
        passes = -(-len(problems) // batch_size) * config.steps
        print(f"  batch {batch_size:>3}: {len(problems) / seconds:6.2f} problems/s, "
              f"{seconds / passes * 1e3:7.1f} ms per forward pass "
              f"({batch_size * len(experts)} rows), peak memory {peak_memory_mb(lm.device):.0f} MB")
    batch = max(int(b) for b in args.batch_sizes.split(","))
    hex_s = timed_eval(lm, problems, experts, config, batch)
    one_s = timed_eval(lm, problems, experts[:1], config, batch)
    print(f"  HEX (K={len(experts)}, batched) / one expert at batch {batch}: "
          f"{hex_s / one_s:.2f}x the time ({hex_s:.1f} s vs {one_s:.1f} s)")


if __name__ == "__main__":
    main()
