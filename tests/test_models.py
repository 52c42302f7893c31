"""Model loading with standard transformers code, no remote code."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import BertConfig, BertForMaskedLM

from hexviz import models
from hexviz.models import ModelLoadError


def test_loads_a_local_masked_lm(random_lm, random_model_dir):
    tok = random_lm.tokenizer
    assert random_lm.name == str(random_model_dir)
    assert random_lm.mask_id == tok.mask_token_id
    assert random_lm.special.end_of_text_id == tok.eos_token_id
    assert random_lm.special.end_of_turn_id == tok.convert_tokens_to_ids("<|eot_id|>")
    ids = torch.tensor([random_lm.format_prompt("Tom has 5 apples.")])
    assert random_lm.logits(ids).shape == (1, ids.shape[1], len(tok))


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


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="cannot load model"):
        models.load(str(tmp_path / "nowhere"), device="cpu")


def test_tokenizer_without_mask_is_refused(tmp_path, random_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(random_model_dir)
    tok.mask_token = None
    tok.save_pretrained(tmp_path)
    BertForMaskedLM(BertConfig(vocab_size=len(tok), hidden_size=8, num_hidden_layers=1,
                               num_attention_heads=1, intermediate_size=8)).save_pretrained(tmp_path)
    with pytest.raises(ModelLoadError, match="no mask token"):
        models.load(str(tmp_path), device="cpu")


def test_remote_code_families_need_the_operator_opt_in(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "Dream"}))
    with pytest.raises(ModelLoadError, match="opt in to its remote code"):
        models.load(str(tmp_path), device="cpu")
