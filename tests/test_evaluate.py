"""Evaluation: GSM8K parsing, scoring and re-scoring records, the results file, and the eval
command end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from hexviz.cli import main
from hexviz.decode.settings import DecodeConfig, Expert
from hexviz.evaluate import (EvalResults, Record, format_paper_table, format_scaling,
                             format_summary, load_results, paper_lengths, read_problems,
                             results_from_json, results_to_json, scaling_curve,
                             seed_scaling_curve, summarize, tie_rule_table)
from hexviz.runs.vote import TIE_RULES
from hexviz.tasks import get_task
from tests.conftest import SHARED, free_port, hand_made_results


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_reads_gsm8k_answers_with_commas_and_decimals(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [
        {"question": "q1", "answer": "2 * 600 = <<2*600=1200>>1200\n#### 1,200"},
        {"question": "q2", "answer": "so 2.50\n#### 2.50"},
        {"question": "q3", "answer": "#### -3"},
    ])
    assert [(p.question, p.gold) for p in read_problems(path)] == [
        ("q1", "1200"), ("q2", "2.5"), ("q3", "-3")]
    assert len(read_problems(path, limit=2)) == 2


def test_reads_the_real_gsm8k_test_set():
    path = SHARED / "data" / "gsm8k" / "test.jsonl"
    if not path.exists():
        pytest.skip("../shared/data/gsm8k is not beside this checkout")
    problems = read_problems(path)
    assert len(problems) == 1319
    assert all(p.gold.lstrip("-").replace(".", "").isdigit() for p in problems)


@pytest.mark.parametrize("content,message", [
    ("not json\n", "expected a JSON object"),
    ('{"question": "q", "answer": "no final line"}\n', "no final '#### N' line"),
    ("\n", "holds no problems"),
])
def test_bad_data_files_are_named(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_problems(path)


def test_summary_of_a_hand_made_example():
    s = summarize(hand_made_results())
    assert [e.accuracy for e in s.experts] == [0.25, 0.5, 0.5, 0.5]
    assert [e.no_answer for e in s.experts] == [0.25, 0, 0, 0.5]
    assert [e.collapse for e in s.experts] == [0.25, 0, 0, 0.5]
    # votes: 5 (2-1), 7 (2-1), tie 4/3 -> first expert's "4", 2 -> HEX right on 2 of 4
    assert s.hex_accuracy == 0.5 and s.tie_rate == 0.25
    assert s.oracle == 0.75 and s.disagreement == 0.75
    assert s.mean_expert_accuracy == pytest.approx(5 / 12)


def test_rescoring_with_fewer_votes():
    results = hand_made_results()
    # one vote: expert B=2 alone; two votes: B=2 and B=4, ties go to B=2
    assert scaling_curve(results) == [(1, 0.25, 0.0), (2, 0.25, 0.25), (3, 0.5, 0.25)]
    assert summarize(results, voters=[1]).hex_accuracy == 0.5


def test_scaling_by_seeds_keeps_every_block_size():
    experts = [Expert(b, seed=s, temperature=0.5) for b in (2, 4) for s in (0, 1)]
    records = [  # answers in expert order: B=2 seed 0, B=2 seed 1, B=4 seed 0, B=4 seed 1
        Record(0, "a", "5", ["5", "6", "6", "5"], [False] * 4),  # 1 seed: tie -> "5"; 2: tie
        Record(1, "b", "7", ["1", "7", "2", "7"], [False] * 4),  # 1 seed: tie -> "1"; 2: "7"
        Record(2, "c", "3", ["3", "3", "3", "4"], [False] * 4),  # right either way
    ]
    results = EvalResults("m", "d.jsonl", DecodeConfig(16, 16), experts, "gsm8k", records)
    assert seed_scaling_curve(results) == [(1, 2, pytest.approx(2 / 3), pytest.approx(2 / 3)),
                                           (2, 4, 1.0, pytest.approx(1 / 3))]
    assert "seeds per block size" in format_scaling(scaling_curve(results),
                                                    seed_scaling_curve(results))
    one_seed = hand_made_results()
    assert seed_scaling_curve(one_seed) == []  # one seed: no second curve
    assert "seeds per block size" not in format_scaling(scaling_curve(one_seed), [])


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


def test_eval_end_to_end_on_a_model(tmp_path, capsys, random_model_dir):
    data = write_jsonl(tmp_path / "d.jsonl", [
        {"question": f"Tom has {i} apples. How many apples does Tom have now?",
         "answer": f"#### {i}"} for i in range(5)])
    out = tmp_path / "r.json"
    code = main(["eval", "--data", str(data), "--model", str(random_model_dir), "--blocks", "4,8",
                 "--gen-length", "16", "--batch-size", "2", "--out", str(out)])
    assert code == 0
    d = json.loads(out.read_text())
    assert len(d["records"]) == 5 and [r["gold"] for r in d["records"]] == list("01234")
    assert [(e["block_length"], e["remasking"], e["votes"]) for e in d["experts"]] == [
        (4, "low_confidence", True), (8, "low_confidence", True),
        (16, "low_confidence", False), (16, "margin", False), (16, "random", False)]
    assert all(len(r["answers"]) == 5 for r in d["records"])
    for r in d["records"]:  # order metrics per expert; the 4-blocks are more left to right
        assert len(r["ar_ness"]) == len(r["early_end"]) == len(r["texts"]) == 5
        assert all(0 <= v <= 1 for v in r["ar_ness"] + r["early_end"] if v is not None)
    s = summarize(load_results(out))
    assert 0 <= s.experts[0].ar_ness <= 1 and s.experts[0].ar_ness >= s.experts[2].ar_ness
    report = capsys.readouterr().out
    assert "HEX vote" in report and "AR-ness" in report
    assert main(["eval", "--data", str(data), "--model", str(random_model_dir), "--blocks", "4,8",
                 "--gen-length", "16", "--limit", "2", "--no-baselines", "--out", str(out)]) == 0
    d = json.loads(out.read_text())
    assert [e["votes"] for e in d["experts"]] == [True, True] and len(d["records"]) == 2


@pytest.mark.slow
def test_accelerate_launch_with_two_processes_matches_one(tmp_path, random_model_dir):
    """Data-parallel eval: problems sharded over 2 CPU processes (torch.distributed over gloo),
    records gathered on the main process in dataset order."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    data = write_jsonl(tmp_path / "d.jsonl", [
        {"question": f"Mia has {i} pens. She buys {i} more. How many pens does Mia have now?",
         "answer": f"#### {2 * i}"} for i in range(5)])
    common = ["eval", "--data", str(data), "--model", str(random_model_dir), "--blocks", "4,8",
              "--gen-length", "16", "--batch-size", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    single, double = tmp_path / "one.json", tmp_path / "two.json"
    subprocess.run([sys.executable, "-m", "hexviz", *common, "--out", str(single)], cwd=REPO,
                   env=env, check=True, capture_output=True, timeout=300)
    proc = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
         "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
         "--main_process_port", str(free_port()),  # other runs on this machine may hold 29500
         "-m", "hexviz", *common, "--out", str(double)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "0/3 [" in proc.stderr  # the main process decoded its shard (3 of 5), not all
    one, two = json.loads(single.read_text()), json.loads(double.read_text())
    assert [r["index"] for r in two["records"]] == [0, 1, 2, 3, 4]
    assert two["records"] == one["records"] and two["summary"] == one["summary"]


# --- tasks, tie rules, the paper's table --------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"


def with_likelihoods(results):
    """hand_made_results with one-step likelihoods chosen so each tie rule scores differently:
    first 2/4 right, lowest_nll 1/4 (it follows lone confident experts), frequency_lowest_nll
    3/4 (it breaks problem 2's 4-vs-3 tie towards the likelier 3)."""
    lls = [[-1.0, -1.0, -0.5, -2.0], [-0.1, -1.0, -1.0, -1.0], [None, -0.9, -0.4, None],
           [-1.0, -1.0, -1.0, -0.1]]
    for record, ll in zip(results.records, lls, strict=True):
        record.one_step_log_likelihoods = ll
    return results


def test_tie_rules_on_hand_made_records():
    results = with_likelihoods(hand_made_results())
    assert [summarize(results, tie_rule=r).hex_accuracy for r in TIE_RULES] == [0.5, 0.25, 0.75]
    assert summarize(results).decided_by == {"majority": 3, "first": 1}
    assert tie_rule_table(results) == [("first", 0.5, 0.25), ("lowest_nll", 0.25, 1.0),
                                       ("frequency_lowest_nll", 0.75, 0.25)]
    old = tie_rule_table(hand_made_results())  # no likelihoods: only `first` can be scored
    assert old[0] == ("first", 0.5, 0.25) and old[1][1] is None and old[2][1] is None


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


def test_summaries_use_the_tasks_check():
    results = hand_made_results()  # expert B=8 answers 6, 7, 3, 2: right twice
    results.records[0].gold, results.records[0].answers[2] = "\\frac{1}{2}", "\\dfrac12"
    assert summarize(results).experts[2].accuracy == 0.5  # no task: plain equality
    results.task = "math"
    assert summarize(results).experts[2].accuracy == 0.75  # MATH equivalence


@pytest.mark.parametrize("max_length,prompt,expected", [
    (None, 500, (256, 128, None)), (4096, 300, (256, 128, None)),
    (256, 138, (64, 32, "using gen_length 64, steps 32")), (512, 200, (256, 128, None)),
    (256, 240, (32, 16, "using gen_length 32")),
])
def test_paper_lengths_fit_the_context(max_length, prompt, expected):
    gen_length, steps, note = paper_lengths(get_task("gsm8k"), max_length, prompt)
    assert (gen_length, steps) == expected[:2]
    assert (note is None) == (expected[2] is None) and (note is None or expected[2] in note)
    assert paper_lengths(get_task("tinygsm"), 256, 100) is None  # the model's own settings


def test_eval_with_a_task_records_likelihoods_and_the_tie_rule(tmp_path, random_model_dir):
    out = tmp_path / "r.json"
    assert main(["eval", "--task", "gsm8k", "--data", str(FIXTURES / "gsm8k" / "test.jsonl"),
                 "--model", str(random_model_dir), "--blocks", "4,8", "--gen-length", "16",
                 "--tie", "frequency_lowest_nll", "--out", str(out)]) == 0
    d = json.loads(out.read_text())
    assert (d["task"], d["tie_rule"]) == ("gsm8k", "frequency_lowest_nll")
    assert [r["gold"] for r in d["records"]] == ["1000.0", "5.0", None]
    for r in d["records"]:
        assert len(r["one_step_log_likelihoods"]) == 5
        assert all(ll < 0 for ll in r["one_step_log_likelihoods"])
        assert r["vote"]["rule"] == "frequency_lowest_nll"
    assert load_results(out).task == "gsm8k"


def test_eval_over_several_tasks_writes_one_file_each(tmp_path, random_model_dir, capsys):
    out = tmp_path / "results"
    assert main(["eval", "--task", "gsm8k", "arcc", "--data",
                 f"gsm8k={FIXTURES / 'gsm8k' / 'test.jsonl'}",
                 f"arcc={FIXTURES / 'arc_challenge' / 'test.jsonl'}", "--limit", "1",
                 "--model", str(random_model_dir), "--blocks", "8", "--gen-length", "16",
                 "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["arcc.json", "gsm8k.json"]
    report = capsys.readouterr().out
    assert "== gsm8k" in report and "== arcc" in report
    assert report.split("the HEX paper's table (accuracy)")[1].splitlines()[1].split() == [
        "gsm8k", "arcc"]


@pytest.mark.parametrize("argv,message", [
    (["--task", "math"], "--data is needed for task math"),
    (["--task", "gsm8k", "math", "--data", "x.jsonl"], "give --data as TASK=FILE"),
    (["--task", "gsm8k", "--data", "math=x.jsonl"], "names tasks that are not evaluated: math"),
    (["--task", "gsm8k", "--data", "missing.jsonl"], "cannot read missing.jsonl"),
])
def test_bad_task_arguments_are_one_line(argv, message, capsys):
    assert main(["eval", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    with pytest.raises(SystemExit, match="2"):
        main(["eval", "--task", "trivia"])
    assert "invalid choice: 'trivia'" in capsys.readouterr().err
def test_forward_passes_per_expert_and_for_the_vote():
    results = hand_made_results()
    for r, steps in zip(results.records, ([4, 6, 3, 16], [5, 5, 2, 16], [8, 1, 3, 16],
                                          [4, 4, 4, 16]), strict=True):
        r.steps = steps
    s = summarize(results)
    assert [e.steps for e in s.experts] == [5.25, 4.0, 3.0, 16.0]
    # voters are the first three: sums 13, 12, 12, 12; slowest 6, 5, 8, 4
    assert s.vote_row_passes == pytest.approx(49 / 4) and s.vote_steps == pytest.approx(23 / 4)
    assert "passes 12.2 rows, 5.8 batched" in format_summary(s)
    assert summarize(load_results_from(results)).vote_row_passes == s.vote_row_passes
    old = hand_made_results()  # files written before steps were recorded
    assert math.isnan(summarize(old).vote_row_passes)


def load_results_from(results):
    return results_from_json(json.loads(json.dumps(results_to_json(results))))


def test_eval_with_a_parallel_sampler_records_each_experts_steps(tmp_path, random_model_dir):
    data = write_jsonl(tmp_path / "d.jsonl", [
        {"question": f"Tom has {i} apples.", "answer": f"#### {i}"} for i in range(3)])
    out = tmp_path / "r.json"
    assert main(["eval", "--data", str(data), "--model", str(random_model_dir), "--blocks", "4,16",
                 "--gen-length", "16", "--steps", "8", "--no-baselines", "--sampler",
                 "threshold:0.2", "--out", str(out)]) == 0
    results = load_results(out)
    assert results.config.sampler == "threshold:0.2"
    for r in results.records:
        assert len(r.steps) == 2 and all(1 <= v <= 16 for v in r.steps)
    assert 0 < results.row_passes <= sum(sum(r.steps) for r in results.records)
