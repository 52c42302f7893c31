"""hexviz's native LLaDA on a tiny random checkpoint written in LLaDA's own format."""

from __future__ import annotations

import json
import math

import pytest
import torch
from safetensors.torch import save_file

from hexviz import models
from hexviz.decode.assemble import decode
from hexviz.policy.settings import DecodeConfig, hex_experts
from hexviz.models.llada import LLaDAModelLM
from hexviz.train.loop import tokenizer_corpus
from hexviz.train.tokenizer import build_tokenizer

D, HEADS, KV_HEADS, LAYERS, HIDDEN, EPS, THETA = 32, 4, 2, 2, 48, 1e-5, 10000.0


def llada_tensors(vocab: int) -> dict[str, torch.Tensor]:
    """Random weights under LLaDA's published tensor names."""
    g = torch.Generator().manual_seed(0)
    rnd = lambda *shape: torch.randn(*shape, generator=g) * 0.2  # noqa: E731
    head_dim = D // HEADS
    t = {"model.transformer.wte.weight": rnd(vocab, D),
         "model.transformer.ln_f.weight": 1 + rnd(D),
         "model.transformer.ff_out.weight": rnd(vocab, D)}
    for i in range(LAYERS):
        p = f"model.transformer.blocks.{i}."
        t |= {p + "q_proj.weight": rnd(D, D), p + "k_proj.weight": rnd(KV_HEADS * head_dim, D),
              p + "v_proj.weight": rnd(KV_HEADS * head_dim, D), p + "attn_out.weight": rnd(D, D),
              p + "attn_norm.weight": 1 + rnd(D), p + "ff_norm.weight": 1 + rnd(D),
              p + "ff_proj.weight": rnd(HIDDEN, D), p + "up_proj.weight": rnd(HIDDEN, D),
              p + "ff_out.weight": rnd(D, HIDDEN)}
    return t


@pytest.fixture(scope="module")
def llada_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-llada")
    tokenizer = build_tokenizer(tokenizer_corpus(300))
    vocab = len(tokenizer)
    config = {  # LLaDA's own field names, as in GSAI-ML/LLaDA-8B-Instruct's config.json
        "architectures": ["LLaDAModelLM"], "model_type": "llada", "activation_type": "silu",
        "block_type": "llama", "d_model": D, "n_heads": HEADS, "n_kv_heads": KV_HEADS,
        "n_layers": LAYERS, "mlp_hidden_size": HIDDEN, "mlp_ratio": 4, "vocab_size": vocab,
        "embedding_size": vocab, "rope": True, "rope_theta": THETA, "rms_norm_eps": EPS,
        "layer_norm_type": "rms", "max_sequence_length": 512, "include_bias": False,
        "include_qkv_bias": False, "weight_tying": False, "alibi": False,
        "mask_token_id": tokenizer.mask_token_id, "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.eos_token_id, "scale_logits": False, "use_cache": False,
        "auto_map": {"AutoModel": "modeling_llada.LLaDAModelLM"},
    }
    (path / "config.json").write_text(json.dumps(config))
    save_file(llada_tensors(vocab), path / "model.safetensors", metadata={"format": "pt"})
    tokenizer.save_pretrained(path)
    return path


