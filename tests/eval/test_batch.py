"""Decoding a dataset: GSM8K files read, the eval command end to end (one process and
two), tasks, and each expert's steps with a parallel sampler."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hexviz.cli import main
from hexviz.eval.batch import read_problems
from hexviz.eval.records import load_results
from hexviz.eval.scoring import summarize
from tests.conftest import SHARED, free_port


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


FIXTURES = Path(__file__).parents[1] / "fixtures"


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


def test_eval_with_a_parallel_sampler_records_each_experts_steps(tmp_path, random_model_dir):
    data = write_jsonl(tmp_path / "d.jsonl", [
        {"question": f"Tom has {i} apples.", "answer": f"#### {i}"} for i in range(3)])
    out = tmp_path / "r.json"
    assert main(["eval", "--data", str(data), "--model", str(random_model_dir), "--blocks", "4,16",
                 "--gen-length", "16", "--steps", "8", "--no-baselines", "--sampler",
                 "threshold:0.2", "--out", str(out)]) == 0
    results = load_results(out)
    assert results.config.sampler.spec == "threshold:0.2"
    for r in results.records:
        assert len(r.steps) == 2 and all(1 <= v <= 16 for v in r.steps)
    assert 0 < results.row_passes <= sum(sum(r.steps) for r in results.records)


def test_eval_with_a_growing_canvas_records_lengths_and_useful_tokens(tmp_path, builtin):
    from hexviz.decode.plan import Settings, plan
    from hexviz.eval.batch import evaluate
    from hexviz.tasks.base import Problem

    problems = [Problem(f"Mia has {n} marbles. She buys 5 more. How many marbles does Mia "
                        f"have now?", str(n + 5)) for n in (3, 12)]
    p = plan(builtin, problems, Settings(length="daedal", blocks=(8, 32), baselines=False))
    results = evaluate(builtin, p, problems, batch_size=2)
    for record in results.records:
        assert record.lengths and all(64 <= n <= 128 for n in record.lengths)
        assert all(0 < u < n for u, n in zip(record.useful, record.lengths, strict=True))
    back = load_results_roundtrip(results, tmp_path)
    assert back.config.length.mode == "daedal" and back.records[0].lengths == results.records[
        0].lengths
    s = summarize(back)
    useful = sum(r.useful[0] for r in back.records) / sum(r.lengths[0] for r in back.records)
    assert s.experts[0].useful_share == pytest.approx(useful)
    assert s.experts[0].length == pytest.approx(sum(r.lengths[0] for r in back.records) / 2)


def load_results_roundtrip(results, tmp_path):
    from hexviz.eval.report import results_to_json

    path = tmp_path / "r.json"
    path.write_text(json.dumps(results_to_json(results)))
    return load_results(path)
