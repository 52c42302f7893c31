"""Block KV caching, model side: a window forward equals a plain full-length recomputation of
the same approximation (every layer's keys and values outside the window taken from an earlier
forward), and over whole rows it equals the exact forward."""

from __future__ import annotations

import math

import pytest
import torch
from transformers import ModernBertConfig, ModernBertForMaskedLM

from hexviz import models
from hexviz.models import kvcache, modernbert
from hexviz.models.kvcache import Window, pack
from hexviz.models.llada import LLaDAConfig, LLaDAModelLM
from hexviz.models.tokens import SpecialTokens
from hexviz.models.wrapper import DiffusionLM

VOCAB, PROMPT, ANSWER = 40, 7, 16
T = PROMPT + ANSWER


def tiny_modernbert() -> ModernBertForMaskedLM:
    torch.manual_seed(0)
    config = ModernBertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=3,
                              num_attention_heads=2, intermediate_size=48,
                              max_position_embeddings=64, global_attn_every_n_layers=1,
                              pad_token_id=0, initializer_range=0.3, bos_token_id=1,
                              eos_token_id=2, cls_token_id=1, sep_token_id=2)
    return ModernBertForMaskedLM(config).eval()


def tiny_llada() -> LLaDAModelLM:
    torch.manual_seed(0)
    config = LLaDAConfig(d_model=32, n_heads=4, n_kv_heads=2, n_layers=2, mlp_hidden_size=48,
                         vocab_size=VOCAB, embedding_size=VOCAB, max_sequence_length=64,
                         rope_theta=10000.0, init_std=0.3, mask_token_id=3, eos_token_id=2,
                         pad_token_id=0)
    model = LLaDAModelLM(config).eval()
    with torch.no_grad():  # norms away from 1, so that their weights are tested too
        for name, p in model.named_parameters():
            if name.endswith("norm.weight") or "ln_f" in name:
                p.add_(torch.randn_like(p) * 0.2)
    return model


# --- plain full-length references: every position computed, keys and values swapped in -------

