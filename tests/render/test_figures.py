"""Figures built from a known, hand-made trajectory."""

from __future__ import annotations

import numpy as np
import pytest

from hexviz.render import figures
from hexviz.render.textfit import FIT_CELL_TEXT_JS, SUBTITLE_CHARS, TITLE_CHARS, plain_title
from tests.conftest import known_run
from tests.render.conftest import ADA_STARTS, SCHEDULE_STARTS


def test_reveal_order_has_a_row_per_expert_and_block_edges():
    fig = figures.reveal_order(known_run())
    heat = fig.data[0]
    assert np.array(heat.z).tolist() == [[0, 1, 2, 3], [3, 2, 1, 0]]
    assert list(heat.y) == ["B=2 low_confidence", "whole (margin) ✗ collapsed"]
    assert "token '####'" in heat.text[0][0] and "step 0" in heat.text[0][0]
    edges = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(edges) == 1 and edges[0].x0 == 1.5  # B=2 has one inner edge, one block none


def test_unmasking_map_shows_states_per_step_and_flags_collapse():
    run = known_run()
    fig = figures.unmasking_map(run, 1)
    z = np.array(fig.data[0].z)
    M, T, EOT, EOS = figures.MASK, figures.TEXT, figures.END_OF_TURN, figures.END_OF_TEXT
    assert z.tolist() == [[M, M, M, EOS], [M, M, EOS, EOS], [M, EOS, EOS, EOS],
                          [EOT, EOS, EOS, EOS]]
    assert "COLLAPSED" in fig.layout.title.text
    good = np.array(figures.unmasking_map(run, 0).data[0].z)
    assert good[-1].tolist() == [T, T, EOT, EOS]
    assert "COLLAPSED" not in figures.unmasking_map(run, 0).layout.title.text


def test_end_pressure_curves():
    fig = figures.end_pressure(known_run())
    assert len(fig.data) == 4  # drafts + revealed, per expert
    drafts_good, revealed_good, drafts_bad, revealed_bad = fig.data
    # B=2: drafts [5,7,2,2] -> 2 of 4 masked draft an end token; then 2/3, 2/2, 1/1
    assert np.allclose(drafts_good.y, [0.5, 2 / 3, 1.0, 1.0])
    assert np.allclose(revealed_good.y, [0.0, 0.0, 1 / 3, 0.5])
    assert np.allclose(drafts_bad.y, [0.75, 2 / 3, 1.0, 1.0])
    assert np.allclose(revealed_bad.y, [1.0, 1.0, 1.0, 1.0])


def test_vote_panel_marks_the_winner_and_no_answer_apart():
    fig = figures.vote_panel(known_run())
    bars = fig.data[0]
    assert list(bars.x) == ["“7”"] and list(bars.y) == [1]
    assert len(fig.data) == 1  # the collapsed row is a baseline: it neither votes nor abstains
    assert fig.layout.title.text == "Vote: 7"


def test_scrubber_has_a_frame_per_step():
    fig = figures.scrubber(known_run())
    assert len(fig.frames) == 5  # steps 0..4
    assert np.array(fig.frames[0].data[0].z).max() == figures.MASK
    assert np.array(fig.frames[2].data[0].z).tolist()[0] == [1, 1, 0, 0]
    assert len(fig.layout.sliders[0].steps) == 5
    assert fig.layout.sliders[0].active == 4  # opens at the end
    opened = figures.scrubber(known_run(), start=0)
    assert opened.layout.sliders[0].active == 0
    assert np.array(opened.data[0].z).max() == figures.MASK  # the all-mask start


def test_pressure_chart_shows_the_picked_experts():
    run = known_run()
    assert figures.default_pressure_rows(run) == [0, 1]  # the only voter, the baseline
    fig = figures.end_pressure(run, [1])
    assert len(fig.data) == 2 and fig.data[0].name.startswith("whole (margin)")


def test_pressure_chart_adds_the_recorded_end_density():
    run = known_run()
    run.trajectories[0].end_density = np.array([0.5, 0.6, 0.9, 1.0], dtype=np.float32)
    fig = figures.end_pressure(run, [0])
    assert [d.name.split(": ")[1] for d in fig.data] == ["drafts", "revealed", "end density"]
    assert list(fig.data[2].y) == pytest.approx([0.5, 0.6, 0.9, 1.0])


