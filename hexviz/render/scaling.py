"""The test-time scaling curve of an eval's results (HEX accuracy and tie rate against votes), as
the Scaling tab and the lesson's scaling chapter draw it, under one title."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go

from hexviz.eval.records import EvalResults
from hexviz.eval.scoring import scaling_curve, seed_scaling_curve
from hexviz.paths import BUILTIN_DIR
from hexviz.render import figures

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
