"""Eval reports: the printed tables (experts, tie rules, scaling, the HEX paper's table) and the
results file."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hexviz.eval.records import RESULTS_SCHEMA, RESULTS_SCHEMA_VERSION, EvalResults
from hexviz.eval.scoring import Summary, scaling_curve, summarize, vote_of


def no_nan(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """A dict with nan as None: JSON has no NaN, and strict readers refuse it."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in items}


def format_summary(summary: Summary) -> str:
    labels = [s.label + ("" if s.votes else " [baseline]") for s in summary.experts]
    w = max([28, *map(len, labels)])  # long baseline labels must not push their row askew
    sized = any(not math.isnan(s.useful_share) for s in summary.experts)
    lines = [f"{'expert':<{w}} {'accuracy':>9} {'no answer':>10} {'collapse':>9} "
             f"{'AR-ness':>8} {'early end':>10} {'passes':>7}"
             + (f" {'length':>7} {'useful':>7}" if sized else "")]
    for label, s in zip(labels, summary.experts, strict=True):
        lines.append(f"{label:<{w}} {s.accuracy:>9.1%} {s.no_answer:>10.1%} {s.collapse:>9.1%} "
                     f"{s.ar_ness:>8.2f} {s.early_end_share:>10.1%} {s.steps:>7.1f}"
                     + (f" {s.length:>7.1f} {s.useful_share:>7.1%}" if sized else ""))
    lines += [
        f"{'HEX vote':<{w}} {summary.hex_accuracy:>9.1%}   tie rate {summary.tie_rate:.1%}"
        f" (ties: {summary.tie_rule})"
        f"   passes {summary.vote_row_passes:.1f} rows, {summary.vote_steps:.1f} batched",
        f"{'mean voting expert':<{w}} {summary.mean_expert_accuracy:>9.1%}",
        f"{'oracle (any expert right)':<{w}} {summary.oracle:>9.1%}",
        f"{'experts disagree':<{w}} {summary.disagreement:>9.1%}",
        f"problems: {summary.problems}",
    ]
    return "\n".join(lines)


def format_tie_rules(rows: list[tuple[str, float | None, float]]) -> str:
    """HEX accuracy under every tie rule, and how many problems each rule decided."""
    lines = ["tie rule              HEX accuracy  decided by the rule"]
    for rule, accuracy, share in rows:
        if accuracy is None:
            lines.append(f"{rule:<21} {'n/a':>12}  (no one-step likelihoods in these records)")
        else:
            lines.append(f"{rule:<21} {accuracy:>12.1%}  {share:>19.1%}")
    return "\n".join(lines)


def format_vote_variants(v) -> str:
    """The plain vote beside the weighted ones, the oracle, and the decided vote's cost."""
    shown = lambda x: "n/a" if math.isnan(x) else f"{x:.1%}"  # noqa: E731
    return "\n".join([
        "vote                          accuracy  row passes per problem",
        f"{'plain majority':<29} {shown(v.plain):>8}  {v.row_passes:>8.1f}",
        f"{'weighted by likelihood':<29} {shown(v.likelihood):>8}",
        f"{'weighted by confidence':<29} {shown(v.confidence):>8}",
        f"{'stops when decided':<29} {shown(v.plain):>8}  {v.decided_row_passes:>8.1f}"
        f"  (settled early on {v.decided_share:.0%} of problems)",
        f"{'oracle (some expert right)':<29} {shown(v.oracle):>8}"])


# The paper's Table 1 rows: whole-answer baselines by rule, each expert, HEX, mean, oracle.
BASELINE_ROWS = (("margin", "top-k margin (whole answer)"),
                 ("low_confidence", "low-confidence (whole answer)"),
                 ("random", "random (whole answer)"))


def paper_rows(results: EvalResults) -> dict[str, float]:
    """One task's column of the paper's table: row label -> accuracy."""
    summary = summarize(results)
    column = {}
    for rule, label in BASELINE_ROWS:
        for e, s in zip(results.experts, summary.experts, strict=True):
            if not e.votes and e.remasking == rule:
                column[label] = s.accuracy
    for i in results.voters:
        column[f"expert {results.experts[i].label}"] = summary.experts[i].accuracy
    column[f"HEX (ties: {summary.tie_rule})"] = summary.hex_accuracy
    column["mean expert"] = summary.mean_expert_accuracy
    column["oracle (any expert right)"] = summary.oracle
    return column


def task_label(results: EvalResults) -> str:
    return results.task or Path(results.data).stem or "data"


def format_paper_table(all_results: Sequence[EvalResults]) -> str:
    """Rows as in the HEX paper's Table 1, one column per task (accuracy %, - where absent)."""
    columns = [paper_rows(r) for r in all_results]
    labels = list(dict.fromkeys(label for column in columns for label in column))
    names = [task_label(r) for r in all_results]
    w = max(len(label) for label in labels)
    cw = max(8, *map(len, names))
    lines = [f"{'':<{w}}  " + "  ".join(f"{n:>{cw}}" for n in names)]
    for label in labels:
        cells = [f"{c[label]:>{cw}.1%}" if label in c else f"{'-':>{cw}}" for c in columns]
        lines.append(f"{label:<{w}}  " + "  ".join(cells))
    lines.append(f"{'problems':<{w}}  " + "  ".join(f"{len(r.records):>{cw}}"
                                                   for r in all_results))
    return "\n".join(lines)


def format_scaling(curve: list[tuple[int, float, float]],
                   by_seeds: list[tuple[int, int, float, float]]) -> str:
    """The vote-by-vote curve, then (with several seeds) the curve by seeds per block size."""
    lines = ["votes  accuracy  tie rate"]
    lines += [f"{k:>5}  {accuracy:>8.1%}  {ties:>8.1%}" for k, accuracy, ties in curve]
    if by_seeds:
        lines += ["", "seeds per block size  votes  accuracy  tie rate"]
        lines += [f"{n:>20}  {k:>5}  {accuracy:>8.1%}  {ties:>8.1%}"
                  for n, k, accuracy, ties in by_seeds]
    return "\n".join(lines)


def results_to_json(results: EvalResults) -> dict[str, Any]:
    summary = summarize(results)
    return {
        "schema": RESULTS_SCHEMA, "schema_version": RESULTS_SCHEMA_VERSION,
        "model": results.model, "data": results.data, "config": results.config.to_json(),
        "answer_format": results.answer_format, "decode_s": round(results.decode_s, 3),
        "task": results.task, "tie_rule": results.tie_rule,
        "row_passes": results.row_passes,
        "experts": [e.to_json() | {"label": e.label} for e in results.experts],
        "records": [asdict(r) | {"vote": vote_of(r, results.voters, results.tie_rule).to_json()}
                    for r in results.records],
        "summary": asdict(summary, dict_factory=no_nan),
        "scaling": [{"votes": k, "accuracy": a, "tie_rate": t}
                    for k, a, t in scaling_curve(results)],
    }
