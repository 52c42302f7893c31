"""The test-time scaling curve of an eval's results (HEX accuracy and tie rate against votes), as
the Scaling tab and the lesson's scaling chapter draw it, under one title."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go

from hexviz.eval.records import EvalResults
from hexviz.eval.scoring import scaling_curve, seed_scaling_curve
from hexviz.render import figures


def scaling_title(results: EvalResults) -> str:
    """The curve's title: how many problems, and the model's folder name."""
    return f"Test-time scaling on {len(results.records)} problems ({Path(results.model).name})"


def scaling_figure(results: EvalResults) -> go.Figure:
    """The curve over the first 1..K voters, and over 1..N seeds of every block size."""
    return figures.scaling(scaling_curve(results), scaling_title(results),
                           seed_scaling_curve(results))
