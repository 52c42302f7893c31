"""Benchmark (not a test): HEX accuracy against forward passes for each sampler.

    python bench/sampler_bench.py [--problems 200] [--samplers fixed,threshold:0.9,...]

Decodes the first N problems of the built-in test set with the HEX experts (temperature 0, one
problem per forward pass, no baselines) once per sampler, and prints the frontier: HEX accuracy,
the mean expert's accuracy, and the row passes the vote cost (each voting expert's steps, summed:
what K experts cost decoded one by one; batched, equal rows share a pass and the batch's forward
passes are the slowest expert's steps). Then how the computed rows per step fall as experts
finish, and the app's default run timed with the fixed and the threshold sampler. Accuracies
and pass counts are exact; seconds are this machine's. On a shared machine, measure one sampler
per process (``--samplers X --frontier-only --out X.json``) and print the frontier of the stored
rows with ``--table *.json`` (``--out`` there writes the card's ``samplers.json``).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from hexviz import models
from hexviz.decode.assemble import decode
from hexviz.decode.plan import Settings, plan
from hexviz.eval.batch import evaluate, read_problems
from hexviz.eval.scoring import frontier_verdict, summarize
from hexviz.paths import TEST_SET
from hexviz.policy.settings import DecodeConfig, baseline_experts, hex_experts
from hexviz.tasks.tinygsm import FIRST_QUESTION

DEFAULT_SAMPLERS = ("fixed,threshold:0.95,threshold:0.9,threshold:0.8,threshold:0.7,factor:0.5,"
                    "factor:1,factor:2,bounded:0.9,entropy:0.1,entropy:0.5")


def frontier(lm, problems, samplers: list[str]) -> list[dict]:
    rows = []
    for spec in samplers:
        sampler_plan = plan(lm, problems, Settings(sampler=spec, baselines=False))
        tic = time.perf_counter()
        results = evaluate(lm, sampler_plan, problems, batch_size=1)
        seconds = time.perf_counter() - tic
        s = summarize(results)
        rows.append({"sampler": spec, "edit": results.config.edit,
                     "edit_scope": results.config.edit_scope, "problems": s.problems,
                     "hex": s.hex_accuracy, "mean": s.mean_expert_accuracy,
                     "vote_row_passes": s.vote_row_passes, "vote_steps": s.vote_steps,
                     "computed": results.row_passes / len(results.records),
                     "expert_steps": [e.steps for e in s.experts], "seconds": seconds})
        print(f"  {spec:<15} done in {seconds:6.1f} s", flush=True)
    return rows


def print_frontier(rows: list[dict], blocks: list[int]) -> None:
    fixed = next((r for r in rows if r["sampler"] == "fixed"), rows[0])
    print(f"\n{'sampler':<15} {'HEX':>6} {'mean expert':>12} {'vote row passes':>16} "
          f"{'vs fixed':>9} {'computed':>9} {'batched steps':>14}   steps per expert "
          f"(B={','.join(map(str, blocks))})")
    for r in rows:
        ratio = r["vote_row_passes"] / fixed["vote_row_passes"]
        steps = " ".join(f"{v:5.1f}" for v in r["expert_steps"])
        print(f"{r['sampler']:<15} {r['hex']:>6.1%} {r['mean']:>12.1%} "
              f"{r['vote_row_passes']:>16.1f} {ratio:>8.0%} {r['computed']:>9.1f} "
              f"{r['vote_steps']:>14.1f}   {steps}")
    # the target: a threshold or factor sampler within 2 points at <= 40% of the rows
    if any(r["sampler"] == "fixed" for r in rows):
        print(frontier_verdict(rows))


def rows_per_step(lm, problems, spec: str) -> None:
    """Mean rows computed at each step (equal rows once) and experts still decoding."""
    config = DecodeConfig.of_model(lm.defaults, sampler=spec)
    experts = hex_experts(config.gen_length)
    computed = np.zeros(config.step_cap)
    active = np.zeros(config.step_cap)
    for p in problems:
        run = decode(lm, lm.format_prompt(p.question), experts, config)
        computed[:len(run.timing.step_rows)] += run.timing.step_rows
        for t in run.trajectories:
            active[:t.steps_taken] += 1
    last = int(np.flatnonzero(active)[-1]) + 1
    marks = list(range(0, last, max(1, last // 12)))
    print(f"\nrows per step with {spec}, mean of {len(problems)} problems (K={len(experts)}):")
    print("  step             " + " ".join(f"{s:>5}" for s in marks))
    print("  experts decoding " + " ".join(f"{active[s] / len(problems):5.2f}" for s in marks))
    print("  rows computed    " + " ".join(f"{computed[s] / len(problems):5.2f}" for s in marks))


def app_default_time(lm, spec: str, repeats: int) -> float:
    """The app's default run: its first question, the model's lengths, HEX experts + baselines."""
    question = FIRST_QUESTION
    config = DecodeConfig.of_model(lm.defaults, sampler=spec)
    experts = hex_experts(config.gen_length) + baseline_experts(config.gen_length)
    prompt = lm.format_prompt(question)
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        decode(lm, prompt, experts, config, question=question)
        times.append(time.perf_counter() - tic)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--problems", type=int, default=200)
    parser.add_argument("--samplers", default=DEFAULT_SAMPLERS)
    parser.add_argument("--falling", default="threshold:0.9",
                        help="the sampler whose rows per step are shown")
    parser.add_argument("--repeats", type=int, default=5, help="app default runs timed")
    parser.add_argument("--out", default=None, help="also write the frontier rows as JSON here")
    parser.add_argument("--frontier-only", action="store_true",
                        help="skip the rows-per-step line and the app timing")
    parser.add_argument("--table", nargs="+", default=None, metavar="JSON",
                        help="print the frontier of rows written by --out (no decoding), so a "
                             "long frontier can be measured one sampler at a time")
    args = parser.parse_args()
    if args.table:
        rows = [row for path in args.table for row in json.loads(open(path).read())]
        for row in rows:
            row.setdefault("problems", args.problems)
        print_frontier(rows, [e.block_length for e in hex_experts(128)])
        if args.out:
            with open(args.out, "w") as f:
                json.dump(rows, f, indent=1)
        return
    lm = models.load(args.model)
    problems = read_problems(TEST_SET, args.problems)
    blocks = [e.block_length for e in hex_experts(lm.defaults.gen_length)]
    print(f"model {lm.name} on {lm.device} ({torch.get_num_threads()} threads); "
          f"{len(problems)} problems, HEX experts B={blocks}, gen_length "
          f"{lm.defaults.gen_length}, steps {lm.defaults.steps}, temperature 0")
    samplers = [spec for spec in args.samplers.split(",") if spec]  # "": the extras alone
    rows = frontier(lm, problems, samplers) if samplers else []
    if rows:
        print_frontier(rows, blocks)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1)
    if args.frontier_only:
        return
    rows_per_step(lm, problems[:20], args.falling)
    fixed_s = app_default_time(lm, "fixed", args.repeats)
    fast_s = app_default_time(lm, args.falling, args.repeats)
    print(f"\napp default run (K=5 experts + 3 baselines, median of {args.repeats}): fixed "
          f"{fixed_s * 1e3:.0f} ms, {args.falling} {fast_s * 1e3:.0f} ms "
          f"({fast_s / fixed_s:.2f}x)")


if __name__ == "__main__":
    main()
