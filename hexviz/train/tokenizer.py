"""Word-level tokenizer for the built-in model, built with the `tokenizers` library.

Words keep a leading "▁" (as in SentencePiece) so that decoding restores spaces. Every number
from 0 to 99 is one token (" 12" is "▁12"): each step of the task's arithmetic is then one fact
(12 - 4 = 8) rather than digits with a carry, and the words around a number sit at fixed
offsets, which makes them easier to copy; longer numbers split into pieces of at most two
digits. The chat template is stored with the tokenizer, so ``apply_chat_template`` is the one
way prompts are formatted by the engine, the CLI, the app and training.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
from transformers import PreTrainedTokenizerFast

MASK = "[MASK]"
PAD = "[PAD]"
UNK = "[UNK]"
END_OF_TURN = "<|eot_id|>"
END_OF_TEXT = "<|endoftext|>"  # answer padding, LLaDA's AfterEoT token
USER = "<|user|>"
ASSISTANT = "<|assistant|>"
SPECIAL_TOKENS = [PAD, UNK, MASK, END_OF_TURN, END_OF_TEXT, USER, ASSISTANT]
# 0-99, and "00"-"09" for the later pieces of longer numbers ("1007" is "▁10", "07")
NUMBERS = [str(n) for n in range(100)] + [f"0{n}" for n in range(10)]

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + '<|eot_id|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)


def _pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    return pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always"),
        pre_tokenizers.Split(Regex(r"▁?####|▁?[0-9]{1,2}|▁?[^\w▁]"), behavior="isolated"),
    ])


def words_of(texts: Iterable[str]) -> list[str]:
    """The distinct pre-tokenized pieces of ``texts``, in first-seen order."""
    pre = _pre_tokenizer()
    seen: dict[str, None] = {}
    for text in texts:
        for piece, _ in pre.pre_tokenize_str(text):
            seen.setdefault(piece, None)
    return list(seen)


def build_tokenizer(texts: Iterable[str]) -> PreTrainedTokenizerFast:
    """A word-level tokenizer whose vocabulary is every piece of ``texts`` plus the numbers
    0-99 (with and without a leading space)."""
    pieces = words_of(texts)
    vocab_list = SPECIAL_TOKENS + ["▁"] + [f"{s}{n}" for s in ("", "▁") for n in NUMBERS]
    vocab_list += [p for p in pieces if p not in vocab_list]
    core = Tokenizer(models.WordLevel({tok: i for i, tok in enumerate(vocab_list)}, unk_token=UNK))
    core.normalizer = normalizers.Strip()
    core.pre_tokenizer = _pre_tokenizer()
    core.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    core.add_special_tokens(SPECIAL_TOKENS)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        mask_token=MASK, pad_token=PAD, unk_token=UNK, eos_token=END_OF_TEXT,
        additional_special_tokens=[END_OF_TURN, USER, ASSISTANT],
        padding_side="left",
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer
