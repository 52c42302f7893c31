"""`ModelOutline` (``hexviz.models.load_outline``): what planning needs of a model, its weights
aside, read as `load` reads it, so a plan against it refuses what the loaded model's plan
refuses."""

from __future__ import annotations

import pytest

from hexviz import models
from hexviz.decode.plan import Settings, plan
from hexviz.models import ModelLoadError
from hexviz.models.outline import max_length_of
from tests.conftest import QUESTION


def test_an_outline_reads_what_the_loaded_model_has(random_lm, random_model_dir):
    outline = models.load_outline(str(random_model_dir))
    assert (outline.name, outline.max_length, outline.defaults) == (
        random_lm.name, random_lm.max_length, random_lm.defaults)
    assert outline.format_prompt(QUESTION) == random_lm.format_prompt(QUESTION)
    assert outline.cache_refusal is None  # known once the weights load


def test_a_plan_against_the_outline_is_the_loaded_models_plan(random_lm, random_model_dir):
    settings = Settings(task="gsm8k", blocks=(8, 16))  # the paper's lengths fitted to the model
    assert plan(models.load_outline(str(random_model_dir)), [QUESTION], settings) == plan(
        random_lm, [QUESTION], settings)


def test_the_builtin_outline_needs_no_weights(monkeypatch):
    from hexviz.models import loader

    monkeypatch.setattr(loader.AutoModelForMaskedLM, "from_pretrained", None)  # would fail
    outline = models.load_outline()
    assert outline.max_length == 256 and outline.defaults == models.read_defaults(
        models.BUILTIN_DIR)


def test_a_missing_model_is_refused_as_load_refuses_it(tmp_path):
    with pytest.raises(ModelLoadError, match="cannot load model"):
        models.load_outline(str(tmp_path / "nowhere"))


def test_the_context_is_read_from_either_config_field():
    assert max_length_of({"max_position_embeddings": 512}) == 512
    assert max_length_of({"max_sequence_length": 4096}) == 4096  # LLaDA's
    assert max_length_of({}) is None
