"""Benchmark (not a test): fixed length against growing canvases (DAEDAL, rho-EOS) on one test set.

    python bench/length_bench.py [--limit 500] [--out-dir runs/length-bench] [--processes 2]

Evaluates the built-in model's held-out problems four times with the project's own eval
command (``hexviz eval``, temperature 0, default settings otherwise): ``--length fixed`` (the HEX
experts and the whole-answer baselines), ``--length daedal``, ``--length rho-eos`` and
``--length rho-eos --eos-signal density`` (the HEX block sizes as experts; B=32 is the authors'
single block size). Existing results files in
``--out-dir`` are reused, so a stopped bench resumes. Then prints, for every expert and each
vote: accuracy, row passes per problem (forward rows the expert took; for a vote, its experts'
summed), the useful-token share (final-canvas tokens that are not end tokens, pooled over
problems), the wall-collapse rate and the mean final canvas length. ``--table FILE...`` prints
the table of stored results only.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
from pathlib import Path

from hexviz.eval.records import EvalResults, load_results
from hexviz.eval.scoring import summarize

# name -> the eval's flags; rho-eos-density: the length signal rho-EOS's paper describes
MODES = {"fixed": ["--length", "fixed"], "daedal": ["--length", "daedal"],
         "rho-eos": ["--length", "rho-eos"],
         "rho-eos-density": ["--length", "rho-eos", "--eos-signal", "density"]}


def eval_command(flags: list[str], limit: int, out: Path, processes: int) -> list[str]:
    launch = ([sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
               "--num_processes", str(processes)] if processes > 1 else [sys.executable])
    return [*launch, "-m", "hexviz", "eval", "--limit", str(limit), *flags, "--out", str(out)]


def rows_of(results: EvalResults) -> list[dict]:
    """One row per expert and one for the vote of the voting experts."""
    s = summarize(results)
    length = results.config.length
    mode = length.mode + (" (density)" if length.eos_signal == "density" else "")
    rows = [{"setting": f"{mode} {e.label}" + ("" if e.votes else " (baseline)"),
             "accuracy": e.accuracy, "passes": e.steps, "useful": e.useful_share,
             "collapse": e.collapse, "length": e.length} for e in s.experts]
    voters = [s.experts[i] for i in results.voters]
    lengths = [r.lengths[i] for r in results.records for i in results.voters if r.lengths]
    useful = [r.useful[i] for r in results.records for i in results.voters if r.useful]
    rows.append({"setting": f"{mode} HEX vote ({len(voters)} experts)",
                 "accuracy": s.hex_accuracy, "passes": s.vote_row_passes,
                 "useful": sum(useful) / sum(lengths) if lengths else math.nan,
                 "collapse": math.nan, "length": math.nan})
    return rows


def format_table(rows: list[dict], problems: int) -> str:
    shown = lambda v, f: "-" if isinstance(v, float) and math.isnan(v) else format(v, f)  # noqa: E731
    lines = [f"| {problems} problems | accuracy | row passes | useful tokens | wall collapse | "
             f"final length |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['setting']} | {shown(r['accuracy'], '.1%')} | "
                     f"{shown(r['passes'], '.1f')} | {shown(r['useful'], '.1%')} | "
                     f"{shown(r['collapse'], '.1%')} | {shown(r['length'], '.1f')} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--out-dir", type=Path, default=Path("runs/length-bench"))
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--table", type=Path, nargs="+", default=None,
                        help="print the table of these results files only")
    args = parser.parse_args()
    paths = args.table
    if paths is None:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, flags in MODES.items():
            out = args.out_dir / f"{name}-{args.limit}.json"
            if not out.exists():
                subprocess.run(eval_command(flags, args.limit, out, args.processes), check=True)
            paths.append(out)
    results = [load_results(p) for p in paths]
    rows = [row for r in results for row in rows_of(r)]
    print(format_table(rows, len(results[0].records)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
