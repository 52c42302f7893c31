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


NEWLINE_TOKENS = ("\n", "Ċ", "<0x0A>")  # plain, byte-level BPE (GPT-2, LLaDA), SentencePiece
SENTENCE_END_TOKENS = (".", "▁.", "Ġ.")


def delimiter_ids(tokenizer) -> tuple[int, ...]:
    """AdaBlock's default delimiters for this tokenizer: its newline token, as the authors use
    on LLaDA (id 198), else its sentence-ending period (the built-in model's answers are one
    line); () when it has neither."""
    vocab = tokenizer.get_vocab()
    for group in (NEWLINE_TOKENS, SENTENCE_END_TOKENS):
        found = [vocab[t] for t in group if t in vocab]
        if found:
            return (found[0],)
    return ()


def resolve_delimiters(tokenizer, items) -> tuple[int, ...]:
    """Delimiter token ids from ids or token texts ("\\n" a newline); ValueError for a text
    that is not one token of ``tokenizer`` or an id outside its vocabulary."""
    vocab, size, ids = tokenizer.get_vocab(), len(tokenizer), []
    for item in items:
        if isinstance(item, int) or str(item).isdigit():
            if not 0 <= int(item) < size:
                raise ValueError(f"delimiter id {item} is outside this model's vocabulary "
                                 f"(0..{size - 1})")
            ids.append(int(item))
            continue
        text = str(item).replace("\\n", "\n")
        found = [vocab[t] for t in (text, *(NEWLINE_TOKENS if text == "\n" else ()))
                 if t in vocab]
        encoded = tokenizer.encode(text, add_special_tokens=False) if not found else []
        unknown = getattr(tokenizer, "unk_token_id", None)
        if not found and (len(encoded) != 1 or encoded[0] == unknown):
            raise ValueError(f"delimiter {item!r} is not one token of this model's tokenizer; "
                             f"give its token id")
        ids.append(found[0] if found else int(encoded[0]))
    return tuple(dict.fromkeys(ids))
