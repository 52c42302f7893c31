"""Plotly views of a `Run`: pure functions from recorded arrays to figures (no torch here).

Canvas convention: "at step t" means after t steps, so position p shows its token at step t
when ``reveal_step[p] < t``; step 0 is the all-mask start.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from hexviz import limits
from hexviz.render import growing, palette, remasks
from hexviz.render.growing import canvas_length  # noqa: F401  a chart of its own (`app.views`)
from hexviz.render.plotting import (STATE_BAR, STATE_COLORS, STEP_BAR_PX, block_edges,
                                    fit_layout, row_labels, rows_axis, state_scale, step_bar,
                                    steps_scale)
from hexviz.render.plotting import TITLE_LINE_PX, axis_label  # noqa: F401  figures' own names too
from hexviz.render.plotting import CELL_MARKS, cell_texts
from hexviz.render.states import END_OF_TEXT, END_OF_TURN, MASK, TEXT
from hexviz.render.textfit import fit_cell_text_script
from hexviz.runs.record import Run, Trajectory

MAX_BLOCK_EDGES = 400  # white edge lines drawn in the reveal order (each is one layout shape)

EDIT_COLOR = "#d62ad6"  # edited positions' marks (reveal order, scrubber, unmasking map)


def texts_at(t: Trajectory, step: int) -> list[str]:
    """(L,) token texts after ``step`` steps (`Trajectory.ids_at`, as text)."""
    texts = list(t.tokens)
    if len(t.edit_texts) != len(t.edits):  # an upload without the texts: ids only
        return texts
    for (e, position, _, _), (old, _) in zip(reversed(t.edits.tolist()),
                                             reversed(t.edit_texts), strict=True):
        if e >= step:
            texts[position] = old
    return texts


def token_states(run: Run, t: Trajectory, step: int) -> np.ndarray:
    """(L,) state of each position after ``step`` steps: mask, text, end of turn, end of text."""
    revealed = t.reveal_step < step
    ids = t.ids_at(step) if len(t.edits) else t.token_ids
    states = np.full(t.token_ids.shape, TEXT)
    states[ids == run.special.end_of_turn_id] = END_OF_TURN
    states[ids == run.special.end_of_text_id] = END_OF_TEXT
    return np.where(revealed & (t.reveal_step >= 0), states, MASK)


def edit_hover(t: Trajectory, i: int) -> str:
    """One edit as hover text: where, when, old -> new."""
    step, position, old, new = t.edits[i].tolist()
    if len(t.edit_texts) == len(t.edits):
        old, new = (html.escape(repr(x), quote=False) for x in t.edit_texts[i])
    return f"pos {position}<br>edited at step {step}<br>{old} → {new}"


def edit_marks(t: Trajectory, y, before: int | None = None, name: str = "edits") -> go.Scatter:
    """The expert's edits (those made before step ``before``, if given) as open diamonds at
    (position, ``y``): ``y`` a row label, or "step" for the step each was made at."""
    rows = [i for i in range(len(t.edits)) if before is None or t.edits[i, 0] < before]
    ys = [int(t.edits[i, 0]) for i in rows] if y == "step" else [y] * len(rows)
    return go.Scatter(x=[int(t.edits[i, 1]) for i in rows], y=ys, mode="markers", name=name,
                      marker=dict(symbol="diamond-open", color=EDIT_COLOR, size=11,
                                  line=dict(width=2)),
                      hovertext=[edit_hover(t, i) for i in rows], hoverinfo="text",
                      showlegend=False)


def _hover(t: Trajectory) -> list[str]:
    of = f" of {t.steps_taken}"
    kept = remasks.carried(t)  # a dVoting round's tokens from the round before
    return [f"pos {p}<br>token {html.escape(repr(tok), quote=False)}<br>"
            + ("carried over from the round before" if k else f"step {s}{of}<br>conf {c:.3f}")
            if s >= 0 else f"pos {p}<br>still masked"
            for p, (tok, s, c, k) in enumerate(zip(t.tokens, t.reveal_step, t.reveal_conf, kept))]


def reveal_order(run: Run) -> go.Figure:
    """Heatmap, one row per expert: the step at which each answer position was revealed, and
    white lines where the expert's recorded blocks meet (`Trajectory.blocks`). Rows of a growing
    canvas end where its final canvas ends (blank past it; the hover says so)."""
    width = max(len(t.token_ids) for t in run.trajectories)
    z = growing.padded([np.where(t.reveal_step >= 0, t.reveal_step, np.nan)
                        for t in run.trajectories], np.nan)
    labels = row_labels(run)
    height = 140 + STEP_BAR_PX + 34 * len(labels)
    end = [growing.past_end(len(t.token_ids), run.config.gen_length) for t in run.trajectories]
    fig = go.Figure(go.Heatmap(
        z=z, y=labels, x=list(range(width)), colorscale="Viridis",
        zmin=0, zmax=steps_scale(run),
        text=growing.padded([_hover(t) + [e] * (width - len(t.token_ids))
                             for t, e in zip(run.trajectories, end, strict=True)], "", object),
        hoverinfo="text", colorbar=step_bar(height), xgap=1, ygap=2))
    held = growing.vocabulary(run) if any(remasks.marked(t) for t in run.trajectories) else {}
    for t, label in zip(run.trajectories, labels, strict=True):
        if len(t.edits):
            fig.add_trace(edit_marks(t, label))
        if remasks.marked(t):
            fig.add_trace(remasks.remask_marks(t, label, held))
    edges = [(row, edge) for row, t in enumerate(run.trajectories) for edge in block_edges(t)]
    notes = ["the step at which each token was unmasked", "white lines: block edges"]
    if any(len(t.token_ids) < width for t in run.trajectories):
        notes.append("each row ends with its expert's final canvas")
    if len(edges) > MAX_BLOCK_EDGES:  # a shape each: thousands would stall the browser
        edges, notes[1] = [], "too many block edges to draw"
    if any(len(t.edits) for t in run.trajectories):
        notes.append("◇ edited later: hover for old → new")
    if any(remasks.marked(t) for t in run.trajectories):
        notes.append(remasks.NOTE)
    title = "Reveal order<br><sup>" + " · ".join(notes) + "</sup>"
    fig.update_layout(shapes=[dict(type="line", x0=e - 0.5, x1=e - 0.5, y0=r - 0.5, y1=r + 0.5,
                                   line=dict(color="white", width=2)) for r, e in edges])
    rows_axis(fig, labels)
    fig.update_xaxes(title="answer position")
    return fit_layout(fig, title, height, margin=dict(b=40 + STEP_BAR_PX))


def unmasking_map(run: Run, index: int, heading: str = "Unmasking map") -> go.Figure:
    """HEX Figure 2 style: step (y) x position (x), each cell the state the position holds."""
    t = run.trajectories[index]
    lim = limits.current()
    steps = t.steps_taken  # the expert's own: with a parallel sampler, fewer than the run's
    # Rows are steps 0..steps-1; a long run keeps evenly spaced ones within the cell budget.
    rows = limits.sample_steps(steps - 1, run.config.gen_length, steps, lim.max_cells) \
        if steps else []
    resized = growing.grows(run) and bool(rows)
    if resized:  # each row that step's canvas, of its own length; blank past its end
        z, text = growing.map_rows(run, t, rows)
    else:
        z = np.stack([token_states(run, t, s + 1) for s in rows]) if rows else np.zeros((1, 1))
        text = np.array([_hover(t)] * len(z), dtype=object)
    fig = go.Figure(go.Heatmap(
        z=z, y=rows or None, zmin=-0.5, zmax=len(STATE_COLORS) - 0.5,
        colorscale=state_scale(), text=text, hoverinfo="text", showscale=True,
        colorbar=STATE_BAR, **({"hoverongaps": False} if resized else {})))
    if len(t.edits):
        fig.add_trace(edit_marks(t, "step"))
    if remasks.marked(t):
        fig.add_trace(remasks.remask_marks(t, "step", growing.vocabulary(run)))
    if resized and t.resized:
        fig.add_trace(growing.resize_marks(run, t))
    fig.update_yaxes(title="step", autorange="reversed")
    fig.update_xaxes(title="answer position")
    notes = [f"{steps} steps"]
    if resized:
        notes.append(f"canvas {t.events.initial_length} → {len(t.token_ids)} positions"
                     + (" (▶ masks inserted, ✕ cut)" if t.resized else ""))
    if len(t.edits):
        notes.append(f"{len(t.edits)} edits (◇)")
    if remasks.marked(t):
        notes.append(f"{len(remasks.remasks(t))} re-masked at the round's start (○), "
                     f"{int(remasks.carried_per_step(t, 1)[0])} carried over")
    if len(rows) < steps:
        notes.append(f"{len(rows)} of {steps} steps shown")
    if t.collapsed:
        notes.append("COLLAPSED (squeezed out by end tokens)")
    title = f"{heading} — {t.expert.label}<br><sup>{' · '.join(notes)}</sup>"
    return fit_layout(fig, title, 420, margin=dict(b=100))


def default_pressure_rows(run: Run) -> list[int]:
    """A readable default for the pressure chart: the smallest and largest voting blocks and
    the first whole-answer row (at most three experts, six lines)."""
    voters = run.voters
    rows = [voters[0], voters[-1]] if voters else []
    rows += [i for i, t in enumerate(run.trajectories) if not t.expert.votes][:1]
    return sorted(dict.fromkeys(rows)) or [0]


def end_pressure(run: Run, rows: Sequence[int] | None = None) -> go.Figure:
    """Per step and expert: share of masked positions drafting an end token (solid) and share
    of revealed tokens that are end tokens (dotted); ``rows`` picks the experts (default all)."""
    fig = go.Figure()
    end_ids = list(run.special.end_ids)
    series = palette.SERIES
    labels = row_labels(run)
    for i in (range(len(run.trajectories)) if rows is None else rows):
        t, label = run.trajectories[i], labels[i]
        drafts = t.draft_ids[:run.steps_done]
        masked = drafts >= 0
        drafting_end = np.isin(drafts, end_ids) & masked
        pull = drafting_end.sum(1) / np.maximum(masked.sum(1), 1)
        steps = np.arange(1, len(drafts) + 1)
        if growing.grows(run):  # each step's own canvas: what was cut counted while it stood
            committed_end, revealed = growing.end_tokens_per_step(run, t, len(drafts))
        else:
            revealed = t.reveal_step[None, :] < steps[:, None]
            revealed &= t.reveal_step[None, :] >= 0
            committed_end = (revealed & np.isin(t.token_ids, end_ids)[None, :]).sum(1)
            revealed = revealed.sum(1)
        share = committed_end / np.maximum(revealed, 1)
        color = series[i % len(series)]
        fig.add_trace(go.Scatter(x=steps - 1, y=pull, name=f"{label}: drafts", mode="lines",
                                 line=dict(color=color), legendgroup=label))
        fig.add_trace(go.Scatter(x=steps, y=share, name=f"{label}: revealed", mode="lines",
                                 line=dict(color=color, dash="dot"), legendgroup=label))
        density = t.end_density[:run.steps_done]
        if len(density):  # recorded by newer runs: the model's mean end-token probability
            fig.add_trace(go.Scatter(x=np.arange(len(density)), y=density,
                                     name=f"{label}: end density", mode="lines",
                                     line=dict(color=color, dash="dashdot", width=1),
                                     legendgroup=label))
    fig.update_yaxes(title="share that is an end token", range=[0, 1.02], tickformat=".0%")
    fig.update_xaxes(title="step")
    fig.update_layout(legend=dict(orientation="h", y=-0.25))
    return fit_layout(fig, "End-token pressure<br><sup>solid: masked positions drafting an end "
                      "token · dotted: revealed tokens that are end tokens · dash-dot: mean "
                      "end-token probability over masked positions</sup>", 440)


def progress_text(run: Run) -> str:
    """How far a run still decoding has got: "decoding: step 12 of 64, 8 experts (5 vote)"
    (with a parallel sampler, "of at most 64": experts may finish earlier)."""
    cap = run.config.step_cap
    of = f"of at most {cap}" if run.config.variable else f"of {cap}"
    rows, voters = len(run.trajectories), len(run.voters)
    experts = f"{rows} expert{'s' * (rows != 1)}"
    if voters < rows:  # whole-answer baselines decode too, and don't vote
        experts += f" ({voters} vote)"
    return f"decoding: step {run.steps_done} {of}, {experts}"


def revealed_so_far(run: Run) -> list[int]:
    """Per expert, the answer positions revealed in the steps done so far."""
    return [int(((t.reveal_step >= 0) & (t.reveal_step < run.steps_done)).sum())
            for t in run.trajectories]


def decoding_progress(run: Run) -> go.Figure:
    """What the vote panel shows while ``run`` decodes: the step it has reached and, per
    expert, the tokens revealed so far; the vote is counted once every expert has finished."""
    n = run.config.gen_length
    revealed = revealed_so_far(run)
    labels = row_labels(run)
    # out of each canvas's own length when it grows (gen_length is then its maximum)
    lengths = [len(t.token_ids) if growing.grows(run) else n for t in run.trajectories]
    fig = go.Figure(go.Bar(
        x=revealed, y=labels, orientation="h",
        text=[f"{k}/{length}" for k, length in zip(revealed, lengths, strict=True)],
        textposition="auto", hoverinfo="skip", name="revealed",
        marker_color=[palette.TEXT if t.expert.votes else palette.MUTED
                      for t in run.trajectories]))
    fig.update_xaxes(range=[0, n], title="tokens revealed")
    # one line a label, smaller: up to 24 rows share the vote panel's height
    fig.update_yaxes(autorange="reversed", tickfont=dict(size=11))
    fig.update_layout(showlegend=False, bargap=0.25)
    title = (f"{progress_text(run).capitalize()}…<br><sup>the vote is counted when every "
             f"expert has finished; the reveal order below fills in as they go</sup>")
    return fit_layout(fig, title, 260)


def vote_panel(run: Run) -> go.Figure:
    """Bar chart of extracted answers with their supporters; winner marked, tie flagged. A run
    still decoding shows its progress instead (`decoding_progress`)."""
    if not run.complete:
        return decoding_progress(run)
    vote = run.vote
    labels = row_labels(run)
    answers = list(vote.counts)
    colors = [palette.WINNER if a == vote.winner else palette.MASK for a in answers]
    hover = ["<br>".join(labels[i] for i in vote.supporters[a]) for a in answers]
    fig = go.Figure(go.Bar(x=[f"“{a}”" for a in answers], y=[vote.counts[a] for a in answers],
                           marker_color=colors, text=[vote.counts[a] for a in answers],
                           hovertext=hover, hoverinfo="text", name="votes"))
    if vote.abstained:
        fig.add_trace(go.Bar(x=["no answer"], y=[len(vote.abstained)], marker_color=palette.MUTED,
                             hovertext=["<br>".join(labels[i] for i in vote.abstained)],
                             hoverinfo="text", name="no answer (does not vote)"))
    if vote.winner is None:
        title = "Vote: no expert produced an answer"
    else:
        title = f"Vote: {vote.winner}" + (" — TIE, broken by the smallest block" if vote.tie else "")
    fig.update_layout(showlegend=False, bargap=0.35)
    fig.update_yaxes(title="votes", dtick=1)
    return fit_layout(fig, title, 260)


def scrubber(run: Run, start: int | None = None) -> go.Figure:
    """Every expert's canvas at step t, with a slider and play button (client-side frames);
    it opens at step ``start`` (default: the last). A growing canvas draws each row at its
    length at that step, and the positions cut at that step struck through where they stood."""
    labels = row_labels(run)
    grown = growing.grows(run)
    edited = not grown and any(len(t.edits) for t in run.trajectories)
    remasked = not grown and any(remasks.marked(t) for t in run.trajectories)
    lim = limits.current()
    cells = len(run.trajectories) * run.config.gen_length  # per frame
    steps = limits.sample_steps(run.steps_done, cells, lim.max_frames, lim.max_cells)
    since = dict(zip(steps, [0, *steps[:-1]], strict=True))  # each frame's previous step
    if grown:
        timelines, vocab = growing.timelines(run), growing.vocabulary(run)
        width = growing.scrub_width(timelines, steps)

    tokens = np.array([cell_texts(t.tokens) for t in run.trajectories], dtype=object)  # (K, L)

    def heat(step: int) -> go.Heatmap:  # numpy arrays: plotly validates them 10x faster
        z = np.stack([token_states(run, t, step) for t in run.trajectories])  # (K, L)
        now = tokens if not edited else np.array(
            [cell_texts(texts_at(t, step)) for t in run.trajectories], dtype=object)
        text = np.select([z == MASK, z == END_OF_TURN, z == END_OF_TEXT],
                         [CELL_MARKS[MASK], CELL_MARKS[END_OF_TURN], CELL_MARKS[END_OF_TEXT]],
                         now)
        # A text wider than its cell is hidden in the browser (`textfit.FIT_CELL_TEXT_JS`)
        return go.Heatmap(z=z, y=labels, zmin=-0.5, zmax=len(STATE_COLORS) - 0.5,
                          colorscale=state_scale(), showscale=False, text=text,
                          texttemplate="%{text}", textfont=dict(size=10), hoverinfo="text",
                          xgap=1, ygap=2)

    def grown_frame(step: int) -> list:
        """The canvases at their lengths, and a line through the cells cut at this step."""
        z, text, hover, strikes = growing.scrub_frame(run, timelines, vocab, labels, step,
                                                      since[step], width)
        return [go.Heatmap(z=z, y=labels, x=list(range(width)), zmin=-0.5,
                           zmax=len(STATE_COLORS) - 0.5, colorscale=state_scale(),
                           showscale=False, text=text, texttemplate="%{text}",
                           textfont=dict(size=10), hovertext=hover, hoverinfo="text",
                           hoverongaps=False, xgap=1, ygap=2), strikes]

    def joined(marks: list[go.Scatter]) -> go.Scatter:
        """Every row's marks as one trace: a frame's traces stay few, one per kind of mark."""
        return go.Scatter(x=[x for m in marks for x in m.x], y=[y for m in marks for y in m.y],
                          mode="markers", hovertext=[h for m in marks for h in m.hovertext],
                          hoverinfo="text", marker=marks[0].marker, showlegend=False)

    held = growing.vocabulary(run) if remasked else {}  # what the re-masked positions held

    def frame(step: int) -> list:
        """The canvases, and (when the run edits or re-masks) a mark on each token edited and
        each position re-masked so far."""
        if grown:
            return grown_frame(step)
        rows = list(zip(run.trajectories, labels, strict=True))
        marks = [joined([edit_marks(t, label, before=step) for t, label in rows])] \
            if edited else []
        if remasked:
            marks.append(joined([remasks.remask_marks(t, label, held, before=step)
                                 for t, label in rows]))
        return [heat(step), *marks]

    wanted = steps[-1] if start is None else min(max(start, 0), steps[-1])
    active = min(range(len(steps)), key=lambda i: abs(steps[i] - wanted))  # nearest drawn step
    fig = go.Figure(frame(steps[active]),
                    frames=[go.Frame(data=frame(s), name=str(s)) for s in steps])
    # Below the axis title: the slider under the plot, its "step N" at its right end, and the
    # play buttons stacked in the left margin beside it, under the row labels, so that neither
    # covers the other on any width.
    below = dict(y=0, yanchor="top", pad=dict(t=SLIDER_GAP_PX))
    slider = dict(active=active, currentvalue=dict(prefix="step ", xanchor="right"), **below,
                  steps=[dict(method="animate", label=str(s),
                              args=[[str(s)], dict(mode="immediate", frame=dict(duration=0),
                                                   transition=dict(duration=0))])
                         for s in steps])
    play = dict(type="buttons", direction="down", x=0, xanchor="right", showactive=False,
                **{**below, "pad": dict(t=SLIDER_GAP_PX, r=8)},
                buttons=[dict(label="▶ play", method="animate",
                              args=[None, dict(frame=dict(duration=120), fromcurrent=True,
                                               **STILL if marked(fig) else {})]),
                         dict(label="❚❚ pause", method="animate",
                              args=[[None], dict(mode="immediate", frame=dict(duration=0))])])
    fig.update_layout(sliders=[slider], updatemenus=[play])
    rows_axis(fig, labels)
    fig.update_xaxes(title="answer position")
    notes = ["every expert's canvas after t steps"]
    if run.config.variable:
        notes.append("a row stops changing when its expert has finished")
    if edited:
        notes.append("◇ edited so far: hover for old → new")
    if remasked:
        notes.append(remasks.NOTE)
    if grown:
        notes.append("each row as long as its canvas then; struck through: cut at that step")
        fig.update_xaxes(range=[-0.5, width - 0.5])
    if len(steps) < run.steps_done + 1:  # long runs: the frames are a sample, and say so
        notes.append(f"{len(steps)} of {run.steps_done + 1} steps shown, evenly spaced")
    return fit_layout(fig, "Step scrubber<br><sup>" + " · ".join(notes) + "</sup>",
                      220 + 40 * len(labels), margin=dict(l=PLAY_BUTTONS_PX))


# Frames that hold marks (a scatter trace) beside the heatmap are played without Plotly's
# transition: it tweens the scatter and drops the heatmap until the next redraw.
STILL = {"transition": {"duration": 0}}


def marked(fig: go.Figure) -> bool:
    """Whether ``fig``'s frames hold marks beside their heatmap (edits, cut positions)."""
    return bool(fig.frames) and len(fig.frames[0].data) > 1


