"""Requests from settings, errors as messages, and the API endpoint."""

from __future__ import annotations


import gradio as gr
import pytest

from hexviz import models
from hexviz.app import wiring
from hexviz.app.runner import RunRequest
from tests.conftest import FakeRunner


def test_settings_become_a_validated_request():
    request = wiring.run_request("Q?", "fake model", ["16", 4], "margin", "32", 32.0, 0.5, 2.0,
                                 True, False, True)
    assert request == RunRequest("Q?", "fake model", (4, 16), "margin", 32, 32, 0.5, 2, True,
                                 False, True)
    with pytest.raises(ValueError, match="at least one block size"):
        wiring.run_request("Q?", "m", [], "margin", 32, 32, 0, 1, False, False, True)
    picked = wiring.run_request("Q?", "m", [8], "margin", 32, 32, 0, 1, False, False, True,
                                task="arcc")
    assert picked.task == "arcc"
    own = wiring.run_request("Q?", "m", [8], "margin", 32, 32, 0, 1, False, False, True,
                             task="the model's own format")
    assert own.task is None
    api = wiring.api_request("m", "Q?", "", "low_confidence", 0, 0, 0.0, 1, True)
    assert (api.blocks, api.gen_length, api.steps) == (None, None, None)  # model defaults
    assert api.cache == request.cache == "none"
    assert wiring.run_request("Q?", "m", [4], "margin", 32, 32, 0, 1, False, False, True,
                              cache="dual").cache == "dual"
    assert wiring.api_request("m", "Q?", "", "margin", 0, 0, 0.0, 1, True,
                              cache="prefix").cache == (
        "prefix")
    with pytest.raises(ValueError, match="unknown cache mode 'fast'"):
        wiring.api_request("m", "Q?", "", "margin", 0, 0, 0.0, 1, True, cache="fast")


def test_user_errors_keep_the_app_up():
    with pytest.raises(gr.Error, match="bad setting"):
        wiring.user_errors("decoding", lambda: (_ for _ in ()).throw(ValueError("bad setting")))
    with pytest.raises(gr.Error, match="decoding failed: RuntimeError: out of memory"):
        wiring.user_errors("decoding", lambda: (_ for _ in ()).throw(RuntimeError("out of memory")))
    assert wiring.user_errors("decoding", int, "3") == 3


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


def test_the_sampler_and_editing_reach_the_request():
    request = wiring.run_request("Q?", "m", [4], "margin", 32, 32, 0, 1, False, False, True,
                                 "threshold:0.80", "0.9")
    assert (request.sampler, request.edit) == ("threshold:0.8", 0.9)
    assert wiring.run_request("Q?", "m", [4], "margin", 32, 32, 0, 1, False, False, True,
                              "fixed", " ").edit is None  # blank: no editing
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\] \(got 1.5\)"):
        wiring.run_request("Q?", "m", [4], "margin", 32, 32, 0, 1, False, False, True,
                           "threshold:1.5", "")
    with pytest.raises(ValueError, match="edit must be a number"):
        wiring.run_request("Q?", "m", [4], "margin", 32, 32, 0, 1, False, False, True,
                           "fixed", "lots")
    api = wiring.api_request("m", "Q?", "", "low_confidence", 0, 0, 0.0, 1, True, "factor:2",
                             "0.7")
    assert (api.sampler, api.edit) == ("factor:2", 0.7)


def test_bad_sampler_settings_reach_the_user_as_one_line():
    with pytest.raises(gr.Error, match=r"factor must be a number > 0 \(got -1\)"):
        wiring.user_errors("reading the settings", wiring.run_request, "Q?", "m", [4],
                           "margin", 32, 32, 0, 1, False, False, True, "factor:-1", "")
