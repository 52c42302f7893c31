"""The test-time scaling curve of an eval's results (HEX accuracy and tie rate against votes), as
the Scaling tab and the lesson's scaling chapter draw it, under one title; and the lab's chart
of strategies at equal compute (accuracy against row passes per problem), from stored curves."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import plotly.graph_objects as go

from hexviz.eval.records import EvalResults
from hexviz.eval.scoring import scaling_curve, seed_scaling_curve
from hexviz.paths import BUILTIN_DIR
from hexviz.render import figures, palette
from hexviz.render.plotting import fit_layout

BUILTIN_NAME = "built-in model"  # how titles name the shipped model, whatever its folder


def model_name(model: str) -> str:
    """A model as a visitor knows it: the built-in one by that name, others by folder name."""
    try:
        if Path(model).resolve() == BUILTIN_DIR.resolve():
            return BUILTIN_NAME
    except OSError:  # a hub id or an unreadable path: its name is all there is
        pass
    return Path(model).name


def scaling_title(results: EvalResults, model: str | None = None) -> str:
    """The curve's title: how many problems, and the model (``model``, else named from the
    results' model path by `model_name`)."""
    name = model or model_name(results.model)
    return f"Test-time scaling on {len(results.records)} problems ({name})"


def scaling_figure(results: EvalResults, model: str | None = None) -> go.Figure:
    """The curve over the first 1..K voters, and over 1..N seeds of every block size, titled
    with ``model`` (default: named from the results, `scaling_title`)."""
    return figures.scaling(scaling_curve(results), scaling_title(results, model),
                           seed_scaling_curve(results))


# --- strategies at equal compute (the lab) -----------------------------------------------------
# The curves are `hexviz.eval.lab.Curve`s (strategy, label, points of experts, row_passes,
# accuracy, low, high), read here by their fields: this floor does not import the lab's voting.

DECIDED = ", decided vote"  # a decided-vote variant's label: its plain curve's, and this


def lab_title(header: dict) -> str:
    """The lab chart's title: problems and model, then the sampler on a subtitle line."""
    problems, model, sampler = (header.get(k) for k in ("problems", "model", "sampler"))
    on = f" on {problems} problems" if problems else ""
    name = f" ({model_name(str(model))})" if model else ""
    sub = f"sampler {sampler} · " if sampler else ""
    return f"Strategies at equal compute{on}{name}<br><sup>{sub}bars: 95% intervals</sup>"


def point_hover(label: str, strategy: str, p) -> str:
    """A point's hover: "HEX, 3 decodes: 62.4% (58.0%-66.8%), 96 row passes" (dVoting: "up
    to" its rounds)."""
    decodes = f"up to {p.experts}" if strategy == "dvoting" else f"{p.experts}"
    return (f"{html.escape(label)}, {decodes} decode{'s' * (p.experts > 1)}: "
            f"{p.accuracy:.1%} ({p.low:.1%}-{p.high:.1%}), {p.row_passes:.0f} row passes")


def lab_figure(curves: Sequence, header: dict, shown: Sequence[str] | None = None) -> go.Figure:
    """Accuracy (95% bootstrap bars) against row passes per problem, one line per curve
    labelled in ``shown`` (None: all). A decided-vote variant is dashed in its plain curve's
    colour; dVoting, one point, a star. Colours follow the curves' order in the file, so a curve
    keeps its colour whichever others are shown."""
    plain = list(dict.fromkeys(c.label.removesuffix(DECIDED) for c in curves))
    color = {label: palette.SERIES[i % len(palette.SERIES)] for i, label in enumerate(plain)}
    fig = go.Figure()
    for c in curves:
        if shown is not None and c.label not in shown:
            continue
        xs, ys = [p.row_passes for p in c.points], [p.accuracy for p in c.points]
        hue = color[c.label.removesuffix(DECIDED)]
        single = c.strategy == "dvoting"
        fig.add_trace(go.Scatter(
            x=xs, y=ys, name=c.label, mode="markers" if single else "lines+markers",
            line=dict(color=hue, width=3 if c.strategy == "hex" else 2,
                      dash="dash" if c.strategy.endswith("-decided") else "solid"),
            marker=dict(color=hue, size=14 if single else 7,
                        symbol="star" if single else "circle"),
            error_y=dict(type="data", symmetric=False, color=hue, thickness=1, width=3,
                         array=[p.high - p.accuracy for p in c.points],
                         arrayminus=[p.accuracy - p.low for p in c.points]),
            text=[point_hover(c.label, c.strategy, p) for p in c.points],
            hovertemplate="%{text}<extra></extra>"))
    fig.update_xaxes(title="row passes per problem",
                     rangemode="tozero")
    fig.update_yaxes(title="accuracy", tickformat=".0%")
    # the legend under the chart: beside it, it takes a phone's whole width
    fig.update_layout(legend=dict(orientation="h", y=-0.25, yanchor="top"))
    return fit_layout(fig, lab_title(header), 460, margin=dict(b=150))
