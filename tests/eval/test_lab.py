"""The scaling lab's curves: votes over growing expert sets, the decided vote's row passes,
bootstrap intervals, the frontier, and the stored JSON."""

from __future__ import annotations

import json

import pytest

from hexviz.eval.lab import (
    bootstrap_interval,
    curves_from_json,
    curves_to_json,
    frontier,
    growing_curve,
    single_point,
)
from hexviz.eval.records import EvalResults, Record
from hexviz.policy.settings import DecodeConfig, Expert


def results() -> EvalResults:
    experts = [Expert(b) for b in (2, 4, 8)]
    records = [Record(0, "a", "5", ["5", "5", "6"], [False] * 3, steps=[2, 3, 9]),
               Record(1, "b", "6", ["5", "6", "6"], [False] * 3, steps=[4, 4, 4]),
               Record(2, "c", "7", ["1", "7", "7"], [False] * 3, steps=[1, 5, 6])]
    return EvalResults("m", "d.jsonl", DecodeConfig(16, 16), experts, "gsm8k", records)


def test_a_growing_curve_votes_over_the_first_experts():
    curve = growing_curve(results(), "hex", "HEX")
    assert [p.experts for p in curve.points] == [1, 2, 3]
    assert [p.accuracy for p in curve.points] == pytest.approx([1 / 3, 1 / 3, 1.0])
    assert [p.row_passes for p in curve.points] == pytest.approx([7 / 3, 19 / 3, 38 / 3])
    decided = growing_curve(results(), "hex", "HEX, decided", decided=True)
    # problem 0: "5" settled after step 3 (6 rows of the B=8 expert saved); 2 and 3 agree late
    assert decided.points[-1].row_passes == pytest.approx((38 - 6) / 3)
    assert decided.points[-1].accuracy == curve.points[-1].accuracy
    assert single_point(results(), "dvoting", "dVoting").points == curve.points[-1:]


def test_bootstrap_intervals_bracket_the_mean_and_narrow_with_problems():
    low, high = bootstrap_interval([True] * 30 + [False] * 10)
    assert low < 0.75 < high and high - low < 0.35
    wide = bootstrap_interval([True] * 3 + [False])
    assert wide[1] - wide[0] > high - low
    assert bootstrap_interval([True] * 5) == (1.0, 1.0)
    with pytest.raises(ValueError, match="no problems"):
        bootstrap_interval([])


def test_the_frontier_picks_the_best_point_within_each_budget():
    hex_curve = growing_curve(results(), "hex", "HEX")
    rows = frontier([hex_curve], [1, 7, 20])
    assert rows[0][1] == "-" and rows[1][1] == "HEX" and rows[2] == (20, "HEX", 1.0)


def test_curves_survive_their_json():
    curve = growing_curve(results(), "hex", "HEX")
    d = json.loads(json.dumps(curves_to_json([curve], 3, "m", "fixed")))
    curves, header = curves_from_json(d)
    assert curves == [curve] and header == {"problems": 3, "model": "m", "sampler": "fixed"}
    with pytest.raises(ValueError, match="not a hexviz.scaling-lab file"):
        curves_from_json({"schema": "x"})
    with pytest.raises(ValueError, match="damaged"):
        curves_from_json({**d, "curves": [{"strategy": "hex"}]})
