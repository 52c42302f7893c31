"""The scaling curve of an eval's results, under the title the Scaling tab and the lesson share;
the lab's chart of strategies at equal compute, from hand-made curves."""

from __future__ import annotations

import pytest

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


# --- strategies at equal compute (the lab) -----------------------------------------------------

def hand_made_lab() -> tuple[list, dict]:
    """HEX over 1..3 experts and its decided vote, seeds over 1..2 samples and theirs, dVoting."""
    from hexviz.eval.lab import Curve, Point

    def curve(strategy, label, *points):
        return Curve(strategy, label, tuple(Point(*p) for p in points))

    curves = [curve("hex", "HEX", (1, 30, 0.4, 0.3, 0.5), (2, 60, 0.45, 0.35, 0.55),
                    (3, 90, 0.55, 0.45, 0.65)),
              curve("hex-decided", "HEX, decided vote", (1, 30, 0.4, 0.3, 0.5),
                    (2, 55, 0.45, 0.35, 0.55), (3, 70, 0.55, 0.45, 0.65)),
              curve("seeds", "seeds B16 T0.5", (1, 32, 0.38, 0.28, 0.48),
                    (2, 64, 0.42, 0.32, 0.52)),
              curve("seeds-decided", "seeds B16 T0.5, decided vote", (1, 32, 0.38, 0.28, 0.48),
                    (2, 50, 0.42, 0.32, 0.52)),
              curve("dvoting", "dVoting", (4, 80, 0.5, 0.4, 0.6))]
    return curves, {"problems": 40, "model": "built-in model", "sampler": "threshold:0.9"}


def test_the_lab_draws_one_line_per_curve_with_its_intervals():
    from hexviz.render.scaling import lab_figure

    curves, header = hand_made_lab()
    fig = lab_figure(curves, header)
    assert [t.name for t in fig.data] == [c.label for c in curves]
    for trace, c in zip(fig.data, curves):
        assert list(trace.x) == [p.row_passes for p in c.points]
        assert list(trace.y) == [p.accuracy for p in c.points]
        # the bars reach from the interval's low end to its high end
        low = [y - m for y, m in zip(trace.y, trace.error_y.arrayminus)]
        high = [y + m for y, m in zip(trace.y, trace.error_y.array)]
        assert low == pytest.approx([p.low for p in c.points])
        assert high == pytest.approx([p.high for p in c.points])
    hex_, decided, seeds, seeds_decided, dvoting = fig.data
    assert decided.line.dash == "dash" and seeds_decided.line.dash == "dash"
    assert hex_.line.dash == seeds.line.dash == "solid"
    # a decided vote in its plain curve's colour; curves apart from each other
    assert decided.line.color == hex_.line.color != seeds.line.color == seeds_decided.line.color
    assert dvoting.mode == "markers" and dvoting.marker.symbol not in (hex_.marker.symbol, None)
    assert "HEX, 2 decodes: 45.0% (35.0%-55.0%), 60 row passes" in hex_.text
    assert dvoting.text[0].startswith("dVoting, up to 4 decodes")


def test_the_lab_title_counts_problems_and_names_model_and_sampler():
    from hexviz.render.scaling import lab_figure

    curves, header = hand_made_lab()
    title = plain_title(lab_figure(curves, header).layout.title.text)
    assert title.startswith("Strategies at equal compute on 40 problems (built-in model)")
    assert "sampler threshold:0.9" in title


def test_shown_picks_the_curves_drawn_and_keeps_their_colours():
    from hexviz.render.scaling import lab_figure

    curves, header = hand_made_lab()
    every = {t.name: t.line.color for t in lab_figure(curves, header).data}
    fig = lab_figure(curves, header, ["seeds B16 T0.5", "dVoting"])
    assert [t.name for t in fig.data] == ["seeds B16 T0.5", "dVoting"]
    assert all(t.line.color == every[t.name] for t in fig.data)
    assert lab_figure(curves, header, []).data == ()