SLIDER_GAP_PX = 60  # from the scrubber's plot to its slider: the axis ticks and title
PLAY_BUTTONS_PX = 90  # the scrubber's left margin holds at least its play buttons


def per_step_trace(event_steps, n_steps: int, steps: list[int], label: str, color: str,
                   what: str, dash: str) -> go.Scatter:
    """A dashed line of how many of an expert's events (edits, re-masks) each step made,
    grouped with its commits line."""
    per_step = np.bincount(np.asarray(event_steps, dtype=np.int64),
                           minlength=n_steps)[:n_steps]
    return go.Scatter(x=steps, y=per_step.tolist(), mode="lines", name=f"{label}: {what}",
                      legendgroup=label, showlegend=False,
                      line=dict(color=color, dash=dash, shape="hv"),
                      hovertemplate=f"{html.escape(label)}<br>step %{{x}}: %{{y}} {what}"
                                    "<extra></extra>")


def tokens_per_step(run: Run) -> go.Figure:
    """Per expert, the tokens committed at each of its steps (and, dotted, the tokens edited;
    dashed, the positions re-masked): flat with ``fixed``; with a parallel sampler, where an
    expert commits many at once. A dVoting round's tokens carried over are not counted."""
    fig = go.Figure()
    palette = ["#4c78a8", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#e45756", "#f58518",
               "#9d755d", "#bab0ac", "#ff9da6"]
    for i, (t, label) in enumerate(zip(run.trajectories, row_labels(run), strict=True)):
        color = palette[i % len(palette)]
        steps = list(range(len(t.commits)))  # plain lists: small, and readable in the page
        committed = t.commits - remasks.carried_per_step(t, len(t.commits))
        fig.add_trace(go.Scatter(
            x=steps, y=committed.tolist(), mode="lines+markers", name=f"{label} ({t.steps_taken} steps)",
            line=dict(color=color, shape="hv"), marker=dict(size=5), legendgroup=label,
            hovertemplate=f"{html.escape(label)}<br>step %{{x}}: %{{y}} committed<extra></extra>"))
        if len(t.edits):
            fig.add_trace(per_step_trace(t.edits[:, 0], len(t.commits), steps, label, color,
                                         "edited", "dot"))
        if remasks.marked(t):
            fig.add_trace(per_step_trace([r.step for r in remasks.remasks(t)], len(t.commits),
                                         steps, label, color, "re-masked", "dash"))
    fig.update_xaxes(title="step (each expert's own)")
    fig.update_yaxes(title="tokens committed", rangemode="tozero")
    fig.update_layout(legend=dict(orientation="h", y=-0.25))
    rows = "" if run.timing.row_passes is None else f" · {run.timing.row_passes} rows computed"
    edited = " · dotted: tokens edited" if any(len(t.edits) for t in run.trajectories) else ""
    if any(remasks.marked(t) for t in run.trajectories):
        edited += " · dashed: re-masked at a round's start (the tokens carried over not counted)"
    strategy = run.config.strategy
    how = (f"dVoting rounds, entropy below {strategy.entropy_threshold:g}"
           if strategy.rounds_voting else f"sampler {run.config.sampler.label}")
    return fit_layout(fig, f"Tokens per step · {how}<br><sup>"
                      f"{run.steps_done} forward passes{rows} (finished experts cost none)"
                      f"{edited}</sup>", 400)


