"""bench/length_bench.py: its table of stored results (the evals themselves are the project's
eval command, tested elsewhere)."""

from __future__ import annotations

import importlib.util
import sys

from tests.conftest import REPO, hand_made_results

spec = importlib.util.spec_from_file_location("length_bench", REPO / "bench" / "length_bench.py")
length_bench = importlib.util.module_from_spec(spec)
sys.modules["length_bench"] = length_bench
spec.loader.exec_module(length_bench)


def test_one_row_per_expert_and_one_for_the_vote():
    results = hand_made_results()
    for i, record in enumerate(results.records):
        record.lengths = [128 - i] * len(results.experts)
        record.useful = [64] * len(results.experts)
    rows = length_bench.rows_of(results)
    assert [r["setting"] for r in rows][-1].startswith("fixed HEX vote")
    assert len(rows) == len(results.experts) + 1
    n = len(results.records)
    assert rows[0]["useful"] == 64 * n / sum(128 - i for i in range(n))
    table = length_bench.format_table(rows, n)
    assert table.count("\n") == len(rows) + 1 and "| - |" in table  # a vote has no collapse


def test_the_eval_commands_name_each_mode():
    command = length_bench.eval_command(length_bench.MODES["rho-eos-density"], 500,
                                        REPO / "x.json", 2)
    assert command[-6:-2] == ["--length", "rho-eos", "--eos-signal", "density"]
    assert "--multi_gpu" in command
