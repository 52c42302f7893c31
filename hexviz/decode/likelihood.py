"""HEX's one-step likelihood: how likely the first forward pass found each expert's final answer.

The first forward pass sees the prompt and an all-[MASK] answer region, the same canvas for every
expert of a prompt, so its logits are shared. An expert's score is the mean, over the answer
region, of log p(final token) under those logits, in float64 (HEX/eval/generate.py ``generate``,
junos-ai-org/hex commit b714b9c). The HEX vote's ``lowest_nll`` rules use its negative.
"""

from __future__ import annotations

import torch


def one_step_log_likelihood(first_logits: torch.Tensor, token_ids: torch.Tensor) -> torch.Tensor:
    """(P, K) float64 mean log-probability of each expert's answer under its prompt's first logits.

    ``first_logits``: (P, L, V) raw logits of the first forward pass over the answer region, one
    row per prompt; ``token_ids``: (P, K, L) each prompt's K experts' final answer tokens.
    One prompt at a time, so the float64 copy is (L, V), not (P, L, V).
    """
    prompts, experts, length = token_ids.shape
    if first_logits.shape[:2] != (prompts, length):
        raise ValueError(f"first_logits must be (P={prompts}, L={length}, V) "
                         f"(got {tuple(first_logits.shape)})")
    scores = torch.empty(prompts, experts, dtype=torch.float64)
    for p in range(prompts):
        log_probs = torch.log_softmax(first_logits[p].double(), dim=-1)  # (L, V)
        picked = log_probs.gather(-1, token_ids[p].T.to(log_probs.device))  # (L, K)
        scores[p] = picked.mean(dim=0).cpu()
    return scores