@pytest.fixture(scope="module")
def edited_run(random_lm, prompt_ids):
    """A threshold run that edits (a random model with a low editing threshold)."""
    from hexviz.decode.assemble import decode
    from hexviz.policy.settings import DecodeConfig, hex_experts

    run = decode(random_lm, prompt_ids, hex_experts(32, [4, 16]),
                 DecodeConfig(32, 32, sampler="threshold:0.3", edit=0.2))
    assert sum(len(t.edits) for t in run.trajectories) > 0
    return run


def test_ids_and_texts_at_a_step_undo_later_edits(edited_run):
    t = next(t for t in edited_run.trajectories if len(t.edits))
    step, position, old, new = t.edits[0].tolist()
    assert t.ids_at(step)[position] == old  # made during `step`: shown after it
    assert t.ids_at(t.steps_taken).tolist() == t.token_ids.tolist()
    assert figures.texts_at(t, step)[position] == t.edit_texts[0][0]


def test_tokens_per_step_draws_each_experts_commits_and_edits(edited_run):
    fig = figures.tokens_per_step(edited_run)
    commits = [tr for tr in fig.data if "edited" not in tr.name]
    assert [list(tr.y) for tr in commits] == [t.commits.tolist() for t in edited_run.trajectories]
    assert [len(tr.x) for tr in commits] == [t.steps_taken for t in edited_run.trajectories]
    assert any("edited" in tr.name for tr in fig.data)
    assert "threshold:0.3, edit 0.2" in fig.layout.title.text
    assert "rows computed" in fig.layout.title.text
    flat = figures.tokens_per_step(known_run())
    assert [list(tr.y) for tr in flat.data] == [[1, 1, 1, 1], [1, 1, 1, 1]]  # fixed: one a step


def test_edits_are_marked_with_old_and_new_on_hover(edited_run):
    reveal = figures.reveal_order(edited_run)
    marks = [tr for tr in reveal.data if tr.type == "scatter"]
    edits = sum(len(t.edits) for t in edited_run.trajectories)
    assert sum(len(m.x) for m in marks) == edits and "→" in marks[0].hovertext[0]
    i = next(i for i, t in enumerate(edited_run.trajectories) if len(t.edits))
    t = edited_run.trajectories[i]
    umap = figures.unmasking_map(edited_run, i)
    marks = [tr for tr in umap.data if tr.type == "scatter"]
    assert list(marks[0].y) == t.edits[:, 0].tolist() and "edits" in umap.layout.title.text
    assert len(umap.data[0].z) == t.steps_taken  # the expert's own steps
    scrub = figures.scrubber(edited_run)
    last, first = scrub.frames[-1], scrub.frames[0]
    assert len(last.data[1].x) == edits and len(first.data[1].x) == 0  # marks as made
    assert "edited at step" in last.data[1].hovertext[0]


def test_runs_without_edits_draw_as_before():
    run = known_run()
    assert all(tr.type == "heatmap" for tr in figures.reveal_order(run).data)
    assert all(len(f.data) == 1 for f in figures.scrubber(run).frames)


def test_charts_use_the_colour_blind_safe_palette():
    from hexviz.render import palette

    run = known_run()
    assert figures.STATE_COLORS == list(palette.STATE_COLORS)
    scale = figures.unmasking_map(run, 1).data[0].colorscale
    assert {c for _, c in scale} == set(palette.STATE_COLORS)
    bars = figures.vote_panel(run).data[0].marker.color
    assert bars[0] == palette.WINNER
    lines = [t.line.color for t in figures.end_pressure(run).data]
    assert set(lines) <= set(palette.SERIES)


def test_every_figure_in_one_offline_page():
    run = known_run()
    drawn = {"reveal_order": figures.reveal_order(run), "vote_panel": figures.vote_panel(run),
             "scrubber": figures.scrubber(run)}
    page = figures.figures_html(run, drawn)
    assert page.startswith("<!DOCTYPE html>") and "<h2>Q</h2>" in page
    assert page.count('class="plotly-graph-div"') == len(drawn) == 3
    assert page.count("plotly.js v") == 1  # embedded once
    assert FIT_CELL_TEXT_JS in page  # the scrubber's cell text fits or is hidden, as in the app


