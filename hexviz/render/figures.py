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
from hexviz.render import palette
from hexviz.render.states import END_OF_TEXT, END_OF_TURN, MASK, STATE_NAMES, TEXT
from hexviz.runs.record import Run, Trajectory

MAX_BLOCK_EDGES = 400  # white edge lines drawn in the reveal order (each is one layout shape)
STATE_COLORS = list(palette.STATE_COLORS)  # colour-blind and grayscale safe (render.palette)
FONT = dict(family="Inter, system-ui, sans-serif", size=13)
# The state legend as a horizontal bar under the chart: a side bar takes half a phone's width.
STATE_BAR = dict(tickvals=list(range(len(STATE_NAMES))), ticktext=list(STATE_NAMES),
                 orientation="h", y=-0.2, yanchor="top", thickness=12, len=1)


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0.01), height=height, font=FONT,
                      margin=dict(l=10, r=10, t=50, b=40), plot_bgcolor="white")
    return fig


def _discrete_scale() -> list[list]:
    """A colour scale that maps the integer states 0..3 to flat colours."""
    n = len(STATE_COLORS)
    scale = []
    for i, color in enumerate(STATE_COLORS):
        scale += [[i / n, color], [(i + 1) / n, color]]
    return scale


def row_labels(run: Run) -> list[str]:
    labels = []
    for t in run.trajectories:
        flag = " ✗ collapsed" if t.collapsed else ""
        labels.append(f"{t.expert.label}{flag}")
    return labels


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


def steps_scale(run: Run) -> int:
    """The last step a colour scale of steps must reach: ``steps`` with ``fixed``, else the
    slowest expert's (each finishes at its own step)."""
    if not run.config.sampler.variable:
        return run.config.steps - 1
    return max([t.steps_taken for t in run.trajectories] + [1]) - 1


def _hover(t: Trajectory) -> list[str]:
    of = f" of {t.steps_taken}"
    return [f"pos {p}<br>token {html.escape(repr(tok), quote=False)}<br>step {s}{of}"
            f"<br>conf {c:.3f}"
            if s >= 0 else f"pos {p}<br>still masked"
            for p, (tok, s, c) in enumerate(zip(t.tokens, t.reveal_step, t.reveal_conf))]


def reveal_order(run: Run) -> go.Figure:
    """Heatmap, one row per expert: the step at which each answer position was revealed."""
    z = np.stack([np.where(t.reveal_step >= 0, t.reveal_step, np.nan) for t in run.trajectories])
    labels = row_labels(run)
    fig = go.Figure(go.Heatmap(
        z=z, y=labels, x=list(range(run.config.gen_length)), colorscale="Viridis",
        zmin=0, zmax=steps_scale(run),
        text=np.array([_hover(t) for t in run.trajectories], dtype=object),
        hoverinfo="text", colorbar=dict(title="step"), xgap=1, ygap=2))
    for t, label in zip(run.trajectories, labels, strict=True):
        if len(t.edits):
            fig.add_trace(edit_marks(t, label))
    edges = [(row, edge) for row, t in enumerate(run.trajectories)
             for edge in range(t.expert.block_length, run.config.gen_length, t.expert.block_length)]
    title = "Reveal order: step at which each token was unmasked (white: block edges)"
    if len(edges) > MAX_BLOCK_EDGES:  # a shape each: thousands would stall the browser
        edges, title = [], "Reveal order: step at which each token was unmasked (too many " \
                           "block edges to draw)"
    if any(len(t.edits) for t in run.trajectories):
        title += "<br><sup>◇ edited later: hover for old → new</sup>"
    fig.update_layout(shapes=[dict(type="line", x0=e - 0.5, x1=e - 0.5, y0=r - 0.5, y1=r + 0.5,
                                   line=dict(color="white", width=2)) for r, e in edges])
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title="answer position")
    return _layout(fig, title, 140 + 34 * len(labels))