def reference_logits(w: dict[str, torch.Tensor], ids: torch.Tensor) -> torch.Tensor:
    """The published architecture written out plainly, straight from the tensors."""
    def rms(x, weight):
        return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS))

    B, T = ids.shape
    hd = D // HEADS
    inv = 1.0 / (THETA ** (torch.arange(0, hd, 2).float() / hd))
    freqs = torch.einsum("i,j->ij", torch.arange(T).float(), inv)
    pos = torch.cat((freqs, freqs), -1)
    sin, cos = pos.sin()[None, None], pos.cos()[None, None]

    def rope(t):
        x1, x2 = t.view(B, t.shape[1], T, 2, hd // 2).unbind(-2)
        return t * cos + torch.cat((-x2, x1), -1) * sin

    x = w["model.transformer.wte.weight"][ids]
    for i in range(LAYERS):
        p = lambda n: w[f"model.transformer.blocks.{i}.{n}.weight"]  # noqa: E731
        h = rms(x, p("attn_norm"))
        q = (h @ p("q_proj").T).view(B, T, HEADS, hd).transpose(1, 2)
        k = (h @ p("k_proj").T).view(B, T, KV_HEADS, hd).transpose(1, 2)
        v = (h @ p("v_proj").T).view(B, T, KV_HEADS, hd).transpose(1, 2)
        q, k = rope(q), rope(k)
        k, v = (t.repeat_interleave(HEADS // KV_HEADS, dim=1) for t in (k, v))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), -1) @ v
        x = x + att.transpose(1, 2).reshape(B, T, D) @ p("attn_out").T
        h = rms(x, p("ff_norm"))
        x = x + (torch.nn.functional.silu(h @ p("ff_proj").T) * (h @ p("up_proj").T)) @ p("ff_out").T
    return rms(x, w["model.transformer.ln_f.weight"]) @ w["model.transformer.ff_out.weight"].T


@pytest.fixture(scope="module")
def llada(llada_dir):
    return models.load(str(llada_dir), device="cpu")


def test_loads_natively_with_llada_names(llada, llada_dir):
    assert isinstance(llada.model, LLaDAModelLM)
    assert "auto_map" in json.loads((llada_dir / "config.json").read_text())  # and it's ignored
    names = set(llada.model.state_dict())
    assert names == set(llada_tensors(len(llada.tokenizer)))
    assert llada.mask_id == llada.tokenizer.mask_token_id
    assert llada.special.end_of_turn_id == llada.tokenizer.convert_tokens_to_ids("<|eot_id|>")


def test_logits_match_the_reference_forward(llada):
    ids = torch.tensor([llada.format_prompt("Tom has 5 apples. How many now?")])
    expected = reference_logits(llada_tensors(len(llada.tokenizer)), ids)
    got = llada.model(ids).logits
    assert got.shape == (1, ids.shape[1], len(llada.tokenizer))
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


def test_attention_is_bidirectional(llada):
    ids = torch.tensor([llada.format_prompt("Tom has 5 apples.")])
    changed = ids.clone()
    changed[0, -1] = llada.mask_id
    first = lambda x: llada.model(x).logits[0, 0]  # noqa: E731
    assert not torch.allclose(first(ids), first(changed))


def test_left_padding_with_a_mask_gives_the_same_logits(llada):
    ids = torch.tensor([llada.format_prompt("Tom has 5 apples.")])
    padded = torch.cat([torch.full((1, 4), llada.tokenizer.pad_token_id), ids], dim=1)
    mask = torch.cat([torch.zeros(1, 4, dtype=torch.long), torch.ones_like(ids)], dim=1)
    torch.testing.assert_close(llada.logits(padded, mask)[:, 4:], llada.logits(ids),
                               atol=1e-5, rtol=1e-5)


def test_answer_logits_skip_the_prompt_positions(llada):
    ids = torch.tensor([llada.format_prompt("Tom has 5 apples. How many now?")])
    assert llada.tail_forward == "logits_to_keep"
    full = llada.model(ids).logits
    assert llada.model(ids, logits_to_keep=4).logits.shape == (1, 4, full.shape[-1])
    torch.testing.assert_close(llada.logits(ids, keep=4), full[:, -4:], atol=1e-5, rtol=1e-5)


def test_engine_decodes_with_llada_end_to_end(llada):
    run = decode(llada, llada.format_prompt("Mia has 3 pens."), hex_experts(16, [4, 8]),
                 DecodeConfig(16, 16))
    for t in run.trajectories:
        assert (t.reveal_step >= 0).all() and not (t.token_ids == llada.mask_id).any()


@pytest.mark.parametrize("mode", ["prefix", "dual"])
def test_engine_decodes_with_a_block_cache(llada, mode):
    """One step per block: every step refreshes the cache, so the run is exact decoding; with
    more steps per block it is cached and still reveals everything."""
    prompt = llada.format_prompt("Mia has 3 pens.")
    experts = hex_experts(16, [4, 8])
    exact = decode(llada, prompt, [experts[0]], DecodeConfig(16, 4))
    cached = decode(llada, prompt, [experts[0]], DecodeConfig(16, 4, cache=mode))
    assert cached.config.cache == mode
    assert cached.trajectories[0].token_ids.tolist() == exact.trajectories[0].token_ids.tolist()
    run = decode(llada, prompt, experts, DecodeConfig(16, 16, cache=mode))
    assert run.timing.positions < decode(llada, prompt, experts,
                                         DecodeConfig(16, 16)).timing.positions
    for t in run.trajectories:
        assert (t.reveal_step >= 0).all() and not (t.token_ids == llada.mask_id).any()


def test_bf16_shapes_and_dtype(llada_dir):
    lm = models.load(str(llada_dir), device="cpu", dtype=torch.bfloat16)
    ids = torch.tensor([lm.format_prompt("Tom has 5 apples.")] * 2)
    logits = lm.model(ids).logits
    assert logits.dtype == torch.bfloat16 and logits.shape == (2, ids.shape[1], len(lm.tokenizer))
    assert torch.isfinite(logits.float()).all()


def test_unsupported_llada_variants_are_refused(llada_dir, tmp_path):
    config = json.loads((llada_dir / "config.json").read_text())
    config["block_type"] = "sequential"
    for f in llada_dir.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(models.ModelLoadError, match="block_type='llama'"):
        models.load(str(tmp_path), device="cpu")