def rotate(t: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = t.shape[-1] // 2
    return t * cos + torch.cat((-t[..., half:], t[..., :half]), -1) * sin


def rope_tables(positions: torch.Tensor, dim: int, theta: float):
    inv = 1.0 / (theta ** (torch.arange(0, dim, 2).float() / dim))
    freqs = positions.float()[..., None] * inv
    angles = torch.cat((freqs, freqs), -1)[:, None]  # (R, 1, T, D)
    return angles.cos(), angles.sin()


def plain_attention(q, k, v, attention):
    """(R, H, T, D) softmax attention; padded keys get no weight."""
    if k.shape[1] != q.shape[1]:
        k, v = (t.repeat_interleave(q.shape[1] // k.shape[1], dim=1) for t in (k, v))
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    scores = scores.masked_fill(~attention.bool()[:, None, None, :], -torch.inf)
    return torch.softmax(scores, -1) @ v


def modernbert_reference(model, ids, attention, swap=None):
    """ModernBERT written out at full length; ``swap(layer, k, v)`` may replace the rotated
    keys and values (R, H, T, D) before attention. Returns logits (R, T, V), [(k, v)]."""
    base, (R, L) = model.model, ids.shape
    heads = model.config.num_attention_heads
    dim = model.config.hidden_size // heads
    theta = model.config.rope_parameters["full_attention"]["rope_theta"]
    cos, sin = rope_tables((attention.cumsum(-1) - 1).clamp_min(0), dim, theta)
    x, seen = base.embeddings.norm(base.embeddings.tok_embeddings(ids)), []
    for i, layer in enumerate(base.layers):
        q, k, v = layer.attn.Wqkv(layer.attn_norm(x)).view(R, L, 3, heads, dim).permute(
            2, 0, 3, 1, 4)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        if swap is not None:
            k, v = swap(i, k, v)
        seen.append((k, v))
        att = plain_attention(q, k, v, attention)
        x = x + layer.attn.Wo(att.transpose(1, 2).reshape(R, L, -1))
        x = x + layer.mlp(layer.mlp_norm(x))
    return model.decoder(model.head(base.final_norm(x))), seen


def llada_reference(model, ids, attention, swap=None):
    """LLaDA written out at full length from its weights, as `modernbert_reference`."""
    t, config, (R, L) = model.model.transformer, model.config, ids.shape
    dim = config.d_model // config.n_heads
    cos, sin = rope_tables((attention.cumsum(-1) - 1).clamp_min(0), dim, config.rope_theta)

    def rms(x, norm):
        return norm.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + norm.eps))

    x, seen = t.wte.weight[ids], []
    for i, b in enumerate(t.blocks):
        h = rms(x, b.attn_norm)
        split = lambda y, n: y.view(R, L, n, dim).transpose(1, 2)  # noqa: E731
        q = rotate(split(h @ b.q_proj.weight.T, config.n_heads), cos, sin)
        k = rotate(split(h @ b.k_proj.weight.T, config.n_kv_heads), cos, sin)
        v = split(h @ b.v_proj.weight.T, config.n_kv_heads)
        if swap is not None:
            k, v = swap(i, k, v)
        seen.append((k, v))
        att = plain_attention(q, k, v, attention)
        x = x + att.transpose(1, 2).reshape(R, L, -1) @ b.attn_out.weight.T
        h = rms(x, b.ff_norm)
        x = x + (torch.nn.functional.silu(h @ b.ff_proj.weight.T) * (h @ b.up_proj.weight.T)
                 ) @ b.ff_out.weight.T
    return rms(x, t.ln_f) @ t.ff_out.weight.T, seen


def approximation(reference, model, first_ids, ids, attention, window):
    """Logits (R, T, V) of ``ids`` when every layer's keys and values outside each row's window
    are those of the full forward of ``first_ids`` (the block's first forward)."""
    _, first = reference(model, first_ids, attention)
    inside = torch.zeros(ids.shape, dtype=torch.bool)
    for r, (a, b) in enumerate(zip(window.start.tolist(), window.end.tolist(), strict=True)):
        inside[r, a:b] = True
    keep = inside[:, None, :, None]

    def swap(i, k, v):
        return torch.where(keep, k, first[i][0]), torch.where(keep, v, first[i][1])

    return reference(model, ids, attention, swap)[0]


def window_forward(model, ids, window, cache, attention, keep):
    if isinstance(model, LLaDAModelLM):
        return model.forward_window(ids, window, cache, attention, keep)
    return modernbert.forward_window(model, ids, window, cache, attention, keep)


def exact_forward(model, ids, attention):
    positions = (attention.cumsum(-1) - 1).clamp_min(0)
    return model(input_ids=ids, attention_mask=attention, position_ids=positions).logits


ARCHITECTURES = [pytest.param(tiny_modernbert, modernbert_reference, id="modernbert"),
                 pytest.param(tiny_llada, llada_reference, id="llada")]


def canvas() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Four rows (two left-padded prompts) with an all-mask answer (first forward), and the
    same rows some steps later with tokens revealed in and before their windows."""
    g = torch.Generator().manual_seed(1)
    first = torch.randint(4, VOCAB, (4, T), generator=g)
    first[:, PROMPT:] = 3  # mask
    attention = torch.ones_like(first)
    attention[1, :3] = attention[3, :2] = 0
    first[attention == 0] = 0
    later = first.clone()
    revealed = torch.rand(4, ANSWER, generator=g) < 0.4
    later[:, PROMPT:][revealed] = torch.randint(4, VOCAB, (int(revealed.sum()),), generator=g)
    return first, later, attention


# Dual cache: the current block; prefix cache: the block and everything after; empty: a row
# that computes nothing this step. Rows at different blocks with different widths.
WINDOWS = {
    "dual": Window(torch.tensor([PROMPT, PROMPT + 4, PROMPT + 8, PROMPT]),
                   torch.tensor([PROMPT + 4, PROMPT + 8, PROMPT + 16, PROMPT + 4])),
    "prefix": Window(torch.tensor([PROMPT, PROMPT + 4, PROMPT + 8, PROMPT + 12]),
                     torch.full((4,), T)),
    "mixed": Window(torch.tensor([0, PROMPT + 4, PROMPT + 8, PROMPT + 2]),
                    torch.tensor([T, T, PROMPT + 12, PROMPT + 2])),
}


def dense(out, rows: int, keep: int) -> torch.Tensor:
    """The packed logits placed at their rows and positions among the last ``keep``; nan
    where nothing was computed."""
    got = torch.full((rows, keep, out.logits.shape[-1]), torch.nan)
    got[out.rows, out.positions - (T - keep)] = out.logits
    return got


@pytest.mark.parametrize("build,reference", ARCHITECTURES)
def test_a_whole_window_equals_the_exact_forward(build, reference):
    """The first step of a block: nothing cached, so it is exact decoding."""
    model = build()
    _, later, attention = canvas()
    out = window_forward(model, later, Window.full(4, T), None, attention, ANSWER)
    exact = exact_forward(model, later, attention)[:, -ANSWER:]
    torch.testing.assert_close(dense(out, 4, ANSWER), exact, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(reference(model, later, attention)[0][:, -ANSWER:], exact,
                               atol=1e-5, rtol=1e-5)  # the reference is the model


@pytest.mark.parametrize("mode", list(WINDOWS))
@pytest.mark.parametrize("build,reference", ARCHITECTURES)
def test_cached_windows_equal_the_plain_recomputation(build, reference, mode):
    model = build()
    first, later, attention = canvas()
    window = WINDOWS[mode]
    cache = window_forward(model, first, Window.full(4, T), None, attention, ANSWER).cache
    out = window_forward(model, later, window, cache, attention, ANSWER)
    expected = approximation(reference, model, first, later, attention, window)[:, -ANSWER:]
    got = dense(out, 4, ANSWER)
    computed = ~got.isnan().any(-1)
    for r, (a, b) in enumerate(zip(window.start.tolist(), window.end.tolist(), strict=True)):
        want = torch.zeros(ANSWER, dtype=torch.bool)
        want[max(a - PROMPT, 0):max(b - PROMPT, 0)] = True
        assert computed[r].tolist() == want.tolist()
    torch.testing.assert_close(got[computed], expected[computed], atol=1e-5, rtol=1e-5)
    # ... and it is an approximation: the exact logits of the same canvas differ
    exact = exact_forward(model, later, attention)[:, -ANSWER:]
    changed = computed & (window.start > 0)[:, None]
    assert (got[changed] - exact[changed]).abs().max() > 1e-3


@pytest.mark.parametrize("build,reference", ARCHITECTURES)
def test_a_cache_of_the_same_canvas_gives_exact_logits(build, reference):
    model = build()
    _, later, attention = canvas()
    cache = window_forward(model, later, Window.full(4, T), None, attention, ANSWER).cache
    out = window_forward(model, later, WINDOWS["dual"], cache, attention, ANSWER)
    exact = exact_forward(model, later, attention)
    torch.testing.assert_close(out.logits, exact[out.rows, out.positions], atol=1e-5,
                               rtol=1e-5)


@pytest.mark.parametrize("build,reference", ARCHITECTURES)
def test_the_cache_keeps_the_first_forward_outside_the_window(build, reference):
    model = build()
    first, later, attention = canvas()
    cache = window_forward(model, first, Window.full(4, T), None, attention, ANSWER).cache
    before = [k.clone() for k in cache.keys]
    window = WINDOWS["prefix"]
    out = window_forward(model, later, window, cache, attention, ANSWER)
    fresh = window_forward(model, later, Window.full(4, T), None, attention, ANSWER).cache
    for i, (k, k0) in enumerate(zip(out.cache.keys, before, strict=True)):
        assert torch.equal(cache.keys[i], k0)  # the input cache is left as it was
        for r in range(4):
            a = int(window.start[r])
            assert torch.equal(k[r, :a], k0[r, :a])  # outside: the first forward's
            if i == 0:  # the first layer's keys depend on the tokens alone: inside the
                torch.testing.assert_close(k[r, a:], fresh.keys[0][r, a:], atol=1e-5,
                                           rtol=1e-5)  # window they are this canvas's
    assert out.cache.rows == 4 and out.cache.length == T


def test_windows_pack_row_by_row_and_group_by_width():
    window = Window(torch.tensor([2, 0, 5, 1]), torch.tensor([4, 3, 5, 3]))
    packed = pack(window)
    assert packed.rows.tolist() == [0, 0, 1, 1, 1, 3, 3]
    assert packed.positions.tolist() == [2, 3, 0, 1, 2, 1, 2]
    assert packed.offsets.tolist() == [0, 2, 5, 5]
    (scattered, two), (one, three) = packed.groups
    assert (scattered.tolist(), two.tolist()) == ([0, 3], [[0, 1], [5, 6]])
    assert (one, three.tolist()) == (slice(1, 2), [[2, 3, 4]])  # consecutive rows: a view
    tail = pack(window.clipped_from(2))
    assert tail.positions.tolist() == [2, 3, 2, 2]
    assert kvcache.subset_index(packed, tail).tolist() == [0, 1, 4, 6]


def test_bad_windows_and_caches_are_refused():
    with pytest.raises(ValueError, match="start <= end"):
        Window(torch.tensor([3]), torch.tensor([2]))
    with pytest.raises(ValueError, match="one start and one end per row"):
        Window(torch.tensor([0, 1]), torch.tensor([2]))
    model = tiny_modernbert()
    ids = torch.randint(VOCAB, (2, T))
    with pytest.raises(ValueError, match="without a cache every row's window"):
        modernbert.forward_window(model, ids, Window.between(PROMPT, T, 2))
    cache = modernbert.forward_window(model, ids, Window.full(2, T)).cache
    with pytest.raises(ValueError, match="the cache holds 1 rows"):
        modernbert.forward_window(model, ids, Window.between(PROMPT, T, 2),
                                  cache.take(torch.tensor([0])))
    with pytest.raises(ValueError, match="within the"):
        modernbert.forward_window(model, ids, Window.between(0, T + 1, 2), cache)


def test_taking_rows_of_a_cache():
    model = tiny_llada()
    ids = torch.randint(4, VOCAB, (3, T))
    cache = model.forward_window(ids, Window.full(3, T)).cache
    taken = cache.take(torch.tensor([2, 0, 0]))
    assert taken.rows == 3 and len(taken.keys) == 2
    assert torch.equal(taken.values[1][0], cache.values[1][2])
    assert torch.equal(taken.keys[0][2], cache.keys[0][0])
    assert cache.take(torch.arange(3)) is cache  # every row in order: nothing copied
    assert cache.take(torch.tensor([0, 1])).rows == 2


def wrap(model) -> DiffusionLM:
    return DiffusionLM(model, tokenizer=None, name="tiny", special=SpecialTokens(3, 2, None))


def test_the_wrapper_says_which_models_cache():
    assert wrap(tiny_modernbert()).window_forward == "modernbert"
    assert wrap(tiny_llada()).window_forward == "native"
    sliding = tiny_modernbert()
    sliding.config.layer_types = ["full_attention", "sliding_attention", "full_attention"]
    lm = wrap(sliding)
    assert lm.window_forward is None
    assert "has no block KV cache" in lm.cache_refusal
    with pytest.raises(ValueError, match="has no block KV cache"):
        lm.forward_window(torch.zeros(1, T, dtype=torch.long), None, Window.full(1, T), None,
                          ANSWER)


def test_the_check_catches_a_window_forward_that_disagrees(monkeypatch):
    model = tiny_modernbert()
    assert modernbert.window_agrees_with_full_forward(model)
    monkeypatch.setattr(kvcache, "attend", lambda q, k, v, packed, padding, scale=None: q)
    assert not modernbert.window_agrees_with_full_forward(model)


def test_builtin_model_windows_equal_its_exact_logits():
    lm: DiffusionLM = models.load(device="cpu")
    assert lm.window_forward == "modernbert"
    prompt = lm.format_prompt("Tom has 5 apples. He buys 3 more. How many apples now?")
    ids = torch.tensor([prompt + [lm.mask_id] * 32] * 2)
    ids[1, len(prompt) + 3] = ids[0, 0]
    attention = torch.ones_like(ids)
    out = lm.forward_window(ids, attention, Window.full(2, ids.shape[1]), None, 32)
    exact = lm.logits(ids, attention, 32)
    torch.testing.assert_close(out.logits, exact[out.rows, out.positions - len(prompt)],
                               atol=1e-5, rtol=1e-5)
    block = Window.between(len(prompt), len(prompt) + 8, 2)
    cached = lm.forward_window(ids, attention, block, out.cache, 32)
    torch.testing.assert_close(cached.logits, exact[cached.rows, cached.positions - len(prompt)],
                               atol=1e-5, rtol=1e-5)


def test_bf16_window_forward_runs_with_the_model_dtype():
    model = tiny_llada().to(torch.bfloat16)
    ids = torch.randint(4, VOCAB, (2, T))
    out = model.forward_window(ids, Window.full(2, T), keep=ANSWER)
    assert out.logits.dtype == torch.bfloat16 and out.cache.keys[0].dtype == torch.bfloat16
    step = model.forward_window(ids, Window.between(PROMPT, PROMPT + 4, 2), out.cache,
                                keep=ANSWER)
    assert step.logits.shape == (8, VOCAB) and torch.isfinite(step.logits.float()).all()