def unmasking_map(run: Run, index: int) -> go.Figure:
    """HEX Figure 2 style: step (y) x position (x), each cell the state the position holds."""
    t = run.trajectories[index]
    lim = limits.current()
    steps = t.steps_taken  # the expert's own: with a parallel sampler, fewer than the run's
    # Rows are steps 0..steps-1; a long run keeps evenly spaced ones within the cell budget.
    rows = limits.sample_steps(steps - 1, run.config.gen_length, steps, lim.max_cells) \
        if steps else []
    z = np.stack([token_states(run, t, s + 1) for s in rows]) if rows else np.zeros((1, 1))
    hover = _hover(t)
    fig = go.Figure(go.Heatmap(
        z=z, y=rows or None, zmin=-0.5, zmax=len(STATE_COLORS) - 0.5,
        colorscale=_discrete_scale(), text=np.array([hover] * len(z), dtype=object),
        hoverinfo="text", showscale=True, colorbar=STATE_BAR))
    if len(t.edits):
        fig.add_trace(edit_marks(t, "step"))
    fig.update_yaxes(title="step", autorange="reversed")
    fig.update_xaxes(title="answer position")
    title = f"Unmasking map — {t.expert.label} — {steps} steps"
    if len(t.edits):
        title += f" — {len(t.edits)} edits (◇)"
    if len(rows) < steps:
        title += f" — {len(rows)} of {steps} steps shown"
    if t.collapsed:
        title += " — COLLAPSED (squeezed out by end tokens)"
    return _layout(fig, title, 420).update_layout(margin=dict(b=100))


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
        revealed = t.reveal_step[None, :] < steps[:, None]
        revealed &= t.reveal_step[None, :] >= 0
        committed_end = (revealed & np.isin(t.token_ids, end_ids)[None, :]).sum(1)
        share = committed_end / np.maximum(revealed.sum(1), 1)
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
    return _layout(fig, "End-token pressure<br><sup>solid: masked positions drafting an end "
                   "token · dotted: revealed tokens that are end tokens · dash-dot: mean "
                   "end-token probability over masked positions</sup>", 440)


def vote_panel(run: Run) -> go.Figure:
    """Bar chart of extracted answers with their supporters; winner marked, tie flagged."""
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
    return _layout(fig, title, 260)


def scrubber(run: Run, start: int | None = None) -> go.Figure:
    """Every expert's canvas at step t, with a slider and play button (client-side frames);
    it opens at step ``start`` (default: the last)."""
    labels = row_labels(run)
    edited = any(len(t.edits) for t in run.trajectories)

    def shown(texts: list[str]) -> list[str]:
        return [tok.replace("<", "‹").replace(">", "›") for tok in texts]

    tokens = np.array([shown(t.tokens) for t in run.trajectories], dtype=object)  # (K, L)

    def heat(step: int) -> go.Heatmap:  # numpy arrays: plotly validates them 10x faster
        z = np.stack([token_states(run, t, step) for t in run.trajectories])  # (K, L)
        now = tokens if not edited else np.array(
            [shown(texts_at(t, step)) for t in run.trajectories], dtype=object)
        text = np.where(z > 0, now, "·")
        return go.Heatmap(z=z, y=labels, zmin=-0.5, zmax=len(STATE_COLORS) - 0.5,
                          colorscale=_discrete_scale(), showscale=False, text=text,
                          texttemplate="%{text}", textfont=dict(size=9), hoverinfo="text",
                          xgap=1, ygap=2)

    def frame(step: int) -> list:
        """The canvases, and (when the run edits) a mark on each token edited so far."""
        if not edited:
            return [heat(step)]
        marks = [edit_marks(t, label, before=step) for t, label in zip(run.trajectories, labels,
                                                                       strict=True)]
        xs = [x for m in marks for x in m.x]
        ys = [y for m in marks for y in m.y]
        hover = [h for m in marks for h in m.hovertext]
        return [heat(step), go.Scatter(x=xs, y=ys, mode="markers", hovertext=hover,
                                       hoverinfo="text", marker=marks[0].marker,
                                       showlegend=False)]

    lim = limits.current()
    cells = len(run.trajectories) * run.config.gen_length  # per frame
    steps = limits.sample_steps(run.steps_done, cells, lim.max_frames, lim.max_cells)
    wanted = steps[-1] if start is None else min(max(start, 0), steps[-1])
    active = min(range(len(steps)), key=lambda i: abs(steps[i] - wanted))  # nearest drawn step
    fig = go.Figure(frame(steps[active]),
                    frames=[go.Frame(data=frame(s), name=str(s)) for s in steps])
    slider = dict(active=active, currentvalue=dict(prefix="step "), pad=dict(t=40),
                  steps=[dict(method="animate", label=str(s),
                              args=[[str(s)], dict(mode="immediate", frame=dict(duration=0),
                                                   transition=dict(duration=0))])
                         for s in steps])
    play = dict(type="buttons", direction="left", x=0, y=-0.15, xanchor="left", showactive=False,
                buttons=[dict(label="▶ play", method="animate",
                              args=[None, dict(frame=dict(duration=120), fromcurrent=True)]),
                         dict(label="❚❚ pause", method="animate",
                              args=[[None], dict(mode="immediate", frame=dict(duration=0))])])
    fig.update_layout(sliders=[slider], updatemenus=[play])
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title="answer position")
    title = "Step scrubber: every expert's canvas after t steps"
    if run.config.sampler.variable:
        title += " (a row stops changing when its expert has finished)"
    if edited:
        title += "<br><sup>◇ edited so far: hover for old → new</sup>"
    if len(steps) < run.steps_done + 1:  # long runs: the frames are a sample, and say so
        title += f" ({len(steps)} of {run.steps_done + 1} steps shown, evenly spaced)"
    return _layout(fig, title, 220 + 40 * len(labels))


