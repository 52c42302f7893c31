"""Benchmark (not a test): K experts batched vs K sequential runs vs one expert alone.

    python bench/engine_bench.py [--model PATH_OR_ID] [--gen-length 64] [--steps 64] [--repeats 5]
                                 [--problems 20]

All three are timed in the same process on the same model and prompt, so the ratios are
comparable on any machine; the median of ``--repeats`` runs is reported. Then the engine's two
exact savings: the share of rows it computed (experts whose canvases are still equal share a
row) and one forward pass of all positions vs the answer region only.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from hexviz import models
from hexviz.decode.assemble import decode
from hexviz.eval.batch import read_problems
from hexviz.paths import TEST_SET
from hexviz.policy.settings import DecodeConfig, hex_experts, resolve_lengths

PROMPT = "Tom has 5 apples. He buys 3 more. He gives 2 to Mia. How many apples does Tom have now?"


def median_seconds(fn, repeats: int) -> float:
    return interleaved_seconds([fn], repeats, calls=1)[0]


def interleaved_seconds(fns, rounds: int, calls: int = 20) -> list[float]:
    """Median seconds per call of each function, timed in alternating rounds so that a machine
    whose speed drifts slows them alike."""
    times = [[] for _ in fns]
    for fn in fns:
        fn()  # warm-up
    for _ in range(rounds):
        for fn, spent in zip(fns, times):
            tic = time.perf_counter()
            for _ in range(calls):
                fn()
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            spent.append((time.perf_counter() - tic) / calls)
    return [statistics.median(spent) for spent in times]


def distinct_canvases(run) -> list[int]:
    """Per step, how many different answer canvases the experts decoded from."""
    return [len({tuple(np.where(t.reveal_step < step, t.token_ids, -1))
                 for t in run.trajectories}) for step in range(run.steps_done)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--gen-length", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--problems", type=int, default=20, help="test problems for row sharing")
    args = parser.parse_args()
    lm = models.load(args.model)
    gen_length, steps = resolve_lengths(args.gen_length, args.steps, lm.defaults.gen_length,
                                        lm.defaults.steps)
    config = DecodeConfig(gen_length, steps)
    experts = hex_experts(gen_length)
    prompt = lm.format_prompt(PROMPT)

    batched = median_seconds(lambda: decode(lm, prompt, experts, config), args.repeats)
    sequential = median_seconds(lambda: [decode(lm, prompt, [e], config) for e in experts],
                                args.repeats)
    single = median_seconds(lambda: decode(lm, prompt, experts[:1], config), args.repeats)
    k = len(experts)
    print(f"model {lm.name} on {lm.device} ({torch.get_num_threads()} threads), "
          f"gen_length {gen_length}, steps {config.steps}, K={k} experts "
          f"{[e.block_length for e in experts]}")
    print(f"  one expert alone      {single * 1e3:8.1f} ms")
    print(f"  K experts batched     {batched * 1e3:8.1f} ms  = {batched / single:.2f}x one expert")
    print(f"  K experts sequential  {sequential * 1e3:8.1f} ms  = {sequential / single:.2f}x one expert")
    print(f"  batching speed-up     {sequential / batched:.2f}x (sequential / batched)")

    questions = [p.question for p in read_problems(TEST_SET, args.problems)]
    rows = [n for q in questions
            for n in distinct_canvases(decode(lm, lm.format_prompt(q), experts, config))]
    print(f"  rows computed         {sum(rows)} of {k * len(rows)} "
          f"({sum(rows) / (k * len(rows)):.1%}; on {len(questions)} test problems; "
          "equal canvases share a forward pass)")
    canvas = torch.tensor([prompt + [lm.mask_id] * gen_length] * k, device=lm.device)
    every, answer = interleaved_seconds(
        [lambda: lm.logits(canvas), lambda: lm.logits(canvas, keep=gen_length)], 5 * args.repeats)
    print(f"  forward, {k} rows      {every * 1e3:8.1f} ms all positions, {answer * 1e3:.1f} ms "
          f"answer region only ({lm.tail_forward}) = {answer / every:.2f}x")


if __name__ == "__main__":
    main()
