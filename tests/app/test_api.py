"""The API endpoint `/run`: the finished run's JSON, and errors as one line."""

from __future__ import annotations


import pytest

from hexviz import models
from tests.conftest import FakeRunner


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