def test_a_run_still_decoding_shows_its_progress_in_the_vote_panel():
    run = known_run()
    run.steps_done = 2
    assert figures.progress_text(run) == "decoding: step 2 of 4, 2 experts (1 vote)"
    fig = figures.vote_panel(run)
    assert plain_title(fig.layout.title.text).startswith("Decoding: step 2 of 4, 2 experts")
    bars = fig.data[0]
    assert bars.orientation == "h" and list(bars.x) == [2, 2]  # revealed at steps 0 and 1
    assert list(bars.text) == ["2/4", "2/4"]
    assert fig.layout.xaxis.range == (0, 4)  # the whole answer
    assert figures.vote_panel(known_run()).data[0].orientation != "h"  # finished: the vote


def test_row_labels_go_on_two_lines_on_the_y_axis():
    assert figures.axis_label("B=16 low_confidence") == "B=16<br>low_confidence"
    assert figures.axis_label("whole (margin) ✗ collapsed") == "whole (margin)<br>✗ collapsed"
    assert figures.axis_label("whole") == "whole"
    fig = figures.reveal_order(known_run())
    assert list(fig.layout.yaxis.ticktext) == ["B=2<br>low_confidence",
                                               "whole (margin)<br>✗ collapsed"]
    assert list(fig.layout.yaxis.tickvals) == list(fig.data[0].y)  # the rows themselves


def test_scrubber_cells_write_end_tokens_as_one_character():
    fig = figures.scrubber(known_run())
    last = np.array(fig.frames[-1].data[0].text)
    assert last[0].tolist() == ["####", "7", "⏎", "∎"]  # trimmed; end tokens one mark each
    assert np.array(fig.frames[0].data[0].text)[0].tolist() == ["·"] * 4  # all masked
    assert fig.data[0].textfont.size  # a fixed size; the browser hides what does not fit


def test_scrubber_buttons_sit_beside_the_slider_not_over_its_label():
    fig = figures.scrubber(known_run())
    slider, buttons = fig.layout.sliders[0], fig.layout.updatemenus[0]
    assert slider.currentvalue.xanchor == "right"  # "step N" at the slider's right end
    assert (buttons.x, buttons.xanchor, buttons.direction) == (0, "right", "down")  # left margin
    assert fig.layout.margin.l >= figures.PLAY_BUTTONS_PX
    assert buttons.y == slider.y and buttons.pad.t == slider.pad.t  # one row


@pytest.mark.parametrize("draw", [
    figures.reveal_order, figures.scrubber, figures.end_pressure, figures.vote_panel,
    figures.tokens_per_step, figures.canvas_length, lambda run: figures.unmasking_map(run, 1),
    lambda run: figures.compare_reveal(run, 0, run, 1),
    lambda run: figures.compare_maps(run, 0, run, 1)])
def test_every_title_is_wrapped_to_fit_a_phone_and_has_room_above_the_plot(draw):
    fig = draw(known_run())
    title = fig.layout.title.text
    for line in title.split("<br>"):
        words = plain_title(line)
        width = SUBTITLE_CHARS if line.startswith("<sup>") else TITLE_CHARS
        assert len(words) <= width or " " not in words, line
    assert fig.layout.margin.t >= 16 + figures.TITLE_LINE_PX * (title.count("<br>") + 1)


def test_reveal_order_colour_bar_lies_under_the_chart():
    bar = figures.reveal_order(known_run()).data[0].colorbar
    assert bar.orientation == "h" and bar.yref == "container" and bar.yanchor == "bottom"


# --- a growing canvas (tests/render/conftest.py: B=2 grows, the whole-answer row is cut) ------

def every_figure(run):
    return [figures.reveal_order(run), figures.scrubber(run), figures.scrubber(run, start=0),
            figures.end_pressure(run), figures.vote_panel(run), figures.decoding_progress(run),
            figures.tokens_per_step(run), figures.canvas_length(run),
            figures.compare_reveal(run, 0, run, 1), figures.compare_maps(run, 0, run, 1),
            *(figures.unmasking_map(run, i) for i in range(len(run.trajectories)))]


