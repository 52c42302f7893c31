"""Canvases that grow and shrink (``--length daedal`` / ``rho-eos``) in the charts: each step's
canvas as a row of states of its own length, rows padded to the widest, the marks of inserts
and deletes, a scrubber frame with the positions cut at its step struck through, and the chart
of each expert's canvas length over its steps.

`hexviz.render.figures` calls these for a run whose canvas may change length (`grows`) and
draws a fixed-length run as it always has; the padding serves both (rows of one length stay as
they are), and the canvas-length chart draws a fixed run as flat lines.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from hexviz.render import palette
from hexviz.render.plotting import CELL_MARKS, cell_texts, fit_layout
from hexviz.render.states import END_OF_TEXT, END_OF_TURN, MASK, TEXT
from hexviz.render.timeline import Timeline, timeline
from hexviz.runs import events as ev
from hexviz.runs.record import Run, Trajectory

INSERT_COLOR = palette.SERIES[2]  # bluish green: masks inserted
DELETE_COLOR = palette.SERIES[5]  # vermillion: positions cut
STRIKE_COLOR = palette.INK  # the line through the positions a scrubber frame shows cut
DASHES = ("solid", "dot", "dash", "dashdot", "longdash")  # lines that overlap stay apart


def grows(run: Run) -> bool:
    """Whether the run's canvases may change length (its rows then differ in length)."""
    return run.config.length.grows


def vocabulary(run: Run) -> dict[int, str]:
    """id -> token text from every final token, edit and cut token of ``run`` (a run stores no
    vocabulary): the text a slot shows at any step."""
    vocab: dict[int, str] = {}
    for t in run.trajectories:
        vocab.update(t.cut_texts)
        for i, token in zip(t.token_ids.tolist(), t.tokens, strict=True):
            vocab.setdefault(int(i), token)
        if len(t.edit_texts) == len(t.edits):
            for (_, _, old, new), (old_text, new_text) in zip(t.edits.tolist(), t.edit_texts,
                                                              strict=True):
                vocab.setdefault(int(old), old_text)
                vocab.setdefault(int(new), new_text)
    return vocab


def token_text(vocab: dict[int, str], token_id: int) -> str:
    return vocab.get(int(token_id), f"#{int(token_id)}")


def states_of(run: Run, ids: np.ndarray, committed: np.ndarray) -> np.ndarray:
    """(L,) the state of each position: mask where nothing is committed, else by its id."""
    states = np.full(ids.shape, TEXT)
    states[ids == run.special.end_of_turn_id] = END_OF_TURN
    states[ids == run.special.end_of_text_id] = END_OF_TEXT
    return np.where(committed, states, MASK)


def padded(rows: Sequence[Sequence], fill, dtype=float, width: int | None = None) -> np.ndarray:
    """Rows of different lengths as one (R, ``width``) array (default: the widest row's),
    ``fill`` past each row's end."""
    width = max((len(r) for r in rows), default=0) if width is None else width
    out = np.full((len(rows), width), fill, dtype=dtype)
    for k, row in enumerate(rows):
        out[k, :len(row)] = row
    return out


def past_end(length: int, gen_length: int) -> str:
    return f"past the end of this canvas<br>({length} positions, at most {gen_length})"


def end_tokens_per_step(run: Run, t: Trajectory, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(end tokens committed, tokens committed), each (steps,), on the canvas after 1 ..
    ``steps`` steps."""
    canvases = ev.canvases(t.events, steps, run.special.mask_id)
    committed = [c.reveal_step >= 0 for c in canvases]
    ends = [(k & np.isin(c.ids, run.special.end_ids)).sum() for c, k in zip(canvases, committed,
                                                                            strict=True)]
    return np.array(ends, dtype=np.int64), np.array([k.sum() for k in committed], dtype=np.int64)


# --- the unmasking map: one row per step, each that step's canvas -------------------------------

def map_rows(run: Run, t: Trajectory, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """(z, hover), each (len(rows), widest): the states of the canvas after s + 1 steps for
    each s in ``rows`` (nan past its end) and each cell's hover text."""
    vocab, mask = vocabulary(run), run.special.mask_id
    canvases = ev.canvases(t.events, max(rows, default=-1) + 1, mask)
    z, hover = [], []
    for s in rows:
        c = canvases[s]
        z.append(states_of(run, c.ids, c.reveal_step >= 0))
        n = len(c)
        hover.append([f"step {s}: pos {p} of {n}<br>token "
                      f"{html.escape(repr(token_text(vocab, i)), quote=False)}<br>"
                      f"committed at step {r}" if r >= 0 else
                      f"step {s}: pos {p} of {n}<br>still masked"
                      for p, (i, r) in enumerate(zip(c.ids.tolist(), c.reveal_step.tolist(),
                                                     strict=True))])
    return padded(z, np.nan), padded(hover, "", object)


def resize_marks(run: Run, t: Trajectory) -> go.Scatter:
    """The expert's inserts (▶, bluish green) and deletes (✕, vermillion) at (the position
    they happened before, the step they happened at)."""
    mask = run.special.mask_id
    cuts = iter(ev.deletions(t.events, mask))
    xs, ys, symbols, colors, hover = [], [], [], [], []
    for e in t.events.events():
        if e.kind not in (ev.INSERT, ev.DELETE):
            continue
        xs.append(e.position - 0.5)
        ys.append(e.step)
        if e.kind == ev.INSERT:
            symbols.append("triangle-right")
            colors.append(INSERT_COLOR)
            hover.append(f"step {e.step}: {e.count} masks inserted before position {e.position}")
        else:
            held = sum(i != mask for i in next(cuts).ids)
            symbols.append("x")
            colors.append(DELETE_COLOR)
            hover.append(f"step {e.step}: {e.count} positions cut from position {e.position}"
                         f"<br>({held} held a token)")
    return go.Scatter(x=xs, y=ys, mode="markers", name="canvas changes", showlegend=False,
                      marker=dict(symbol=symbols, color=colors, size=10, line=dict(width=1)),
                      hovertext=hover, hoverinfo="text")


# --- the scrubber: every expert's canvas at one step ---------------------------------------------

def scrub_row(run: Run, tl: Timeline, vocab: dict[int, str], step: int, since: int) -> tuple:
    """One expert's canvas after ``step`` steps, with the slots cut since step ``since`` kept
    where they stood: (states, cell texts, hover texts, struck) over the cells drawn."""
    row = tl.at(step)
    live, struck = tl.live(step), tl.struck(step, since)
    drawn = np.flatnonzero(live | struck)
    ids, committed = tl.ids[row][drawn], tl.committed[row][drawn]
    states = states_of(run, ids, committed >= 0)
    cut = struck[drawn]
    n, texts, hover, position = int(live.sum()), [], [], 0
    for k, slot in enumerate(drawn.tolist()):
        state = int(states[k])
        token = token_text(vocab, ids[k]) if state != MASK else "[MASK]"
        shown = CELL_MARKS.get(state) or cell_texts([token])[0]
        quoted = html.escape(repr(token), quote=False)
        if cut[k]:
            texts.append(f"<s>{shown}</s>")
            hover.append(f"cut at step {tl.gone[slot]}<br>held {quoted}")
            continue
        texts.append(shown)
        born = f"<br>inserted at step {tl.born[slot]}" if tl.born[slot] >= 0 else ""
        hover.append(f"pos {position} of {n}<br>{quoted}{born}")
        position += 1
    return states, texts, hover, cut


def scrub_frame(run: Run, timelines: Sequence[Timeline], vocab: dict[int, str],
                labels: Sequence[str], step: int, since: int, width: int) -> tuple:
    """(states, texts, hover) as (K, ``width``) arrays, nan and "" past a row's end, and the
    strike lines through the cut cells as one scatter trace."""
    rows = [scrub_row(run, tl, vocab, step, since) for tl in timelines]
    strike_x, strike_y = [], []
    for (_, _, _, cut), label in zip(rows, labels, strict=True):
        for start, end in runs_of(cut):
            strike_x += [start - 0.5, end - 0.5, None]
            strike_y += [label, label, None]
    strikes = go.Scatter(x=strike_x, y=strike_y, mode="lines", hoverinfo="skip",
                         line=dict(color=STRIKE_COLOR, width=2), showlegend=False,
                         name="cut at this step")
    return (padded([r[0] for r in rows], np.nan, width=width),
            padded([r[1] for r in rows], "", object, width),
            padded([r[2] for r in rows], "", object, width), strikes)


def runs_of(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True in ``flags``."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(),
                    strict=True))


def scrub_width(timelines: Sequence[Timeline], steps: Sequence[int]) -> int:
    """The widest row any drawn frame has (its canvas and the cells cut at its step)."""
    widest, since = 1, 0
    for step in steps:
        for tl in timelines:
            widest = max(widest, int((tl.live(step) | tl.struck(step, since)).sum()))
        since = step
    return widest


def timelines(run: Run) -> list[Timeline]:
    return [timeline(t.events, t.steps_taken, run.special.mask_id) for t in run.trajectories]


# --- the canvas length over the steps -----------------------------------------------------------

def canvas_length(run: Run) -> go.Figure:
    """Each expert's canvas length after every step (step 0: the canvas it started from), a
    line each, the maximum (gen_length) dashed. A fixed-length run draws flat lines at the
    maximum: the chart keeps its place in every run, and says what would change it."""
    fig = go.Figure()
    gen_length = run.config.gen_length
    for i, t in enumerate(run.trajectories):
        label = t.expert.label  # no collapse flag: on a phone the legend has room for one line
        lengths = [t.events.initial_length, *t.canvas_length.tolist()]
        fig.add_trace(go.Scatter(
            x=list(range(len(lengths))), y=lengths, mode="lines", name=f"{label}: ends at "
            f"{lengths[-1]}", line=dict(color=palette.SERIES[i % len(palette.SERIES)],
                                        dash=DASHES[i % len(DASHES)], shape="hv", width=2),
            hovertemplate=f"{html.escape(label)}<br>after step %{{x}}: %{{y}} positions"
                          "<extra></extra>"))
    fig.add_hline(y=gen_length, line=dict(color=palette.MUTED, dash="dash", width=1),
                  annotation=dict(text=f"maximum: gen_length {gen_length}",
                                  font=dict(color=palette.MUTED)),
                  annotation_position="top left")
    fig.update_xaxes(title="step (each expert's own)", rangemode="tozero")
    fig.update_yaxes(title="canvas length (positions)", range=[0, gen_length * 1.1])
    fig.update_layout(legend=dict(orientation="h", y=-0.25))
    length = run.config.length
    if length.grows:
        note = (f"{length.label()}: grows and is cut from the model's end-of-text signal, up "
                f"to the maximum")
    else:
        note = (f"fixed length: every canvas keeps its {gen_length} positions (a growing "
                f"canvas, length daedal or rho-eos, changes it)")
    return fit_layout(fig, f"Canvas length<br><sup>{note}</sup>", 400)
