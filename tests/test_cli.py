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
    assert code == 0 and json.loads(out)["config"]["cache"] == "dual"
    assert err.strip() == ("note: editing stays inside the block with --cache dual (the model's "
                           "default scope, answer, needs tokens the cache does not recompute)")
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


# --- experts beyond one block size (--blocks schedules, presets, ada) ---------------------------

@pytest.mark.parametrize("command", [["run", "--prompt", "Q"], ["eval"]])
def test_the_block_grammar_and_adablocks_flags_reach_the_settings(command):
    from hexviz.cli import settings_of

    args = build_parser().parse_args([*command, "--blocks", "ada:0.5, 16,8+8+16+32+64,grow,4",
                                      "--ada-block-length", "4", "--ada-delimiters", "198 . ,+"])
    settings = settings_of(args, None)
    assert settings.blocks == (4, 16, "ada:0.5", "8+8+16+32+64", "grow")
    assert (settings.ada_block_length, settings.ada_delimiters) == (4, ("198", ".", ",+"))
    default = settings_of(build_parser().parse_args([*command, "--blocks", "ada"]), None)
    assert (default.blocks, default.ada_block_length, default.ada_delimiters) == (
        ("ada",), None, None)


# --- strategies: hex, seeds, dvoting (docs/strategies.md) --------------------------------------

@pytest.mark.parametrize("command", [["run", "--prompt", "Q"], ["eval"]])
def test_the_strategy_flags_reach_the_settings(command):
    from hexviz.cli import settings_of

    parse = lambda *extra: settings_of(build_parser().parse_args([*command, *extra]), None)  # noqa: E731
    default = parse()
    assert (default.strategy, default.rounds, default.entropy_threshold) == ("hex", 5, 0.3)
    assert default.temperature == 0.0  # no --temperature: argmax, as before
    dvoting = parse("--strategy", "dvoting", "--rounds", "7", "--entropy-threshold", "0.5")
    assert (dvoting.strategy, dvoting.rounds, dvoting.entropy_threshold) == ("dvoting", 7, 0.5)
    assert dvoting.temperature == 0.6  # dVoting's own, unless --temperature is given
    assert parse("--strategy", "dvoting", "--temperature", "0").temperature == 0.0
    seeds = parse("--strategy", "seeds", "--seeds", "3", "--temperature", "0.7")
    assert (seeds.strategy, seeds.seeds, seeds.temperature) == ("seeds", 3, 0.7)
    assert not default.decided_vote
    assert parse("--sampler", "threshold:0.9", "--decided-vote").decided_vote


def test_run_with_dvoting_prints_each_round_and_records_them(capsys, random_model_dir):
    base = ["run", "--prompt", "Hi", "--model", str(random_model_dir), "--gen-length", "16",
            "--strategy", "dvoting", "--rounds", "3", "--temperature", "0"]
    code, out, err = run_cli(capsys, *base)
    lines = out.strip().splitlines()
    assert code == 0 and "dVoting: " in lines[0] and "of at most 3 rounds" in lines[0]
    rounds = lines[1:-1]
    assert rounds and [line.split()[:2] for line in rounds] == [
        ["round", str(r)] for r in range(1, len(rounds) + 1)]
    assert lines[-1].startswith("vote:")
    assert "note: dVoting's rounds decode blocks of 1" in err
    code, out, _ = run_cli(capsys, *base, "--json")
    d = json.loads(out)
    assert d["strategy"] == "dvoting" and d["config"]["strategy"] == {
        "name": "dvoting", "rounds": 3, "entropy_threshold": 0.3}
    assert [e["round"] for e in d["experts"]] == list(range(1, len(rounds) + 1))


def test_eval_with_dvoting_and_its_rescore_prints_the_vote_variants(capsys, random_model_dir,
                                                                   tmp_path):
    out_file = tmp_path / "dv.json"
    code, out, err = run_cli(capsys, "eval", "--model", str(random_model_dir), "--limit", "2",
                             "--gen-length", "16", "--strategy", "dvoting", "--rounds", "2",
                             "--out", str(out_file))
    assert code == 0, err
    assert "round 1 (B=1, entropy)" in out and "HEX vote" in out
    code, rescored, _ = run_cli(capsys, "eval", "--rescore", str(out_file))
    assert code == 0
    table = rescored[rescored.index("vote                          accuracy"):]
    assert [line[:29].strip() for line in table.splitlines()] == [
        "vote", "plain majority", "weighted by likelihood", "weighted by confidence",
        "stops when decided", "oracle (some expert right)"]
    assert rescored.index("tie rule") < rescored.index("weighted by likelihood")