def test_a_growing_run_renders_every_figure(grown):
    for fig in every_figure(grown):
        assert fig.layout.title.text
        fig.to_json()  # plotly validates every trace


def test_the_scrubbers_frame_at_a_step_shows_that_steps_canvas(grown):
    fig = figures.scrubber(grown)
    for frame in fig.frames:
        step = int(frame.name)
        heat = frame.data[0]
        drawn = ~np.isnan(np.array(heat.z, dtype=float))
        struck = np.char.startswith(np.array(heat.text, dtype=str), "<s>")
        for row, t in enumerate(grown.trajectories):
            length = len(t.canvas_at(step, grown.special.mask_id))
            assert (drawn[row] & ~struck[row]).sum() == length, (step, row)


def test_a_cut_position_is_drawn_struck_at_the_step_it_went(grown):
    fig = figures.scrubber(grown)
    frames = {int(f.name): f for f in fig.frames}
    cut = frames[2]  # the whole-answer row lost positions 3..7 during step 1
    strikes = cut.data[1]
    label = figures.row_labels(grown)[1]
    assert list(strikes.x) == [2.5, 7.5, None] and list(strikes.y) == [label, label, None]
    text = np.array(cut.data[0].text)
    assert text[1, 3:8].tolist() == ["<s>∎</s>"] + ["<s>·</s>"] * 4
    assert "cut at step 1" in np.array(cut.data[0].hovertext)[1, 3]
    assert [len(frames[s].data[1].x) for s in (0, 1, 3, 4)] == [0, 0, 0, 0]  # only then
    assert "struck through" in fig.layout.title.text


def test_growing_rows_end_with_their_canvas(grown):
    heat = figures.reveal_order(grown).data[0]
    z = np.array(heat.z, dtype=float)
    assert z.shape == (2, 6) and np.isnan(z[1, 3:]).all() and not np.isnan(z[1, :3]).any()
    assert "past the end" in heat.text[1][3]
    umap = figures.unmasking_map(grown, 1)
    assert (~np.isnan(np.array(umap.data[0].z, dtype=float))).sum(1).tolist() == [8, 3]
    assert umap.data[1].hovertext[1].startswith("step 1: 5 positions cut")
    differ = figures.differing_positions(*grown.trajectories)
    assert differ.tolist() == [1, 2, 3, 4, 5]  # 9 vs " b", end vs " c", then past the end
    assert len(figures.compare_reveal(grown, 0, grown, 1).data[1].x) == 5


def test_progress_counts_each_growing_canvas_against_its_own_length(grown):
    grown.steps_done = 1
    bars = figures.decoding_progress(grown).data[0]
    assert list(bars.text) == ["0/6", "2/3"]  # out of their canvases: 6 and 3 positions


def test_end_pressure_of_a_growing_run_reads_each_steps_canvas(grown):
    revealed = figures.end_pressure(grown, [1]).data[1]
    assert list(revealed.y) == pytest.approx([1 / 3, 1 / 3])  # the end token counts while it stood


def test_frames_with_marks_play_without_the_transition_that_drops_the_heatmap(grown):
    play = figures.scrubber(grown).layout.updatemenus[0].buttons[0].args[1]
    assert play["transition"] == {"duration": 0}
    assert "transition" not in figures.scrubber(known_run()).layout.updatemenus[0].buttons[0].args[1]


def test_reveal_order_draws_each_experts_own_block_edges(uneven):
    """A schedule's and AdaBlock's edges where their recorded blocks meet, not every
    block_length (4, 8, 12 on both rows); the labels name their blocks."""
    fig = figures.reveal_order(uneven)
    assert list(fig.data[0].y) == ["B=4+4+8 low_confidence", "B=ada:0.5/4 low_confidence",
                                   "whole (low_confidence)"]
    edges: dict[int, list[float]] = {}
    for s in fig.layout.shapes:
        edges.setdefault(round(s.y0 + 0.5), []).append(s.x0 + 0.5)
    assert edges == {0: list(SCHEDULE_STARTS), 1: list(ADA_STARTS)}
