"""Remasking rules: how an expert scores the masked positions it may reveal at a step.

Each rule is one small function ``(probs, x0, uniform) -> score`` over the rows that use it:
``probs`` (R, L, V) is the model's distribution, ``x0`` (R, L) the proposed tokens and
``uniform`` (R, L) a per-expert seeded draw in [0, 1). Higher scores are revealed first. A new
rule is one function added to ``RULES``; the CLI and the app list the dict's keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rules only call tensor methods, so this module loads without torch
    import torch

Rule = Callable[["torch.Tensor", "torch.Tensor", "torch.Tensor"], "torch.Tensor"]


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


RULES: dict[str, Rule] = {
    "low_confidence": low_confidence,
    "margin": margin,
    "entropy": entropy,
    "random": random,
}
RULE_NAMES = tuple(RULES)