def scaling(points: list[tuple[int, float, float]], title: str = "",
            by_seeds: list[tuple[int, int, float, float]] = ()) -> go.Figure:
    """HEX accuracy and tie rate against the number of votes (the paper's scaling figure).

    ``by_seeds`` (seeds per block size, votes, accuracy, tie rate) adds the points that keep every
    block size and add seeds, labelled with their seed count.
    """
    votes = [p[0] for p in points]
    fig = go.Figure([
        go.Scatter(x=votes, y=[p[1] for p in points], name="HEX accuracy (smallest blocks first)",
                   mode="lines+markers",
                   line=dict(color=palette.SERIES[0], width=3)),
        go.Scatter(x=votes, y=[p[2] for p in points], name="tie rate", mode="lines+markers",
                   line=dict(color=palette.SERIES[5], dash="dot")),
    ])
    if by_seeds:
        fig.add_trace(go.Scatter(
            x=[p[1] for p in by_seeds], y=[p[2] for p in by_seeds], mode="markers+text",
            name="HEX accuracy, every block size x 1..N seeds",
            text=[f"{p[0]} seed{'s' * (p[0] > 1)}" for p in by_seeds], textposition="top center",
            cliponaxis=False, marker=dict(color=palette.SERIES[1], size=12, symbol="diamond")))
    most = max([*votes, *(p[1] for p in by_seeds)], default=1)
    fig.update_xaxes(title="votes (experts × seeds)", dtick=1 if most <= 10 else None)
    # the legend under the chart: beside it, it takes a phone's whole width
    fig.update_layout(legend=dict(orientation="h", y=-0.3, yanchor="top"))
    # Room above 100% for the seed labels, which sit over points near the top.
    fig.update_yaxes(tickformat=".0%", range=[0, 1.12], tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1])
    return fit_layout(fig, title or "Test-time scaling: accuracy and ties against votes", 420,
                      margin=dict(b=110))


