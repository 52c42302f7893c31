"""Hostile inputs, table-driven: each entry point refuses with one clear line, before any work.

The same cases go through the CLI (``main``), the API (gradio_client against a launched app on
127.0.0.1) and uploads (the replay handler), each with the message it must show.
"""

from __future__ import annotations

import json
import math
import os
import time

import gradio as gr
import numpy as np
import pytest

from hexviz import limits, models
from hexviz.render import figures
from hexviz.render.textfit import plain_title
from hexviz.app import ui, widgets
from hexviz.app import views as explore_views
from hexviz.app.tabs import scaling
from hexviz.cli import main
from hexviz.policy.settings import DecodeConfig, Expert
from hexviz.runs import record
from hexviz.runs.record import Run, SpecialTokens, Timing, Trajectory
from tests.conftest import known_run, serving

LONG_PROMPT = "apples " * 20_000

# --- CLI ----------------------------------------------------------------------------------------

CLI_CASES = [  # (extra args after a valid base command, expected message)
    (["--prompt", ""], "the prompt is empty"),
    (["--prompt", "  \n "], "the prompt is empty"),
    (["--prompt", "Tom\x00has 5"], "control character U+0000"),
    (["--prompt", "Tom\x1b[31m"], "control character U+001B"),
    (["--prompt", LONG_PROMPT], "the prompt has 140,000 characters"),
    (["--gen-length", "0"], "gen_length must be a positive integer (got 0)"),
    (["--gen-length", "-16"], "gen_length must be a positive integer (got -16)"),
    (["--gen-length", "99999999999"], "for this model and prompt (got 99999999999)"),
    (["--steps", "0"], "steps must be a positive integer (got 0)"),
    (["--steps", "-3"], "steps must be a positive integer (got -3)"),
    (["--steps", "100000"], "steps must be an integer from 1 to gen_length=16"),
    (["--seeds", "0"], "seeds must be at least 1"),
    (["--seeds", "3"], "seeds > 1 need temperature > 0"),
    (["--seeds", "1000", "--temperature", "1"], "seeds must be at most 24"),
    (["--seeds", "8", "--temperature", "1", "--blocks", "1,2,4,8"],
     "32 experts (block sizes x seeds + baselines) is more than this app's 24"),
    (["--blocks", "8,8,8"], "each block size may appear once (got 8 more than once)"),
    (["--blocks", "abc"], "or ada / ada:T (AdaBlock, T in (0, 1]) (got 'abc')"),
    (["--blocks", "0"], "block sizes must be positive (got 0 in '0')"),
    (["--blocks", "8+4"], "block schedule 8+4 sums to 12, not the answer length gen_length=16"),
    (["--blocks", "8+0+8"], "block sizes must be positive (got 0 in '8+0+8')"),
    (["--blocks", "grow"], "gen_length must be a multiple of 32 (got 16)"),
    (["--blocks", "ada:2"], "ada:T takes a delimiter threshold T in (0, 1] (got 'ada:2')"),
    (["--blocks", "ada:x"], "ada:T takes a delimiter threshold T in (0, 1] (got 'ada:x')"),
    (["--blocks", "ada,ada:0.3"], "each block size may appear once (got ada more than once)"),
    (["--blocks", "3+13", "--steps", "8"], "each size must be a multiple of it (got 3, 13)"),
    (["--blocks", "ada", "--ada-block-length", "0"],
     "AdaBlock's fallback block size must be a positive integer (got 0)"),
    (["--blocks", "ada", "--ada-block-length", "x"], "invalid int value: 'x'"),
    (["--blocks", "ada", "--ada-delimiters", ""], "--ada-delimiters needs at least one token"),
    (["--blocks", "ada", "--ada-delimiters", "99999"],
     "delimiter id 99999 is outside this model's vocabulary"),
    (["--blocks", "ada", "--ada-delimiters", "x+y"],
     "delimiter 'x+y' is not one token of this model's tokenizer; give its token id"),
    (["--blocks", "ada", "--ada-delimiters", "notatoken"],
     "delimiter 'notatoken' is not one token of this model's tokenizer"),
    (["--ada-delimiters", "."], "add ada or ada:T to --blocks"),
    (["--temperature", "nan"], "temperature must be a finite number >= 0"),
    (["--temperature", "inf"], "temperature must be a finite number >= 0"),
    (["--temperature", "-1"], "temperature must be a finite number >= 0"),
    (["--remasking", "bogus"], "invalid choice: 'bogus'"),
    (["--answer", "bogus"], "invalid choice: 'bogus'"),
    (["--gen-length", "ten"], "invalid int value: 'ten'"),
    (["--strategy", "beam"], "invalid choice: 'beam'"),
    (["--rounds", "1"], "--rounds must be an integer from 2 to 26"),
    (["--rounds", "x"], "invalid int value: 'x'"),
    (["--entropy-threshold", "-1"], "--entropy-threshold must be a finite number >= 0"),
    (["--entropy-threshold", "nan"], "--entropy-threshold must be a finite number >= 0"),
    (["--strategy", "seeds", "--seeds", "0"], "seeds must be at least 1"),
    (["--strategy", "seeds", "--blocks", "8,16"], "--strategy seeds samples one block schedule"),
    (["--strategy", "dvoting", "--sampler", "threshold"], "leave --sampler at fixed"),
    (["--strategy", "dvoting", "--seeds", "2"], "one seed each; leave --seeds at 1"),
    (["--strategy", "dvoting", "--blocks", "4,8"], "--strategy dvoting decodes blocks of one size"),
    (["--strategy", "dvoting", "--cache", "prefix"], "leave --cache at none"),
    (["--decided-vote"], "under the fixed sampler every expert ends at the same step"),
    (["--strategy", "dvoting", "--decided-vote"], "--decided-vote is for hex and seeds"),
]


