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
    request = widgets.run_request("Q?", "fake model", ["16", 4], "", "margin", "32", 32.0, 0.5,
                                  2.0, True, False, True)
    assert request == RunRequest("Q?", "fake model", blocks=(4, 16), remasking="margin",
                                 gen_length=32, steps=32, temperature=0.5, seeds=2,
                                 forbid_end_of_text=True, end_tokens_last=False, baselines=True)
    with pytest.raises(ValueError, match="at least one block size"):
        widgets.run_request("Q?", "m", [], "", "margin", 32, 32, 0, 1, False, False, True)
    picked = widgets.run_request("Q?", "m", [8], "", "margin", 32, 32, 0, 1, False, False, True,
                                 task="arcc")
    assert picked.task == "arcc"
    own = widgets.run_request("Q?", "m", [8], "", "margin", 32, 32, 0, 1, False, False, True,
                              task="the model's own format")
    assert own.task is None
    api = api_request("m", "Q?", "", "low_confidence", 0, 0, 0.0, 1, True)
    assert (api.blocks, api.gen_length, api.steps) == (None, None, None)  # model defaults
    assert api.cache == request.cache == "none"
    assert widgets.run_request("Q?", "m", [4], "", "margin", 32, 32, 0, 1, False, False, True,
                               cache="dual").cache == "dual"
    assert api_request("m", "Q?", "", "margin", 0, 0, 0.0, 1, True,
                       cache="prefix").cache == (
        "prefix")
    with pytest.raises(ValueError, match="unknown cache mode 'fast'"):
        api_request("m", "Q?", "", "margin", 0, 0, 0.0, 1, True, cache="fast")


# --- experts beyond one block size --------------------------------------------------------------

def test_the_more_experts_box_joins_the_ticked_sizes():
    def experts(ticked, more):
        return widgets.run_request("Q?", "m", ticked, more, "margin", 32, 32, 0, 1, False, False,
                                   True).blocks

    assert experts([16, 4], "") == (4, 16)
    assert experts([16, 4], " 8+8+16 , ada:0.5,grow, ") == (4, 16, "8+8+16", "ada:0.5", "grow")
    assert experts([], "ada") == ("ada",) and experts(None, "2, 8+24") == (2, "8+24")
    with pytest.raises(ValueError, match="at least one block size"):
        experts([], " , ")
    for more, message in [("8", r"each block size may appear once \(got 8 more than once\)"),
                          ("8+0+24", r"block sizes must be positive \(got 0 in '8\+0\+24'\)"),
                          ("ada:2", r"delimiter threshold T in \(0, 1\] \(got 'ada:2'\)")]:
        with pytest.raises(gr.Error, match=message) as refused:
            widgets.user_errors("reading the settings", experts, [8], more)
        assert "\n" not in refused.value.message


@pytest.mark.parametrize("blocks,more,steps", [
    ([64], "", 64),  # the model's 2 tokens per step
    ([64], "1+127", 128),  # a block of 1 needs a step of its own: one token per step
    ([64], "ada, grow", 64),  # AdaBlock sizes its blocks while decoding; grow's fit
    ([64], "8+, 1+1", 64),  # half typed or not summing to gen length: left to the refusal
])
def test_steps_follow_the_more_experts_too(blocks, more, steps):
    c = widgets.LengthControls.of(RunnerWithDefaults(), "fake model", 128, blocks, more)
    assert c.steps == steps


def schedule_and_ada_run():
    """The known run with a schedule and two AdaBlock experts voting beside block size 2."""
    from dataclasses import replace

    from hexviz.policy.settings import Expert

    run = known_run()
    good, whole = run.trajectories
    run.trajectories = [good, *(replace(good, expert=e) for e in [
        Expert(2, schedule=(1, 3)), Expert(1, delimiter_threshold=0.3, delimiter_ids=(7,)),
        Expert(1, delimiter_threshold=0.5, delimiter_ids=(7,))]), whole]
    return run