def tokens_per_step(run: Run) -> go.Figure:
    """Per expert, the tokens committed at each of its steps (and, dotted, the tokens edited):
    flat with ``fixed``; with a parallel sampler, where an expert commits many at once."""
    fig = go.Figure()
    palette = ["#4c78a8", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#e45756", "#f58518",
               "#9d755d", "#bab0ac", "#ff9da6"]
    for i, (t, label) in enumerate(zip(run.trajectories, row_labels(run), strict=True)):
        color = palette[i % len(palette)]
        steps = list(range(len(t.commits)))  # plain lists: small, and readable in the page
        fig.add_trace(go.Scatter(
            x=steps, y=t.commits.tolist(), mode="lines+markers", name=f"{label} ({t.steps_taken} steps)",
            line=dict(color=color, shape="hv"), marker=dict(size=5), legendgroup=label,
            hovertemplate=f"{html.escape(label)}<br>step %{{x}}: %{{y}} committed<extra></extra>"))
        if len(t.edits):
            per_step = np.bincount(t.edits[:, 0], minlength=len(t.commits))[:len(t.commits)]
            fig.add_trace(go.Scatter(
                x=steps, y=per_step.tolist(), mode="lines", name=f"{label}: edited",
                legendgroup=label, showlegend=False,
                line=dict(color=color, dash="dot", shape="hv"),
                hovertemplate=f"{html.escape(label)}<br>step %{{x}}: %{{y}} edited"
                              "<extra></extra>"))
    fig.update_xaxes(title="step (each expert's own)")
    fig.update_yaxes(title="tokens committed", rangemode="tozero")
    fig.update_layout(legend=dict(orientation="h", y=-0.25))
    rows = "" if run.timing.row_passes is None else f" · {run.timing.row_passes} rows computed"
    edited = " · dotted: tokens edited" if any(len(t.edits) for t in run.trajectories) else ""
    return _layout(fig, f"Tokens per step · sampler {run.config.sampler.label}<br><sup>"
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
        go.Scatter(x=votes, y=[p[1] for p in points], name="HEX accuracy", mode="lines+markers",
                   line=dict(color=palette.SERIES[0], width=3)),
        go.Scatter(x=votes, y=[p[2] for p in points], name="tie rate", mode="lines+markers",
                   line=dict(color=palette.SERIES[5], dash="dot")),
    ])
    if by_seeds:
        fig.add_trace(go.Scatter(
            x=[p[1] for p in by_seeds], y=[p[2] for p in by_seeds], mode="markers+text",
            name="HEX accuracy, every block size x 1..N seeds",
            text=[f"{p[0]} seed{'s' * (p[0] > 1)}" for p in by_seeds], textposition="top center",
            marker=dict(color=palette.SERIES[1], size=12, symbol="diamond")))
    fig.update_xaxes(title="votes (experts x seeds, smallest blocks first)", dtick=1)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02])
    return _layout(fig, title or "Test-time scaling: accuracy and ties against votes", 360)


# --- two trajectories side by side (Compare, what-if forks) ------------------------------------

