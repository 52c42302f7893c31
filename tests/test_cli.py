"""`hexviz run` / `python -m hexviz run`: human output, the --json contract, defaults, and
errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hexviz.cli import build_parser, main
from tests.conftest import REPO


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_output_follows_the_contract(capsys, random_model_dir):
    code, out, _ = run_cli(capsys, "run", "--prompt", "Tom has 5 apples.", "--model",
                           str(random_model_dir), "--blocks", "8,4", "--gen-length", "16",
                           "--steps", "8", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["model"] == str(random_model_dir)
    assert (d["gen_length"], d["steps"]) == (16, 8)
    assert [e["block_length"] for e in d["experts"]] == [4, 8]
    for e in d["experts"]:
        assert (e["remasking"], e["seed"], e["temperature"]) == ("low_confidence", 0, 0.0)
        assert len(e["token_ids"]) == len(e["reveal_step"]) == 16
        assert sorted(e["reveal_step"]) == sorted(list(range(8)) * 2)  # 2 tokens per step
        assert e["collapsed"] is False or e["answer"] is None
    answers = [e["answer"] for e in d["experts"] if e["answer"] is not None]
    assert sum(d["vote"]["counts"].values()) == len(answers)
    assert (d["vote"]["winner"] is None) == (not answers)
    assert d["timing"]["forward_passes"] == 8 and d["timing"]["decode_s"] > 0


def test_seeds_and_baselines_add_rows(capsys, random_model_dir):
    code, out, _ = run_cli(capsys, "run", "--prompt", "Hi", "--model", str(random_model_dir),
                           "--blocks", "8", "--gen-length", "16", "--seeds", "3",
                           "--temperature", "0.7", "--baselines", "--json")
    experts = json.loads(out)["experts"]
    assert [(e["block_length"], e["seed"], e["votes"]) for e in experts] == [
        (8, 0, True), (8, 1, True), (8, 2, True), (16, 0, False), (16, 0, False), (16, 0, False)]
    assert [e["remasking"] for e in experts[3:]] == ["low_confidence", "margin", "random"]


def test_human_output_has_a_line_per_expert_and_the_vote(capsys, random_model_dir):
    code, out, _ = run_cli(capsys, "run", "--prompt", "Hi", "--model", str(random_model_dir),
                           "--blocks", "4,8,16", "--gen-length", "16")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 5
    assert lines[1].strip().startswith("B=4") and lines[3].strip().startswith("B=16")
    assert lines[-1].startswith("vote:")


@pytest.mark.parametrize("args,message", [
    (["--blocks", "5"], "block_length must divide gen_length=16"),
    (["--blocks", "x,y"], "block sizes must be integers"),
    (["--blocks", "8,8"], "each block size may appear once (got 8 more than once)"),
    (["--steps", "2", "--blocks", "4"], "steps must be a multiple of the number of blocks"),
    (["--gen-length", "5000"], "gen_length must be at most 256"),
    (["--model", "/no/such/model"], "cannot load model '/no/such/model'"),
])
def test_bad_input_is_one_clear_line(capsys, random_model_dir, args, message):
    base = ["run", "--prompt", "Hi", "--model", str(random_model_dir), "--gen-length", "16"]
    try:
        code, out, err = run_cli(capsys, *base, *args)
    except SystemExit as exit_:  # argparse rejects malformed flags itself
        code, err = exit_.code, capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err


def test_model_defaults_apply_unless_lengths_are_given(capsys, random_model_dir):
    """A model without hexviz.json defaults to 64 tokens in 64 steps; a gen length of one's own
    takes one step per token."""
    base = ["run", "--prompt", "Hi", "--model", str(random_model_dir), "--blocks", "8", "--json"]
    lengths = []
    for extra in ([], ["--gen-length", "16"], ["--gen-length", "16", "--steps", "4"]):
        d = json.loads(run_cli(capsys, *base, *extra)[1])
        lengths.append((d["gen_length"], d["steps"]))
    assert lengths == [(64, 64), (16, 16), (16, 4)]


def test_cache_is_recorded_and_a_model_without_one_decodes_exactly(capsys, random_model_dir):
    base = ["run", "--prompt", "Hi", "--blocks", "4,8", "--gen-length", "16", "--steps", "8"]
    code, out, err = run_cli(capsys, *base, "--cache", "dual", "--json")  # the built-in model
    assert code == 0 and json.loads(out)["config"]["cache"] == "dual" and err == ""
    assert "dual cache," in run_cli(capsys, *base, "--cache", "dual")[1].splitlines()[0]
    exact = json.loads(run_cli(capsys, *base, "--json")[1])
    assert exact["config"]["cache"] == "none"
    code, out, err = run_cli(capsys, *base, "--model", str(random_model_dir), "--cache",
                             "prefix", "--json")
    assert code == 0 and json.loads(out)["config"]["cache"] == "none"  # what it ran with
    assert err.startswith("note: this model (BertForMaskedLM) has no block KV cache")
    try:
        run_cli(capsys, *base, "--cache", "full")
    except SystemExit as exit_:
        assert exit_.code == 2
    assert "invalid choice: 'full'" in capsys.readouterr().err


def test_eval_flags_parse_with_the_shared_decode_flags():
    args = build_parser().parse_args(["eval", "--limit", "3", "--blocks", "16,4", "--no-baselines"])
    assert (args.limit, args.blocks, args.baselines, args.batch_size) == (3, (4, 16), False, None)


@pytest.mark.slow
def test_module_entry_point_runs(random_model_dir):
    proc = subprocess.run(
        [sys.executable, "-m", "hexviz", "run", "--prompt", "Hi", "--model",
         str(random_model_dir), "--blocks", "8", "--gen-length", "8"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "vote:" in proc.stdout
