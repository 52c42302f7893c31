"""LLaDA (Nie et al., 2025) as a native transformers model: no remote code needed.

A bidirectional LLaMA-style transformer: RMSNorm, rotary position embeddings, SwiGLU MLP, no
biases, an untied output layer. It reads LLaDA's own ``config.json`` fields and tensor names
(``model.transformer.blocks.{i}.q_proj.weight`` ...), so the published safetensors shards load
unchanged with ``from_pretrained`` (``device_map`` / ``dtype`` included). Numerics follow the
published modelling code: norms and rotary embeddings in float32, attention never causal.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoConfig, AutoModelForMaskedLM, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import MaskedLMOutput

from hexviz.models import kvcache
from hexviz.models.kvcache import KVCache, Window, WindowOutput
from hexviz.models.tokens import LLADA


class LLaDAConfig(PretrainedConfig):
    """LLaDA's configuration, with its own field names (defaults: LLaDA-8B)."""

    model_type = "llada"
    attribute_map = {"hidden_size": "d_model", "num_attention_heads": "n_heads",
                     "num_hidden_layers": "n_layers", "intermediate_size": "mlp_hidden_size",
                     "max_position_embeddings": "max_sequence_length"}

    def __init__(self, d_model: int = 4096, n_heads: int = 32, n_kv_heads: int | None = None,
                 n_layers: int = 32, mlp_hidden_size: int | None = 12288, mlp_ratio: int = 4,
                 vocab_size: int = 126464, embedding_size: int | None = 126464,
                 rope_theta: float = 500000.0, rms_norm_eps: float = 1e-5,
                 max_sequence_length: int = 4096, mask_token_id: int = LLADA.mask_id,
                 eos_token_id: int = LLADA.end_of_text_id,
                 pad_token_id: int = LLADA.end_of_text_id, activation_type: str = "silu",
                 block_type: str = "llama", layer_norm_type: str = "rms", rope: bool = True,
                 alibi: bool = False, include_bias: bool = False,
                 include_qkv_bias: bool = False, weight_tying: bool = False,
                 scale_logits: bool = False, input_emb_norm: bool = False,
                 init_std: float = 0.02, **kwargs) -> None:
        self.d_model, self.n_heads, self.n_layers = d_model, n_heads, n_layers
        self.n_kv_heads = n_kv_heads or n_heads
        self.mlp_hidden_size = mlp_hidden_size or mlp_ratio * d_model
        self.mlp_ratio = mlp_ratio
        self.embedding_size = embedding_size or vocab_size
        self.rope_theta, self.rms_norm_eps = rope_theta, rms_norm_eps
        self.max_sequence_length = max_sequence_length
        self.mask_token_id = mask_token_id
        self.activation_type, self.block_type = activation_type, block_type
        self.layer_norm_type, self.rope, self.alibi = layer_norm_type, rope, alibi
        self.include_bias, self.include_qkv_bias = include_bias, include_qkv_bias
        self.weight_tying, self.scale_logits = weight_tying, scale_logits
        self.input_emb_norm, self.init_std = input_emb_norm, init_std
        kwargs.pop("tie_word_embeddings", None)
        kwargs.pop("use_cache", None)
        super().__init__(vocab_size=vocab_size, eos_token_id=eos_token_id,
                         pad_token_id=pad_token_id, tie_word_embeddings=weight_tying,
                         use_cache=False, **kwargs)
        self._check_supported()

    def _check_supported(self) -> None:
        wanted = {"activation_type": "silu", "block_type": "llama", "layer_norm_type": "rms",
                  "rope": True, "alibi": False, "include_bias": False,
                  "include_qkv_bias": False, "weight_tying": False}
        for name, value in wanted.items():
            if getattr(self, name) != value:
                raise ValueError(f"this LLaDA implementation needs {name}={value!r} "
                                 f"(got {getattr(self, name)!r})")


