"""The scaling curve of an eval's results, under the title the Scaling tab and the lesson share."""

from __future__ import annotations

from hexviz.render.scaling import scaling_figure, scaling_title
from hexviz.render.textfit import plain_title
from tests.conftest import hand_made_results


def test_the_curve_of_a_results_file_under_its_title():
    results = hand_made_results()
    fig = scaling_figure(results)
    accuracy, ties = fig.data
    assert list(accuracy.x) == [1, 2, 3] and list(accuracy.y) == [0.25, 0.25, 0.5]
    assert list(ties.y) == [0.0, 0.25, 0.25]
    assert plain_title(fig.layout.title.text) == scaling_title(results)
    title = scaling_title(results)
    assert title.startswith(f"Test-time scaling on {len(results.records)} problems")


def test_the_built_in_model_is_named_as_a_visitor_knows_it(tmp_path):
    from hexviz.paths import BUILTIN_DIR
    from hexviz.render.scaling import BUILTIN_NAME, model_name

    assert model_name(str(BUILTIN_DIR)) == BUILTIN_NAME == "built-in model"
    assert model_name(str(tmp_path / "my-model")) == "my-model"
    assert model_name("GSAI-ML/LLaDA-8B-Instruct") == "LLaDA-8B-Instruct"
    results = hand_made_results()
    assert scaling_title(results, "the card's model").endswith("(the card's model)")
