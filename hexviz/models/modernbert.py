"""The answer region's logits from a ModernBERT masked LM (the built-in model's architecture).

The engine reads logits only at the answer positions. In a bidirectional encoder every layer but
the last must still run everywhere, because the next layer attends to every position; the last
layer's queries, attention output, MLP and the LM head are needed only where logits are read.
Computing them for the answer region alone saves about 10% of a forward pass of the built-in
model (a prompt of ~30 tokens before a 64-token answer; bench/README.md) and gives the same
numbers.

This is transformers' own ModernBERT forward with the last layer written out; `tail_logits` is
used only after `agrees_with_full_forward` has checked it against the full model. `forward_window`
is the same forward for a window of each row, with keys and values elsewhere from a block cache
(`hexviz.models.kvcache`); `window_agrees_with_full_forward` checks it the same way.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers import ModernBertForMaskedLM
from transformers.masking_utils import create_bidirectional_mask
from transformers.models.modernbert.modeling_modernbert import (
    ModernBertEncoderLayer,
    apply_rotary_pos_emb,
)

from hexviz.models import kvcache
from hexviz.models.kvcache import KVCache, Window, WindowOutput

FULL_ATTENTION = "full_attention"


def is_supported(model: torch.nn.Module) -> bool:
    """ModernBERT with global attention in every layer (sliding windows are not written out)."""
    return (isinstance(model, ModernBertForMaskedLM)
            and set(model.config.layer_types) == {FULL_ATTENTION})


def _last_layer(layer: ModernBertEncoderLayer, hidden: torch.Tensor,
                rope: tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor | None,
                keep: int) -> torch.Tensor:
    """The layer's output at the last ``keep`` positions; keys and values come from all."""
    attn = layer.attn
    rows, length, _ = hidden.shape
    qkv = attn.Wqkv(layer.attn_norm(hidden)).view(rows, length, 3, -1, attn.head_dim)
    query, key, value = (t.transpose(1, 2) for t in qkv.unbind(dim=-3))
    query, key = apply_rotary_pos_emb(query, key, *rope)
    if mask is not None:
        mask = mask[..., -keep:, :]
    out = F.scaled_dot_product_attention(query[:, :, -keep:], key, value, attn_mask=mask,
                                         scale=attn.head_dim ** -0.5)
    hidden = hidden[:, -keep:] + attn.Wo(out.transpose(1, 2).reshape(rows, keep, -1))
    return hidden + layer.mlp(layer.mlp_norm(hidden))


@torch.no_grad()
def tail_logits(model: ModernBertForMaskedLM, input_ids: torch.Tensor, keep: int,
                attention_mask: torch.Tensor | None = None,
                position_ids: torch.Tensor | None = None) -> torch.Tensor:
    """(B, L) ids -> (B, keep, V): the logits of the last ``keep`` positions."""
    base = model.model
    hidden = base.embeddings(input_ids=input_ids)
    if position_ids is None:
        position_ids = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
    rope = base.rotary_emb(hidden, position_ids, FULL_ATTENTION)
    mask = create_bidirectional_mask(config=base.config, inputs_embeds=hidden,
                                     attention_mask=attention_mask)
    *layers, last = base.layers
    for layer in layers:
        hidden = layer(hidden, attention_mask=mask, position_embeddings=rope)
    hidden = _last_layer(last, hidden, rope, mask, keep)
    return model.decoder(model.head(base.final_norm(hidden)))


def probe_inputs(model: ModernBertForMaskedLM) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Two short seeded rows, the second left-padded, and how many trailing positions to keep:
    what the agreement checks compare the model's own forward on."""
    length = min(12, model.config.max_position_embeddings)
    device = next(model.parameters()).device
    ids = torch.randint(model.config.vocab_size, (2, length),
                        generator=torch.Generator().manual_seed(0)).to(device)
    attention = torch.ones_like(ids)
    attention[1, :3] = 0
    return ids, attention, length // 2


@torch.no_grad()
def agrees_with_full_forward(model: ModernBertForMaskedLM) -> bool:
    """Whether `tail_logits` matches the model's own forward here (it reads transformers'
    internals, which a future version may change), padded rows included."""
    ids, attention, keep = probe_inputs(model)
    try:
        tail = tail_logits(model, ids, keep, attention)
    except (AttributeError, TypeError, ValueError, RuntimeError):
        return False
    full = model(input_ids=ids, attention_mask=attention).logits[:, -keep:]
    tolerance = 1e-4 if full.dtype == torch.float32 else 2e-2  # bf16/fp16 kernels round more
    return tail.shape == full.shape and torch.allclose(tail, full, atol=tolerance,
                                                       rtol=tolerance)


@torch.no_grad()
def forward_window(model: ModernBertForMaskedLM, input_ids: torch.Tensor, window: Window,
                   cache: KVCache | None = None, attention_mask: torch.Tensor | None = None,
                   keep: int | None = None) -> WindowOutput:
    """(R, T) ids -> logits of each row's window positions among the last ``keep``, computing
    only the windows; keys and values elsewhere come from ``cache`` (see `kvcache`)."""
    base = model.model
    plan = kvcache.plan_window(input_ids, window, cache, len(base.layers), attention_mask, keep)
    packed, tail, positions, padding = plan.packed, plan.tail, plan.positions, plan.padding
    hidden = base.embeddings(input_ids=input_ids[packed.rows, packed.positions][None])[0]  # (N, C)
    cos, sin = base.rotary_emb(hidden, positions[packed.rows, packed.positions][None],
                               FULL_ATTENTION)
    keys, values = [], []
    for i, layer in enumerate(base.layers):
        attn = layer.attn
        qkv = attn.Wqkv(layer.attn_norm(hidden)).view(packed.tokens, 3, -1, attn.head_dim)
        query, key, value = qkv.unbind(dim=1)  # (N, H, D) each
        query, key = apply_rotary_pos_emb(query, key, cos[0], sin[0], unsqueeze_dim=1)
        keys.append(kvcache.write_window(kvcache.layer_keys(cache, i), key, packed))
        values.append(kvcache.write_window(kvcache.layer_values(cache, i), value, packed))
        queries = packed
        if i == len(base.layers) - 1:  # the last layer's output is read only where logits are
            inside = kvcache.subset_index(packed, tail)
            hidden, query, queries = hidden[inside], query[inside], tail
        out = kvcache.attend(query, keys[-1], values[-1], queries, padding,
                             scale=attn.head_dim ** -0.5)
        hidden = hidden + attn.Wo(out.flatten(1))
        hidden = hidden + layer.mlp(layer.mlp_norm(hidden))
    logits = model.decoder(model.head(base.final_norm(hidden)))
    return WindowOutput(logits, tail.rows, tail.positions, KVCache(tuple(keys), tuple(values)))


@torch.no_grad()
def window_agrees_with_full_forward(model: ModernBertForMaskedLM) -> bool:
    """Whether `forward_window` over whole rows matches the model's own forward here, padded
    rows included (it reads the same transformers internals as `tail_logits`)."""
    ids, attention, keep = probe_inputs(model)
    length = ids.shape[1]
    try:
        out = forward_window(model, ids, Window.full(2, length, ids.device), None, attention,
                             keep)
    except (AttributeError, TypeError, ValueError, RuntimeError):
        return False
    full = model(input_ids=ids, attention_mask=attention).logits[:, -keep:]
    got = torch.full_like(full, torch.nan)
    got[out.rows, out.positions - (length - keep)] = out.logits
    tolerance = 1e-4 if full.dtype == torch.float32 else 2e-2
    return torch.allclose(got, full, atol=tolerance, rtol=tolerance)
