"""HEX majority vote over the experts' extracted answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Vote:
    winner: str | None  # None when no expert produced an answer
    counts: dict[str, int]  # answer -> votes, in order of first appearance
    tie: bool  # several answers shared the top count; the winner is the first expert's
    supporters: dict[str, list[int]] = field(default_factory=dict)  # answer -> expert indices
    abstained: list[int] = field(default_factory=list)  # experts with no answer

    def to_json(self) -> dict:
        return {"winner": self.winner, "counts": self.counts, "tie": self.tie,
                "supporters": self.supporters, "abstained": self.abstained}


def majority(answers: Sequence[str | None]) -> Vote:
    """Majority vote; experts without an answer do not vote.

    A tie is broken as in the HEX reference: the answer of the first expert in list order
    (experts are ordered by block size, so the smallest block wins) and reported as a tie.
    """
    supporters: dict[str, list[int]] = {}
    abstained = []
    for i, answer in enumerate(answers):
        if answer is None:
            abstained.append(i)
        else:
            supporters.setdefault(answer, []).append(i)
    counts = {answer: len(idx) for answer, idx in supporters.items()}
    if not counts:
        return Vote(None, {}, False, {}, abstained)
    top = max(counts.values())
    leaders = [a for a, c in counts.items() if c == top]  # first-appearance order
    return Vote(leaders[0], counts, len(leaders) > 1, supporters, abstained)
