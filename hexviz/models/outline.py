"""`ModelOutline`: what planning a decode needs of a model, without its weights.

A request is checked against the prompt's length, the model's context and its defaults before
anything decodes; the tokenizer and the config give them in milliseconds, where the weights take
seconds, so a refused request answers at once (``hexviz.models.load_outline`` makes one). No
torch here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hexviz.models.meta import ModelDefaults
from hexviz.models.tokens import chat_prompt_ids


@dataclass(frozen=True, eq=False)
class ModelOutline:
    """The parts of a `DiffusionLM` that `hexviz.decode.plan.plan` reads, weights aside."""

    name: str  # the id or local directory it was read from
    tokenizer: Any  # a transformers tokenizer
    max_length: int | None  # prompt + answer positions, when the config says
    defaults: ModelDefaults = field(default_factory=ModelDefaults)
    # Whether a block KV cache is refused is known only once the weights load; the plan made
    # then says it (a note, never a refusal).
    cache_refusal: str | None = None

    def format_prompt(self, text: str) -> list[int]:
        """Prompt ids for a user message, as `DiffusionLM.format_prompt` makes them."""
        return chat_prompt_ids(self.tokenizer, text)


def max_length_of(config: dict) -> int | None:
    """Prompt + answer positions from a config.json's fields (None when it names none), as
    `DiffusionLM.max_length` reads them from the loaded config."""
    return config.get("max_position_embeddings") or config.get("max_sequence_length")