def cli(capsys, *args: str) -> tuple[int, str]:
    try:
        code = main(list(args))
    except SystemExit as exit_:  # argparse's own refusals exit
        code = exit_.code
    return code, capsys.readouterr().err


def assert_one_line(err: str, message: str) -> None:
    assert message in err, err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err


@pytest.mark.parametrize("args,message", CLI_CASES)
def test_cli_refuses_with_one_line(capsys, random_model_dir, args, message):
    base = ["run", "--prompt", "Hi", "--model", str(random_model_dir), "--gen-length", "16"]
    code, err = cli(capsys, *base, *args)
    assert code == 2
    assert_one_line(err, message)


def test_cli_decodes_emoji_prompts(capsys, random_model_dir):
    code = main(["run", "--prompt", "🍎 Tom has 5 🍎🍎, Ünïcødé — how many?", "--model",
                 str(random_model_dir), "--gen-length", "8", "--blocks", "8"])
    assert code == 0 and "vote:" in capsys.readouterr().out


def damaged_checkpoints(tmp_path):
    """A non-checkpoint folder, a damaged safetensors file, a bad hexviz.json, and a folder
    whose only weights are a pickle that would create a file if it were ever unpickled."""
    import pickle
    import shutil

    from hexviz.models import BUILTIN_DIR

    empty = tmp_path / "not-a-model"
    empty.mkdir()
    (empty / "notes.txt").write_text("hello")
    broken = tmp_path / "broken"
    shutil.copytree(BUILTIN_DIR, broken)
    (broken / "model.safetensors").write_bytes(os.urandom(4096))
    meta = tmp_path / "bad-meta"
    shutil.copytree(BUILTIN_DIR, meta)
    (meta / "hexviz.json").write_text("{\"gen_length\": ")
    pickled = tmp_path / "pickled"
    shutil.copytree(BUILTIN_DIR, pickled)
    (pickled / "model.safetensors").unlink()
    marker = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (pickled / "pytorch_model.bin").write_bytes(pickle.dumps({"w": Payload()}))
    return [(empty, "has no config.json"), (broken, "cannot load model"),
            (meta, "hexviz.json is damaged"), (pickled, "no file named model.safetensors")], marker


def test_cli_refuses_damaged_checkpoints_without_unpickling(capsys, tmp_path):
    cases, marker = damaged_checkpoints(tmp_path)
    for folder, message in cases:
        code, err = cli(capsys, "run", "--prompt", "Hi", "--model", str(folder))
        assert code == 2
        assert_one_line(err, message)
    assert not marker.exists()  # nothing was unpickled


