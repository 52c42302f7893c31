"""The Scaling tab: the curve and table of an eval results file; a bad file is one line. Under
it, strategies at equal compute from a stored lab file: picked curves redrawn with no model, a
missing or damaged file one sentence."""

from __future__ import annotations

import json

import gradio as gr
import pytest

from hexviz.app.tabs import scaling
from hexviz.render.textfit import plain_title
from tests.conftest import hand_made_results
from tests.render.test_scaling import hand_made_lab


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


@pytest.fixture
def stored_lab(tmp_path, monkeypatch):
    """A hand-made lab file where the tab reads it."""
    from hexviz.eval.lab import curves_to_json

    curves, header = hand_made_lab()
    path = tmp_path / "scaling-lab.json"
    path.write_text(json.dumps(curves_to_json(curves, **header)))
    monkeypatch.setattr(scaling, "SCALING_LAB", path)
    return path


def markdowns(demo: gr.Blocks) -> str:
    return "\n".join(b.value for b in demo.blocks.values() if isinstance(b, gr.Markdown))


def test_the_lab_section_builds_from_the_stored_curves(stored_lab):
    with gr.Blocks() as demo:
        tab = scaling.build()
    curves, _ = hand_made_lab()
    assert [c[0] for c in tab.picks.choices] == [c.label for c in curves]
    # at first every curve but the seeds' decided vote
    assert tab.picks.value == ["HEX", "HEX, decided vote", "seeds B16 T0.5", "dVoting"]
    assert tab.lab_plot.elem_id == "scaling-lab-plot"
    text = markdowns(demo)
    assert "Strategies at equal compute" in text and "row pass" in text
    assert "bench/scaling_bench.py" in text
    assert "| best strategy |" in text  # the best strategy per budget


def test_picking_strategies_redraws_only_those(stored_lab):
    lab = scaling.read_lab()
    fig = lab.figure(["HEX", "dVoting"])
    assert [t.name for t in fig.data] == ["HEX", "dVoting"]
    assert "on 40 problems" in plain_title(fig.layout.title.text)


def test_the_best_strategy_per_budget_spans_the_curves_range(stored_lab):
    lab = scaling.read_lab()
    budgets = scaling.budgets(lab.curves)
    assert budgets[0] == 30 and budgets[-1] == 90 and budgets == sorted(set(budgets))
    rows = scaling.frontier_table(lab.curves).splitlines()[2:]
    assert len(rows) == len(budgets)
    # the cheapest point: one expert (HEX's, where the decided vote saves nothing yet)
    assert rows[0].startswith("| 30 | HEX") and rows[0].endswith("| 40.0% |")
    assert rows[-1] == "| 90 | HEX, decided vote | 55.0% |"  # as accurate, fewer row passes


@pytest.mark.parametrize("text", [None, "{}", "not json", '{"schema": "hexviz.scaling-lab"}'])
def test_a_missing_or_damaged_lab_is_one_sentence_and_the_tab_still_works(
        tmp_path, monkeypatch, text):
    path = tmp_path / "scaling-lab.json"
    if text is not None:
        path.write_text(text)
    monkeypatch.setattr(scaling, "SCALING_LAB", path)
    with gr.Blocks() as demo:
        tab = scaling.build()
        scaling.wire(None, tab, gr.Dropdown())
    assert tab.lab is tab.picks is tab.lab_plot is None
    assert tab.plot.value is not None  # the card's curve is still there
    expected = scaling.LAB_MISSING if text is None else "cannot be read"
    assert expected in markdowns(demo)
