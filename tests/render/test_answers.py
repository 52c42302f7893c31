"""The answers panel and the status line: order summary, steps, likelihood, row passes."""

from __future__ import annotations

from hexviz.render import answers
from tests.conftest import known_run


def test_order_summary_reads_the_trajectory():
    t = known_run().trajectories[0]
    t.reveal_step[:] = range(len(t.reveal_step))  # left to right
    t.early_end_share = 0.25
    assert answers.order_summary(t) == "AR-ness 1.00 · order rho +1.00 · early end 25%"


def test_answers_panel_shows_the_one_step_likelihood():
    run = known_run()
    run.trajectories[0].one_step_log_likelihood = -1.23456
    html = answers.expert_texts_html(run)
    assert "one-step ll -1.235" in html and html.count("one-step ll") == 1
    assert "answer <b>7</b>" in html


def test_the_answers_panel_and_status_show_steps_and_row_passes():
    from dataclasses import replace

    run = known_run()
    run.timing = replace(run.timing, row_passes=7)
    html = answers.expert_texts_html(run)
    assert html.count("4 steps · up to 1 tokens a step") == 2
    assert "7 rows computed in 4 forward passes" in html and "8 expert steps" in html
    status = answers.status_markdown(run)
    assert "sampler `fixed`" in status and "4 forward passes (7 rows)" in status


def test_the_status_line_says_how_far_a_run_has_got_and_why_one_failed():
    run = known_run()
    run.steps_done = 2
    assert answers.status_markdown(run) == "**Decoding: step 2 of 4, 2 experts (1 vote)…**"
    failed = answers.failure_markdown("the prompt is empty: type a question.")
    assert failed.startswith("**The run failed:** the prompt is empty: type a question. ")
    assert "earlier run" in failed and ".." not in failed


def test_the_status_line_of_a_dvoting_run_names_its_rounds(rounds):
    status = answers.status_markdown(rounds)
    assert status.startswith("dVoting answer **d** · 2 of at most 3 rounds · entropy threshold "
                             "0.3 · 6 forward passes")


def test_the_status_line_says_a_run_was_replayed_and_whose_time_it_shows():
    run = known_run()
    assert "replayed" not in answers.status_markdown(run)
    run.replayed = "the stored run example-1.json"
    status = answers.status_markdown(run)
    assert "**replayed** from the stored run example-1.json" in status
    assert "in 0.10 s" in status and "the time is the original decode's" in status
