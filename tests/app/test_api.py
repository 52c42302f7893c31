"""The API endpoint `/run`: the finished run's JSON, and errors as one line."""

from __future__ import annotations


import pytest

from hexviz import models
from tests.conftest import QUESTION, FakeRunner


def test_api_endpoint_returns_the_run_json(launched):
    from gradio_client import Client

    runner = FakeRunner()
    client = Client(launched(runner), verbose=False)
    d = client.predict(prompt="Tom?", blocks="2", api_name="/run")
    assert d["schema"] == "hexviz.run" and d["vote"]["winner"] == "7"
    assert d["steps_done"] == 4  # the finished run, not a snapshot
    assert runner.requests[0].blocks == (2,) and runner.requests[0].prompt == "Tom?"
    with pytest.raises(Exception, match="the prompt is empty"):
        client.predict(prompt=" ", api_name="/run")
    with pytest.raises(Exception, match="appear once"):
        client.predict(prompt="Tom?", blocks="4,4", api_name="/run")
    # a growing canvas by the CLI's names; the settings not given stay the authors'
    client.predict(prompt="Tom?", length="daedal", initial_length=32, scheduler=None,
                   api_name="/run")
    assert (runner.requests[-1].length, runner.requests[-1].length_options) == (
        "daedal", {"initial_length": 32})
    with pytest.raises(Exception, match=r"--expansion-factor must be a positive integer \(got 0"):
        client.predict(prompt="Tom?", length="daedal", expansion_factor=0, api_name="/run")
    # the app is still up after an error
    assert client.predict(prompt="again", api_name="/run")["vote"]["winner"] == "7"


def test_api_endpoint_reports_unexpected_errors(launched):
    from gradio_client import Client

    client = Client(launched(FakeRunner(fail=RuntimeError("CUDA out of memory"))), verbose=False)
    with pytest.raises(Exception, match="decoding failed: RuntimeError: CUDA out of memory"):
        client.predict(prompt="Tom?", api_name="/run")


def test_a_refusal_answers_before_the_model_loads_and_logs_one_line(monkeypatch, caplog):
    import gradio as gr

    from hexviz.app import api
    from hexviz.app.runner import BUILTIN_LABEL, LocalRunner
    from hexviz.models import loader

    monkeypatch.setattr(loader, "load", lambda *a, **kw: pytest.fail("weights loaded"))
    caplog.set_level("INFO", logger="hexviz.app")
    runner = LocalRunner()
    with pytest.raises(gr.Error, match="for this model and prompt") as refused:
        api.endpoint(runner, BUILTIN_LABEL)("Tom has 5 apples?", gen_length=100_000)
    assert not runner.shelf.cache  # the model was not loaded when the refusal came
    assert [(r.getMessage(), r.exc_info) for r in caplog.records] == [
        (f"refused: {refused.value.message}", None)]


