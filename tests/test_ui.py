"""The app with a fake runner: building, replay of uploads, errors, and the API endpoint."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import gradio as gr
import pytest

from hexviz import trajectory, ui
from hexviz.runner import RunRequest
from tests.conftest import known_run


class FakeRunner:
    """Replays the known run; records requests; refuses an empty prompt like the real one."""

    def __init__(self) -> None:
        self.requests: list[RunRequest] = []

    def model_labels(self) -> list[str]:
        return ["fake model"]

    def run(self, request: RunRequest) -> Iterator:
        self.requests.append(request)
        if not request.prompt.strip():
            raise ValueError("the prompt is empty")
        yield known_run()


def test_demo_builds_with_a_fake_runner():
    demo = ui.build_demo(FakeRunner(), examples=["Q1", "Q2"])
    assert isinstance(demo, gr.Blocks)


def test_full_views_fill_every_output():
    views = ui.full_views(known_run())
    run, status, vote, answers, reveal, scrub, pressure, pick, umap, files = views
    assert "HEX answer **7**" in status and "1 collapsed" in status
    assert ">7</mark>" in answers and "collapsed" in answers
    assert vote.layout.title.text == "Vote: 7"
    assert pick["value"] == "whole (margin) ✗ collapsed"  # the collapse is shown first
    assert "COLLAPSED" in umap.layout.title.text
    names = sorted(p.rsplit("/", 1)[-1] for p in files)
    assert names == ["hexviz-figures.html", "hexviz-run.json"]
    page = open(next(p for p in files if p.endswith(".html"))).read()
    assert page.count("<script") >= 4 and "Plotly.newPlot" in page  # figures + embedded plotly


def test_upload_round_trip(tmp_path):
    path = trajectory.save(known_run(), tmp_path / "run.json")
    views = ui.replay(str(path))
    assert views[0].trajectories[1].collapsed
    exported = next(p for p in views[-1] if p.endswith(".json"))
    again = ui.replay(exported)  # what the app downloads, it can replay
    assert again[1] == views[1]


@pytest.mark.parametrize("content,message", [
    ("garbage", "not a JSON file"), ('{"schema": "x"}', "not a hexviz run"),
])
def test_bad_upload_gives_a_message(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(gr.Error, match=message):
        ui.replay(str(path))


def test_partial_views_redraw_only_cheap_outputs():
    run = known_run()
    run.steps_done = 2
    views = ui.partial_views(run)
    assert "Decoding" in views[1] and "step 2/4" in views[1]
    assert views[4] is not None and views[2] is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def launched():
    """Launch a demo on 127.0.0.1; yield (url, runner); close it afterwards."""
    demos = []

    def launch(runner):
        demo = ui.build_demo(runner)
        demo.queue(default_concurrency_limit=1, max_size=4)
        demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True,
                    quiet=True)
        demos.append(demo)
        return demo.local_url

    yield launch
    for demo in demos:
        demo.close()


def test_api_endpoint_returns_the_run_json(launched):
    from gradio_client import Client

    runner = FakeRunner()
    client = Client(launched(runner), verbose=False)
    result = client.predict(prompt="Tom?", blocks="2", api_name="/run")
    d = result if isinstance(result, dict) else json.loads(result)
    assert d["schema"] == "hexviz.run" and d["vote"]["winner"] == "7"
    assert runner.requests[0].blocks == (2,) and runner.requests[0].prompt == "Tom?"
    with pytest.raises(Exception, match="the prompt is empty"):
        client.predict(prompt=" ", api_name="/run")
    # the app is still up after an error
    assert client.predict(prompt="again", api_name="/run")["vote"]["winner"] == "7"


def test_gradio_client_gets_a_real_result_from_the_builtin_model(launched):
    from gradio_client import Client

    from hexviz.runner import LocalRunner

    client = Client(launched(LocalRunner()), verbose=False)
    d = client.predict(prompt="Mia has 3 pens. She buys 4 more. How many pens does Mia have now?",
                       blocks="4,8,16", api_name="/run")
    assert d["model"].endswith("tinygsm-dllm")
    assert [e["block_length"] for e in d["experts"] if e["votes"]] == [4, 8, 16]
    assert d["timing"]["forward_passes"] == d["steps"] == 64
    voted = sum(d["vote"]["counts"].values()) + len(d["vote"]["abstained"])
    assert voted == 3
    for e in d["experts"]:
        assert len(e["reveal_step"]) == 64 and -1 not in e["reveal_step"]


def test_scaling_tab_plots_a_results_file(tmp_path):
    from hexviz.evaluate import results_to_json
    from tests.test_evaluate import hand_made_results

    path = tmp_path / "results.json"
    path.write_text(json.dumps(results_to_json(hand_made_results())))
    fig, table = ui.scaling_from_file(str(path))
    accuracy, ties = fig.data
    assert list(accuracy.x) == [1, 2, 3] and list(accuracy.y) == [0.25, 0.25, 0.5]
    assert list(ties.y) == [0.0, 0.25, 0.25]
    assert "HEX vote" in table
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(gr.Error, match="not a hexviz eval results file"):
        ui.scaling_from_file(str(bad))


def test_live_scaling_eval_on_the_builtin_model():
    from hexviz.runner import BUILTIN_LABEL, LocalRunner

    seen = []
    results = LocalRunner().evaluate(BUILTIN_LABEL, 4, 2, 0.5, lambda d, t: seen.append((d, t)))
    assert len(results.records) == 4 and seen[-1] == (4, 4)
    assert len(results.voters) == 10  # 5 block sizes x 2 seeds
    fig, _ = ui.scaling_views(results)
    assert list(fig.data[0].x) == list(range(1, 11))
    assert list(fig.data[2].x) == [5, 10]  # every block size with 1, then 2 seeds
