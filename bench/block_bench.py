"""Benchmark (not a test): experts beyond one block size (schedules, AdaBlock) alone and in the vote.

    python bench/block_bench.py [--limit 500] [--out-dir runs/block-bench] [--processes 2]

Evaluates the built-in model's held-out problems with the project's own eval command
(``hexviz eval``, temperature 0, no whole-answer baselines), once per sampler: ``fixed`` (the
default settings) and ``threshold:0.9`` (AdaBlock's own setting). The experts are the HEX set's
plain sizes, a growing and a shrinking preset, the issue's explicit schedule and AdaBlock at two
delimiter thresholds, all decoded on the same problems. Then prints, per sampler, every expert's
accuracy and row passes per problem (its forward rows), the votes of HEX's default set and of
HEX with the other experts added, and the problems x experts table the HEX authors draw: how
many problems each pattern of right and wrong experts holds, and which problems an adaptive or
scheduled expert got right while every plain size got them wrong. Existing results files in
``--out-dir`` are reused, so a stopped bench resumes; ``--table FILE...`` prints stored results.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter
from pathlib import Path

from hexviz.eval.records import EvalResults, load_results
from hexviz.eval.scoring import plain_experts, rescues, right_matrix, summarize

PLAIN = ["4", "8", "16", "32", "64"]  # the HEX set for the built-in model's 128 tokens
OTHERS = ["grow", "shrink", "8+8+16+32+64", "ada", "ada:0.6"]
SAMPLERS = {"fixed": "fixed", "threshold": "threshold:0.9"}
SHOWN_PATTERNS = 12


def eval_command(sampler: str, limit: int, out: Path, processes: int) -> list[str]:
    launch = ([sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
               "--num_processes", str(processes)] if processes > 1 else [sys.executable])
    return [*launch, "-m", "hexviz", "eval", "--limit", str(limit), "--no-baselines",
            "--blocks", ",".join(PLAIN + OTHERS), "--sampler", sampler, "--out", str(out)]


def groups(results: EvalResults) -> dict[str, list[int]]:
    """Vote sets by expert index: HEX's plain sizes, then each kind of other expert added."""
    plain = plain_experts(results)
    scheduled = [i for i, e in enumerate(results.experts) if e.schedule]
    adaptive = [i for i, e in enumerate(results.experts) if e.adaptive]
    return {"HEX (plain sizes)": plain, "HEX + schedules": plain + scheduled,
            "HEX + AdaBlock": plain + adaptive,
            "HEX + schedules + AdaBlock": plain + scheduled + adaptive}


def expert_table(results: EvalResults) -> str:
    s = summarize(results)
    n = len(results.records)
    lines = [f"| {n} problems, sampler {results.config.sampler.spec} | accuracy | row passes "
             f"| whole-answer collapse |", "|---|---|---|---|"]
    for e in s.experts:
        lines.append(f"| {e.label} | {e.accuracy:.1%} | {e.steps:.1f} | {e.collapse:.1%} |")
    for name, voters in groups(results).items():
        v = summarize(results, voters)
        lines.append(f"| vote: {name} ({len(voters)} experts) | {v.hex_accuracy:.1%} | "
                     f"{v.vote_row_passes:.1f} | - |")
    return "\n".join(lines)


def pattern_table(results: EvalResults) -> str:
    """How many problems each right/wrong pattern over the experts holds, commonest first."""
    names = [e.blocks_spec for e in results.experts]
    counts = Counter(right_matrix(results))
    lines = ["| problems | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for pattern, count in counts.most_common(SHOWN_PATTERNS):
        lines.append(f"| {count} | " + " | ".join("R" if ok else "." for ok in pattern) + " |")
    rest = sum(counts.values()) - sum(c for _, c in counts.most_common(SHOWN_PATTERNS))
    if rest:
        lines.append(f"| {rest} | (the {len(counts) - SHOWN_PATTERNS} rarer patterns) |")
    return "\n".join(lines)


def report(results: EvalResults) -> str:
    lines = [expert_table(results), "", pattern_table(results), ""]
    for i, problems in rescues(results).items():
        indices = [results.records[n].index for n in problems]
        lines.append(f"{results.experts[i].blocks_spec}: right where every plain size is wrong "
                     f"on {len(problems)} problems {indices[:10]}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--out-dir", type=Path, default=Path("runs/block-bench"))
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--table", type=Path, nargs="+", default=None,
                        help="print the tables of these results files only")
    args = parser.parse_args()
    paths = args.table
    if paths is None:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, sampler in SAMPLERS.items():
            out = args.out_dir / f"{name}.json"
            if not out.exists():
                subprocess.run(eval_command(sampler, args.limit, out, args.processes),
                               check=True)
            paths.append(out)
    for path in paths:
        print(f"## {path}\n\n{report(load_results(path))}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
