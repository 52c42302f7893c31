"""Remasking rules on hand-built probabilities with known orderings, and `select_top`."""

from __future__ import annotations

import math

import pytest
import torch

from hexviz.policy.rules import RULE_NAMES, RULES, select_top

# One row, three positions over a vocabulary of 3. Proposals x0 = argmax = token 0 everywhere.
PROBS = torch.tensor([[[0.50, 0.45, 0.05],    # surest of nothing: a near tie on top
                       [0.60, 0.20, 0.20],    # middling confidence, clear margin
                       [0.40, 0.30, 0.30]]])  # least confident, flattest
X0 = torch.zeros(1, 3, dtype=torch.long)
UNIFORM = torch.tensor([[0.2, 0.9, 0.5]])


def order(rule: str) -> list[int]:
    """Positions from first revealed to last under ``rule``."""
    scores = RULES[rule](PROBS, X0, UNIFORM)
    return scores[0].argsort(descending=True, stable=True).tolist()


def test_low_confidence_reveals_the_most_probable_proposal_first():
    assert torch.allclose(RULES["low_confidence"](PROBS, X0, UNIFORM),
                          torch.tensor([[0.50, 0.60, 0.40]]))
    assert order("low_confidence") == [1, 0, 2]


def test_low_confidence_scores_the_proposal_not_the_argmax():
    sampled = torch.tensor([[1, 2, 0]])
    assert torch.allclose(RULES["low_confidence"](PROBS, sampled, UNIFORM),
                          torch.tensor([[0.45, 0.20, 0.40]]))


def test_margin_is_top1_minus_top2():
    assert torch.allclose(RULES["margin"](PROBS, X0, UNIFORM), torch.tensor([[0.05, 0.40, 0.10]]))
    assert order("margin") == [1, 2, 0]


def test_entropy_prefers_the_sharpest_distribution():
    scores = RULES["entropy"](PROBS, X0, UNIFORM)[0]
    expected = [sum(p * math.log(p) for p in row) for row in PROBS[0].tolist()]
    assert scores.tolist() == pytest.approx(expected, abs=1e-6)
    assert order("entropy") == [0, 1, 2]  # unlike margin, the near tie's low tail counts


def test_random_follows_the_uniform_draw_and_declares_it():
    assert order("random") == [1, 2, 0]
    assert [name for name in RULE_NAMES if RULES[name].needs_uniform] == ["random"]


def test_select_top_takes_each_rows_count_and_breaks_ties_to_the_left():
    scores = torch.tensor([[0.3, 0.9, 0.3, 0.3], [1.0, -torch.inf, 2.0, 0.0]])
    chosen = select_top(scores, torch.tensor([2, 1]))
    assert chosen.tolist() == [[True, True, False, False], [False, False, True, False]]
    assert select_top(scores, torch.tensor([0, 4])).sum(-1).tolist() == [0, 4]


def test_each_rules_confidence_lies_in_0_1_and_keeps_its_order():
    probs = torch.softmax(torch.randn(2, 6, 9, generator=torch.Generator().manual_seed(1)) * 3, -1)
    x0 = probs.argmax(-1)
    uniform = torch.rand(2, 6, generator=torch.Generator().manual_seed(2))
    for name, rule in RULES.items():
        score = rule(probs, x0, uniform)
        confidence = rule.confidence(score)
        assert ((confidence >= 0) & (confidence <= 1)).all(), name
        assert torch.equal(score.argsort(dim=-1, stable=True), confidence.argsort(dim=-1, stable=True))
    # low_confidence thresholds the proposal's probability, as HEX's code does
    assert torch.equal(RULES["low_confidence"].confidence(RULES["low_confidence"](
        probs, x0, uniform)), probs.max(-1).values)
    # entropy: exp(-H), 1 for a certain distribution
    certain = torch.tensor([[[1.0, 0.0, 0.0]]])
    assert RULES["entropy"].confidence(RULES["entropy"](certain, certain.argmax(-1), None)) == 1
