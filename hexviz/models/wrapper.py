"""`DiffusionLM`: the one interface the engine needs from a masked diffusion language model."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from functools import cached_property

import torch
from transformers import PreTrainedTokenizerBase

from hexviz.models import modernbert
from hexviz.models.kvcache import KVCache, Window, WindowOutput
from hexviz.models.meta import ModelDefaults
from hexviz.models.tokens import SpecialTokens, answer_text, chat_prompt_ids


@dataclass(eq=False)
class DiffusionLM:
    """A model that maps ids (B, L) to logits (B, L, V), with its tokenizer and special ids."""

    model: torch.nn.Module
    tokenizer: PreTrainedTokenizerBase
    name: str  # the id or local directory it was loaded from
    special: SpecialTokens
    shift_logits: bool = False  # Dream-style models predict position i at logits[i - 1]
    defaults: ModelDefaults = field(default_factory=ModelDefaults)

    @property
    def mask_id(self) -> int:
        return self.special.mask_id

    @property
    def end_ids(self) -> tuple[int, ...]:
        return self.special.end_ids

    @property
    def max_length(self) -> int | None:
        """Longest prompt + answer the model was built for, when its config says."""
        config = self.model.config
        return getattr(config, "max_position_embeddings", None) or getattr(
            config, "max_sequence_length", None)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def format_prompt(self, text: str) -> list[int]:
        """Prompt ids for a user message: the chat template when the tokenizer has one."""
        return chat_prompt_ids(self.tokenizer, text)

    @cached_property
    def _takes_position_ids(self) -> bool:
        return "position_ids" in inspect.signature(self.model.forward).parameters

    @cached_property
    def tail_forward(self) -> str:
        """How this model computes the last positions' logits alone, if it can."""
        if self.shift_logits:
            return "full"
        if modernbert.is_supported(self.model) and modernbert.agrees_with_full_forward(
                self.model):
            return "modernbert"
        if "logits_to_keep" in inspect.signature(self.model.forward).parameters:
            return "logits_to_keep"
        return "full"

    @torch.no_grad()
    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
               keep: int | None = None) -> torch.Tensor:
        """(B, L) ids -> (B, L, V) logits aligned with the input positions; with ``keep``,
        (B, keep, V) for the last ``keep`` positions (the answer region), which some models
        compute for less."""
        kwargs = {}
        if attention_mask is not None and not bool(attention_mask.all()):
            # Left padding: real tokens keep positions 0, 1, ... as in an unpadded row.
            kwargs["attention_mask"] = attention_mask
            if self._takes_position_ids:
                kwargs["position_ids"] = (attention_mask.cumsum(-1) - 1).clamp_min(0)
        keep = keep or input_ids.shape[1]
        if self.tail_forward == "modernbert":
            return modernbert.tail_logits(self.model, input_ids, keep, **kwargs)
        if self.tail_forward == "logits_to_keep":
            return self.model(input_ids=input_ids, logits_to_keep=keep, **kwargs).logits
        logits = self.model(input_ids=input_ids, **kwargs).logits
        if self.shift_logits:
            logits = torch.cat([logits[:, :1], logits[:, :-1]], dim=1)
        return logits[:, -keep:]

    @cached_property
    def window_forward(self) -> str | None:
        """How this model computes a window of each row with a block KV cache, if it can."""
        if self.shift_logits:
            return None
        if callable(getattr(self.model, "forward_window", None)):  # hexviz's native LLaDA
            return "native"
        if modernbert.is_supported(self.model) and modernbert.window_agrees_with_full_forward(
                self.model):
            return "modernbert"
        return None

    @property
    def cache_refusal(self) -> str | None:
        """Why this model cannot decode with a block KV cache (None when it can)."""
        if self.window_forward is not None:
            return None
        return (f"this model ({type(self.model).__name__}) has no block KV cache (hexviz has "
                "one for ModernBERT with global attention, as the built-in model, and for "
                "its native LLaDA)")

    @torch.no_grad()
    def forward_window(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None,
                       window: Window, cache: KVCache | None, keep: int) -> WindowOutput:
        """Logits of each row's window among the last ``keep`` positions, keys and values
        outside the windows from ``cache`` (see `hexviz.models.kvcache`)."""
        if self.window_forward is None:
            raise ValueError(self.cache_refusal)
        if attention_mask is not None and bool(attention_mask.all()):
            attention_mask = None
        if self.window_forward == "native":
            return self.model.forward_window(input_ids, window, cache, attention_mask, keep)
        return modernbert.forward_window(self.model, input_ids, window, cache, attention_mask,
                                         keep)

    def token_texts(self, ids: list[int]) -> list[str]:
        """Each id's text on its own, special tokens kept visible."""
        return [self.tokenizer.decode([i]) for i in ids]

    def answer_text(self, ids: list[int]) -> str:
        """The answer as text: everything before the first end token."""
        return answer_text(self.tokenizer, ids, self.end_ids)
