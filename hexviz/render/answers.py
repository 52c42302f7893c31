"""The answers panel and the status line of a run, as HTML and markdown: each expert's text with
its answer marked, how it decoded (order, steps, edits), and the vote in one line."""

from __future__ import annotations

import html
import math
from pathlib import Path

from hexviz.render.figures import progress_text, row_labels
from hexviz.runs.record import Run, Trajectory


# Inline styles, so the answers panel looks the same however the app is launched.
# A flex row: on a narrow screen the text wraps under its label instead of beside it.
ROW_STYLE = ("font-family: ui-monospace, monospace; font-size: 13px; margin: 3px 0; "
             "display: flex; flex-wrap: wrap; column-gap: 1em;")


LABEL_STYLE = "flex: 0 0 14em; color: #666;"


TEXT_STYLE = "flex: 1 1 18em;"


MARK_STYLE = "background: #ffe08a; padding: 0 2px; border-radius: 3px;"


COLLAPSED_STYLE = "color: #b22222;"


def order_summary(t: Trajectory) -> str:
    """How left to right the expert decoded, and how early it committed end tokens."""
    def number(value: float, fmt: str) -> str:
        return "-" if math.isnan(value) else format(value, fmt)

    return (f"AR-ness {number(t.ar_ness, '.2f')} · order rho "
            f"{number(t.order_correlation, '+.2f')} · "
            f"early end {number(t.early_end_share, '.0%')}")


def steps_summary(run: Run, t: Trajectory) -> str:
    """The steps the expert took (its forward passes), the most it committed at once, and its
    edits."""
    most = int(t.commits.max()) if len(t.commits) else 0
    edits = f" · {len(t.edits)} edits" if run.config.edit is not None else ""
    return f"{t.steps_taken} steps · up to {most} tokens a step{edits}"


def expert_texts_html(run: Run) -> str:
    """Each expert's final text with its extracted answer highlighted, and its steps."""
    rows = []
    for t, label in zip(run.trajectories, row_labels(run), strict=True):
        text = html.escape(t.text) or "<i>(empty)</i>"
        if t.answer is not None:
            needle = html.escape(t.answer)
            cut = text.rfind(needle)
            if cut >= 0:
                text = (f'{text[:cut]}<mark style="{MARK_STYLE}">{needle}</mark>'
                        f"{text[cut + len(needle):]}")
        style = ROW_STYLE + (COLLAPSED_STYLE if t.collapsed else "")
        ll = t.one_step_log_likelihood
        likelihood = "" if ll is None else f"<br><small>one-step ll {ll:.3f}</small>"
        answer = "" if t.answer is None else (
            f"<br><small>answer <b>{html.escape(t.answer[:40])}</b></small>")
        rows.append(f'<div style="{style}"><span style="{LABEL_STYLE}">{html.escape(label)}'
                    f'<br><small>{order_summary(t)}</small>'
                    f'<br><small>{steps_summary(run, t)}</small>{likelihood}{answer}</span>'
                    f'<span style="{TEXT_STYLE}">{text}</span></div>')
    if run.timing.row_passes is not None:
        rows.append(f'<div style="{ROW_STYLE}"><span style="{LABEL_STYLE}">row passes</span>'
                    f'<span style="{TEXT_STYLE}">{run.timing.row_passes} rows computed in '
                    f'{run.steps_done} forward passes (equal rows once, finished experts '
                    f'none; {sum(t.steps_taken for t in run.trajectories)} expert steps)'
                    f'</span></div>')
    return "\n".join(rows)


def failure_markdown(reason: str) -> str:
    """The status line after a run failed: the reason stays on the page once its toast fades,
    and says that the views below, if any, are an earlier run's."""
    return (f"**The run failed:** {reason.strip().rstrip('.')}. Anything shown below is from an "
            f"earlier run.")


def status_markdown(run: Run) -> str:
    """The status line: the step while decoding; when done the HEX answer and what decided a
    tie, voters, collapses, the sampler, forward passes, time, cache and model."""
    if not run.complete:
        return f"**{progress_text(run).capitalize()}…**"
    vote = run.vote
    collapsed = sum(t.collapsed for t in run.trajectories)
    decided = {"first": " (tie, broken by the smallest block)",
               "frequency_lowest_nll": " (tie, broken by the lowest one-step NLL)",
               "lowest_nll": " (the lowest one-step NLL)"}
    strategy = run.config.strategy
    name = {"seeds": "seeds' answer", "dvoting": "dVoting answer"}.get(strategy.name,
                                                                      "HEX answer")
    head = ("no expert produced an answer" if vote.winner is None else
            f"{name} **{vote.winner}**" + decided.get(vote.decided_by, ""))
    rows = "" if run.timing.row_passes is None else f" ({run.timing.row_passes} rows)"
    cache = "" if run.config.cache == "none" else f" ({run.config.cache} cache)"
    how = (f"{len(run.voters)} of at most {strategy.rounds} rounds · entropy threshold "
           f"{strategy.entropy_threshold:g}" if strategy.rounds_voting else
           f"{len(run.voters)} voting experts · {collapsed} collapsed · sampler "
           f"`{run.config.sampler.label}`")
    replayed = (f" · **replayed** from {run.replayed}, not decoded again (the time is the "
                "original decode's)" if run.replayed else "")
    return (f"{head} · {how} · {run.steps_done} forward passes{rows} in "
            f"{run.timing.decode_s:.2f} s{cache} · model `{Path(run.model).name}`{replayed}")