# --- two trajectories side by side (Compare, what-if forks) ------------------------------------

def differing_positions(a: Trajectory, b: Trajectory) -> np.ndarray:
    """Positions whose final tokens differ (a position still masked in either counts as
    differing only if the other has a token there); with growing canvases, every position
    past the shorter answer's end too."""
    if a.token_ids.shape == b.token_ids.shape:
        return np.flatnonzero(a.token_ids != b.token_ids)
    common = min(len(a.token_ids), len(b.token_ids))
    return np.concatenate([np.flatnonzero(a.token_ids[:common] != b.token_ids[:common]),
                           np.arange(common, max(len(a.token_ids), len(b.token_ids)))])


def token_or_end(t: Trajectory, p: int) -> str:
    return repr(t.tokens[p]) if p < len(t.tokens) else "(past its end)"


def compare_reveal(a_run: Run, a: int, b_run: Run, b: int, names: tuple[str, str] = ("A", "B"),
                   divergence: int | None = None) -> go.Figure:
    """Two experts' reveal orders as two rows on one colour scale, with a row of marks where
    their final tokens differ; ``divergence`` draws the step two runs split at as a note."""
    ta, tb = a_run.trajectories[a], b_run.trajectories[b]
    diff = differing_positions(ta, tb)
    labels = [f"{names[0]}: {row_labels(a_run)[a]}", f"{names[1]}: {row_labels(b_run)[b]}"]
    zmax = max(steps_scale(a_run), steps_scale(b_run))
    z = [np.where(t.reveal_step >= 0, t.reveal_step, np.nan) for t in (ta, tb)]
    text = [_hover(ta), _hover(tb)]
    width = max(len(ta.token_ids), len(tb.token_ids))
    if len(ta.token_ids) != len(tb.token_ids):  # growing canvases: blank past the shorter
        gen_length = a_run.config.gen_length
        text = growing.padded([h + [growing.past_end(len(h), gen_length)] * (width - len(h))
                               for h in text], "", object)
        z = growing.padded(z, np.nan)
    fig = go.Figure(go.Heatmap(
        z=z, y=[0, 1], x=list(range(width)), colorscale="Viridis", zmin=0,
        zmax=zmax, text=text, hoverinfo="text",
        colorbar=dict(title="step", orientation="h", y=-0.42, yanchor="top", thickness=12,
                      len=1, x=0.5, xanchor="center"),
        xgap=1, ygap=2))
    fig.add_trace(go.Scatter(
        x=diff.tolist(), y=[2] * len(diff), mode="markers", name="tokens differ",
        marker=dict(symbol="x", color=palette.SERIES[5], size=9), showlegend=False,
        hovertext=[f"pos {p}: {token_or_end(ta, p)} vs {token_or_end(tb, p)}" for p in diff],
        hoverinfo="text"))
    fig.update_yaxes(tickvals=[0, 1, 2], ticktext=[*names, "≠"], range=[2.5, -0.5])
    fig.update_xaxes(title="answer position", range=[-0.5, width - 0.5])
    title = f"Reveal order · {len(diff)} positions differ (✕)"
    if divergence is not None:
        title += f" · fork after step {divergence}"
    title += "<br><sup>" + " · ".join(labels) + "</sup>"
    return fit_layout(fig, title, 290, margin=dict(b=100))


