"""What the Explore tab shows for a run: the chart registry, and every output by name.

`CHARTS` holds one entry per chart, keyed by the name of its figure function in
`hexviz.render.figures`: that name is the chart's key in `VIEWS` and in the dicts the view
functions return. Its DOM ids are a second name, given in its entry: the plot's (`reveal-plot`,
...; the browser tests and the README's screenshot find plots by it) and its tab's, made from
it (`reveal-tab`). The Explore tab builds a plot per entry, a finished run fills every entry, a
run still decoding redraws the live ones, and the downloads' figures page draws the exported
ones, in `CHARTS`' order and without their names. A new chart is a figure function there and
one line in `CHARTS`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import plotly.graph_objects as go

from hexviz import limits
from hexviz.app.widgets import one_line, refusal
from hexviz.render import figures
from hexviz.render.answers import expert_texts_html, status_markdown
from hexviz.runs import record
from hexviz.runs.record import Run, TrajectoryFormatError


@dataclass(frozen=True)
class Chart:
    """One chart of the Explore tab: where its plot goes and how a run draws it."""

    figure: Callable[..., go.Figure]  # in `hexviz.render.figures`; its name is the chart's name
    label: str  # the plot's label, and its tab's title unless ``tab`` is given
    elem_id: str  # the plot's DOM id ("...-plot"; its tab's is "...-tab")
    tab: str = ""  # its tab's title below the summary (default: the label)
    in_summary: bool = False  # drawn in the summary above the tabs
    live: bool = False  # redrawn at every step shown while decoding (cheap enough for that)
    exported: bool = True  # on the downloads' figures page, drawn as ``figure(run)``
    shown: Callable[[Run], go.Figure] | None = None  # how Explore draws it, if not figure(run)

    @property
    def name(self) -> str:
        return self.figure.__name__

    @property
    def tab_title(self) -> str:
        return self.tab or self.label

    @property
    def tab_id(self) -> str:
        return self.elem_id.removesuffix("-plot") + "-tab"

    def draw(self, run: Run) -> go.Figure:
        """The chart as Explore first shows it."""
        return (self.shown or self.figure)(run)

    def plot(self) -> gr.Plot:
        """The chart's empty component; a run fills it. Its label is not shown: the figure has
        its title, and Gradio's label box would cover the title's first words."""
        return gr.Plot(label=self.label, elem_id=self.elem_id, show_label=False)


def first_collapsed(run: Run) -> int:
    """The expert the unmasking map opens on: the first collapsed one, where the wall shows."""
    return next((i for i, t in enumerate(run.trajectories) if t.collapsed), 0)


def _default_pressure(run: Run) -> go.Figure:
    return figures.end_pressure(run, figures.default_pressure_rows(run))


def _first_collapsed_map(run: Run) -> go.Figure:
    return figures.unmasking_map(run, first_collapsed(run))


# The charts in the order they are laid out. The pressure chart shows a readable few experts
# (its picker adds others) but all of them on the figures page, which has no picker; the
# unmasking map is one expert's, so the figures page leaves it out.
CHARTS: dict[str, Chart] = {chart.name: chart for chart in (
    # live: while decoding, the panel a visitor sees first says how far the run has got
    Chart(figures.vote_panel, "Vote", "vote-plot", in_summary=True, live=True),
    Chart(figures.reveal_order, "Reveal order", "reveal-plot", live=True),
    Chart(figures.scrubber, "Step scrubber", "scrub-plot", tab="Scrubber"),
    Chart(figures.end_pressure, "End-token pressure", "pressure-plot", live=True,
          shown=_default_pressure),
    Chart(figures.unmasking_map, "Unmasking map", "map-plot", exported=False,
          shown=_first_collapsed_map),
    Chart(figures.tokens_per_step, "Tokens per step", "tokens-plot"),
    # Shown for every run, flat at gen_length for a fixed one: a tab that came and went with
    # the run would move the tabs under the reader's hand, and the flat line says what a
    # growing canvas (length daedal or rho-eos) would change.
    Chart(figures.canvas_length, "Length over steps", "length-plot"),
)}


# The Explore tab's outputs that are not charts: this user's run, the status line, each
# expert's answer, the menu of the unmasking map's expert and the run's files.
OTHER_VIEWS = ("run", "status", "answers", "map_expert", "downloads")
# Every output by name; a view function returns a dict with some of these keys, and the
# outputs it leaves out keep what they show.
VIEWS = (*OTHER_VIEWS, *CHARTS)


Views = dict[str, Any]


def all_figures(run: Run) -> dict[str, go.Figure]:
    """The exported charts, by name: the downloads' figures page."""
    return {name: chart.figure(run) for name, chart in CHARTS.items() if chart.exported}