def test_a_growing_canvas_from_the_api_is_hexviz_runs(random_model_dir, capsys):
    """``length`` and the CLI's setting names give the run `hexviz run --length` gives."""
    import json

    from hexviz import cli
    from hexviz.app import api
    from hexviz.app.runner import LocalRunner

    endpoint = api.endpoint(LocalRunner({"m": str(random_model_dir)}), "m")
    d = endpoint(QUESTION, blocks="8", gen_length=16, length="rho-eos", initial_length=8,
                 expansion_factor=4)
    assert cli.main(["run", "--prompt", QUESTION, "--model", str(random_model_dir), "--blocks",
                     "8", "--gen-length", "16", "--length", "rho-eos", "--initial-length",
                     "8", "--expansion-factor", "4", "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    assert d["config"]["length"] == expected["config"]["length"]
    assert d["config"]["length"]["mode"] == "rho-eos"
    assert [e["token_ids"] for e in d["experts"]] == [e["token_ids"] for e in expected["experts"]]
    assert [e["events"] for e in d["experts"]] == [e["events"] for e in expected["experts"]]


@pytest.mark.parametrize("settings,message", [
    ({"length": "daedal", "initial_length": 300},
     r"--initial-length \(300\) must not be above the maximum length --gen-length \(128\)"),
    ({"length": "daedal", "expansion_factor": 0}, r"--expansion-factor must be a positive "),
    ({"length": "rho-eos", "high_conf_threshold": 1.5},
     r"--high-conf-threshold must be a number strictly between 0 and 1 \(got 1.5\)"),
    ({"length": "rho-eos", "low_density_threshold": 0.0}, r"strictly between 0 and 1 \(got 0.0"),
    ({"length": "rho-eos", "scheduler": "fast"}, "unknown scheduler 'fast'"),
    ({"length": "daedal", "initial_length": 1.5}, r"initial_length must be a whole number"),
    ({"length": "daedal", "gen_length": 250}, "at most 221 for this model and prompt"),
    ({"length": "grow"}, "unknown length mode 'grow'"),
    ({"initial_length": 32}, "--initial-length set a growing canvas; add --length daedal"),
    ({"length": "daedal", "sampler": "threshold:0.9"}, "leave --sampler at fixed"),
])
def test_bad_growing_canvas_settings_are_one_line_before_the_model_loads(monkeypatch, caplog,
                                                                        settings, message):
    import gradio as gr

    from hexviz.app import api
    from hexviz.app.runner import BUILTIN_LABEL, LocalRunner
    from hexviz.models import loader

    monkeypatch.setattr(loader, "load", lambda *a, **kw: pytest.fail("weights loaded"))
    caplog.set_level("INFO", logger="hexviz.app")
    question = ("Mia has 12 marbles. She gives 3 to Ben. She buys 5 more. Then she gets 2 times "
                "as many. How many marbles does Mia have now?")
    with pytest.raises(gr.Error, match=message) as refused:
        api.endpoint(LocalRunner(), BUILTIN_LABEL)(question, **settings)
    assert "\n" not in refused.value.message
    assert [(r.getMessage(), r.exc_info) for r in caplog.records] == [
        (f"refused: {refused.value.message}", None)]


def test_the_endpoint_takes_every_growing_canvas_setting_by_its_cli_name():
    import dataclasses
    import inspect

    from hexviz.app import api
    from hexviz.policy.length import LengthConfig

    names = set(inspect.signature(api.endpoint(FakeRunner(), "m")).parameters)
    settings = {f.name for f in dataclasses.fields(LengthConfig)} - {"mode"}
    assert settings | {"length"} <= names


def test_the_endpoints_parameters_are_the_documented_ones():
    """docs/app.md's table lists every parameter of ``/run`` with its default."""
    import inspect
    import re

    from hexviz.app import api
    from tests.conftest import REPO

    table = (REPO / "docs" / "app.md").read_text().split("## The API", 1)[1]
    documented = dict(re.findall(r"^\| `(\w+)` \| (.+?) \|", table, re.MULTILINE))
    signature = inspect.signature(api.endpoint(FakeRunner(), "m")).parameters.values()
    assert {p.name: "(required)" if p.default is p.empty else f"`{p.default!r}`".replace(
        "'", '"') for p in signature} == documented


# --- experts beyond one block size --------------------------------------------------------------

def test_the_api_takes_the_block_grammar_and_adablocks_settings():
    from hexviz.app import api

    runner = FakeRunner()
    endpoint = api.endpoint(runner, "m")
    endpoint("Tom?", "8,ada")
    assert runner.requests[-1].blocks == (8, "ada")
    assert (runner.requests[-1].ada_block_length, runner.requests[-1].ada_delimiters) == (
        None, None)  # 0 and "": the model's defaults
    endpoint("Tom?", "grow, 8+8+16+32+64,ada:0.5, 16", ada_block_length=4,
             ada_delimiters=" 198 .  ? ")
    request = runner.requests[-1]
    assert request.blocks == (16, "grow", "8+8+16+32+64", "ada:0.5")
    assert (request.ada_block_length, request.ada_delimiters) == (4, ("198", ".", "?"))


def test_schedules_and_adablock_from_the_api_are_hexviz_runs(random_model_dir, capsys):
    import json

    from hexviz import cli
    from hexviz.app import api
    from hexviz.app.runner import LocalRunner

    endpoint = api.endpoint(LocalRunner({"m": str(random_model_dir)}), "m")
    d = endpoint(QUESTION, blocks="ada,4+12,8", gen_length=16, steps=8, ada_block_length=2,
                 ada_delimiters=". ?")
    assert cli.main(["run", "--prompt", QUESTION, "--model", str(random_model_dir), "--blocks",
                     "8,ada,4+12", "--gen-length", "16", "--steps", "8", "--baselines",
                     "--ada-block-length", "2", "--ada-delimiters", ". ?", "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    for key in ("block_length", "blocks", "schedule", "delimiter_ids", "token_ids"):
        assert [e.get(key) for e in d["experts"]] == [e.get(key) for e in expected["experts"]]
    assert [e.get("schedule") for e in d["experts"] if e["votes"]] == [None, None, [4, 12]]


@pytest.mark.parametrize("settings,message", [
    ({"blocks": "8+8"}, "block schedule 8+8 sums to 16, not the answer length gen_length=128"),
    ({"blocks": "grow", "gen_length": 100}, "gen_length must be a multiple of 32 (got 100)"),
    ({"blocks": "ada:2"}, "ada:T takes a delimiter threshold T in (0, 1] (got 'ada:2')"),
    ({"blocks": "7+121"}, "each size must be a multiple of it (got 7, 121)"),
    ({"blocks": "ada", "ada_block_length": -2}, "fallback block size must be a positive "
                                                "integer (got -2)"),
    ({"blocks": "ada", "ada_block_length": 2.5}, "ada_block_length must be a whole number"),
    ({"blocks": "ada", "ada_delimiters": "x+y"}, "delimiter 'x+y' is not one token"),
    ({"blocks": "ada", "ada_delimiters": "99999"}, "delimiter id 99999 is outside"),
])
def test_bad_experts_are_one_line_before_the_model_loads(monkeypatch, settings, message):
    import gradio as gr

    from hexviz.app import api
    from hexviz.app.runner import BUILTIN_LABEL, LocalRunner
    from hexviz.models import loader

    monkeypatch.setattr(loader, "load", lambda *a, **kw: pytest.fail("weights loaded"))
    with pytest.raises(gr.Error) as refused:
        api.endpoint(LocalRunner(), BUILTIN_LABEL)("Tom has 5 apples?", **settings)
    assert message in refused.value.message and "\n" not in refused.value.message


@pytest.mark.slow
def test_gradio_client_gets_a_real_result_from_the_builtin_model(launched):
    from gradio_client import Client

    from hexviz.app.runner import LocalRunner

    client = Client(launched(LocalRunner()), verbose=False)
    d = client.predict(prompt="Mia has 3 pens. She buys 4 more. How many pens does Mia have now?",
                       blocks="4,8,16", api_name="/run")
    assert d["model"].endswith("tinygsm-dllm")
    assert [e["block_length"] for e in d["experts"] if e["votes"]] == [4, 8, 16]
    own = models.read_defaults(models.BUILTIN_DIR)
    assert (d["gen_length"], d["steps"], d["steps_done"]) == (own.gen_length, own.steps,
                                                               own.steps)  # the model's pair
    voted = sum(d["vote"]["counts"].values()) + len(d["vote"]["abstained"])
    assert voted == 3
    for e in d["experts"]:
        assert len(e["reveal_step"]) == own.gen_length and -1 not in e["reveal_step"]


# --- strategies: hex, seeds, dvoting ------------------------------------------------------------

def test_the_api_takes_a_strategy_and_dvotings_settings():
    from hexviz.app import api

    runner = FakeRunner()
    endpoint = api.endpoint(runner, "m")
    endpoint("Tom?")
    request = runner.requests[-1]
    assert (request.strategy, request.rounds, request.entropy_threshold, request.temperature) == (
        "hex", 5, 0.3, 0.0)
    endpoint("Tom?", strategy="dvoting", rounds=3, entropy_threshold=0.5)
    request = runner.requests[-1]
    assert (request.strategy, request.rounds, request.entropy_threshold, request.temperature) == (
        "dvoting", 3, 0.5, 0.6)  # dVoting's temperature unless one is given
    endpoint("Tom?", strategy="seeds", seeds=3, temperature=0.7)
    assert (runner.requests[-1].strategy, runner.requests[-1].seeds) == ("seeds", 3)


def test_dvoting_from_the_api_is_hexviz_runs(random_model_dir, capsys):
    import json

    from hexviz import cli
    from hexviz.app import api
    from hexviz.app.runner import LocalRunner

    endpoint = api.endpoint(LocalRunner({"m": str(random_model_dir)}), "m")
    d = endpoint(QUESTION, gen_length=16, strategy="dvoting", rounds=3, temperature=0.0)
    assert cli.main(["run", "--prompt", QUESTION, "--model", str(random_model_dir),
                     "--gen-length", "16", "--strategy", "dvoting", "--rounds", "3",
                     "--temperature", "0", "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    assert d["strategy"] == expected["strategy"] == "dvoting"
    assert d["config"]["strategy"] == expected["config"]["strategy"]
    for key in ("round", "token_ids", "events"):
        assert [e[key] for e in d["experts"]] == [e[key] for e in expected["experts"]]


def test_a_replayed_run_says_so_and_only_the_last_snapshot_is_kept():
    from hexviz.app import api
    from hexviz.runs.record import run_to_json
    from tests.conftest import known_run

    class Replaying(FakeRunner):
        def run(self, request):
            yield from super().run(request)  # a partial run, then the finished one
            served = known_run()
            served.replayed = "the stored run example-1.json"
            yield served

    d = api.endpoint(Replaying(), "m")("Tom?")
    assert d["replayed"] == "the stored run example-1.json"
    assert {k: v for k, v in d.items() if k != "replayed"} == run_to_json(known_run())
    assert "replayed" not in api.endpoint(FakeRunner(), "m")("Tom?")
