"""Model loading (`hexviz.models.load`) with standard transformers code, no remote code."""

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


@pytest.mark.parametrize("content,reason", [
    ("{not json", "hexviz.json is damaged"),
    ('{"gen_length": 64}', "hexviz.json is damaged (no 'steps' field)"),
])
def test_a_broken_hexviz_json_is_a_clear_error(tmp_path, random_model_dir, content, reason):
    import shutil

    shutil.copytree(random_model_dir, tmp_path / "m")
    (tmp_path / "m" / "hexviz.json").write_text(content)
    with pytest.raises(ModelLoadError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        models.load(str(tmp_path / "m"), device="cpu")


@pytest.mark.slow  # a fresh interpreter
def test_importing_the_package_loads_no_torch_until_asked():
    import subprocess
    import sys

    code = ("import sys, hexviz.models as m; assert 'torch' not in sys.modules; m.load; "
            "assert 'torch' in sys.modules; print(m.BUILTIN_DIR.name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "tinygsm-dllm"
