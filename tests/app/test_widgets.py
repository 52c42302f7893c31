"""The shared widgets: the length controls follow the chosen model, settings become validated
requests, failures become one line, the task picker shows its template, stored runs load only
from the gallery folder, animations download."""

from __future__ import annotations


import gradio as gr
import pytest

from hexviz.app import widgets
from hexviz.app.api import api_request
from hexviz.app.runner import RunRequest
from hexviz.runs import record
from tests.conftest import FakeRunner, RunnerWithDefaults, known_run


@pytest.mark.parametrize("gen_length,blocks,expected", [
    (None, None, (128, 64, [4, 8, 16, 32, 64])),  # the model's own pair and the HEX set
    (256, None, (256, 128, [8, 16, 32, 64, 128])),  # its 2 tokens per step, scaled
    (128, [1, 64], (128, 128, [1, 64])),  # 128 blocks of 1: a step each
    (64, [8, 128], (64, 32, [8])),  # a ticked size that no longer divides is dropped
])
def test_length_controls_follow_the_model(gen_length, blocks, expected):
    c = widgets.LengthControls.of(RunnerWithDefaults(), "fake model", gen_length, blocks)
    assert (c.gen_length, c.steps, c.experts) == expected
    assert c.gen_length in c.choices and set(c.experts) <= set(c.blocks)


def test_length_controls_fall_back_when_the_model_keeps_its_lengths_to_itself():
    c = widgets.LengthControls.of(FakeRunner(), "fake model")
    assert (c.gen_length, c.steps) == widgets.FALLBACK_LENGTHS


def test_settings_become_a_validated_request():
    request = widgets.run_request("Q?", "fake model", ["16", 4], "margin", "32", 32.0, 0.5, 2.0,
                                  True, False, True)
    assert request == RunRequest("Q?", "fake model", blocks=(4, 16), remasking="margin",
                                 gen_length=32, steps=32, temperature=0.5, seeds=2,
                                 forbid_end_of_text=True, end_tokens_last=False, baselines=True)
    with pytest.raises(ValueError, match="at least one block size"):
        widgets.run_request("Q?", "m", [], "margin", 32, 32, 0, 1, False, False, True)
    picked = widgets.run_request("Q?", "m", [8], "margin", 32, 32, 0, 1, False, False, True,
                                 task="arcc")
    assert picked.task == "arcc"
    own = widgets.run_request("Q?", "m", [8], "margin", 32, 32, 0, 1, False, False, True,
                              task="the model's own format")
    assert own.task is None
    api = api_request("m", "Q?", "", "low_confidence", 0, 0, 0.0, 1, True)
    assert (api.blocks, api.gen_length, api.steps) == (None, None, None)  # model defaults
    assert api.cache == request.cache == "none"
    assert widgets.run_request("Q?", "m", [4], "margin", 32, 32, 0, 1, False, False, True,
                               cache="dual").cache == "dual"
    assert api_request("m", "Q?", "", "margin", 0, 0, 0.0, 1, True,
                       cache="prefix").cache == (
        "prefix")
    with pytest.raises(ValueError, match="unknown cache mode 'fast'"):
        api_request("m", "Q?", "", "margin", 0, 0, 0.0, 1, True, cache="fast")


def test_user_errors_keep_the_app_up():
    with pytest.raises(gr.Error, match="bad setting"):
        widgets.user_errors("decoding", lambda: (_ for _ in ()).throw(ValueError("bad setting")))
    with pytest.raises(gr.Error, match="decoding failed: RuntimeError: out of memory"):
        widgets.user_errors("decoding",
                            lambda: (_ for _ in ()).throw(RuntimeError("out of memory")))
    assert widgets.user_errors("decoding", int, "3") == 3


