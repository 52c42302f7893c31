"""Benchmark (not a test): how close decoding runs to this machine's matrix-multiply floor.

    python bench/floor_bench.py [--model PATH_OR_ID] [--threads N] [--repeats 3] [--problems 4]
                                [--eval-problems 16] [--processes 2]

Everything is measured in one run, so the ratios hold on a machine whose speed drifts:

1. The machine's throughput: ``F.linear`` replaying exactly the linear-layer calls (shapes and
   counts, captured with hooks) of the decode, in FLOP/s: the floor the decoder is measured by.
   It is timed right before each timed decode, so both see the same machine.
2. The default HEX run of the app (K=5 experts + 3 whole-answer baselines, snapshots as the app
   takes them) and the eval's batch (5 experts + 3 baselines, the eval's default batch size),
   each exact and with the prefix and dual block KV cache (``--cache``; ``--caches none`` for
   exact only), and each cached run's speed-up over exact in the same round:
   (a) model FLOP/s achieved over the whole decode (FLOPs counted by torch's FlopCounterMode in a
   separate run of the same decode) and its ratio to the throughput above;
   (b) the share of wall time outside the model's forward pass, split into snapshots (building
   `Run`s) and the rest of the loop (proposal, scoring, selection, recording).
3. Eval problems/s as one process with all threads vs N processes of one thread each under
   ``accelerate launch`` (``--processes 0`` skips it); wall time of the whole command, start-up
   and model loading included, since that is what a user waits for.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

REPO = Path(__file__).resolve().parents[1]
from hexviz import models
from hexviz.app.runner import LocalRunner, RunRequest
from hexviz.decode import assemble
from hexviz.decode.plan import Settings, plan
from hexviz.eval.batch import default_batch_size, evaluate, read_problems
from hexviz.paths import TEST_SET

PROMPT = "Tom has 5 apples. He buys 3 more. He gives 2 to Mia. How many apples does Tom have now?"


class Meter:
    """Wall time spent in the model's forward pass and in snapshots, by wrapping both; and the
    (rows, in, out) shape of every linear-layer call while ``shapes`` is a Counter."""

    def __init__(self, lm) -> None:
        self.forward_s = self.snapshot_s = 0.0
        self.shapes: Counter | None = None
        untimed_assemble = assemble.assemble

        def timed(forward):
            def timed_forward(*args, **kwargs):
                tic = time.perf_counter()
                out = forward(*args, **kwargs)
                self.forward_s += time.perf_counter() - tic
                return out
            return timed_forward

        def timed_assemble(*args, **kwargs):
            tic = time.perf_counter()
            out = untimed_assemble(*args, **kwargs)
            self.snapshot_s += time.perf_counter() - tic
            return out

        # instance attributes shadow the methods: the exact forward and the cached window one
        lm.logits, lm.forward_window = timed(lm.logits), timed(lm.forward_window)
        assemble.assemble = timed_assemble  # iter_runs' snapshots look it up here
        for module in lm.model.modules():
            if isinstance(module, torch.nn.Linear):
                module.register_forward_hook(self._record_shape)

    def _record_shape(self, module, inputs, _output) -> None:
        if self.shapes is not None:
            x = inputs[0]
            self.shapes[(x.numel() // x.shape[-1], module.in_features, module.out_features)] += 1

    def reset(self) -> None:
        self.forward_s = self.snapshot_s = 0.0


def linear_throughput(shapes: Counter, calls: int = 10) -> float:
    """FLOP/s of ``F.linear`` replaying a decode's linear calls: each (rows, in, out) shape timed
    over ``calls`` calls and weighted by how often the decode made it."""
    flops = spent = 0.0
    for (m, k, n), count in shapes.items():
        x, w = torch.randn(m, k), torch.randn(n, k)
        F.linear(x, w)  # warm-up
        tic = time.perf_counter()
        for _ in range(calls):
            F.linear(x, w)
        spent += count * (time.perf_counter() - tic) / calls
        flops += count * 2 * m * k * n
    return flops / spent


def counted_flops(fn) -> float:
    """The matrix-product FLOPs of ``fn()``, attention's included: its math backend spells
    attention as matrix products, which the counter sees (it misses the fused CPU kernel)."""
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def measure(name: str, fn, meter: Meter, repeats: int) -> dict[str, float]:
    """Each round times the floor (replaying ``fn``'s own linear calls) right before ``fn``,
    so a machine whose speed drifts moves both; the round with the median ratio is kept."""
    meter.shapes = Counter()
    fn()  # warm-up, and the linear calls to replay
    shapes, meter.shapes = meter.shapes, None
    flops = counted_flops(fn)
    rounds = []
    for _ in range(repeats):
        floor = linear_throughput(shapes)
        meter.reset()
        tic = time.perf_counter()
        fn()
        wall = time.perf_counter() - tic
        rounds.append({"name": name, "wall": wall, "forward": meter.forward_s,
                       "snapshot": meter.snapshot_s, "flops": flops, "floor": floor,
                       "calls": sum(shapes.values())})
    rounds.sort(key=lambda r: r["flops"] / r["wall"] / r["floor"])
    return rounds[len(rounds) // 2]


def report(result: dict[str, float]) -> None:
    wall, forward, snap, floor = (result[k] for k in ("wall", "forward", "snapshot", "floor"))
    achieved = result["flops"] / wall
    rest = wall - forward - snap
    print(f"  {result['name']}: {wall * 1e3:.0f} ms, {result['flops'] / 1e9:.2f} GFLOP; floor "
          f"{floor / 1e9:.1f} GFLOP/s (F.linear replaying its {result['calls']} linear calls)")
    print(f"    (a) achieved {achieved / 1e9:.1f} GFLOP/s = {achieved / floor:.0%} of the "
          f"measured throughput ({result['flops'] / forward / floor:.0%} inside the forward)")
    print(f"    (b) outside the forward {(wall - forward) / wall:.1%} of wall time "
          f"(snapshots {snap / wall:.1%}, loop {rest / wall:.1%})")


def eval_wall_seconds(processes: int, threads: int, problems: int) -> float:
    """Seconds for ``hexviz eval --limit problems`` (whole command) in fresh processes."""
    env = os.environ | {"OMP_NUM_THREADS": str(threads)}
    eval_args = ["-m", "hexviz", "eval", "--limit", str(problems)]
    if processes == 1:
        command = [sys.executable, *eval_args]
    else:
        command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
                   "--num_processes", str(processes), "--num_machines", "1",
                   "--mixed_precision", "no", "--dynamo_backend", "no", *eval_args]
    tic = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True)
    return time.perf_counter() - tic


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="torch threads for steps 1-2 (default: every core)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--problems", type=int, default=4, help="test problems in the eval batch")
    parser.add_argument("--eval-problems", type=int, default=16, help="problems for step 3")
    parser.add_argument("--processes", type=int, default=os.cpu_count(),
                        help="N for step 3; 0 skips it")
    parser.add_argument("--caches", default="none,prefix,dual",
                        help="cache modes measured in step 2 (comma-separated)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    runner = LocalRunner({"model": args.model or models.BUILTIN})
    lm = runner.shelf.get("model")
    meter = Meter(lm)
    caches = [c.strip() for c in args.caches.split(",") if c.strip()]
    problems = read_problems(TEST_SET, args.problems)
    eval_plan = plan(lm, problems, Settings())  # eval's experts: HEX and the baselines
    config, experts = eval_plan.config, eval_plan.experts
    batch = default_batch_size(lm.device)

    def app_run(cache: str):
        request = RunRequest(PROMPT, model="model", cache=cache)  # the app's defaults
        return lambda: list(runner.run(request))

    def eval_batch(cache: str):
        cached = replace(eval_plan, config=replace(config, cache=cache))
        return lambda: evaluate(lm, cached, problems, batch)

    jobs = {"app's default HEX run (K=5 + 3 baselines)": app_run,
            f"eval, {len(problems)} problems, batch {batch} ({len(experts)} rows per problem)":
                eval_batch}
    results = {(name, cache): measure(f"{name}, cache {cache}", job(cache), meter, args.repeats)
               for name, job in jobs.items() for cache in caches}
    print(f"model {lm.name} on {lm.device}, {torch.get_num_threads()} threads, "
          f"gen_length {config.gen_length}, steps {config.steps}; median of {args.repeats} "
          "rounds")
    for (name, cache), result in results.items():
        report(result)
        exact = results.get((name, "none"))
        if cache != "none" and exact is not None:
            print(f"    (d) {exact['wall'] / result['wall']:.2f}x the speed of exact decoding "
                  f"(wall, medians of the same rounds); {result['flops'] / exact['flops']:.0%} "
                  "of its FLOPs")

    if args.processes:
        n = args.processes
        one = eval_wall_seconds(1, args.threads, args.eval_problems)
        many = eval_wall_seconds(n, 1, args.eval_problems)
        print(f"  (c) eval of {args.eval_problems} problems, whole command: "
              f"1 process x {args.threads} threads {args.eval_problems / one:.2f} problems/s "
              f"({one:.1f} s); {n} processes x 1 thread (accelerate) "
              f"{args.eval_problems / many:.2f} problems/s ({many:.1f} s)")


if __name__ == "__main__":
    main()