def differing_positions(a: Trajectory, b: Trajectory) -> np.ndarray:
    """Positions whose final tokens differ (a position still masked in either counts as
    differing only if the other has a token there)."""
    if a.token_ids.shape != b.token_ids.shape:
        raise ValueError(f"cannot compare answers of different lengths "
                         f"({len(a.token_ids)} and {len(b.token_ids)} tokens)")
    return np.flatnonzero(a.token_ids != b.token_ids)


def compare_reveal(a_run: Run, a: int, b_run: Run, b: int, names: tuple[str, str] = ("A", "B"),
                   divergence: int | None = None) -> go.Figure:
    """Two experts' reveal orders as two rows on one colour scale, with a row of marks where
    their final tokens differ; ``divergence`` draws the step two runs split at as a note."""
    ta, tb = a_run.trajectories[a], b_run.trajectories[b]
    diff = differing_positions(ta, tb)
    labels = [f"{names[0]}: {row_labels(a_run)[a]}", f"{names[1]}: {row_labels(b_run)[b]}"]
    zmax = max(steps_scale(a_run), steps_scale(b_run))
    z = [np.where(t.reveal_step >= 0, t.reveal_step, np.nan) for t in (ta, tb)]
    fig = go.Figure(go.Heatmap(
        z=z, y=[0, 1], x=list(range(len(ta.token_ids))), colorscale="Viridis", zmin=0,
        zmax=zmax, text=[_hover(ta), _hover(tb)], hoverinfo="text",
        colorbar=dict(title="step", orientation="h", y=-0.42, yanchor="top", thickness=12,
                      len=1, x=0.5, xanchor="center"),
        xgap=1, ygap=2))
    fig.add_trace(go.Scatter(
        x=diff.tolist(), y=[2] * len(diff), mode="markers", name="tokens differ",
        marker=dict(symbol="x", color=palette.SERIES[5], size=9), showlegend=False,
        hovertext=[f"pos {p}: {ta.tokens[p]!r} vs {tb.tokens[p]!r}" for p in diff],
        hoverinfo="text"))
    fig.update_yaxes(tickvals=[0, 1, 2], ticktext=[*names, "≠"], range=[2.5, -0.5])
    fig.update_xaxes(title="answer position", range=[-0.5, len(ta.token_ids) - 0.5])
    title = f"Reveal order · {len(diff)} positions differ (✕)"
    if divergence is not None:
        title += f" · fork after step {divergence}"
    title += "<br><sup>" + " · ".join(labels) + "</sup>"
    return _layout(fig, title, 320).update_layout(margin=dict(b=100, t=80))


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
        z = (np.stack([token_states(run, t, s + 1) for s in range(steps)]) if steps
             else np.zeros((1, len(t.token_ids))))
        fig.add_trace(go.Heatmap(
            z=z, zmin=-0.5, zmax=len(STATE_COLORS) - 0.5, colorscale=_discrete_scale(),
            text=[_hover(t)] * len(z), hoverinfo="text", showscale=col == 2,
            colorbar=STATE_BAR), row=1, col=col)
        fig.add_trace(go.Scatter(x=diff.tolist(), y=[-1.5] * len(diff), mode="markers",
                                 marker=dict(symbol="triangle-down", color=palette.SERIES[5], size=7),
                                 hoverinfo="skip", showlegend=False), row=1, col=col)
        fig.update_xaxes(title="answer position", row=1, col=col)
    fig.update_yaxes(title="step", autorange="reversed", row=1, col=1)
    fig.update_yaxes(autorange="reversed", row=1, col=2)
    labels = f"{names[0]}: {row_labels(a_run)[a]} · {names[1]}: {row_labels(b_run)[b]}"
    return _layout(fig, f"Unmasking maps (▼ tokens differ)<br><sup>{labels}</sup>",
                   480).update_layout(
        margin=dict(b=100, t=90))


def figures_html(run: Run, figures: dict[str, go.Figure]) -> str:
    """``figures`` in one self-contained page (plotly.js embedded once: works offline)."""
    parts = [fig.to_html(full_html=False, include_plotlyjs=(i == 0))
             for i, fig in enumerate(figures.values())]
    title = html.escape(run.prompt)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>hexviz: {title}</title>"
            f"</head><body><h2>{title}</h2>{''.join(parts)}</body></html>")
