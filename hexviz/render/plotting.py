"""What every chart shares: a title and margins that fit a phone, the experts' row labels and
block names, the block edges a row draws, the colour scale and legend of the position states,
the colour bar and scale of steps, the text a scrubber cell writes."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from hexviz.policy.settings import Expert
from hexviz.render import palette
from hexviz.render.states import END_OF_TEXT, END_OF_TURN, MASK, STATE_NAMES
from hexviz.render.textfit import TITLE_SIZE, wrap_title
from hexviz.runs.record import Run, Trajectory

STATE_COLORS = list(palette.STATE_COLORS)  # colour-blind and grayscale safe (render.palette)
FONT = dict(family="Inter, system-ui, sans-serif", size=13)
# The state legend as a horizontal bar under the chart: a side bar takes half a phone's width.
# Two-word names on two lines and never slanted: on a phone, slanted ones lose the last.
STATE_BAR = dict(tickvals=list(range(len(STATE_NAMES))),
                 ticktext=[name.replace(" ", "<br>", 1) for name in STATE_NAMES], tickangle=0,
                 orientation="h", y=-0.2, yanchor="top", thickness=12, len=1)


TITLE_LINE_PX = 20  # the height a title line takes in the top margin, <sup> lines too
TITLE_TOP_PX = 20  # where the title's first line is anchored, from the figure's top


def fit_layout(fig: go.Figure, title: str, height: int, margin: dict | None = None) -> go.Figure:
    """Title, height and margins: the title wrapped to fit a phone (`wrap_title`), the top
    margin made for its lines and ``height`` grown by as much, so the plot keeps its size."""
    title = wrap_title(title)
    top = 16 + TITLE_LINE_PX * (title.count("<br>") + 1)
    height += max(top - 50, 0)
    # Anchored by its first line, 20 px from the top (Plotly's "top" counts from the first
    # line's middle): Plotly's automatic place centres only one line in the margin.
    fig.update_layout(title=dict(text=title, x=0.01, xanchor="left", yref="container",
                                 y=1 - TITLE_TOP_PX / height, yanchor="top",
                                 font=dict(size=TITLE_SIZE)),
                      height=height, font=FONT,
                      margin={"l": 10, "r": 10, "b": 40, **(margin or {}), "t": max(top, 50)},
                      plot_bgcolor="white")
    return fig


def state_scale() -> list[list]:
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


def block_name(expert: Expert) -> str:
    """An expert's blocks as its label names them: "B=8", "B=8+8+16+32+64", "B=ada:0.3/8"
    (AdaBlock's threshold, then its fallback size)."""
    fallback = f"/{expert.block_length}" if expert.adaptive else ""
    return f"B={expert.blocks_spec}{fallback}"


def block_edges(t: Trajectory) -> list[int]:
    """The positions where one of the expert's recorded blocks (`Trajectory.blocks`) ends and
    the next begins, the canvas's own ends left out: uneven for a schedule or AdaBlock."""
    ends = t.blocks[:, 1]
    return ends[(ends > 0) & (ends < len(t.token_ids))].tolist()


def axis_label(label: str) -> str:
    """A row label on two lines, as a chart's y axis shows it: on one line the longest take
    half a phone's width from the chart ("B=16<br>low_confidence", "whole (margin)<br>✗
    collapsed")."""
    if " ✗" in label:  # a collapsed row: the flag on the second line
        head, tail = label.split(" ✗", 1)
        tail = "✗" + tail
    else:
        head, _, tail = label.partition(" ")
    return f"{head}<br>{tail}" if tail else head


def rows_axis(fig: go.Figure, labels: list[str]) -> None:
    """The y axis of a chart with one row per label: two-line labels (`axis_label`), top down."""
    fig.update_yaxes(autorange="reversed", tickvals=labels,
                     ticktext=[axis_label(label) for label in labels])



def steps_scale(run: Run) -> int:
    """The last step a colour scale of steps must reach: ``steps`` with ``fixed``, else the
    slowest expert's (each finishes at its own step)."""
    if not run.config.variable:
        return run.config.steps - 1
    return max([t.steps_taken for t in run.trajectories] + [1]) - 1


STEP_BAR_PX = 56  # the reveal order's colour bar of steps, under the chart: ticks, bar, title


def step_bar(height: int) -> dict:
    """A horizontal colour bar of steps along the bottom of a figure ``height`` px tall: beside
    a chart of one or two rows a vertical bar is too short for its tick labels."""
    # the title beside the bar: above it, Plotly pushes the margin and squashes a one-row chart
    return dict(title=dict(text="step", side="right"), orientation="h", thickness=10, len=0.85,
                tickangle=0, x=0.5, xanchor="center", yref="container", y=6 / height,
                yanchor="bottom")


# One character per state in the scrubber's cells: "<|endoftext|>" fits no cell.
CELL_MARKS = {MASK: "·", END_OF_TURN: "⏎", END_OF_TEXT: "∎"}


def cell_texts(texts: Sequence[str]) -> list[str]:
    """Token texts as the scrubber's cells write them: trimmed, and with no markup."""
    return [tok.strip().replace("<", "‹").replace(">", "›") for tok in texts]