def test_a_refusal_is_one_log_line_and_a_failure_keeps_its_traceback(caplog):
    """Gradio prints the traceback of every error it is not told to keep quiet about; a
    refused input is the user's error, one line in the server's log, a failure is the
    server's, with its traceback."""
    caplog.set_level("INFO", logger="hexviz.app")
    with pytest.raises(gr.Error) as refused:
        widgets.user_errors("decoding", lambda: (_ for _ in ()).throw(ValueError("bad setting")))
    assert refused.value.print_exception is False
    assert [(r.getMessage(), r.exc_info) for r in caplog.records] == [
        ("refused: bad setting", None)]
    caplog.clear()
    with pytest.raises(gr.Error) as failed:
        widgets.user_errors("decoding", lambda: (_ for _ in ()).throw(RuntimeError("boom")))
    assert failed.value.print_exception is False  # logged once, here, not again by Gradio
    (record,) = caplog.records
    assert record.getMessage() == "decoding failed" and record.exc_info[0] is RuntimeError


def test_the_sampler_and_editing_reach_the_request():
    request = widgets.run_request("Q?", "m", [4], "margin", 32, 32, 0, 1, False, False, True,
                                  "threshold:0.80", "0.9")
    assert (request.sampler.spec, request.edit) == ("threshold:0.8", 0.9)
    assert widgets.run_request("Q?", "m", [4], "margin", 32, 32, 0, 1, False, False, True,
                               "fixed", " ").edit is None  # blank: the model's default
    assert widgets.run_request("Q?", "m", [4], "margin", 32, 32, 0, 1, False, False, True,
                               "threshold:0.9", "off").sampler.edit is None
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\] \(got 1.5\)"):
        widgets.run_request("Q?", "m", [4], "margin", 32, 32, 0, 1, False, False, True,
                            "threshold:1.5", "")
    with pytest.raises(ValueError, match=r"edit must be in \(0, 1\], or off"):
        widgets.run_request("Q?", "m", [4], "margin", 32, 32, 0, 1, False, False, True,
                            "fixed", "lots")
    api = api_request("m", "Q?", "", "low_confidence", 0, 0, 0.0, 1, True, "factor:2", "0.7")
    assert (api.sampler.spec, api.edit) == ("factor:2", 0.7)


def test_bad_sampler_settings_reach_the_user_as_one_line():
    with pytest.raises(gr.Error, match=r"factor must be a number > 0 \(got -1\)"):
        widgets.user_errors("reading the settings", widgets.run_request, "Q?", "m", [4],
                            "margin", 32, 32, 0, 1, False, False, True, "factor:-1", "")


def test_the_task_picker_shows_the_user_turn_and_prefix():
    text = widgets.task_template_markdown("gsm8k")
    assert "You are a math expert." in text and "{question}" in text
    assert "`<reasoning>`" in text and "gen_length 256, 128 steps, blocks 8-128" in text
    assert "as typed" in widgets.task_template_markdown(None)
    assert widgets.task_template_markdown(widgets.OWN_FORMAT) == (
        widgets.task_template_markdown(None))
    assert "<reasoning>" not in widgets.task_template_markdown("tinygsm")


def test_animation_downloads_are_a_gif_and_an_offline_page(monkeypatch, tmp_path):
    monkeypatch.setenv("HEXVIZ_EXPORT_DIR", str(tmp_path))
    files = widgets.animation_files(known_run())
    assert [f.rsplit(".", 1)[1] for f in files] == ["gif", "html"]
    assert all(f.startswith(str(tmp_path)) for f in files)
    assert widgets.animation_files(known_run()) == files  # the same run: the same files
    with pytest.raises(gr.Error, match="first"):
        widgets.animation_files(None)
    monkeypatch.setenv("HEXVIZ_MAX_ANIMATION_FRAMES", "3")
    other = known_run()
    other.prompt = "another"
    with pytest.raises(gr.Error, match="cannot animate this run: .*HEXVIZ_MAX_ANIMATION_FRAMES"):
        widgets.animation_files(other)


def test_load_stored_refuses_paths_outside_the_gallery(tmp_path):
    record.save(known_run(), tmp_path / "run.json")
    assert widgets.load_stored(tmp_path, "run.json").prompt == "Q"
    with pytest.raises(gr.Error, match="pick a stored run"):
        widgets.load_stored(tmp_path, None)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(gr.Error, match="cannot replay broken.json"):
        widgets.load_stored(tmp_path, "broken.json")