def test_a_stored_run_puts_its_schedules_and_adablock_back_in_the_box():
    run = schedule_and_ada_run()
    values = widgets.settings_values(run)
    assert values[:2] == [[2], "1+3, ada, ada:0.5"]  # ticked; typed
    again = widgets.run_request("Q", "m", *values)
    assert again.blocks == (2, "1+3", "ada", "ada:0.5")
    with gr.Blocks():
        settings, _ = widgets.settings_column(gr.Textbox(), ["m"], widgets.LengthControls.of(
            RunnerWithDefaults(), "m"))
    assert settings.more_blocks.label == widgets.MORE_EXPERTS
    assert settings.of_a_run()[1:3] == [settings.blocks, settings.more_blocks]
    shown = widgets.load_settings(settings.of_a_run(), run)
    assert shown[settings.blocks]["value"] == [2] and shown[settings.more_blocks] == (
        "1+3, ada, ada:0.5")
    assert widgets.load_settings(settings.of_a_run(), known_run())[settings.more_blocks] == ""


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
    request = widgets.run_request("Q?", "m", [4], "", "margin", 32, 32, 0, 1, False, False, True,
                                  "threshold:0.80", "0.9")
    assert (request.sampler.spec, request.edit) == ("threshold:0.8", 0.9)
    assert widgets.run_request("Q?", "m", [4], "", "margin", 32, 32, 0, 1, False, False, True,
                               "fixed", " ").edit is None  # blank: the model's default
    assert widgets.run_request("Q?", "m", [4], "", "margin", 32, 32, 0, 1, False, False, True,
                               "threshold:0.9", "off").sampler.edit is None
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\] \(got 1.5\)"):
        widgets.run_request("Q?", "m", [4], "", "margin", 32, 32, 0, 1, False, False, True,
                            "threshold:1.5", "")
    with pytest.raises(ValueError, match=r"edit must be in \(0, 1\], or off"):
        widgets.run_request("Q?", "m", [4], "", "margin", 32, 32, 0, 1, False, False, True,
                            "fixed", "lots")
    api = api_request("m", "Q?", "", "low_confidence", 0, 0, 0.0, 1, True, "factor:2", "0.7")
    assert (api.sampler.spec, api.edit) == ("factor:2", 0.7)
    assert api.edit_scope is None  # the model's
    assert api_request("m", "Q?", "", "low_confidence", 0, 0, 0.0, 1, True, "fixed", "0.7",
                       edit_scope="answer").edit_scope == "answer"
    form = ("Q?", "m", [4], "", "margin", 32, 32, 0, 1, False, False, True, "fixed", "0.9")
    assert widgets.run_request(*form, "answer").edit_scope == "answer"
    assert widgets.run_request(*form, widgets.MODEL_SCOPE).edit_scope is None
    with pytest.raises(ValueError, match="edit scope must be one of block, answer"):
        widgets.run_request(*form, "sideways")


