"""Eval reports: the rescore command's tables and the HEX paper's table."""

from __future__ import annotations

import json

from hexviz.cli import main
from hexviz.eval.report import format_paper_table, results_to_json
from tests.conftest import hand_made_results
from tests.eval.test_scoring import with_likelihoods


def test_rescore_prints_every_tie_rule_and_the_papers_table(tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(results_to_json(with_likelihoods(hand_made_results()))))
    b.write_text(json.dumps(results_to_json(hand_made_results())))
    assert main(["eval", "--rescore", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("frequency_lowest")]
    assert rows[0] == ["frequency_lowest_nll", "75.0%", "25.0%"]
    assert "(no one-step likelihoods in these records)" in out
    table = out.split("the HEX paper's table (accuracy)")[1].splitlines()[1:]
    assert [row.split("  ")[0] for row in table] == [
        "", "top-k margin (whole answer)", "expert B=2 low_confidence", "expert B=4 low_confidence",
        "expert B=8 low_confidence", "HEX (ties: first)", "mean expert",
        "oracle (any expert right)", "problems"]
    assert table[5].split()[-2:] == ["50.0%", "50.0%"]


def test_the_papers_table_lines_up_tasks_as_columns():
    gsm, math_ = hand_made_results(), hand_made_results()
    gsm.task, math_.task = "gsm8k", "math"
    for r in gsm.records:  # gsm8k answers are floats' text
        r.gold = None if r.gold is None else f"{float(r.gold)}"
        r.answers = [None if a is None else f"{float(a)}" for a in r.answers]
    table = format_paper_table([gsm, math_]).splitlines()
    assert table[0].split() == ["gsm8k", "math"]
    assert table[1].split()[-2:] == ["50.0%", "50.0%"]  # top-k margin: problems 1 and 3