class RMSNorm(nn.Module):
    """LLaDA's RMSLayerNorm: normalise in float32, scale in the model's dtype."""

    def __init__(self, size: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rotary(q: torch.Tensor, k: torch.Tensor, positions: torch.Tensor,
                 theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotary embeddings in float32 (LLaDA's rope_full_precision); q, k: (B, H, T, D)."""
    dim = q.shape[-1]
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, device=q.device, dtype=torch.float) / dim))
    freqs = positions.float()[..., None] * inv_freq  # (B, T, D/2)
    angles = torch.cat((freqs, freqs), dim=-1)[:, None]  # (B, 1, T, D)
    sin, cos = angles.sin(), angles.cos()
    rotate = lambda t: (t.float() * cos + rotate_half(t.float()) * sin).to(t.dtype)  # noqa: E731
    return rotate(q), rotate(k)


class LLaDABlock(nn.Module):
    """x + Attn(RMSNorm(x)), then + SwiGLU-MLP(RMSNorm(.)), with LLaDA's parameter names."""

    def __init__(self, config: LLaDAConfig) -> None:
        super().__init__()
        d, head_dim = config.d_model, config.d_model // config.n_heads
        self.n_heads, self.n_kv_heads, self.theta = config.n_heads, config.n_kv_heads, config.rope_theta
        self.attn_norm = RMSNorm(d, config.rms_norm_eps)
        self.ff_norm = RMSNorm(d, config.rms_norm_eps)
        self.q_proj = nn.Linear(d, d, bias=False)
        self.k_proj = nn.Linear(d, config.n_kv_heads * head_dim, bias=False)
        self.v_proj = nn.Linear(d, config.n_kv_heads * head_dim, bias=False)
        self.attn_out = nn.Linear(d, d, bias=False)
        self.ff_proj = nn.Linear(d, config.mlp_hidden_size, bias=False)  # gated branch
        self.up_proj = nn.Linear(d, config.mlp_hidden_size, bias=False)  # linear branch
        self.ff_out = nn.Linear(config.mlp_hidden_size, d, bias=False)

    def qkv(self, x: torch.Tensor, positions: torch.Tensor
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, T, C) normed input -> queries (B, H, T, D), keys and values (B, H_kv, T, D),
        rotary embeddings applied."""
        B, T, C = x.shape
        heads = lambda t, n: t.view(B, T, n, C // self.n_heads).transpose(1, 2)  # noqa: E731
        q = heads(self.q_proj(x), self.n_heads)
        k = heads(self.k_proj(x), self.n_kv_heads)
        v = heads(self.v_proj(x), self.n_kv_heads)
        q, k = apply_rotary(q, k, positions, self.theta)
        return q, k, v

    def attention(self, x: torch.Tensor, positions: torch.Tensor,
                  key_mask: torch.Tensor | None) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x, positions)
        if self.n_kv_heads != self.n_heads:  # grouped-query attention
            k = k.repeat_interleave(self.n_heads // self.n_kv_heads, dim=1)
            v = v.repeat_interleave(self.n_heads // self.n_kv_heads, dim=1)
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask, is_causal=False)
        return self.attn_out(att.transpose(1, 2).reshape(B, T, C))

    def feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ff_norm(x)
        return self.ff_out(F.silu(self.ff_proj(h)) * self.up_proj(h))

    def forward(self, x: torch.Tensor, positions: torch.Tensor,
                key_mask: torch.Tensor | None) -> torch.Tensor:
        x = x + self.attention(self.attn_norm(x), positions, key_mask)
        return x + self.feed_forward(x)


class LLaDATransformer(nn.Module):
    def __init__(self, config: LLaDAConfig) -> None:
        super().__init__()
        self.wte = nn.Embedding(config.embedding_size, config.d_model)
        self.blocks = nn.ModuleList(LLaDABlock(config) for _ in range(config.n_layers))
        self.ln_f = RMSNorm(config.d_model, config.rms_norm_eps)
        self.ff_out = nn.Linear(config.d_model, config.embedding_size, bias=False)


class LLaDAModel(nn.Module):
    def __init__(self, config: LLaDAConfig) -> None:
        super().__init__()
        self.transformer = LLaDATransformer(config)


class LLaDAModelLM(PreTrainedModel):
    """``model(input_ids).logits`` is (B, L, embedding_size), as in the published code."""

    config_class = LLaDAConfig
    base_model_prefix = "model"
    _no_split_modules = ["LLaDABlock"]
    _supports_sdpa = True

    def __init__(self, config: LLaDAConfig) -> None:
        super().__init__(config)
        self.model = LLaDAModel(config)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=self.config.init_std)
        elif isinstance(module, RMSNorm):
            nn.init.ones_(module.weight)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.model.transformer.wte

    def get_output_embeddings(self) -> nn.Linear:
        return self.model.transformer.ff_out

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                position_ids: torch.Tensor | None = None, logits_to_keep: int = 0,
                **_: object) -> MaskedLMOutput:
        t = self.model.transformer
        B, T = input_ids.shape
        if position_ids is None:
            position_ids = torch.arange(T, device=input_ids.device).expand(B, T)
        key_mask = None
        if attention_mask is not None and not bool(attention_mask.all()):
            key_mask = attention_mask.bool()[:, None, None, :]  # (B, 1, 1, T): padding ignored
        x = t.wte(input_ids)
        for block in t.blocks:
            x = block(x, position_ids, key_mask)
        if logits_to_keep:  # transformers' convention: the last N positions only (0: all)
            x = x[:, -logits_to_keep:]
        return MaskedLMOutput(logits=t.ff_out(t.ln_f(x)))

    @torch.no_grad()
    def forward_window(self, input_ids: torch.Tensor, window: Window,
                       past_key_values: KVCache | None = None,
                       attention_mask: torch.Tensor | None = None,
                       keep: int | None = None) -> WindowOutput:
        """(R, T) ids -> logits of each row's window positions among the last ``keep``,
        computing only the windows; keys and values elsewhere come from ``past_key_values``,
        the cache of an earlier call (Fast-dLLM's prefix and dual cache; see `kvcache`)."""
        t = self.model.transformer
        plan = kvcache.plan_window(input_ids, window, past_key_values, len(t.blocks),
                                   attention_mask, keep)
        packed, tail, positions, padding = plan.packed, plan.tail, plan.positions, plan.padding
        x = t.wte(input_ids[packed.rows, packed.positions])  # (N, C)
        where = positions[packed.rows, packed.positions][None]  # (1, N)
        keys, values = [], []
        for i, block in enumerate(t.blocks):
            q, k, v = (a[0].transpose(0, 1) for a in block.qkv(block.attn_norm(x)[None], where))
            keys.append(kvcache.write_window(kvcache.layer_keys(past_key_values, i), k, packed))
            values.append(kvcache.write_window(kvcache.layer_values(past_key_values, i), v,
                                               packed))
            queries = packed
            if i == len(t.blocks) - 1:  # the last block's output is read only where logits are
                inside = kvcache.subset_index(packed, tail)
                x, q, queries = x[inside], q[inside], tail
            att = kvcache.attend(q, keys[-1], values[-1], queries, padding)  # (N, H, D)
            x = x + block.attn_out(att.flatten(1))
            x = x + block.feed_forward(x)
        return WindowOutput(t.ff_out(t.ln_f(x)), tail.rows, tail.positions,
                            KVCache(tuple(keys), tuple(values)))


# Known to the Auto classes from here on: AutoConfig, AutoTokenizer and AutoModelForMaskedLM read
# a LLaDA checkpoint like any other, with no remote code.
AutoConfig.register(LLaDAConfig.model_type, LLaDAConfig)
AutoModelForMaskedLM.register(LLaDAConfig, LLaDAModelLM)
