"""HEX majority vote over the experts' extracted answers, with the HEX code's tie rules.

The rules are those of ``most_frequent_elements_exclude_None_and_tie_lownll`` in junos-ai-org/hex
HEX/eval/HEX_run_by_given_json_samples.py (commit b714b9c), where HEX.py keeps the first answer
returned. Experts without an answer never vote. The NLL is minus the one-step log-likelihood
(`hexviz.decode.likelihood`).

- ``first``: the most frequent answer; a tie goes to the answer seen first in expert order
  (block sizes ascending), HEX.py's rule and the paper's.
- ``lowest_nll``: the answer of the expert with the lowest NLL, whatever the counts.
- ``frequency_lowest_nll``: the most frequent answer; a tie goes to the tied answer whose best
  supporter has the lowest NLL.

Where NLLs are equal, the answer seen first wins (the HEX code returns a set there: any order).

Beside the HEX vote: where it is settled before every expert has finished (`decided_stop`),
and votes weighted by each expert's one-step likelihood or mean commit confidence
(`weighted_winner`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

TIE_RULES = ("first", "lowest_nll", "frequency_lowest_nll")
NEEDS_LIKELIHOOD = ("lowest_nll", "frequency_lowest_nll")


@dataclass(frozen=True)
class Vote:
    winner: str | None  # None when no expert produced an answer
    counts: dict[str, int]  # answer -> votes, in order of first appearance
    tie: bool  # several answers shared the top count
    supporters: dict[str, list[int]] = field(default_factory=dict)  # answer -> expert indices
    abstained: list[int] = field(default_factory=list)  # experts with no answer
    rule: str = "first"  # the tie rule the vote was asked to use
    # what chose the winner: "majority" (one answer had the most votes), a rule's name (it broke
    # the tie, or `lowest_nll` picked), None when nobody answered
    decided_by: str | None = None

    def __post_init__(self) -> None:
        check_tie_rule(self.rule)

    def to_json(self) -> dict:
        return {"winner": self.winner, "counts": self.counts, "tie": self.tie,
                "supporters": self.supporters, "abstained": self.abstained, "rule": self.rule,
                "decided_by": self.decided_by}


def check_tie_rule(rule: str) -> None:
    if rule not in TIE_RULES:
        raise ValueError(f"unknown tie rule {rule!r}; choose one of {', '.join(TIE_RULES)}")


def _best_supporter_score(idx: list[int], log_likelihoods: Sequence[float]) -> float:
    """An answer's highest log-likelihood among its supporters (its lowest NLL)."""
    return max(log_likelihoods[i] for i in idx)


def majority(answers: Sequence[str | None],
             log_likelihoods: Sequence[float | None] | None = None,
             tie: str = "first") -> Vote:
    """The HEX vote over ``answers`` (one per expert, in vote order) under tie rule ``tie``;
    the NLL rules need ``log_likelihoods``, one per expert."""
    check_tie_rule(tie)
    supporters: dict[str, list[int]] = {}
    abstained = []
    for i, answer in enumerate(answers):
        if answer is None:
            abstained.append(i)
        else:
            supporters.setdefault(answer, []).append(i)
    counts = {answer: len(idx) for answer, idx in supporters.items()}
    if not counts:
        return Vote(None, {}, False, {}, abstained, tie, None)
    top = max(counts.values())
    leaders = [a for a, c in counts.items() if c == top]  # first-appearance order
    tied = len(leaders) > 1
    if tie in NEEDS_LIKELIHOOD:
        scores = _voter_likelihoods(log_likelihoods, answers, tie)
        pool = list(counts) if tie == "lowest_nll" else leaders
        # max() keeps the first of equal scores: ties in NLL go to the answer seen first
        winner = max(pool, key=lambda a: _best_supporter_score(supporters[a], scores))
        decided_by = tie if (tied or tie == "lowest_nll") else "majority"
    else:
        winner, decided_by = leaders[0], ("first" if tied else "majority")
    return Vote(winner, counts, tied, supporters, abstained, tie, decided_by)


def _voter_likelihoods(log_likelihoods: Sequence[float | None] | None,
                       answers: Sequence[str | None], tie: str) -> list[float]:
    if log_likelihoods is None or len(log_likelihoods) != len(answers):
        raise ValueError(f"the {tie} tie rule needs one one-step likelihood per expert; these "
                         "records have none (decode again, or use the first tie rule)")
    missing = [i for i, (a, ll) in enumerate(zip(answers, log_likelihoods))
               if a is not None and ll is None]
    if missing:
        raise ValueError(f"the {tie} tie rule needs every answering expert's one-step likelihood "
                         f"(missing for experts {', '.join(map(str, missing))})")
    return [float("-inf") if ll is None else float(ll) for ll in log_likelihoods]


# --- a vote that stops when decided, and weighted votes (the test-time scaling lab) -----------

def settled(answers: Sequence[str | None], unfinished: int) -> str | None:
    """The answer that wins whatever ``unfinished`` more experts answer: it has more votes
    than the runner-up could reach with all of them; None while it could still be caught (a
    tie included, whatever the tie rule)."""
    counts = [c for c in Counter(a for a in answers if a is not None).most_common()]
    if not counts:
        return None
    second = counts[1][1] if len(counts) > 1 else 0
    return counts[0][0] if counts[0][1] > second + unfinished else None


@dataclass(frozen=True)
class DecidedStop:
    """Where a decided vote stops: after ``step`` steps the winner is settled; the experts
    still decoding then (``stopped``) are spared ``saved`` forward rows."""

    step: int
    winner: str
    stopped: tuple[int, ...]
    saved: int


def decided_stop(answers: Sequence[str | None], steps: Sequence[int]) -> DecidedStop | None:
    """The first step boundary at which the experts finished by then (``steps[i]``: the steps
    expert i took) settle the vote (`settled`); None when that happens only once all are done.
    Experts decode independently, so this is what stopping the rest there would give."""
    for step in sorted(set(steps)):
        finished = [i for i, taken in enumerate(steps) if taken <= step]
        running = [i for i, taken in enumerate(steps) if taken > step]
        if not running:
            return None
        winner = settled([answers[i] for i in finished], len(running))
        if winner is not None:
            return DecidedStop(step, winner, tuple(running),
                               sum(steps[i] - step for i in running))
    return None


WEIGHTS = ("likelihood", "confidence")


def weighted_winner(answers: Sequence[str | None], weights: Sequence[float | None]
                    ) -> str | None:
    """The answer whose experts' weights sum highest (the first seen on a tie); experts without
    an answer or a weight do not vote."""
    totals: dict[str, float] = {}
    for answer, weight in zip(answers, weights, strict=True):
        if answer is not None and weight is not None:
            totals[answer] = totals.get(answer, 0.0) + weight
    return max(totals, key=totals.__getitem__) if totals else None


def likelihood_weights(log_likelihoods: Sequence[float | None]) -> list[float | None]:
    """Each expert's one-step likelihood as a weight: the geometric mean probability of its
    answer's tokens, exp(mean log-probability)."""
    return [None if ll is None else math.exp(ll) for ll in log_likelihoods]