@pytest.mark.parametrize("args,message", [
    (["--seeds", "2"], "seeds > 1 need temperature > 0"),
    (["--gen-length", "0"], "gen_length must be a positive integer"),
    (["--blocks", "4,4"], "each block size may appear once (got 4 more than once)"),
    (["--data", "/no/such/file.jsonl"], "cannot read /no/such/file.jsonl"),
])
def test_eval_refuses_with_one_line(capsys, random_model_dir, args, message):
    code, err = cli(capsys, "eval", "--model", str(random_model_dir), "--limit", "1", *args)
    assert code == 2
    assert_one_line(err, message)


# --- uploads ------------------------------------------------------------------------------------

def run_dict() -> dict:
    return record.run_to_json(known_run())


def edited(**changes) -> dict:
    """The known run's JSON with top-level fields, ``config.*`` or ``expert0.*`` replaced."""
    d = run_dict()
    for key, value in changes.items():
        if key.startswith("config_"):
            d["config"][key[7:]] = value
        elif key.startswith("expert0_"):
            d["experts"][0][key[8:]] = value
        else:
            d[key] = value
    return d


UPLOAD_CASES = [  # (file content: bytes, or a dict written as JSON; expected message)
    (b"", "not a JSON file"),
    (os.urandom(2048), "not a JSON file"),
    (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
    (b"[]", "not a hexviz run"),
    ({"schema": "x"}, "not a hexviz run"),
    (edited(steps_done=10**9), "steps_done (1000000000) is more than steps (4)"),
    (edited(steps_done=1e9), "steps_done must be a non-negative integer"),
    (edited(steps_done=-1), "steps_done must be a non-negative integer"),
    (edited(experts=[]), "the run has no experts"),
    (edited(experts="many"), "experts must be a list"),
    (edited(experts=run_dict()["experts"] * 13), "26 experts"),
    (edited(config_gen_length=1024, config_steps=1024), "gen_length must be at most 256"),
    (edited(config_steps=10**6), "steps must be at most 256"),
    (edited(expert0_token_ids=[10**30, 7, 1, 2]), "token_ids holds 1e+30, outside 0.."),
    (edited(expert0_token_ids=[-5, 7, 1, 2]), "token_ids holds -5, outside 0.."),
    (edited(expert0_token_ids=[5, 7, 1, "x"]), "token_ids must hold numbers only"),
    (edited(expert0_token_ids=[5, 7, 1]), "expert 0 token_ids has 3 entries; gen_length is 4"),
    (edited(vocab_size=6), "holds 7, outside -1..5"),
    (edited(expert0_reveal_step=[0, 1, 2, 999]), "reveal_step holds 999, outside -1..4"),
    (edited(expert0_draft_ids=[[5, 7, 2]] * 4), "draft_ids must be at most 4 rows"),
    (edited(expert0_draft_ids=[[5, 7, 2, 2]] * 9), "draft_ids must be at most 4 rows"),
    (edited(expert0_draft_prob=[[5.0] * 4] * 4), "draft_prob must hold probabilities"),
    (edited(expert0_reveal_conf=[math.nan] * 4), "the file contains NaN"),
    (edited(timing={"decode_s": math.inf, "forward_passes": 4}), "the file contains Infinity"),
    (edited(timing=None), "damaged hexviz run"),
    (edited(expert0_steps_taken=10**9), "steps_taken holds 1e+09, outside 0..4"),
    (edited(expert0_commits=[1, 1]), "commits differ from what its events say"),
    (edited(expert0_edits=[[0, 99, 5, 7]]), "edits name a step or position outside the run"),
    (edited(expert0_edits=[[1, 2]]), "damaged hexviz run"),
    (edited(timing={"decode_s": 1, "step_rows": [1] * 9}), "step_rows is longer than"),
    (edited(special_tokens={"mask_id": 2**40, "end_of_text_id": 2, "end_of_turn_id": 1}),
     "special_tokens holds"),
]


def write(tmp_path, content, name="upload.json"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(json.dumps(content))  # NaN/Infinity written as JSON's non-standard words
    return path


@pytest.mark.parametrize("content,message", UPLOAD_CASES)
def test_upload_refused_with_one_line(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(gr.Error) as caught:
        explore_views.replay(str(path))
    text = caught.value.message
    assert message in text and "\n" not in text, text
    assert text.startswith("cannot replay this file: ")


def test_oversized_upload_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setenv("HEXVIZ_MAX_UPLOAD_MB", "0.001")
    path = write(tmp_path, run_dict())
    monkeypatch.setattr(type(path), "read_bytes", lambda self: pytest.fail("file was read"))
    with pytest.raises(gr.Error, match=r"the file is 0.0\d+ MB; this app reads files up to "
                                       r"0.001 MB \(HEXVIZ_MAX_UPLOAD_MB\)"):
        explore_views.replay(str(path))


@pytest.mark.parametrize("content,message", [
    (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
    (os.urandom(512), "is not JSON"),
])
def test_results_upload_refused_with_one_line(tmp_path, content, message):
    with pytest.raises(gr.Error, match="cannot read this results file") as caught:
        scaling.scaling_from_file(str(write(tmp_path, content)))
    assert message in caught.value.message and "\n" not in caught.value.message


def test_results_file_with_too_many_problems_is_refused(tmp_path, monkeypatch):
    from hexviz.eval.report import results_to_json
    from tests.conftest import hand_made_results

    path = write(tmp_path, results_to_json(hand_made_results()))
    monkeypatch.setenv("HEXVIZ_MAX_EVAL_RECORDS", "2")
    with pytest.raises(gr.Error, match=r"4 problems; this app plots up to 24 experts"):
        scaling.scaling_from_file(str(path))


# --- bounded drawing and exports --------------------------------------------------------------

def big_run(experts: int, gen_length: int, steps: int) -> Run:
    """A synthetic complete run of the largest allowed size (random reveal order, no model)."""
    rng = np.random.default_rng(0)
    trajectories = []
    for i in range(experts):
        reveal = rng.permutation(np.arange(gen_length) % steps).astype(np.int32)
        drafts = np.where(reveal[None, :] >= np.arange(steps)[:, None],
                          rng.integers(5, 50, (steps, gen_length)), -1)
        trajectories.append(Trajectory(
            Expert(gen_length, seed=i, temperature=1.0), rng.integers(5, 50, gen_length),
            ["tok"] * gen_length, reveal, np.full(gen_length, 0.5, dtype=np.float32), drafts,
            np.where(drafts >= 0, 0.5, np.nan).astype(np.float32), "", None, False, 0.0))
    return Run("synthetic", "Q", [1], DecodeConfig(gen_length, steps), SpecialTokens(0, 2, 1),
               "gsm8k", trajectories, Timing(1.0), steps)


def test_long_runs_are_drawn_with_sampled_steps():
    lim = limits.current()
    run = big_run(24, 256, 256)
    scrub = figures.scrubber(run)
    assert len(scrub.frames) <= lim.max_frames
    assert sum(len(f.data[0].z) * len(f.data[0].z[0]) for f in scrub.frames) <= lim.max_cells
    assert f"{len(scrub.frames)} of 257 steps shown" in plain_title(scrub.layout.title.text)
    assert scrub.frames[0].name == "0" and scrub.frames[-1].name == "256"
    assert "too many block edges" not in plain_title(
        figures.reveal_order(run).layout.title.text)


def test_cell_budget_bounds_the_unmasking_map(monkeypatch):
    monkeypatch.setenv("HEXVIZ_MAX_CELLS", "4096")
    umap = figures.unmasking_map(big_run(1, 256, 256), 0)
    assert len(umap.data[0].z) == 16 and "16 of 256 steps shown" in plain_title(
        umap.layout.title.text)


def test_many_block_edges_are_left_out():
    run = big_run(2, 256, 256)
    for t in run.trajectories:
        t.expert = Expert(1, seed=t.expert.seed, temperature=1.0)
        t.blocks = record.laid_out(t.expert.sizes(len(t.token_ids)))  # blocks of one token
    fig = figures.reveal_order(run)
    assert not fig.layout.shapes and "too many block edges" in plain_title(
        fig.layout.title.text)


@pytest.mark.slow
def test_largest_allowed_upload_is_replayed_within_bounds(tmp_path):
    """24 experts x 256 steps x 256 positions (the limits' maximum): replayed, bounded export."""
    path = record.save(big_run(24, 256, 256), tmp_path / "big.json")
    assert path.stat().st_size < limits.current().max_upload_bytes
    tic = time.perf_counter()
    views = explore_views.replay(str(path))
    assert time.perf_counter() - tic < 60  # generous for a loaded CI machine; bench has figures
    page = next(p for p in views["downloads"] if p.endswith(".html"))
    assert os.path.getsize(page) < 40 * 2**20


def test_exports_stay_in_one_bounded_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HEXVIZ_EXPORT_DIR", str(tmp_path / "exports"))
    monkeypatch.setenv("HEXVIZ_EXPORT_MAX_MB", "12")  # room for two exports of ~5.4 MB
    for i in range(5):
        run = known_run()
        run.prompt = f"question {i}"
        last = explore_views.export_files(run)
    files = list((tmp_path / "exports").iterdir())
    assert all(os.path.exists(p) for p in last)  # what was just written stays
    assert sum(f.stat().st_size for f in files) <= 12 * 2**20 and len(files) <= 4


# --- menus --------------------------------------------------------------------------------------

def test_gen_length_menu_offers_what_the_builtin_model_allows():
    from hexviz.app.runner import BUILTIN_LABEL, LocalRunner

    assert widgets.gen_length_choices(LocalRunner(), BUILTIN_LABEL) == [16, 32, 64, 128]
    assert limits.gen_length_choices([64, 256, 512], None) == [64, 256]


# --- one limit, one message: the Explore form, the API and the CLI -----------------------------

def no_weights(*args, **kwargs):
    raise AssertionError("the model's weights were loaded before the refusal")


@pytest.mark.parametrize("gen_length", [100_000, 512, 256, 222])
def test_a_too_long_answer_is_refused_alike_everywhere_before_the_weights_load(
        monkeypatch, capsys, gen_length):
    """The same too-large gen_length gets the same line from the request the Explore form
    makes, the API and ``hexviz run``: the answer length that fits this model after this
    prompt, said before any weights load (loading them fails here)."""
    from hexviz.app import api
    from hexviz.app.runner import BUILTIN_LABEL, LocalRunner
    from hexviz.models import loader

    monkeypatch.setattr(loader, "load", no_weights)
    prompt = ui.DEFAULT_EXAMPLE
    outline = models.load_outline()
    n = len(outline.format_prompt(prompt))
    most = outline.max_length - n
    expected = (f"gen_length must be at most {most} for this model and prompt (got {gen_length}):"
                f" the prompt takes {n} of the model's {outline.max_length} positions")
    runner = LocalRunner()
    form = widgets.LengthControls.of(runner, BUILTIN_LABEL, gen_length)  # what Explore shows
    request = widgets.run_request(prompt, BUILTIN_LABEL, form.experts, "", "low_confidence",
                                  gen_length, form.steps, 0.0, 1, False, False, True)
    with pytest.raises(gr.Error) as app:
        widgets.user_errors("decoding", next, iter(runner.run(request)))
    with pytest.raises(gr.Error) as endpoint:
        api.endpoint(runner, BUILTIN_LABEL)(prompt, gen_length=gen_length)
    code, err = cli(capsys, "run", "--prompt", prompt, "--gen-length", str(gen_length),
                    "--max-gen-length", "4096")  # the operator's limit raised: the model binds
    assert code == 2
    assert [app.value.message, endpoint.value.message, err] == [expected, expected,
                                                                f"error: {expected}\n"]


def test_the_operator_limit_is_named_alike_where_it_binds(monkeypatch, capsys):
    from hexviz.app import api
    from hexviz.app.runner import BUILTIN_LABEL, LocalRunner
    from hexviz.models import loader

    monkeypatch.setattr(loader, "load", no_weights)
    monkeypatch.setenv("HEXVIZ_MAX_GEN_LENGTH", "64")
    expected = "gen_length must be at most 64 (got 128; HEXVIZ_MAX_GEN_LENGTH)"
    with pytest.raises(gr.Error) as endpoint:
        api.endpoint(LocalRunner(), BUILTIN_LABEL)("Tom?", gen_length=128)
    code, err = cli(capsys, "run", "--prompt", "Tom?", "--gen-length", "128")
    assert [endpoint.value.message, err] == [expected, f"error: {expected}\n"]


# --- API (gradio_client against a launched app) ------------------------------------------------

BUILTIN_GEN = models.read_defaults(models.BUILTIN_DIR).gen_length  # what the API defaults to
API_CASES = [  # (predict keyword arguments, expected message)
    (dict(prompt=""), "the prompt is empty"),
    (dict(prompt="Tom\x07?"), "control character U+0007"),
    (dict(prompt=LONG_PROMPT), "the prompt has 140,000 characters"),
    (dict(prompt="Q", seeds=100, temperature=1.0), "seeds must be at most 24"),
    (dict(prompt="Q", seeds=1000, temperature=1.0), "seeds must be at most 24"),
    (dict(prompt="Q", seeds=2, temperature=0.0), "seeds > 1 need temperature > 0"),
    (dict(prompt="Q", seeds=4, temperature=1.0, blocks="1,2,4,8,16,32"),
     "27 experts (block sizes x seeds + baselines) is more than this app's 24"),
    (dict(prompt="Q", blocks="abc"), "block sizes must be integers such as 8,16,32"),
    (dict(prompt="Q", blocks="-8"), "block sizes must be positive (got -8 in '-8')"),
    (dict(prompt="Q", blocks="8,8,8,8,32"), "each block size may appear once"),
    (dict(prompt="Q", blocks="5"), f"block_length must divide gen_length={BUILTIN_GEN}"),
    (dict(prompt="Q", gen_length=512), "for this model and prompt (got 512)"),
    (dict(prompt="Tom has 5 apples. " * 8, gen_length=256), "of the model's 256 positions"),
    (dict(prompt="Q", gen_length=-1), "gen_length must be a positive integer (got -1)"),
    (dict(prompt="Q", gen_length=2.5), "gen_length must be a whole number (got 2.5)"),
    (dict(prompt="Q", steps=10**9), f"steps must be an integer from 1 to gen_length={BUILTIN_GEN}"),
    (dict(prompt="Q", temperature=-1.0), "temperature must be a finite number >= 0"),
    (dict(prompt="Q", remasking="bogus"), "unknown remasking rule 'bogus'"),
    (dict(prompt="Q", strategy="beam"), "unknown strategy 'beam'"),
    (dict(prompt="Q", strategy="dvoting", rounds=1), "--rounds must be an integer from 2 to 26"),
    (dict(prompt="Q", strategy="dvoting", entropy_threshold=-1.0),
     "--entropy-threshold must be a finite number >= 0"),
]


@pytest.fixture(scope="module")
def api_client():
    """The real app (built-in model) on 127.0.0.1 at a free port; closed after the module."""
    from gradio_client import Client

    from hexviz.app.runner import LocalRunner

    with serving(ui.build_demo(LocalRunner())) as url:
        yield Client(url, verbose=False)


@pytest.mark.slow
@pytest.mark.parametrize("kwargs,message", API_CASES)
def test_api_refuses_with_one_line(api_client, kwargs, message):
    tic = time.perf_counter()
    with pytest.raises(Exception) as caught:
        api_client.predict(**kwargs, api_name="/run")
    assert message in str(caught.value) and "\n" not in str(caught.value), str(caught.value)
    assert time.perf_counter() - tic < 30  # refused before decoding


@pytest.mark.slow
def test_api_serves_an_emoji_prompt_after_the_refusals(api_client):
    d = api_client.predict(prompt="🍎 Mia has 3 pens. She buys 4 more. How many pens? 🖊",
                           blocks="16,32", baselines=False, api_name="/run")
    assert [e["block_length"] for e in d["experts"]] == [16, 32]
    assert d["vocab_size"] > max(max(e["token_ids"]) for e in d["experts"])


def test_seeds_at_temperature_0_only_with_the_random_rule():
    from hexviz.policy.settings import hex_experts

    assert [e.seed for e in hex_experts(64, [8], "random", seeds=2)] == [0, 1]
    with pytest.raises(ValueError, match="seeds > 1 need temperature > 0"):
        hex_experts(64, [8], "margin", seeds=2)
