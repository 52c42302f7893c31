"""Benchmark (not a test): test-time strategies at equal compute on one test set.

    python bench/scaling_bench.py [--limit 500] [--out-dir runs/scaling-bench] [--processes 2]
                                  [--lab assets/scaling-lab.json]

Evaluates the built-in model's held-out problems with the project's own eval command
(``hexviz eval``, ``--sampler threshold:0.9`` so that experts finish at different steps, no
whole-answer baselines): HEX's experts; seeds, one block size sampled 5 times, for two block
sizes at two temperatures; and dVoting at its authors' settings fitted to the model. Then
builds each strategy's curve of accuracy against row passes per problem (HEX over its first
1..K experts, seeds over 1..N samples, each also with the vote that stops when decided; dVoting
one point), with bootstrap intervals over problems, prints the curves and which strategy is
best at each budget, and writes them to ``--lab`` for the app's Scaling tab. Existing results
files are reused, so a stopped bench resumes; ``--table`` rebuilds from stored results only.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

from hexviz.eval.lab import Curve, curves_to_json, frontier, growing_curve, single_point
from hexviz.eval.records import load_results

SAMPLER = "threshold:0.9"
SEED_BLOCKS = (16, 32)
TEMPERATURES = (0.5, 1.0)
SEEDS = 5
BUDGETS = (10, 20, 40, 60, 80, 120, 160)

# name -> the eval's flags
RUNS = {"hex": [], "dvoting": ["--strategy", "dvoting"]} | {
    f"seeds-B{b}-T{t:g}": ["--strategy", "seeds", "--blocks", str(b), "--seeds", str(SEEDS),
                           "--temperature", str(t)]
    for b in SEED_BLOCKS for t in TEMPERATURES}


def eval_command(flags: list[str], limit: int, out: Path, processes: int) -> list[str]:
    launch = ([sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
               "--num_processes", str(processes)] if processes > 1 else [sys.executable])
    sampler = [] if "dvoting" in flags else ["--sampler", SAMPLER]
    return [*launch, "-m", "hexviz", "eval", "--limit", str(limit), "--no-baselines", *sampler,
            *flags, "--out", str(out)]


def curves_of(paths: dict[str, Path]) -> list[Curve]:
    curves = []
    for name, path in paths.items():
        results = load_results(path)
        if name == "dvoting":
            curves.append(single_point(results, "dvoting", "dVoting"))
            continue
        label = "HEX" if name == "hex" else name.replace("-", " ")
        strategy = "hex" if name == "hex" else "seeds"
        curves.append(growing_curve(results, strategy, label))
        curves.append(growing_curve(results, f"{strategy}-decided", f"{label}, decided vote",
                                    decided=True))
    return curves


def format_curves(curves: list[Curve]) -> str:
    lines = ["| strategy | decodes | row passes / problem | accuracy | 95% interval |",
             "|---|---|---|---|---|"]
    for c in curves:
        for p in c.points:
            lines.append(f"| {c.label} | {p.experts} | {p.row_passes:.1f} | {p.accuracy:.1%} | "
                         f"{p.low:.1%}-{p.high:.1%} |")
    return "\n".join(lines)


def format_frontier(curves: list[Curve]) -> str:
    lines = ["| budget (row passes / problem) | best | accuracy |", "|---|---|---|"]
    for budget, label, accuracy in frontier(curves, BUDGETS):
        shown = "-" if math.isnan(accuracy) else f"{accuracy:.1%}"
        lines.append(f"| <= {budget} | {label} | {shown} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--out-dir", type=Path, default=Path("runs/scaling-bench"))
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--lab", type=Path, default=None,
                        help="write the curves here (the app reads assets/scaling-lab.json)")
    parser.add_argument("--table", action="store_true",
                        help="use the results already in --out-dir; decode nothing")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: args.out_dir / f"{name}.json" for name in RUNS}
    for name, path in paths.items():
        if not path.exists() and not args.table:
            subprocess.run(eval_command(RUNS[name], args.limit, path, args.processes),
                           check=True)
    paths = {name: path for name, path in paths.items() if path.exists()}
    curves = curves_of(paths)
    problems = len(load_results(next(iter(paths.values()))).records)
    print(f"## {problems} problems, sampler {SAMPLER} (dVoting: its own commit rule)\n")
    print(format_curves(curves), "\n")
    print(format_frontier(curves))
    if args.lab:
        args.lab.write_text(json.dumps(curves_to_json(curves, problems, "built-in model",
                                                      SAMPLER), indent=1) + "\n")
        print(f"\nwrote {args.lab}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