def test_schedules_and_adablock_decode_with_the_flags_given(capsys, random_model_dir):
    from hexviz import models

    vocab = models.load_outline(str(random_model_dir)).tokenizer.get_vocab()
    code, out, _ = run_cli(capsys, "run", "--prompt", "Tom has 5 apples.", "--model",
                           str(random_model_dir), "--blocks", "8,ada,4+12", "--gen-length",
                           "16", "--steps", "8", "--ada-block-length", "2",
                           "--ada-delimiters", ". ?", "--json")
    assert code == 0
    plain, ada, schedule = json.loads(out)["experts"]
    assert plain["blocks"] == [[0, 8], [8, 16]] and schedule["blocks"] == [[0, 4], [4, 16]]
    assert schedule["schedule"] == [4, 12] and schedule["steps_taken"] == 8
    assert (ada["delimiter_threshold"], ada["block_length"]) == (0.3, 2)
    assert ada["delimiter_ids"] == [vocab["."], vocab["?"]]
    assert ada["blocks"][0][0] == 0 and ada["blocks"][-1][1] == 16


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
    (["--edit-scope", "all"], "invalid choice: 'all' (choose from 'block', 'answer')"),
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
    code, out, _ = run_cli(capsys, "run", "--prompt", "Hi", "--model", str(random_model_dir),
                           "--blocks", "4", "--gen-length", "16", "--steps", "8", "--edit",
                           "0.5", "--edit-scope", "answer", "--edit-post-steps", "1", "--json")
    d = json.loads(out)
    assert code == 0 and (d["config"]["edit_scope"], d["config"]["edit_post_steps"]) == (
        "answer", 1)


def test_the_step_cap_of_a_parallel_sampler_meets_the_operator_limit(capsys, monkeypatch,
                                                                     random_model_dir):
    monkeypatch.setenv("HEXVIZ_MAX_STEPS", "10")
    base = ["run", "--prompt", "Hi", "--model", str(random_model_dir), "--blocks", "4",
            "--gen-length", "16", "--steps", "8"]
    assert run_cli(capsys, *base)[0] == 0
    code, _, err = run_cli(capsys, *base, "--sampler", "threshold:0.9")
    assert code == 2 and "up to 16 steps" in err and "HEXVIZ_MAX_STEPS" in err


# --- a growing canvas (--length) ---------------------------------------------------------------

def test_a_growing_canvas_decodes_and_records_its_events(capsys):
    """The built-in model, DAEDAL from 32 masks up to 128: the final canvas, the events that
    made it, its length after every step, and the rows computed agree with each other."""
    code, out, err = run_cli(capsys, "run", "--prompt", "Tom has 5 apples. He buys 3 more. How "
                             "many apples does Tom have now?", "--length", "daedal",
                             "--initial-length", "32", "--gen-length", "128", "--blocks", "8",
                             "--json")
    assert code == 0 and err == ""
    d = json.loads(out)
    length = d["config"]["length"]
    assert (length["mode"], length["initial_length"], d["config"]["gen_length"]) == (
        "daedal", 32, 128)
    (e,) = d["experts"]
    assert e["block_length"] == 8 and e["votes"]
    events, lengths = e["events"], e["canvas_length"]
    assert events["initial_length"] == 32 and len(lengths) == e["steps_taken"]
    grown = sum(c for k, c in zip(events["kind"], events["count"]) if k == "insert")
    cut = sum(c for k, c in zip(events["kind"], events["count"]) if k == "delete")
    assert grown > 0  # the tail expects more than 32 tokens: DAEDAL grows it
    assert 32 + grown - cut == lengths[-1] == len(e["token_ids"]) <= 128
    assert len(e["reveal_step"]) == len(e["tokens"]) == len(e["token_ids"])
    assert max(events["step"]) < e["steps_taken"] == d["steps_done"]
    assert d["timing"]["row_passes"] == d["timing"]["forward_passes"] == e["steps_taken"]


