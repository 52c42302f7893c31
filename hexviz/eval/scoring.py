"""Scoring eval records: accuracy per expert, the HEX vote under any tie rule and number of
experts, and the scaling curves."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hexviz.eval.records import EvalResults, Record
from hexviz.runs.vote import (
    NEEDS_LIKELIHOOD,
    TIE_RULES,
    decided_stop,
    likelihood_weights,
    majority,
    weighted_winner,
)
from hexviz.tasks import get_task


@dataclass(frozen=True)
class ExpertScore:
    label: str
    votes: bool
    accuracy: float
    no_answer: float  # strict: no extractable answer
    collapse: float  # the AfterEoT wall (metrics.is_wall_collapse)
    ar_ness: float = math.nan  # mean over problems; nan where not recorded
    early_end_share: float = math.nan
    steps: float = math.nan  # mean steps taken: the expert's forward passes per problem
    length: float = math.nan  # mean final canvas length
    useful_share: float = math.nan  # its tokens that are not end tokens, over all problems


@dataclass(frozen=True)
class Summary:
    problems: int
    experts: list[ExpertScore]
    hex_accuracy: float
    tie_rate: float
    oracle: float  # some voting expert was right
    disagreement: float  # voting experts gave more than one distinct answer
    mean_expert_accuracy: float
    tie_rule: str = "first"
    decided_by: dict[str, int] = field(default_factory=dict)  # what decided, problems each
    # Per problem, mean: the voting experts' steps summed (the rows the vote costs, each expert
    # decoded on its own), and the slowest one's (forward passes of the batched experts)
    vote_row_passes: float = math.nan
    vote_steps: float = math.nan


def _mean(values: Iterable[float | None]) -> float:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else math.nan


def _share(part: int, whole: int) -> float:
    return part / whole if whole else math.nan


def vote_of(record: Record, voters: Sequence[int], tie_rule: str = "first"):
    lls = record.one_step_log_likelihoods
    return majority([record.answers[i] for i in voters],
                    [lls[i] for i in voters] if lls else None, tie_rule)


def checker(results: EvalResults) -> Callable[[str | None, str | None], bool]:
    """Whether an answer is right: the task's rule; plain equality for files without a task."""
    if results.task is None:
        return lambda answer, gold: answer == gold
    return get_task(results.task).is_correct


def has_likelihoods(results: EvalResults) -> bool:
    return bool(results.records) and all(
        r.one_step_log_likelihoods and all(
            ll is not None for a, ll in zip(r.answers, r.one_step_log_likelihoods)
            if a is not None) for r in results.records)


def summarize(results: EvalResults, voters: Sequence[int] | None = None,
              tie_rule: str | None = None) -> Summary:
    """Accuracy per expert, and of the HEX vote over ``voters`` (default: every voting expert)
    under ``tie_rule`` (default: the one the results were made with)."""
    voters = list(results.voters if voters is None else voters)
    tie_rule = tie_rule or results.tie_rule
    records = results.records
    n = len(records)
    if n == 0:
        raise ValueError("no records to score")
    right = checker(results)
    rate = lambda hits: sum(hits) / n  # noqa: E731
    scores = [ExpertScore(
        expert.label, expert.votes,
        rate(right(r.answers[i], r.gold) for r in records),
        rate(r.answers[i] is None for r in records),
        rate(r.collapsed[i] for r in records),
        _mean(r.ar_ness[i] for r in records if r.ar_ness),
        _mean(r.early_end[i] for r in records if r.early_end),
        _mean(r.steps[i] for r in records if r.steps),
        _mean(r.lengths[i] for r in records if r.lengths),
        _share(sum(r.useful[i] for r in records if r.useful),
               sum(r.lengths[i] for r in records if r.useful)))
        for i, expert in enumerate(results.experts)]
    votes = [vote_of(r, voters, tie_rule) for r in records]
    voting = [scores[i].accuracy for i in voters]
    decided: dict[str, int] = {}
    for v in votes:
        decided[str(v.decided_by)] = decided.get(str(v.decided_by), 0) + 1
    return Summary(
        problems=n, experts=scores,
        hex_accuracy=rate(right(v.winner, r.gold) for v, r in zip(votes, records, strict=True)),
        tie_rate=rate(v.tie for v in votes),
        oracle=rate(any(right(r.answers[i], r.gold) for i in voters) for r in records),
        disagreement=rate(len({r.answers[i] for i in voters}) > 1 for r in records),
        mean_expert_accuracy=sum(voting) / len(voting),
        tie_rule=tie_rule, decided_by=decided,
        vote_row_passes=_mean(sum(r.steps[i] for i in voters) for r in records if r.steps),
        vote_steps=_mean(max(r.steps[i] for i in voters) for r in records if r.steps),
    )


