"""Special token ids and prompt formatting: what the engine, the trajectory and training share.

No torch here, so a saved run (which records its special ids) replays without it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpecialTokens:
    mask_id: int
    end_of_text_id: int | None  # padding after the answer (LLaDA's AfterEoT token)
    end_of_turn_id: int | None

    @property
    def end_ids(self) -> tuple[int, ...]:
        return tuple(i for i in (self.end_of_turn_id, self.end_of_text_id) if i is not None)


LLADA = SpecialTokens(mask_id=126336, end_of_text_id=126081, end_of_turn_id=126348)
DREAM = SpecialTokens(mask_id=151666, end_of_text_id=151643, end_of_turn_id=151645)


def chat_prompt_ids(tokenizer, text: str) -> list[int]:
    """Prompt ids for one user message, the way both training and decoding format it: the
    tokenizer's chat template with the assistant turn opened, else the plain text."""
    if getattr(tokenizer, "chat_template", None):
        ids = tokenizer.apply_chat_template([{"role": "user", "content": text}],
                                            add_generation_prompt=True, tokenize=True,
                                            return_dict=False)
        return [int(i) for i in ids]
    return list(tokenizer(text)["input_ids"])


def answer_text(tokenizer, ids: list[int], end_ids: tuple[int, ...]) -> str:
    """The answer as text: everything before the first end token."""
    ends = set(end_ids)
    cut = next((i for i, t in enumerate(ids) if t in ends), len(ids))
    return tokenizer.decode(ids[:cut], skip_special_tokens=True).strip()
