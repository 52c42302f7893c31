"""Eval results files: written, read back and re-scored; files of other kinds refused."""

from __future__ import annotations

import json

from hexviz.cli import main
from hexviz.eval.records import load_results, results_from_json
from hexviz.eval.report import results_to_json
from hexviz.eval.scoring import summarize
from tests.conftest import hand_made_results


def test_results_file_round_trip_and_rescore_command(tmp_path, capsys):
    path = tmp_path / "results.json"
    # strict JSON: metrics without values (these records have none) are null, not NaN
    path.write_text(json.dumps(results_to_json(hand_made_results()), allow_nan=False))
    back = load_results(path)
    assert summarize(back) == summarize(hand_made_results())
    assert main(["eval", "--rescore", str(path)]) == 0
    out = capsys.readouterr().out
    assert "HEX vote" in out and "50.0%" in out


def test_foreign_results_file_is_refused(tmp_path, capsys):
    path = tmp_path / "x.json"
    path.write_text('{"schema": "hexviz.run"}')
    assert main(["eval", "--rescore", str(path)]) == 2
    assert "not a hexviz eval results file" in capsys.readouterr().err


def load_results_from(results):
    return results_from_json(json.loads(json.dumps(results_to_json(results))))
