"""`python -m hexviz run`: human output, the --json contract, and errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hexviz.cli import main
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
        assert isinstance(e["text"], str) and isinstance(e["collapsed"], bool)
    assert set(d["vote"]) >= {"winner", "counts", "tie"}
    assert d["timing"]["forward_passes"] == 8 and d["timing"]["decode_s"] > 0


def test_seeds_and_baselines_add_rows(capsys, random_model_dir):
    code, out, _ = run_cli(capsys, "run", "--prompt", "Hi", "--model", str(random_model_dir),
                           "--blocks", "8", "--gen-length", "16", "--seeds", "3",
                           "--temperature", "0.7", "--baselines", "--json")
    experts = json.loads(out)["experts"]
    assert [(e["block_length"], e["seed"], e["votes"]) for e in experts] == [
        (8, 0, True), (8, 1, True), (8, 2, True), (16, 0, False), (16, 0, False)]
    assert [e["remasking"] for e in experts[3:]] == ["low_confidence", "margin"]


def test_human_output_has_a_line_per_expert_and_the_vote(capsys, random_model_dir):
    code, out, _ = run_cli(capsys, "run", "--prompt", "Hi", "--model", str(random_model_dir),
                           "--blocks", "4,8,16", "--gen-length", "16")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 5
    assert lines[1].strip().startswith("B=4") and lines[3].strip().startswith("B=16")
    assert lines[-1].startswith("vote:")


@pytest.mark.parametrize("args,message", [
    (["--blocks", "5"], "block_length must divide gen_length=16"),
    (["--blocks", "x,y"], "--blocks takes comma-separated integers"),
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


def test_module_entry_point_runs(random_model_dir):
    proc = subprocess.run(
        [sys.executable, "-m", "hexviz", "run", "--prompt", "Hi", "--model",
         str(random_model_dir), "--blocks", "8", "--gen-length", "8"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "vote:" in proc.stdout
