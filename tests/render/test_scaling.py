"""The scaling curve of an eval's results, under the title the Scaling tab and the lesson share."""

from __future__ import annotations

from hexviz.render.scaling import scaling_figure, scaling_title
from tests.conftest import hand_made_results


def test_the_curve_of_a_results_file_under_its_title():
    results = hand_made_results()
    fig = scaling_figure(results)
    accuracy, ties = fig.data
    assert list(accuracy.x) == [1, 2, 3] and list(accuracy.y) == [0.25, 0.25, 0.5]
    assert list(ties.y) == [0.0, 0.25, 0.25]
    assert fig.layout.title.text == scaling_title(results)
    title = scaling_title(results)
    assert title.startswith(f"Test-time scaling on {len(results.records)} problems")
