"""ModernBERT's answer-only logits: the same numbers as the full forward, for less."""

from __future__ import annotations

import pytest
import torch
from transformers import ModernBertConfig, ModernBertForMaskedLM

from hexviz import models
from hexviz.models import modernbert
from hexviz.models.wrapper import DiffusionLM


def random_modernbert(**overrides) -> ModernBertForMaskedLM:
    torch.manual_seed(0)
    settings = dict(vocab_size=50, hidden_size=32, num_hidden_layers=3, num_attention_heads=2,
                    intermediate_size=48, max_position_embeddings=64,
                    global_attn_every_n_layers=1, pad_token_id=0)
    config = ModernBertConfig(**(settings | overrides))
    return ModernBertForMaskedLM(config).eval()


@pytest.mark.parametrize("padded", [False, True])
def test_tail_logits_equal_the_full_forward(padded):
    model = random_modernbert()
    ids = torch.randint(50, (3, 20), generator=torch.Generator().manual_seed(1))
    kwargs = {}
    if padded:
        attention = torch.ones_like(ids)
        attention[1, :4] = attention[2, :7] = 0
        kwargs = {"attention_mask": attention,
                  "position_ids": (attention.cumsum(-1) - 1).clamp_min(0)}
    full = model(input_ids=ids, **kwargs).logits
    with torch.no_grad():
        tail = modernbert.tail_logits(model, ids, 8, **kwargs)
    assert tail.shape == (3, 8, 50)
    torch.testing.assert_close(tail, full[:, -8:], atol=1e-5, rtol=1e-5)


def test_sliding_window_layers_use_the_full_forward():
    model = random_modernbert(global_attn_every_n_layers=2, local_attention=8)
    assert not modernbert.is_supported(model)


def test_the_check_catches_a_tail_that_disagrees(monkeypatch):
    model = random_modernbert()
    assert modernbert.agrees_with_full_forward(model)
    monkeypatch.setattr(modernbert, "_last_layer",
                        lambda layer, hidden, rope, mask, keep: hidden[:, -keep:])
    assert not modernbert.agrees_with_full_forward(model)


def test_builtin_model_takes_the_tail_path_with_the_same_logits():
    lm: DiffusionLM = models.load(device="cpu")
    assert lm.tail_forward == "modernbert"
    prompt = lm.format_prompt("Tom has 5 apples. He buys 3 more. How many apples now?")
    ids = torch.tensor([prompt + [lm.mask_id] * 64] * 2)
    ids[1, len(prompt) + 3] = ids[0, 0]  # a second, different row
    full = lm.model(input_ids=ids).logits[:, -64:]
    torch.testing.assert_close(lm.logits(ids, keep=64), full, atol=1e-5, rtol=1e-5)
