"""The `DiffusionLM` wrapper: prompt formatting, answer text, aligned logits."""

from __future__ import annotations

import torch

from hexviz import models


def test_prompt_uses_the_chat_template(random_lm):
    ids = random_lm.format_prompt("Mia has 2 pens.")
    tokens = random_lm.tokenizer.convert_ids_to_tokens(ids)
    assert tokens[0] == "<|user|>" and tokens[-2:] == ["<|eot_id|>", "<|assistant|>"]


def test_answer_text_stops_at_the_first_end_token(random_lm):
    tok = random_lm.tokenizer
    ids = tok("5 + 3 = 8. #### 8", add_special_tokens=False)["input_ids"]
    tail = [random_lm.special.end_of_turn_id, *tok("junk", add_special_tokens=False)["input_ids"]]
    assert random_lm.answer_text(ids + tail) == "5 + 3 = 8. #### 8"


def test_left_padding_gives_the_logits_of_the_unpadded_row(random_lm):
    ids = torch.tensor([random_lm.format_prompt("Tom has 5 apples.")])
    pad = torch.full((1, 3), random_lm.tokenizer.pad_token_id)
    padded = torch.cat([pad, ids], dim=1)
    mask = torch.cat([torch.zeros(1, 3, dtype=torch.long), torch.ones_like(ids)], dim=1)
    torch.testing.assert_close(random_lm.logits(padded, mask)[:, 3:], random_lm.logits(ids),
                               atol=1e-4, rtol=1e-4)  # float32 noise of a masked SDPA path


def test_shifted_models_align_logits_to_positions(random_lm):
    shifted = models.DiffusionLM(random_lm.model, random_lm.tokenizer, "x", random_lm.special,
                                 shift_logits=True)
    ids = torch.tensor([random_lm.format_prompt("Tom has 5 apples.")])
    plain, moved = random_lm.logits(ids), shifted.logits(ids)
    torch.testing.assert_close(moved[:, 1:], plain[:, :-1])