@dataclass(frozen=True)
class VoteVariants:
    """The HEX vote beside the test-time scaling lab's variants, over the same experts: plain,
    weighted by one-step likelihood and by mean commit confidence (nan where the records lack
    them), the oracle (some expert right), and the vote that stops when decided (its accuracy
    equals the plain vote's by construction; what it changes is the row passes)."""

    plain: float
    likelihood: float
    confidence: float
    oracle: float
    row_passes: float  # per problem: the voting experts' steps summed
    decided_row_passes: float  # the same where a decided vote stopped the rest
    decided_share: float  # problems settled before every expert finished


def vote_variants(results: EvalResults, voters: Sequence[int] | None = None) -> VoteVariants:
    voters = list(results.voters if voters is None else voters)
    right, records = checker(results), results.records
    if not records:
        raise ValueError("no records to score")
    n = len(records)
    pick = lambda values: [values[i] for i in voters]  # noqa: E731

    def weighted(weights_of) -> float:
        """nan unless every answering voter of every record has a weight."""
        if not all(weights_of(r) and all(weights_of(r)[i] is not None for i in voters
                                         if r.answers[i] is not None) for r in records):
            return math.nan
        return sum(right(weighted_winner(pick(r.answers), pick(weights_of(r))), r.gold)
                   for r in records) / n

    stops = [decided_stop(pick(r.answers), pick(r.steps)) if r.steps else None for r in records]
    spent = [sum(pick(r.steps)) for r in records if r.steps]
    saved = [s.saved if s else 0 for s, r in zip(stops, records, strict=True) if r.steps]
    return VoteVariants(
        plain=summarize(results, voters).hex_accuracy,
        likelihood=weighted(lambda r: r.one_step_log_likelihoods
                            and likelihood_weights(r.one_step_log_likelihoods)),
        confidence=weighted(lambda r: r.confidences),
        oracle=sum(any(right(r.answers[i], r.gold) for i in voters) for r in records) / n,
        row_passes=_mean(spent),
        decided_row_passes=_mean(a - b for a, b in zip(spent, saved, strict=True)),
        decided_share=sum(s is not None for s in stops) / n)


def tie_rule_table(results: EvalResults) -> list[tuple[str, float | None, float]]:
    """(tie rule, HEX accuracy, share of problems the rule decided) for every rule; accuracy
    None for the likelihood rules when the records have no likelihoods (older files)."""
    rows = []
    for rule in TIE_RULES:
        if rule in NEEDS_LIKELIHOOD and not has_likelihoods(results):
            rows.append((rule, None, math.nan))
            continue
        s = summarize(results, None, rule)
        rows.append((rule, s.hex_accuracy, s.decided_by.get(rule, 0) / s.problems))
    return rows


def right_matrix(results: EvalResults) -> list[tuple[bool, ...]]:
    """Problems x experts: whether each expert's answer is right (the HEX authors' table)."""
    right = checker(results)
    return [tuple(right(a, r.gold) for a in r.answers) for r in results.records]


def plain_experts(results: EvalResults) -> list[int]:
    """The voting experts of one block size each (no schedule, no AdaBlock)."""
    return [i for i in results.voters
            if not (results.experts[i].schedule or results.experts[i].adaptive)]


def rescues(results: EvalResults) -> dict[int, list[int]]:
    """Per voting expert with a schedule or AdaBlock's blocks, the problems (positions in
    ``results.records``) it got right while every plain block size got them wrong."""
    plain = plain_experts(results)
    rows = right_matrix(results)
    return {i: [n for n, row in enumerate(rows) if row[i] and not any(row[j] for j in plain)]
            for i in results.voters if i not in plain}