def test_bad_sampler_settings_reach_the_user_as_one_line():
    with pytest.raises(gr.Error, match=r"factor must be a number > 0 \(got -1\)"):
        widgets.user_errors("reading the settings", widgets.run_request, "Q?", "m", [4], "",
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


# --- the growing canvas ------------------------------------------------------------------------

FORM = ("Q?", "m", [8], "", "low_confidence", 128, 64, 0, 1, False, False, False, "fixed", "",
        widgets.MODEL_SCOPE, "none", None, "hex", 5, 0.3)  # a settings column's values up to the strategy's


def form_defaults(gen_length: int = 128) -> list:
    """The growing canvas's controls as the form first shows them (`CANVAS_OPTIONS` order)."""
    canvas = widgets.canvas_defaults(gen_length)
    return [getattr(canvas, o.name) for o in widgets.CANVAS_OPTIONS]


def test_the_form_has_a_control_for_every_growing_canvas_setting():
    import dataclasses

    from hexviz.policy.length import LengthConfig

    names = [o.name for o in widgets.CANVAS_OPTIONS]
    assert sorted(names) == sorted(f.name for f in dataclasses.fields(LengthConfig)
                                   if f.name != "mode")
    assert names[0] == "initial_length"  # in view; the others in the accordion


@pytest.mark.parametrize("gen_length,initial,window", [(128, 64, 32), (64, 16, 32), (32, 8, 8)])
def test_the_growing_canvas_starts_at_the_authors_settings_fitted_to_gen_length(
        gen_length, initial, window):
    c = widgets.LengthControls.of(RunnerWithDefaults(), "fake model", gen_length)
    assert (c.canvas.initial_length, c.canvas.eos_check_tokens) == (initial, window)
    assert c.canvas.expansion_factor == 8 and c.canvas.high_conf_threshold == 0.9  # the authors'


def test_the_length_mode_and_the_settings_it_reads_reach_the_request():
    from hexviz.policy.length import LengthConfig

    daedal = widgets.run_request(*FORM, "daedal", *form_defaults())
    assert daedal.length == "daedal"
    assert set(daedal.length_options) == {o.name for o in widgets.CANVAS_OPTIONS
                                          if "daedal" in o.modes}  # rho-eos's are not sent
    assert daedal.length_config() == LengthConfig(mode="daedal")  # the authors' at 128
    rho = widgets.run_request(*FORM, "rho-eos", 16, 4, 0.8, 8, 0.5, 0.5, 0.5, 0.3, 0.7,
                              "linear", 32)
    assert rho.length_options == {"initial_length": 16, "expansion_factor": 4,
                                  "high_conf_threshold": 0.8, "eos_check_tokens": 8,
                                  "low_density_threshold": 0.3, "high_density_threshold": 0.7,
                                  "scheduler": "linear", "max_adjust_steps": 32}
    fixed = widgets.run_request(*FORM, "fixed", *form_defaults())
    assert (fixed.length, fixed.length_options) == ("fixed", {})  # hidden settings: not sent
    assert widgets.run_request(*FORM).length == "fixed"  # a caller that knows no canvas
    cleared = widgets.run_request(*FORM, "daedal", None, 8.0)  # a blank box: the authors'
    assert cleared.length_options == {"expansion_factor": 8}


@pytest.mark.parametrize("canvas,message", [
    ({"expansion_factor": 0}, r"--expansion-factor must be a positive integer \(got 0\)"),
    ({"high_conf_threshold": 1.5}, r"--high-conf-threshold must be a number strictly between "
                                   r"0 and 1 \(got 1.5\)"),
    ({"low_conf_threshold": 0}, r"--low-conf-threshold must be a number strictly between"),
    ({"initial_length": 2.5}, r"initial_length must be a whole number \(got 2.5\)"),
])
def test_bad_growing_canvas_settings_are_one_line(canvas, message):
    values = form_defaults()
    for name, value in canvas.items():
        values[[o.name for o in widgets.CANVAS_OPTIONS].index(name)] = value
    with pytest.raises(gr.Error, match=message) as refused:
        widgets.user_errors("reading the settings", widgets.run_request, *FORM, "daedal", *values)
    assert "\n" not in refused.value.message


def test_the_api_reads_a_growing_canvas_by_the_clis_names():
    request = api_request("m", "Q?", "", "low_confidence", 0, 0, 0.0, 1, True, length="rho-eos",
                          length_options={"initial_length": 32.0, "scheduler": None,
                                          "high_density_threshold": 0.7})
    assert request.length_options == {"initial_length": 32, "high_density_threshold": 0.7}
    assert api_request("m", "Q?", "", "low_confidence", 0, 0, 0.0, 1, True).length == "fixed"
    with pytest.raises(ValueError, match="scheduler"):
        api_request("m", "Q?", "", "low_confidence", 0, 0, 0.0, 1, True, length="rho-eos",
                    length_options={"scheduler": "fast"})


def test_a_growing_canvas_greys_out_what_it_does_not_read():
    with gr.Blocks() as demo:
        settings, _ = widgets.settings_column(gr.Textbox(), ["m"], widgets.LengthControls.of(
            RunnerWithDefaults(), "m"))
    follows = [f for f in demo.fns.values()
               if (settings.canvas.mode._id, "change") in f.targets]
    assert len(follows) == 1 and settings.sampler in follows[0].outputs
    assert settings.canvas.options["initial_length"].value == 64  # the authors', at 128
    daedal = widgets.decode_form(settings, "daedal")
    for control, value in [(settings.rule, "low_confidence"), (settings.sampler, "fixed"),
                           (settings.edit, ""), (settings.cache, "none"),
                           (settings.baselines, False)]:
        assert daedal[control]["value"] == value and daedal[control]["interactive"] is False
    assert daedal[settings.steps]["interactive"] is False
    assert daedal[settings.canvas.growing]["visible"] is True
    shown = {name for name, c in settings.canvas.options.items() if daedal[c]["visible"]}
    assert shown == {o.name for o in widgets.CANVAS_OPTIONS if "daedal" in o.modes}
    note = daedal[settings.canvas.note]
    assert "DAEDAL" in note and "greyed out" in note
    fixed = widgets.decode_form(settings, "fixed")
    assert fixed[settings.canvas.growing]["visible"] is False
    assert all(fixed[c]["interactive"] is True for c in (settings.rule, settings.sampler,
                                                          settings.cache, settings.steps))
    assert "value" not in fixed[settings.baselines]  # a stored run's own value stays
    assert set(follows[0].outputs) == set(fixed)  # every control it updates is an output


def test_a_stored_growing_run_fills_the_form_and_decodes_again_alike():
    from dataclasses import replace

    from hexviz.policy.length import LengthConfig

    run = known_run()
    length = LengthConfig("rho-eos", initial_length=2, eos_check_tokens=2, scheduler="linear")
    run.config = replace(run.config, length=length)
    values = widgets.settings_values(run)
    assert values[18] == "rho-eos" and values[19] == 2  # after the strategy: the mode, the start
    again = widgets.run_request("Q", "m", *values)
    assert again.length_config() == length
    fixed = widgets.settings_values(known_run())
    assert fixed[18] == "fixed" and fixed[19:] == form_defaults(4)  # ready for a growing one


# --- the test-time strategy ----------------------------------------------------------------------

def dvoting_run():
    """The known run's answer as two dVoting rounds (blocks of 2, temperature 0.6)."""
    from dataclasses import replace

    from hexviz.policy.settings import Expert
    from hexviz.policy.strategies import Strategy

    run = known_run()
    good, _ = run.trajectories
    run.trajectories = [replace(good, expert=Expert(2, "entropy", r - 1, 0.6, round=r))
                        for r in (1, 2)]
    run.config = replace(run.config, strategy=Strategy("dvoting", 4, 0.5))
    return run


def test_the_strategy_and_dvotings_settings_reach_the_request():
    request = widgets.run_request(*FORM[:-3], "dvoting", 7, 0.5)
    assert (request.strategy, request.rounds, request.entropy_threshold) == ("dvoting", 7, 0.5)
    assert widgets.run_request(*FORM).strategy == "hex"
    assert widgets.run_request(*FORM[:-3]).strategy == "hex"  # a caller that knows none
    for values, message in [(("beam", 5, 0.3), "unknown strategy 'beam'"),
                            (("dvoting", 1, 0.3), r"--rounds must be an integer from 2 to 26"),
                            (("dvoting", 5, -1), "--entropy-threshold must be a finite number"),
                            (("dvoting", 2.5, 0.3), r"rounds must be a whole number")]:
        with pytest.raises(gr.Error, match=message) as refused:
            widgets.user_errors("reading the settings", widgets.run_request, *FORM[:-3], *values)
        assert "\n" not in refused.value.message


@pytest.mark.parametrize("strategy,gen_length,blocks", [
    ("hex", 128, [4, 8, 16, 32, 64]), ("seeds", 128, [16]), ("dvoting", 128, [8]),
    ("dvoting", 64, [4])])
def test_picking_a_strategy_ticks_the_blocks_its_plan_would_choose(strategy, gen_length, blocks):
    c = widgets.LengthControls.of(RunnerWithDefaults(), "m", gen_length, strategy=strategy)
    assert c.experts == blocks == widgets.strategy_blocks(strategy, gen_length)
    assert c.steps == gen_length // 2  # the model's two tokens a step fit each


def test_a_stored_dvoting_run_fills_the_form_and_decodes_again_alike():
    run = dvoting_run()
    values = widgets.settings_values(run)
    assert values[:2] == [[2], ""] and values[15:18] == ["dvoting", 4, 0.5]
    again = widgets.run_request("Q", "m", *values)
    assert (again.strategy, again.rounds, again.entropy_threshold) == ("dvoting", 4, 0.5)
    assert (again.blocks, again.seeds, again.temperature, again.baselines) == ((2,), 1, 0.6,
                                                                              False)
    assert widgets.settings_values(known_run())[15:18] == ["hex", 5, 0.3]
    with gr.Blocks():
        settings, _ = widgets.settings_column(gr.Textbox(), ["m"], widgets.LengthControls.of(
            RunnerWithDefaults(), "m"))
    shown = widgets.load_settings(settings.of_a_run(), run)
    assert shown[settings.strategy.name] == "dvoting" and shown[settings.strategy.rounds] == 4


def test_dvoting_greys_out_what_it_does_not_read():
    with gr.Blocks() as demo:
        settings, _ = widgets.settings_column(gr.Textbox(), ["m"], widgets.LengthControls.of(
            RunnerWithDefaults(), "m"))
    picker = settings.strategy.name
    assert [value for _, value in picker.choices] == ["hex", "seeds", "dvoting"]
    follows = [f for f in demo.fns.values() if (picker._id, "change") in f.targets]
    assert len(follows) == 1
    dvoting = widgets.decode_form(settings, "fixed", "dvoting")
    assert set(follows[0].outputs) == set(dvoting)  # every control it updates is an output
    for control, value in [(settings.rule, "entropy"), (settings.sampler, "fixed"),
                           (settings.edit, ""), (settings.cache, "none"),
                           (settings.baselines, False), (settings.seeds, 1),
                           (settings.canvas.mode, "fixed")]:
        assert dvoting[control]["value"] == value and dvoting[control]["interactive"] is False
    assert dvoting[settings.strategy.dvoting]["visible"] is True
    assert "dVoting" in dvoting[settings.strategy.note]
    assert dvoting[settings.steps]["interactive"] is True
    for strategy in ("hex", "seeds"):
        form = widgets.decode_form(settings, "fixed", strategy)
        assert form[settings.strategy.dvoting]["visible"] is False
        assert all(form[c]["interactive"] is True and "value" not in form[c]
                   for c in (settings.rule, settings.seeds, settings.canvas.mode))
    grows = widgets.decode_form(settings, "daedal", "seeds")  # the canvas still greys its own
    assert grows[settings.sampler]["interactive"] is False
    assert grows[settings.seeds]["interactive"] is True


def test_what_greys_out_the_sampler_and_cache_greys_out_the_speed_preset():
    """dVoting and a growing canvas fix the sampler and cache: Fast would set values they
    refuse, so its picker is greyed out with them and given back with them."""
    with gr.Blocks():
        settings, _ = widgets.settings_column(gr.Textbox(), ["m"], widgets.LengthControls.of(
            RunnerWithDefaults(), "m"))
    preset = settings.speed.preset
    assert preset.elem_id == "speed-preset" and preset not in settings.inputs()
    for mode, strategy in [("daedal", "hex"), ("rho-eos", "seeds"), ("fixed", "dvoting")]:
        form = widgets.decode_form(settings, mode, strategy)
        assert form[preset]["interactive"] is False and form[settings.sampler]["value"] == "fixed"
    for strategy in ("hex", "seeds"):
        assert widgets.decode_form(settings, "fixed", strategy)[preset]["interactive"] is True


def test_a_stored_runs_editing_scope_fills_the_form_and_decodes_again_alike():
    from dataclasses import replace

    run = known_run()
    run.config = replace(run.config, edit=0.9, edit_scope="answer")
    values = widgets.settings_values(run)
    assert values[11:13] == ["0.9", "answer"]
    again = widgets.run_request("Q", "m", *values)
    assert (again.edit, again.edit_scope) == (0.9, "answer")
    unedited = widgets.settings_values(known_run())
    assert unedited[11:13] == ["off", widgets.MODEL_SCOPE]


def test_the_edit_fields_note_says_what_editing_measured_on_the_built_in_model():
    import json

    from hexviz.models.meta import HEXVIZ_META
    from hexviz.paths import BUILTIN_DIR

    meta = json.loads((BUILTIN_DIR / HEXVIZ_META).read_text())
    (default,) = [e for e in meta["card"]["editing"] if e["settings"].startswith("--sampler fixed")]
    assert (f"{meta['card']['problems']} test problems turned {default['fixed']} wrong expert "
            f"answers right and {default['broken']} right ones wrong") in widgets.EDIT_INFO
    assert f"{meta['edit']:g} over the answer" in widgets.EDIT_INFO
    assert meta["edit_scope"] == "answer"
