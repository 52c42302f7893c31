"""What the Explore view shows for a run, a replayed file or an eval: every output by name,
and the run's downloads. The events in `wiring` send these to the components."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import gradio as gr

from hexviz import limits
from hexviz.app import plots
from hexviz.app.format import expert_texts_html, figures_html, one_line, status_markdown
from hexviz.evaluate import (EvalResults, format_scaling, format_summary, load_results,
                             scaling_curve, seed_scaling_curve, summarize)
from hexviz.runs import record
from hexviz.runs.record import Run, TrajectoryFormatError


# The Explore view's outputs, by name; a view function returns a dict with some of these keys
# and the outputs it leaves out keep what they show.
VIEWS = ("run", "status", "vote", "answers", "reveal", "scrub", "pressure", "pick", "map",
         "tokens", "downloads")


Views = dict[str, Any]


def export_files(run: Run, folder: Path | None = None, figures: dict | None = None) -> list[str]:
    """The run as trajectory JSON and its figures as one HTML page, named by the run's content
    so that runs never overwrite each other and a replayed run reuses its files. They go to the
    app's one export folder, inside Gradio's cache (served in place, not copied), which is
    pruned to HEXVIZ_EXPORT_MAX_MB and HEXVIZ_EXPORT_MAX_AGE_S after each export."""
    text = record.dumps(run)
    folder = folder or limits.export_folder()
    stem = hashlib.sha1(text.encode()).hexdigest()[:12]
    run_path, page = folder / f"hexviz-run-{stem}.json", folder / f"hexviz-figures-{stem}.html"
    run_path.write_text(text)
    page.write_text(figures_html(run, figures))
    limits.prune_exports(folder, keep={run_path, page})
    return [str(run_path), str(page)]


def full_views(run: Run) -> Views:
    """Every output of the Explore view for a finished (or uploaded) run."""
    labels = plots.row_labels(run)
    first_collapsed = next((i for i, t in enumerate(run.trajectories) if t.collapsed), 0)
    figs = plots.all_figures(run)  # drawn once, for the views and the export page
    return {"run": run, "status": status_markdown(run), "vote": figs["vote"],
            "answers": expert_texts_html(run), "reveal": figs["reveal_order"],
            "scrub": figs["scrubber"],
            "pressure": plots.end_pressure(run, plots.default_pressure_rows(run)),
            "pick": gr.update(choices=labels, value=labels[first_collapsed]),
            "map": plots.unmasking_map(run, first_collapsed),
            "tokens": figs["tokens_per_step"],
            "downloads": export_files(run, figures=figs)}


def partial_views(run: Run) -> Views:
    """What is cheap to redraw while decoding: status, answers, reveal order, end pressure."""
    return {"status": status_markdown(run), "answers": expert_texts_html(run),
            "reveal": plots.reveal_order(run),
            "pressure": plots.end_pressure(run, plots.default_pressure_rows(run))}


def replay(path: str | None) -> Views:
    """All views of an uploaded trajectory JSON; a bad file becomes a message, not a crash."""
    if path is None:
        return {}
    try:
        return full_views(record.load(path))
    except TrajectoryFormatError as err:
        raise gr.Error(f"cannot replay this file: {err}") from None
    except Exception as err:  # noqa: BLE001  the app stays up; the user gets one line
        raise gr.Error(f"cannot replay this file: {one_line(err)}") from None


def scaling_views(results: EvalResults) -> tuple:
    """The Scaling tab: the curve, and the summary table as monospace text."""
    table = format_summary(summarize(results))
    title = f"Test-time scaling on {len(results.records)} problems ({Path(results.model).name})"
    curve, by_seeds = scaling_curve(results), seed_scaling_curve(results)
    figure = plots.scaling(curve, title, by_seeds)
    return figure, f"```\n{table}\n\n{format_scaling(curve, by_seeds)}\n```"


def scaling_from_file(path: str | None) -> tuple:
    if path is None:
        return gr.skip(), gr.skip()
    try:
        return scaling_views(load_results(path))
    except Exception as err:  # noqa: BLE001  ValueError says what is wrong; others, their type
        raise gr.Error(f"cannot read this results file: {one_line(err)}") from None