def export_files(run: Run, folder: Path | None = None, drawn: dict | None = None) -> list[str]:
    """The run as trajectory JSON and its figures as one HTML page, named by the run's content
    so that runs never overwrite each other and a replayed run reuses its files. They go to the
    app's one export folder, inside Gradio's cache (served in place, not copied), which is
    pruned to HEXVIZ_EXPORT_MAX_MB and HEXVIZ_EXPORT_MAX_AGE_S after each export."""
    text = record.dumps(run)
    folder = folder or limits.export_folder()
    stem = hashlib.sha1(text.encode()).hexdigest()[:12]
    run_path, page = folder / f"hexviz-run-{stem}.json", folder / f"hexviz-figures-{stem}.html"
    run_path.write_text(text)
    page.write_text(figures.figures_html(run, drawn or all_figures(run)))
    limits.prune_exports(folder, keep={run_path, page})
    return [str(run_path), str(page)]


# Gradio draws a figure with Plotly.react(data, layout, config) and leaves its frames out: a
# scrubber's play button and slider would do nothing. `playable` sends the frames along in
# ``layout.meta``, and this page script (run once, `hexviz.app.ui`) adds them back whenever
# such a figure is drawn.
RESTORE_FRAMES_JS = """() => {
  const restore = () => {
    if (!window.Plotly) return;  // Gradio loads Plotly with the first plot
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
      const frames = gd.layout?.meta?.frames;
      if (!frames || gd._hexvizFrames === frames) continue;
      gd._hexvizFrames = frames;  // once per figure drawn
      Plotly.deleteFrames(gd).then(() => Plotly.addFrames(gd, frames));
    }
  };
  new MutationObserver(restore).observe(document.body, {childList: true, subtree: true});
  restore();
}"""


def playable(fig: go.Figure) -> go.Figure:
    """``fig`` with its animation frames in ``layout.meta`` (`RESTORE_FRAMES_JS`), as Gradio
    must get it; a figure without frames as it is. ``fig`` itself is left unchanged."""
    if not fig.frames:
        return fig
    out = go.Figure(data=fig.data, layout=fig.layout)
    return out.update_layout(meta={"frames": [frame.to_plotly_json() for frame in fig.frames]})


def full_views(run: Run) -> Views:
    """Every output of the Explore tab for a finished (or uploaded) run."""
    labels = figures.row_labels(run)
    exported = all_figures(run)  # drawn once, for the views and the figures page
    charts = {name: playable(exported[name] if chart.shown is None and name in exported
                             else chart.draw(run)) for name, chart in CHARTS.items()}
    return {"run": run, "status": status_markdown(run), "answers": expert_texts_html(run),
            "map_expert": gr.update(choices=labels, value=labels[first_collapsed(run)]),
            **charts, "downloads": export_files(run, drawn=exported)}


def partial_views(run: Run) -> Views:
    """What is cheap to redraw while decoding: status, answers and the live charts."""
    return {"status": status_markdown(run), "answers": expert_texts_html(run),
            **{name: playable(chart.draw(run)) for name, chart in CHARTS.items() if chart.live}}


def replay(path: str | None) -> Views:
    """All views of an uploaded trajectory JSON; a bad file becomes a message, not a crash."""
    if path is None:
        return {}
    try:
        return full_views(record.load(path))
    except TrajectoryFormatError as err:
        raise refusal(f"cannot replay this file: {err}") from None
    except Exception as err:  # noqa: BLE001  the app stays up; the user gets one line
        raise refusal(f"cannot replay this file: {one_line(err)}") from None
