"""The one-step likelihood equals HEX's formula (HEX/eval/generate.py, commit b714b9c)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from hexviz.decode.likelihood import one_step_log_likelihood


def hex_formula(logits: torch.Tensor, x_answer: torch.Tensor) -> list[float]:
    """generate.py's last lines: log_softmax in float64, gather the final tokens, mean over L."""
    log_probs = F.log_softmax(logits.to(torch.float64), dim=-1)  # (B, L, V)
    picked = torch.gather(log_probs, dim=-1, index=x_answer.unsqueeze(-1)).squeeze(-1)
    return picked.mean(dim=1).tolist()


def test_equals_hexs_formula_for_every_expert_of_every_prompt():
    torch.manual_seed(0)
    prompts, experts, length, vocab = 3, 4, 16, 50
    first = torch.randn(prompts, length, vocab) * 3
    tokens = torch.randint(0, vocab, (prompts, experts, length))
    mine = one_step_log_likelihood(first, tokens)
    assert mine.shape == (prompts, experts) and mine.dtype == torch.float64
    for p in range(prompts):
        # HEX's batch holds each expert's row with the same first logits (one canvas per prompt)
        reference = hex_formula(first[p].expand(experts, length, vocab), tokens[p])
        assert mine[p].tolist() == pytest.approx(reference, abs=1e-12)


def test_a_worked_example():
    # two positions, logits equal over 4 tokens: log p = -log 4 wherever the answer lands
    first = torch.zeros(1, 2, 4)
    first[0, 1, 2] = torch.log(torch.tensor(3.0))  # position 1: token 2 has p = 3/6
    tokens = torch.tensor([[[0, 2], [1, 1]]])
    expected = [(-torch.log(torch.tensor(4.0)) + torch.log(torch.tensor(0.5))) / 2,
                (-torch.log(torch.tensor(4.0)) - torch.log(torch.tensor(6.0))) / 2]
    assert one_step_log_likelihood(first, tokens)[0].tolist() == pytest.approx(
        [float(e) for e in expected], abs=1e-7)


def test_bfloat16_logits_are_scored_in_float64():
    first = torch.randn(1, 8, 30).to(torch.bfloat16)
    tokens = torch.randint(0, 30, (1, 2, 8))
    assert one_step_log_likelihood(first, tokens)[0].tolist() == pytest.approx(
        hex_formula(first[0].expand(2, 8, 30), tokens[0]), abs=1e-12)


def test_shapes_must_agree():
    with pytest.raises(ValueError, match=r"first_logits must be \(P=1, L=4, V\) \(got \(1, 3, 5\)\)"):
        one_step_log_likelihood(torch.zeros(1, 3, 5), torch.zeros(1, 2, 4, dtype=torch.long))