@pytest.mark.parametrize("args,message", [
    (["--length", "daedal", "--initial-length", "300"],
     "--initial-length (300) must not be above the maximum length --gen-length (128)"),
    (["--length", "daedal", "--expansion-factor", "0"],
     "--expansion-factor must be a positive integer (got 0)"),
    (["--length", "rho-eos", "--high-conf-threshold", "1.5"],
     "--high-conf-threshold must be a number strictly between 0 and 1 (got 1.5)"),
    (["--length", "rho-eos", "--low-density-threshold", "0.7"],
     "--low-density-threshold (0.7) must not be above --high-density-threshold (0.6)"),
    (["--length", "rho-eos", "--scheduler", "fast"], "unknown scheduler 'fast'"),
    (["--length", "daedal", "--gen-length", "250"],
     "gen_length must be at most 221 for this model and prompt (got 250)"),
    (["--initial-length", "32"], "--initial-length set a growing canvas; add --length daedal"),
    (["--length", "daedal", "--sampler", "threshold:0.9"], "leave --sampler at fixed"),
    (["--length", "daedal", "--cache", "dual"], "leave --cache at none"),
    (["--length", "daedal", "--edit", "0.9"], "does not edit tokens; leave --edit off"),
    (["--length", "daedal", "--remasking", "margin"], "the remasking rule must be low_confidence"),
    (["--length", "rho-eos", "--tie", "lowest_nll"], "needs HEX's one-step likelihood"),
    (["--length", "grow"], "invalid choice: 'grow'"),
    (["--length", "daedal", "--expansion-factor", "x"], "invalid int value: 'x'"),
])
def test_bad_growing_canvas_settings_are_one_line_before_the_model_loads(capsys, monkeypatch,
                                                                        args, message):
    from hexviz import models

    monkeypatch.setattr(models, "load", lambda *a, **kw: pytest.fail("weights loaded"))
    base = ["run", "--prompt", "Mia has 12 marbles. She gives 3 to Ben. She buys 5 more. Then "
            "she gets 2 times as many. How many marbles does Mia have now?"]
    try:
        code, _, err = run_cli(capsys, *base, *args)
    except SystemExit as exit_:  # argparse refuses a malformed flag itself
        code, err = exit_.code, capsys.readouterr().err
    assert code == 2 and message in err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


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


def test_import_hex_writes_records_that_rescore_reads_and_prints_the_tables(capsys, tmp_path):
    from tests.imports.test_hex import GSM8K, write_set

    files = [str(p) for p in write_set(tmp_path, "gsm8k", GSM8K)]
    out_dir = tmp_path / "out"
    code, out, err = run_cli(capsys, "import", "hex", *files, "--out", str(out_dir), "--rows", "2")
    assert code == 0, err
    assert "== gsm8k: 5 experts x 8 problems (LLaDA-8B-Instruct)" in out
    assert "HEX vote" in out and "frequency_lowest_nll" in out
    grid = out[out.index("problems x experts"):]
    assert grid.splitlines()[1].split() == ["8", "16", "32", "64", "128", "|", "HEX", "problems"]
    assert "(the first 2 of 8 problems)" in grid
    assert f"records written to {out_dir / 'gsm8k.json'}" in out
    code, rescored, _ = run_cli(capsys, "eval", "--rescore", str(out_dir / "gsm8k.json"))
    assert code == 0
    rules = {line.split()[0]: line.split()[1] for line in rescored.splitlines()
             if line.split() and line.split()[0] in ("first", "lowest_nll", "frequency_lowest_nll")}
    assert rules == {"first": "37.5%", "lowest_nll": "37.5%", "frequency_lowest_nll": "25.0%"}
    assert "weighted by likelihood" in rescored and "oracle (some expert right)" in rescored


def test_import_hex_writes_runs_where_the_files_kept_their_steps(capsys, tmp_path):
    from hexviz.runs.record import load
    from tests.imports.test_hex import ORDERS, canvases
    from tests.imports.hex_writer import write_eval_file

    files = [write_eval_file(tmp_path, "gsm8k", block, ["q"], ["p"], ["\\boxed{7}<|eot_id|>"],
                             [7.0], [-0.3], [canvases(ORDERS[block])], gen_length=8,
                             diffusion_steps=4) for block in (4, 8)]
    code, out, err = run_cli(capsys, "import", "hex", *files, "--out", str(tmp_path / "out"))
    assert code == 0, err
    assert "1 of 1 runs written to" in out
    run = load(tmp_path / "out" / "gsm8k_runs" / "problem_0000.json")
    assert [t.expert.block_length for t in run.trajectories] == [4, 8]


@pytest.mark.parametrize("content, message", [
    ("{", "bad_generations.json is not JSON"),
    ('{"generations": [], "gen_length": 8, "diffusion_steps": 8, "block_length": 8}',
     "its generations list is empty"),
])
def test_import_hex_refuses_a_bad_file_in_one_line(capsys, tmp_path, content, message):
    bad = tmp_path / "bad_generations.json"
    bad.write_text(content)
    code, out, err = run_cli(capsys, "import", "hex", str(bad), "--out", str(tmp_path / "o"),
                             "--task", "gsm8k")
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert not (tmp_path / "o").exists()
