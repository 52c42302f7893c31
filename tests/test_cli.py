"""`hexviz run` / `python -m hexviz run`: human output, the --json contract, defaults, and
errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
from contextlib import nullcontext
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
    (["--gen-length", "5000"], "for this model and prompt (got 5000)"),
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


def test_run_with_a_task_uses_its_prompt_parser_and_tie_rule(capsys, random_model_dir):
    from transformers import AutoTokenizer

    from hexviz.tasks import get_task
    from hexviz.tasks.base import Problem

    code, out, _ = run_cli(capsys, "run", "--prompt", "Which gas do plants take in?\nA. CO2",
                           "--task", "arcc", "--model", str(random_model_dir), "--blocks", "4,8",
                           "--gen-length", "16", "--tie", "lowest_nll", "--json")
    assert code == 0
    d = json.loads(out)
    task = get_task("arcc")
    tokenizer = AutoTokenizer.from_pretrained(random_model_dir)
    assert d["prompt_ids"] == task.prompt_ids(tokenizer, Problem(
        "Which gas do plants take in?\nA. CO2", None))
    assert (d["task"], d["tie_rule"], d["vote"]["rule"]) == ("arcc", "lowest_nll", "lowest_nll")
    for e in d["experts"]:  # answers are the task's parse of the raw answer region
        raw = tokenizer.decode(e["token_ids"], skip_special_tokens=False)
        assert e["answer"] == task.parse(raw) and e["one_step_log_likelihood"] < 0


def test_run_prints_each_experts_one_step_likelihood(capsys, random_model_dir):
    code, out, _ = run_cli(capsys, "run", "--prompt", "Tom has 5 apples.", "--model",
                           str(random_model_dir), "--blocks", "8", "--gen-length", "16")
    assert code == 0 and "one-step ll -" in out.splitlines()[1]


@pytest.mark.parametrize("args,message", [
    (["--sampler", "threshold:1.5"], "threshold must be in (0, 1] (got 1.5)"),
    (["--sampler", "factor:-1"], "factor must be a number > 0 (got -1)"),
    (["--sampler", "entropy:-0.1"], "entropy must be a number >= 0 (got -0.1)"),
    (["--edit", "1.5"], "edit must be in (0, 1] (got 1.5)"),
    (["--edit", "x"], "edit must be in (0, 1], or off (got 'x')"),
    (["--sampler", "greedy"], "unknown sampler 'greedy'; choose one of fixed, threshold"),
])
def test_bad_sampler_settings_are_refused_before_the_model_loads(capsys, args, message):
    # the model does not exist: a refusal that came after loading would name it instead
    base = ["run", "--prompt", "Hi", "--model", "/no/such/model"]
    with pytest.raises(SystemExit) as exit_:
        main([*base, *args])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and "model" not in err.split(message)[0]
    assert err.count("\n") == 1 and err.startswith("error: ")


def test_a_parallel_sampler_reports_steps_and_row_passes(capsys, random_model_dir):
    code, out, _ = run_cli(capsys, "run", "--prompt", "Hi", "--model", str(random_model_dir),
                           "--blocks", "4,16", "--gen-length", "16", "--steps", "8",
                           "--sampler", "threshold:0.2", "--edit", "0.5", "--json")
    d = json.loads(out)
    assert code == 0 and d["config"]["sampler"] == "threshold:0.2" and d["config"]["edit"] == 0.5
    taken = [e["steps_taken"] for e in d["experts"]]
    assert d["timing"]["forward_passes"] == max(taken)
    assert d["timing"]["row_passes"] <= sum(taken)
    for e in d["experts"]:
        assert sum(e["commits"]) == 16 and len(e["commits"]) == e["steps_taken"]
    code, out, _ = run_cli(capsys, "run", "--prompt", "Hi", "--model", str(random_model_dir),
                           "--blocks", "4,16", "--gen-length", "16", "--steps", "8",
                           "--sampler", "threshold:0.2", "--edit", "0.5")
    assert "sampler threshold:0.2, edit 0.5" in out and "rows)" in out and " steps " in out


def test_the_step_cap_of_a_parallel_sampler_meets_the_operator_limit(capsys, monkeypatch,
                                                                     random_model_dir):
    monkeypatch.setenv("HEXVIZ_MAX_STEPS", "10")
    base = ["run", "--prompt", "Hi", "--model", str(random_model_dir), "--blocks", "4",
            "--gen-length", "16", "--steps", "8"]
    assert run_cli(capsys, *base)[0] == 0
    code, _, err = run_cli(capsys, *base, "--sampler", "threshold:0.9")
    assert code == 2 and "up to 16 steps" in err and "HEXVIZ_MAX_STEPS" in err


# --- hexviz animate -----------------------------------------------------------------------------

def test_animate_writes_a_gif_and_an_html_page(capsys, tmp_path):
    from PIL import Image

    from hexviz.paths import GALLERY

    stored = str(GALLERY / "lesson-2-end-of-text-wall.json")
    code, out, _ = run_cli(capsys, "animate", stored, "--out", str(tmp_path / "a.gif"),
                           "--layout", "compare", "--experts", "16,whole", "--width", "640",
                           "--fps", "12")
    assert code == 0 and "a.gif" in out
    image = Image.open(tmp_path / "a.gif")
    assert image.size[0] == 640 and image.n_frames > 10
    assert image.info["duration"] == animate_start_hold()
    image.seek(1)
    assert image.info["duration"] in (80, 90)  # 12 fps = 83 ms, in GIF's 10 ms units
    code, _, _ = run_cli(capsys, "animate", stored, "--out", str(tmp_path / "a.html"),
                         "--experts", "8,32,whole")
    page = (tmp_path / "a.html").read_text()
    assert code == 0 and page.count('"title":') == 5  # B=8, B=32 and the three whole rows


@pytest.mark.parametrize("args,message", [
    (["--out", "x.mp4"], "error: the output must end in .gif or .html (got 'x.mp4')"),
    (["--out", "x.gif", "--experts", "7"], "error: no expert '7' in this run; it has 4, 8"),
    (["--out", "x.gif", "--width", "10"], "error: width must be a whole number of pixels"),
    (["--out", "x.gif", "--fps", "0"], "error: fps must be a number above 0"),
    (["--out", "x.gif", "--layout", "grid"], "error: argument --layout: invalid choice"),
    (["--out", "x.gif", "--compare", "y.json"], "error: --compare needs --layout compare"),
    (["--out", "no/such/folder/x.gif"], "error: cannot write"),
])
def test_animate_bad_settings_are_one_line(capsys, tmp_path, monkeypatch, args, message):
    from hexviz.paths import GALLERY

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) if "invalid choice" in message else nullcontext():
        code, _, err = run_cli(capsys, "animate", str(GALLERY / "example-1.json"), *args)
        assert code == 2
    if "invalid choice" in message:
        err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def animate_start_hold() -> int:
    from hexviz.render.animate import START_HOLD_MS

    return START_HOLD_MS


@pytest.mark.parametrize("content", ["{not json", '{"schema": "hexviz.run", "schema_version": 1}',
                                     "big"])
def test_animate_refuses_a_damaged_or_oversized_file_like_the_upload(capsys, tmp_path,
                                                                      monkeypatch, content):
    import gradio as gr

    from hexviz.app import views
    from hexviz.paths import GALLERY

    path = tmp_path / "bad.json"
    if content == "big":  # a real run, over a lowered upload limit
        path.write_bytes((GALLERY / "example-1.json").read_bytes())
        monkeypatch.setenv("HEXVIZ_MAX_UPLOAD_MB", "0.1")
    else:
        path.write_text(content)
    code, _, err = run_cli(capsys, "animate", str(path), "--out", str(tmp_path / "a.gif"))
    assert code == 2 and err.startswith("error: cannot replay bad.json: ")
    with pytest.raises(gr.Error) as upload:
        views.replay(str(path))
    reason = err.removeprefix("error: cannot replay bad.json: ").strip()
    assert upload.value.message == f"cannot replay this file: {reason}"  # the app's own words
    assert not (tmp_path / "a.gif").exists()


def test_the_cpu_eval_hint_is_a_command_that_starts_one_process_per_core():
    """accelerate starts one process on a machine without a GPU unless --multi_gpu asks for
    several (--num_processes alone is ignored there), so the hint keeps the flag and says why."""
    from hexviz.cli import parallel_hint

    hint = parallel_hint(2)
    assert "accelerate launch --multi_gpu --num_processes 2 -m hexviz eval" in hint
    assert "CPUs too" in hint
