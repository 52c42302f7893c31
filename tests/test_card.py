"""The built-in model's card and the app's examples, written from an eval results file."""

from __future__ import annotations

import json
import shutil

from hexviz.answers import COLLAPSE_END_FRACTION
from hexviz.evaluate import summarize
from hexviz.paths import BUILTIN_DIR, STORED_EVALS
from hexviz.train import card
from tests.conftest import hand_made_results


def test_examples_are_disagreements_with_the_vote_right_first():
    # hand-made: experts disagree on a (vote 5, right), b (7, right), c (4, wrong); agree on d
    assert card.disagreement_examples(hand_made_results(), count=2) == ["a", "c"]
    assert card.disagreement_examples(hand_made_results(), count=5) == ["a", "b", "c"]


def test_best_expert_counts_only_voting_experts():
    assert card.best_expert_accuracy(summarize(hand_made_results())) == 0.5


def test_card_states_the_threshold_and_the_measured_figures(tmp_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    shutil.copy(BUILTIN_DIR / "hexviz.json", model_dir / "hexviz.json")
    results = tmp_path / "results.json"
    results.write_text(STORED_EVALS[0].read_text())
    card.main([str(results), "--model-dir", str(model_dir),
               "--examples", str(tmp_path / "examples.json")])
    text = (model_dir / "README.md").read_text()
    assert f"at least {COLLAPSE_END_FRACTION:.0%} end tokens" in " ".join(text.split())
    meta = json.loads((model_dir / "hexviz.json").read_text())
    shipped = json.loads((BUILTIN_DIR / "hexviz.json").read_text())
    assert meta["card"] == shipped["card"]  # the shipped card was written from this file
    assert f"{meta['card']['hex_accuracy']:.1%}" in text
    assert len(json.loads((tmp_path / "examples.json").read_text())) == card.EXAMPLE_COUNT
    assert text == (BUILTIN_DIR / "README.md").read_text()  # the shipped card is current

