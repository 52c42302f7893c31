"""Special token ids and the one chat-template call shared by training and decoding."""

from __future__ import annotations

from hexviz.models.llada import LLaDAConfig
from hexviz.models.tokens import LLADA, SpecialTokens, chat_prompt_ids


def test_end_ids_skip_what_a_model_lacks():
    assert SpecialTokens(0, 2, 1).end_ids == (1, 2)
    assert SpecialTokens(0, 2, None).end_ids == (2,)
    assert SpecialTokens(0, None, None).end_ids == ()


def test_llada_config_defaults_use_the_one_definition_of_its_ids():
    config = LLaDAConfig()
    assert (config.mask_token_id, config.eos_token_id) == (LLADA.mask_id, LLADA.end_of_text_id)


def test_chat_template_wraps_the_user_turn(random_lm):
    ids = chat_prompt_ids(random_lm.tokenizer, "Mia has 2 pens.")
    tokens = random_lm.tokenizer.convert_ids_to_tokens(ids)
    assert tokens[0] == "<|user|>" and tokens[-2:] == ["<|eot_id|>", "<|assistant|>"]
    assert ids == random_lm.format_prompt("Mia has 2 pens.")


def test_without_a_template_the_text_is_tokenized_plainly(random_lm):
    class Plain:
        chat_template = None

        def __call__(self, text):
            return {"input_ids": [len(word) for word in text.split()]}

    assert chat_prompt_ids(Plain(), "a bb ccc") == [1, 2, 3]


class Vocab:
    """A tokenizer's vocabulary and encoder, as `delimiter_ids` and `resolve_delimiters` use it."""

    def __init__(self, tokens: list[str]) -> None:
        self.vocab = {t: i for i, t in enumerate(tokens)}

    def get_vocab(self) -> dict[str, int]:
        return self.vocab

    def __len__(self) -> int:
        return len(self.vocab)

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return [self.vocab[w] for w in text.split()]


def test_delimiters_default_to_the_newline_else_the_period():
    from hexviz.models.tokens import delimiter_ids
    assert delimiter_ids(Vocab(["a", ".", "Ċ"])) == (2,)  # byte-level BPE's newline
    assert delimiter_ids(Vocab(["a", "."])) == (1,)
    assert delimiter_ids(Vocab(["a", "b"])) == ()


def test_given_delimiters_are_ids_or_one_token_texts():
    import pytest

    from hexviz.models.tokens import resolve_delimiters
    vocab = Vocab(["a", ".", "\n", "?"])
    assert resolve_delimiters(vocab, [1, "?", "\\n", "3"]) == (1, 3, 2)
    with pytest.raises(ValueError, match="is not one token"):
        resolve_delimiters(vocab, ["a ."])
    with pytest.raises(ValueError, match="outside this model's vocabulary"):
        resolve_delimiters(vocab, [9])