def compare_maps(a_run: Run, a: int, b_run: Run, b: int,
                 names: tuple[str, str] = ("A", "B")) -> go.Figure:
    """The two experts' unmasking maps side by side (same state colours), differing positions
    marked along the top."""
    from plotly.subplots import make_subplots

    ta, tb = a_run.trajectories[a], b_run.trajectories[b]
    diff = differing_positions(ta, tb)
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=names,
                        horizontal_spacing=0.04)
    fig.update_annotations(font_size=12)
    for col, (run, t) in enumerate(((a_run, ta), (b_run, tb)), 1):
        steps = run.steps_done
        if growing.grows(run) and steps:  # each step's canvas at its own length
            z, text = growing.map_rows(run, t, range(steps))
        else:
            z = (np.stack([token_states(run, t, s + 1) for s in range(steps)]) if steps
                 else np.zeros((1, len(t.token_ids))))
            text = [_hover(t)] * len(z)
        fig.add_trace(go.Heatmap(
            z=z, zmin=-0.5, zmax=len(STATE_COLORS) - 0.5, colorscale=state_scale(),
            text=text, hoverinfo="text", showscale=col == 2,
            colorbar=STATE_BAR), row=1, col=col)
        fig.add_trace(go.Scatter(x=diff.tolist(), y=[-1.5] * len(diff), mode="markers",
                                 marker=dict(symbol="triangle-down", color=palette.SERIES[5], size=7),
                                 hoverinfo="skip", showlegend=False), row=1, col=col)
        fig.update_xaxes(title="answer position", row=1, col=col)
    fig.update_yaxes(title="step", autorange="reversed", row=1, col=1)
    fig.update_yaxes(autorange="reversed", row=1, col=2)
    labels = f"{names[0]}: {row_labels(a_run)[a]} · {names[1]}: {row_labels(b_run)[b]}"
    return fit_layout(fig, f"Unmasking maps (▼ tokens differ)<br><sup>{labels}</sup>", 440,
                      margin=dict(b=100))


def figures_html(run: Run, figures: dict[str, go.Figure]) -> str:
    """``figures`` in one self-contained page (plotly.js embedded once: works offline), cell
    text that does not fit its cell hidden as in the app."""
    parts = [fig.to_html(full_html=False, include_plotlyjs=(i == 0),
                         **{"animation_opts": STILL} if marked(fig) else {})
             for i, fig in enumerate(figures.values())]
    title = html.escape(run.prompt)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>hexviz: {title}</title>"
            f"</head><body><h2>{title}</h2>{''.join(parts)}{fit_cell_text_script()}"
            f"</body></html>")
