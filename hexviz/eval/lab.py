"""The test-time scaling lab: strategies compared at equal compute, from eval results.

Each strategy's eval results give a curve of (row passes per problem, accuracy) as it spends
more decodes: HEX over its first 1..K experts, seeds over 1..N samples, a vote that stops when
decided over the same experts; dVoting is one point. Accuracy carries a bootstrap interval over
problems. `frontier` says which curve is best at each budget. The curves are stored as JSON
(`curves_to_json`), so the app draws them without a model.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from hexviz.eval.records import EvalResults
from hexviz.eval.scoring import checker
from hexviz.runs.vote import decided_stop, majority

LAB_SCHEMA = "hexviz.scaling-lab"
BOOTSTRAP_SAMPLES = 1000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Point:
    experts: int  # decodes voting (dVoting: rounds at most)
    row_passes: float  # forward rows per problem, mean
    accuracy: float
    low: float  # bootstrap interval of the accuracy
    high: float


@dataclass(frozen=True)
class Curve:
    strategy: str  # hex, seeds, dvoting, and "decided" variants
    label: str
    points: tuple[Point, ...]


def bootstrap_interval(hits: Sequence[bool], samples: int = BOOTSTRAP_SAMPLES,
                       confidence: float = CONFIDENCE, seed: int = 0) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``hits`` (problems resampled with
    replacement ``samples`` times, a fixed seed: the same results give the same interval)."""
    n = len(hits)
    if n == 0:
        raise ValueError("no problems to resample")
    rng = random.Random(seed)
    means = sorted(sum(hits[rng.randrange(n)] for _ in range(n)) / n for _ in range(samples))
    tail = (1 - confidence) / 2
    return means[int(tail * (samples - 1))], means[int((1 - tail) * (samples - 1))]


def point(results: EvalResults, voters: Sequence[int], decided: bool = False) -> Point:
    """Accuracy and row passes of the vote over ``voters``; ``decided``: the vote that stops
    the rest once settled (its answer is the plain vote's, its row passes fewer)."""
    right, hits, passes = checker(results), [], []
    for r in results.records:
        answers = [r.answers[i] for i in voters]
        steps = [r.steps[i] for i in voters] if r.steps else [results.config.steps] * len(voters)
        hits.append(right(majority(answers, None, "first").winner, r.gold))
        stop = decided_stop(answers, steps) if decided else None
        passes.append(sum(steps) - (stop.saved if stop else 0))
    low, high = bootstrap_interval(hits)
    return Point(len(voters), sum(passes) / len(passes), sum(hits) / len(hits), low, high)


def growing_curve(results: EvalResults, strategy: str, label: str, decided: bool = False
                  ) -> Curve:
    """The vote over the first 1..K voting experts, in vote order."""
    voters = results.voters
    return Curve(strategy, label, tuple(point(results, voters[:k], decided)
                                        for k in range(1, len(voters) + 1)))


def single_point(results: EvalResults, strategy: str, label: str) -> Curve:
    """One point: every voter (dVoting's rounds, those a problem needed)."""
    return Curve(strategy, label, (point(results, results.voters),))


def frontier(curves: Sequence[Curve], budgets: Sequence[float]) -> list[tuple[float, str, float]]:
    """(budget, best curve's label, its accuracy) for each budget: the most accurate point
    whose row passes are within it, the cheaper on a tie, then the curve listed first; '-'
    where no point fits."""
    rows = []
    for budget in budgets:
        fits = [(p.accuracy, -p.row_passes, -i, c.label) for i, c in enumerate(curves)
                for p in c.points if p.row_passes <= budget]
        best = max(fits, default=None)
        rows.append((budget, best[3], best[0]) if best else (budget, "-", float("nan")))
    return rows


def curves_to_json(curves: Sequence[Curve], problems: int, model: str, sampler: str) -> dict:
    return {"schema": LAB_SCHEMA, "problems": problems, "model": model, "sampler": sampler,
            "curves": [{"strategy": c.strategy, "label": c.label,
                        "points": [asdict(p) for p in c.points]} for c in curves]}


def curves_from_json(d: object) -> tuple[list[Curve], dict]:
    """The curves and the header (problems, model, sampler) of a stored lab; ValueError for
    anything else."""
    if not isinstance(d, dict) or d.get("schema") != LAB_SCHEMA:
        raise ValueError(f"not a {LAB_SCHEMA} file")
    try:
        curves = [Curve(str(c["strategy"]), str(c["label"]),
                        tuple(Point(int(p["experts"]), float(p["row_passes"]),
                                    float(p["accuracy"]), float(p["low"]), float(p["high"]))
                              for p in c["points"])) for c in d["curves"]]
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"damaged {LAB_SCHEMA} file: {err}") from None
    header = {k: d.get(k) for k in ("problems", "model", "sampler")}
    return curves, header