def scaling_curve(results: EvalResults) -> list[tuple[int, float, float]]:
    """(votes, HEX accuracy, tie rate) using the first 1..K voting experts.

    Experts are taken in results order: block sizes ascending, and for each block size its seeds,
    so with several seeds the first votes come from the smallest blocks.
    """
    voters = results.voters
    return [(k, s.hex_accuracy, s.tie_rate)
            for k in range(1, len(voters) + 1)
            for s in [summarize(results, voters[:k])]]


def seed_scaling_curve(results: EvalResults) -> list[tuple[int, int, float, float]]:
    """(seeds per block size, votes, HEX accuracy, tie rate) for 1..N seeds of every block size.

    Each point keeps the whole HEX set and adds seeds, the way the paper scales votes; empty when
    the results hold one seed per block size.
    """
    seeds = sorted({results.experts[i].seed for i in results.voters})
    if len(seeds) < 2:
        return []
    points = []
    for n in range(1, len(seeds) + 1):
        voters = [i for i in results.voters if results.experts[i].seed in seeds[:n]]
        s = summarize(results, voters)
        points.append((n, len(voters), s.hex_accuracy, s.tie_rate))
    return points


def frontier_verdict(rows: list[dict[str, Any]], points: float = 0.02,
                     share: float = 0.4) -> str:
    """One sentence on a sampler frontier (rows of ``sampler``, ``hex`` accuracy and
    ``vote_row_passes``, one of them ``fixed``): the cheapest threshold or factor sampler within
    ``points`` of fixed HEX at <= ``share`` of its row passes, else the most accurate of those
    at that cost (or, if none is that cheap, the cheapest)."""
    fixed = next(r for r in rows if r["sampler"] == "fixed")
    cost = lambda r: r["vote_row_passes"] / fixed["vote_row_passes"]  # noqa: E731
    parallel = [r for r in rows if r["sampler"].split(":")[0] in ("threshold", "factor")]
    if not parallel:
        return "no threshold or factor sampler was measured"
    near = [r for r in parallel if r["hex"] >= fixed["hex"] - points and cost(r) <= share]
    target = f"within {points * 100:g} points of fixed HEX ({fixed['hex']:.1%}) at <= " \
             f"{share:.0%} of its row passes"
    if near:
        best = min(near, key=cost)
        return f"{target}: {best['sampler']} ({best['hex']:.1%} at {cost(best):.0%})"
    cheap = [r for r in parallel if cost(r) <= share]
    best = max(cheap, key=lambda r: r["hex"]) if cheap else min(parallel, key=cost)
    return (f"no threshold or factor sampler is {target}; the best at that cost: "
            f"{best['sampler']} ({best['hex']:.1%} at {cost(best):.0%})")


@dataclass(frozen=True)
class PairedChanges:
    """What one setting changed against another on the same problems and experts, voting
    experts' answers counted one by one (e.g. token editing against none)."""

    answers: int  # voting experts' answers compared
    fixed: int  # wrong without the change, right with it
    broken: int  # right without, wrong with
    hex_with: float
    hex_without: float


def paired_changes(changed: EvalResults, base: EvalResults) -> PairedChanges:
    """`PairedChanges` of ``changed`` against ``base``; ValueError unless both decoded the same
    problems with the same experts."""
    if [e.label for e in changed.experts] != [e.label for e in base.experts]:
        raise ValueError("the two results have different experts")
    if [r.question for r in changed.records] != [r.question for r in base.records]:
        raise ValueError("the two results decoded different problems")
    right = checker(base)
    fixed = broken = 0
    for new, old in zip(changed.records, base.records, strict=True):
        for i in base.voters:
            was, now = right(old.answers[i], old.gold), right(new.answers[i], new.gold)
            fixed += now and not was
            broken += was and not now
    return PairedChanges(len(base.records) * len(base.voters), fixed, broken,
                         summarize(changed).hex_accuracy, summarize(base).hex_accuracy)
