"""The What-if fork: a fork that reproduces its run, a forced token, a request checked early."""

from __future__ import annotations

import gradio as gr
import numpy as np
import pytest

from hexviz.app.tabs import fork
from hexviz.render import lesson
from hexviz.render.compare import fork_summary
from hexviz.runs import gallery
from tests.conftest import known_run


def test_fork_of_a_stored_run_reproduces_it_and_a_forced_token_changes_it():
    from hexviz.app.runner import ForkRequest, LocalRunner

    runner = LocalRunner()
    run = gallery.read_run(gallery.GALLERY_DIR / lesson.FILE_NAMES["disagree"])
    index, step = run.voters[1], run.config.steps // 4
    original = run.trajectories[index]
    *_, same = runner.fork(ForkRequest(run, index, step))
    assert same.trajectories[0].token_ids.tolist() == original.token_ids.tolist()
    assert same.trajectories[0].reveal_step.tolist() == original.reveal_step.tolist()
    position = int(np.flatnonzero(original.reveal_step == step)[0])
    top = runner.candidates(runner.model_labels()[0], run, index, step, position, k=4)
    assert top[0][0] == original.draft_ids[step, position]
    token = next(t for t, _, _ in top if t != original.token_ids[position])
    *_, forced = runner.fork(ForkRequest(run, index, step, force=(position, token)))
    fork = forced.trajectories[0]
    assert fork.ids_at(step + 1)[position] == token  # on the canvas after the fork's step
    # the continuation differs, or a model that edits (the built-in one) puts its word back
    repaired = [e for e in fork.edits.tolist() if e[0] > step and e[1] == position]
    assert fork.token_ids.tolist() != original.token_ids.tolist() or (
        run.config.edit is not None and repaired and repaired[0][2] == token)
    summary = fork_summary(run, index, forced, step, (position, "x"))
    assert f"they diverge at step {step}" in summary


def test_a_fork_request_is_checked_when_it_is_made():
    from hexviz.app.runner import ForkRequest

    with pytest.raises(ValueError, match="a fork starts at a step from 0 to 3"):
        ForkRequest(known_run(), 0, 4)
    with pytest.raises(ValueError, match="pick an expert of the run"):
        ForkRequest(known_run(), 5, 0)
    assert ForkRequest(known_run(), 0, 1, block_length=4).expert_after().block_length == 4


def test_the_forms_text_is_read_or_refused():
    assert fork.parse_temperature(" same ") is None and fork.parse_temperature("0.5") == 0.5
    assert fork.parse_position("") is None and fork.parse_position("7") == 7
    with pytest.raises(gr.Error, match="a number >= 0"):
        fork.parse_temperature("-1")


def test_a_refused_fork_setting_is_one_log_line_not_a_traceback(caplog):
    caplog.set_level("INFO", logger="hexviz.app")
    with pytest.raises(gr.Error) as refused:
        fork.parse_temperature("warm")
    assert refused.value.print_exception is False  # gradio prints no traceback for it
    assert [r.getMessage() for r in caplog.records] == [
        "refused: temperature must be 'same' or a number >= 0 (got 'warm')"]
    assert all(r.exc_info is None for r in caplog.records)


def test_a_growing_canvas_is_not_forked():
    """A fork resumes a fixed canvas: a DAEDAL or rho-EOS run is refused in one line, before
    candidates or a fork are asked of the runner."""
    from dataclasses import replace

    from hexviz.policy.length import LengthConfig

    fork.check_forkable(known_run())  # fixed: nothing is raised
    grown = known_run()
    grown.config = replace(grown.config, length=LengthConfig("daedal", initial_length=2))
    with pytest.raises(gr.Error, match=r"needs a fixed-length canvas \(--length fixed\)"):
        fork.check_forkable(grown)


def test_a_new_run_sets_the_fork_step_before_the_expert_reads_it():
    """Sent in one update, the expert's change read the step slider's old value against its
    new maximum (16 > 3 after a 4-step run) and Gradio refused the event."""
    with gr.Blocks() as demo:
        state = gr.State()
        panel = fork.build()
        fork.wire(panel, None, state, gr.Dropdown())
    (first,) = [f for f in demo.fns.values() if (state._id, "change") in f.targets]
    assert first.outputs == [panel.step]
    (then,) = [f for f in demo.fns.values() if f.trigger_after == first._id]
    assert panel.expert in then.outputs
    run = known_run()
    assert first.fn(run)["maximum"] == run.config.steps - 1
    (canvas,) = [f for f in demo.fns.values() if (panel.step._id, "change") in f.targets
                 and panel.canvas in f.outputs]
    assert canvas.fn(run, len(run.trajectories), 0) == ""  # the last run's expert: nothing yet
    assert canvas.fn(run, 0, 0) != ""
