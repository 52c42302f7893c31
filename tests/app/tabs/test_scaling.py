"""The Scaling tab: the curve and table of an eval results file; a bad file is one line."""

from __future__ import annotations

import json

import gradio as gr
import pytest

from hexviz.app.tabs import scaling
from tests.conftest import hand_made_results


def test_scaling_tab_plots_a_results_file(tmp_path):
    from hexviz.eval.report import results_to_json

    path = tmp_path / "results.json"
    path.write_text(json.dumps(results_to_json(hand_made_results())))
    fig, table = scaling.scaling_from_file(str(path))
    accuracy, ties = fig.data
    assert list(accuracy.x) == [1, 2, 3] and list(accuracy.y) == [0.25, 0.25, 0.5]
    assert list(ties.y) == [0.0, 0.25, 0.25]
    assert "HEX vote" in table
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(gr.Error, match="not a hexviz eval results file"):
        scaling.scaling_from_file(str(bad))


def test_the_tab_opens_on_the_model_cards_eval_not_an_empty_box(tmp_path):
    fig, table = scaling.card_views()
    assert "(built-in model)" in fig.layout.title.text and "HEX vote" in table
    assert scaling.card_views(tmp_path / "missing.json") == (None, "")
