"""The shipped built-in model, loaded offline: format, tokenizer contract, and accuracy."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from transformers import AutoModelForMaskedLM, AutoTokenizer

from hexviz import models, paths
from hexviz.decode.plan import Settings, plan
from hexviz.eval.batch import evaluate, read_problems
from hexviz.eval.scoring import summarize
from hexviz.policy.settings import Expert
from hexviz.train import card as model_card
from hexviz.train import task
from hexviz.train.loop import prompt_ids

CHECK_PROBLEMS = 40  # a fixed slice of the held-out test set (temperature 0: one result)
ALLOWED_DROP = 0.10  # below the model card's HEX accuracy or collapse by more than this fails
COPY_DROP = 0.03  # the same for copied items and final answers (thousands of items, less noise)


def test_checkpoint_is_small_safetensors_and_loads_with_auto_classes():
    files = {p.name for p in models.BUILTIN_DIR.iterdir()}
    assert "model.safetensors" in files
    assert not {f for f in files if f.endswith((".bin", ".pt", ".pkl"))}
    assert (models.BUILTIN_DIR / "model.safetensors").stat().st_size <= 20 * 2**20
    model = AutoModelForMaskedLM.from_pretrained(models.BUILTIN_DIR)  # no remote code
    assert model.config.model_type == "modernbert"


def test_chat_template_gives_the_engine_prompt(builtin):
    tokenizer = AutoTokenizer.from_pretrained(models.BUILTIN_DIR)
    question = "Tom has 5 apples. He buys 3 more. How many apples does Tom have now?"
    ids = tokenizer.apply_chat_template([{"role": "user", "content": question}],
                                        add_generation_prompt=True, tokenize=True,
                                        return_dict=False)
    assert list(ids) == builtin.format_prompt(question) == prompt_ids(tokenizer, question)
    assert tokenizer.decode(tokenizer("12 + 7 = 19. #### 19", add_special_tokens=False)
                            ["input_ids"]) == "12 + 7 = 19. #### 19"
    pieces = tokenizer.convert_ids_to_tokens(tokenizer("29 129", add_special_tokens=False)
                                             ["input_ids"])
    assert pieces == ["▁29", "▁12", "9"]  # numbers to 99 are one token


def test_test_set_is_gsm8k_format_and_held_out():
    problems = read_problems(paths.TEST_SET)
    assert len(problems) >= 500
    assert all(task.split_of(p.question) == "test" for p in problems)


@pytest.mark.slow
def test_hex_accuracy_holds_against_the_model_card(builtin):
    card = json.loads((models.BUILTIN_DIR / models.HEXVIZ_META).read_text())["card"]
    problems = read_problems(paths.TEST_SET, CHECK_PROBLEMS)
    hex_only = plan(builtin, problems, Settings(baselines=False))
    whole = Expert(hex_only.config.gen_length, "low_confidence", votes=False)
    results = evaluate(builtin, replace(hex_only, experts=[*hex_only.experts, whole]), problems,
                       batch_size=10)
    s = summarize(results)
    collapse = s.experts[-1].collapse
    copied = model_card.ratio(*model_card.copy_accuracy(results))
    consistent = model_card.ratio(*model_card.final_consistency(results))
    print(f"HEX accuracy on {CHECK_PROBLEMS} problems: {s.hex_accuracy:.1%}, whole-answer "
          f"collapse {collapse:.1%}, copied items right {copied:.1%}, final answers that follow "
          f"the working {consistent:.1%} (model card: {card['hex_accuracy']:.1%}, "
          f"{card['whole_collapse']:.1%}, {card['copy_accuracy']:.1%} and "
          f"{card['final_consistency']:.1%} on {card['problems']})")
    assert s.hex_accuracy >= card["hex_accuracy"] - ALLOWED_DROP
    assert collapse >= card["whole_collapse"] - ALLOWED_DROP  # the wall is still there
    # the worked answers still read right: copied names, objects and amounts, and a final
    # number that is the working's last result
    assert copied >= card["copy_accuracy"] - COPY_DROP
    assert consistent >= card["final_consistency"] - COPY_DROP
