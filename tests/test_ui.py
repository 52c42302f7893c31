"""The app with a fake runner: views by name, replay of uploads, errors, downloads and the API."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import gradio as gr
import pytest

from hexviz import models, trajectory, ui
from hexviz.runner import RunRequest
from tests.conftest import FakeRunner, hand_made_results, known_run


def test_demo_wires_the_runner_and_the_api():
    runner = FakeRunner()
    demo = ui.build_demo(runner, examples=["Q1", "Q2"])
    config = demo.get_config_file()
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    assert {"run-button", "status", "vote-plot", "reveal-plot", "scaling-plot"} <= ids
    assert "run" in {d.get("api_name") for d in config["dependencies"]}
    values = [c["props"].get("value") for c in config["components"]]
    assert "Q1" in values  # the first example fills the question box


def test_order_summary_reads_the_trajectory():
    t = known_run().trajectories[0]
    t.reveal_step[:] = range(len(t.reveal_step))  # left to right
    t.early_end_share = 0.25
    assert ui.order_summary(t) == "AR-ness 1.00 · order rho +1.00 · early end 25%"


def test_full_views_fill_every_output():
    views = ui.full_views(known_run())
    assert set(views) == set(ui.VIEWS)
    assert "HEX answer **7**" in views["status"] and "1 collapsed" in views["status"]
    assert ">7</mark>" in views["answers"] and "collapsed" in views["answers"]
    first = known_run().trajectories[0]
    assert f"AR-ness {first.ar_ness:.2f}" in views["answers"]  # order metrics per expert
    assert views["vote"].layout.title.text == "Vote: 7"
    assert views["pick"]["value"] == "whole (margin) ✗ collapsed"  # the collapse is shown first
    assert "COLLAPSED" in views["map"].layout.title.text
    json_file, page_file = views["downloads"]
    assert json_file.endswith(".json") and page_file.endswith(".html")
    page = Path(page_file).read_text()
    assert page.count("<script") >= 4 and "Plotly.newPlot" in page  # figures + embedded plotly


def test_partial_views_redraw_only_cheap_outputs():
    run = known_run()
    run.steps_done = 2
    views = ui.partial_views(run)
    assert set(views) == {"status", "answers", "reveal", "pressure"}
    assert "Decoding" in views["status"] and "step 2/4" in views["status"]
    assert len(views["reveal"].data) >= 1


def test_upload_round_trip(tmp_path):
    path = trajectory.save(known_run(), tmp_path / "run.json")
    views = ui.replay(str(path))
    assert views["run"].trajectories[1].collapsed
    exported = views["downloads"][0]
    again = ui.replay(exported)  # what the app downloads, it can replay
    assert again["status"] == views["status"]
    assert ui.replay(None) == {}  # a cleared upload changes nothing


@pytest.mark.parametrize("content,message", [
    ("garbage", "not a JSON file"), ('{"schema": "x"}', "not a hexviz run"),
])
def test_bad_upload_gives_a_message(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(gr.Error, match=message):
        ui.replay(str(path))


def test_finished_runs_leave_no_temp_folder_behind():
    before = set(Path(tempfile.gettempdir()).glob("hexviz-*"))
    first = ui.export_files(known_run())
    ui.export_files(known_run())  # the same run: the same files
    other = known_run()
    other.prompt = "another question"
    second = ui.export_files(other)
    folders = set(Path(tempfile.gettempdir()).glob("hexviz-*")) - before
    assert len(folders) <= 1  # the process's one folder, made on first use
    assert Path(first[0]).parent == Path(second[0]).parent
    assert first[0] != second[0]  # runs do not overwrite each other


def test_settings_become_a_validated_request():
    request = ui.run_request("Q?", "fake model", ["16", 4], "margin", "32", 32.0, 0.5, 2.0,
                             True, False, True)
    assert request == RunRequest("Q?", "fake model", (4, 16), "margin", 32, 32, 0.5, 2, True,
                                 False, True)
    with pytest.raises(ValueError, match="at least one block size"):
        ui.run_request("Q?", "m", [], "margin", 32, 32, 0, 1, False, False, True)
    api = ui.api_request("m", "Q?", "", "low_confidence", 0, 0, 0.0, 1, True)
    assert (api.blocks, api.gen_length, api.steps) == (None, None, None)  # model defaults


def test_user_errors_keep_the_app_up():
    with pytest.raises(gr.Error, match="bad setting"):
        ui.user_errors("decoding", lambda: (_ for _ in ()).throw(ValueError("bad setting")))
    with pytest.raises(gr.Error, match="decoding failed: RuntimeError: out of memory"):
        ui.user_errors("decoding", lambda: (_ for _ in ()).throw(RuntimeError("out of memory")))
    assert ui.user_errors("decoding", int, "3") == 3


def test_scaling_tab_plots_a_results_file(tmp_path):
    from hexviz.evaluate import results_to_json

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

    from hexviz.runner import LocalRunner

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


class RunnerWithDefaults(FakeRunner):
    """A fake runner whose model has its own lengths, as the built-in one does."""

    def defaults(self, label):
        from hexviz.models.meta import ModelDefaults

        return ModelDefaults(gen_length=128, steps=64)


@pytest.mark.parametrize("gen_length,blocks,expected", [
    (None, None, (128, 64, [4, 8, 16, 32, 64])),  # the model's own pair and the HEX set
    (256, None, (256, 128, [8, 16, 32, 64, 128])),  # its 2 tokens per step, scaled
    (128, [1, 64], (128, 128, [1, 64])),  # 128 blocks of 1: a step each
    (64, [8, 128], (64, 32, [8])),  # a ticked size that no longer divides is dropped
])
def test_length_controls_follow_the_model(gen_length, blocks, expected):
    c = ui.LengthControls.of(RunnerWithDefaults(), "fake model", gen_length, blocks)
    assert (c.gen_length, c.steps, c.experts) == expected
    assert c.gen_length in c.choices and set(c.experts) <= set(c.blocks)


def test_length_controls_fall_back_when_the_model_keeps_its_lengths_to_itself():
    c = ui.LengthControls.of(FakeRunner(), "fake model")
    assert (c.gen_length, c.steps) == ui.FALLBACK_LENGTHS


def test_the_demo_starts_from_the_models_lengths():
    demo = ui.build_demo(RunnerWithDefaults())
    values = {getattr(b, "label", None): getattr(b, "value", None) for b in demo.blocks.values()}
    assert (values["Gen length"], values["Steps"]) == (128, 64)
    assert values["Experts: block sizes"] == [4, 8, 16, 32, 64]


def test_the_about_tab_states_the_cards_figures():
    card = {"problems": 500, "whole_collapse": 0.62, "whole_accuracy": 0.2,
            "hex_accuracy": 0.45, "mean_expert_accuracy": 0.4}
    text = ui.about_builtin(card)
    assert "On 500 held-out problems" in text and "wall on 62% of them and scored 20%" in text
    assert "scored 45% (mean expert 40%)" in text
    assert "held-out" not in ui.about_builtin({})  # an older card: no figures, no claims
