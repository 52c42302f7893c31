"""The app's words: order summary and the About tab's figures."""

from __future__ import annotations



from hexviz.app import format
from tests.conftest import known_run


def test_order_summary_reads_the_trajectory():
    t = known_run().trajectories[0]
    t.reveal_step[:] = range(len(t.reveal_step))  # left to right
    t.early_end_share = 0.25
    assert format.order_summary(t) == "AR-ness 1.00 · order rho +1.00 · early end 25%"


def test_the_about_tab_states_the_cards_figures():
    card = {"problems": 500, "whole_collapse": 0.62, "whole_accuracy": 0.2,
            "hex_accuracy": 0.45, "mean_expert_accuracy": 0.4}
    text = format.about_builtin(card)
    assert "On 500 held-out problems" in text and "wall on 62% of them and scored 20%" in text
    assert "scored 45% (mean expert 40%)" in text
    assert "held-out" not in format.about_builtin({})  # an older card: no figures, no claims


def test_the_about_tab_names_the_layers_that_exist():
    import re

    from tests.conftest import REPO

    folders = re.findall(r"`hexviz/(\w+)/`", format.ABOUT)
    assert folders == ["models", "tasks", "runs", "decode", "app"]
    assert all((REPO / "hexviz" / f / "__init__.py").exists() for f in folders)


def test_the_task_picker_shows_the_user_turn_and_prefix():
    text = format.task_template_markdown("gsm8k")
    assert "You are a math expert." in text and "{question}" in text
    assert "`<reasoning>`" in text and "gen_length 256, 128 steps, blocks 8-128" in text
    assert "as typed" in format.task_template_markdown(None)
    assert format.task_template_markdown(format.OWN_FORMAT) == format.task_template_markdown(None)
    assert "<reasoning>" not in format.task_template_markdown("tinygsm")


def test_answers_panel_shows_the_one_step_likelihood():
    run = known_run()
    run.trajectories[0].one_step_log_likelihood = -1.23456
    html = format.expert_texts_html(run)
    assert "one-step ll -1.235" in html and html.count("one-step ll") == 1
    assert "answer <b>7</b>" in html


def test_the_answers_panel_and_status_show_steps_and_row_passes():
    from dataclasses import replace

    run = known_run()
    run.timing = replace(run.timing, row_passes=7)
    html = format.expert_texts_html(run)
    assert html.count("4 steps · up to 1 tokens a step") == 2
    assert "7 rows computed in 4 forward passes" in html and "8 expert steps" in html
    status = format.status_markdown(run)
    assert "sampler `fixed`" in status and "4 forward passes (7 rows)" in status
