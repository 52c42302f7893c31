"""Remasking rules: how an expert scores the masked positions it may reveal at a step.

Each rule is one small function ``(probs, x0, uniform) -> score`` over the rows that use it:
``probs`` (R, L, V) is the model's distribution, ``x0`` (R, L) the proposed tokens and
``uniform`` (R, L) a per-expert seeded draw in [0, 1), drawn only for rules that declare
``needs_uniform``. Higher scores are revealed first. A new rule is one function added to
``RULES``; the CLI and the app list the dict's keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rules only call tensor methods, so this module loads without torch
    import torch

Score = Callable[["torch.Tensor", "torch.Tensor", "torch.Tensor"], "torch.Tensor"]


@dataclass(frozen=True)
class Rule:
    """A scoring function and what it needs from the engine."""

    score: Score
    needs_uniform: bool = False  # a seeded uniform draw per position (advances the generator)
    # The score as a confidence in [0, 1], what a sampler's threshold is compared with (the
    # HEX authors' code thresholds the rule's own score); monotone, so the order is the same.
    confidence: Callable[[torch.Tensor], torch.Tensor] = lambda score: score

    def __call__(self, probs: torch.Tensor, x0: torch.Tensor, uniform: torch.Tensor):
        return self.score(probs, x0, uniform)


def low_confidence(probs: torch.Tensor, x0: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """Probability of the proposed token (LLaDA's default): reveal the surest first."""
    return probs.gather(-1, x0.unsqueeze(-1)).squeeze(-1)


def margin(probs: torch.Tensor, x0: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """Top-1 minus top-2 probability (the HEX paper's top-k margin)."""
    top = probs.topk(2, dim=-1).values
    return top[..., 0] - top[..., 1]


def entropy(probs: torch.Tensor, x0: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """Negative entropy: reveal where the model's distribution is sharpest."""
    return (probs * probs.clamp_min(1e-30).log()).sum(-1)


def random(probs: torch.Tensor, x0: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """A seeded uniform score: reveal order independent of the model (LLaDA's 'random')."""
    return uniform


def select_top(scores: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """(R, L) bool: the ``counts[r]`` highest scores of each row; ties go to the lower position,
    so the choice never depends on which other rows share the batch."""
    order = scores.argsort(dim=-1, descending=True, stable=True)
    rank = order.argsort(dim=-1)  # the inverse permutation: each position's place in the order
    return rank < counts.unsqueeze(-1)


RULES: dict[str, Rule] = {
    "low_confidence": Rule(low_confidence),
    "margin": Rule(margin),
    "entropy": Rule(entropy, confidence=lambda score: score.exp()),  # exp(-H): 1 when certain
    "random": Rule(random, needs_uniform=True),
}
RULE_NAMES = tuple(RULES)
