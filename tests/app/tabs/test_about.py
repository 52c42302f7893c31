"""The About tab: the model card's figures, and the layers it names exist."""

from __future__ import annotations

from hexviz.app.tabs import about


def test_the_about_tab_states_the_cards_figures():
    card = {"problems": 500, "whole_collapse": 0.62, "whole_accuracy": 0.2,
            "hex_accuracy": 0.45, "mean_expert_accuracy": 0.4}
    text = about.about_builtin(card)
    assert "On 500 held-out problems" in text and "wall on 62% of them and scored 20%" in text
    assert "scored 45% (mean expert 40%)" in text
    assert "held-out" not in about.about_builtin({})  # an older card: no figures, no claims


def test_the_about_tab_names_the_layers_that_exist():
    import re

    from tests.conftest import REPO

    folders = re.findall(r"`hexviz/(\w+)/`", about.ABOUT)
    assert folders == ["tasks", "models", "policy", "runs", "decode", "eval", "render", "app"]
    assert all((REPO / "hexviz" / f / "__init__.py").exists() for f in folders)
