"""The Compare tab: two experts side by side, of the current Explore run or of stored runs, and
the current run's question decoded exactly and with a KV cache, each expert against itself."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from hexviz.app.widgets import load_stored
from hexviz.render import figures
from hexviz.runs import gallery
from hexviz.runs.record import Run

CURRENT = "current Explore run"
ROW = "font-family: ui-monospace, monospace; font-size: 13px; margin: 3px 0;"


# --- pure helpers ------------------------------------------------------------------------------

def expert_choices(run: Run | None) -> list[tuple[str, int]]:
    return [] if run is None else [(label, i) for i, label in enumerate(figures.row_labels(run))]


def answers_html(pairs: Sequence[tuple[str, Run, int]]) -> str:
    """Each named expert's final text and answer, one line each."""
    rows = []
    for name, run, i in pairs:
        t = run.trajectories[i]
        answer = "no answer" if t.answer is None else f"answer <b>{html.escape(t.answer)}</b>"
        rows.append(f'<div style="{ROW}"><b>{html.escape(name)}</b> · '
                    f"{html.escape(figures.row_labels(run)[i])} · {answer}<br>"
                    f"{html.escape(t.text) or '<i>(empty)</i>'}</div>")
    return "\n".join(rows)


def first_divergence(a, b, after: int = 0) -> int | None:
    """The first step at or after ``after`` where the two trajectories revealed differently."""
    steps = max(len(a.draft_ids), len(b.draft_ids))
    for s in range(after, steps):
        ra, rb = a.reveal_step == s, b.reveal_step == s
        if not np.array_equal(ra, rb) or not np.array_equal(a.token_ids[ra], b.token_ids[rb]):
            return s
    return None


def compare_outputs(a_run: Run, a: int, b_run: Run, b: int,
                    names: tuple[str, str] = ("A", "B"), fork_step: int | None = None) -> tuple:
    """Reveal orders (one colour scale), unmasking maps and both answers of two experts."""
    if a_run.config.gen_length != b_run.config.gen_length:
        raise ValueError(f"these runs have different answer lengths ({a_run.config.gen_length} "
                         f"and {b_run.config.gen_length} tokens); compare runs of one length")
    return (figures.compare_reveal(a_run, a, b_run, b, names, fork_step),
            figures.compare_maps(a_run, a, b_run, b, names),
            answers_html([(names[0], a_run, a), (names[1], b_run, b)]))


def cache_divergence(exact: Run, cached: Run) -> str:
    """Markdown: per expert, where an exact and a cached decode of one prompt part (the first
    step at which they revealed differently), how many final tokens differ, both answers; and
    the positions each computed."""
    mode = cached.config.cache
    rows = [f"| expert | first step revealed differently | final tokens that differ | "
            f"answer exact | answer {mode} |", "|---|---|---|---|---|"]
    for a, b in zip(exact.trajectories, cached.trajectories, strict=True):
        step = first_divergence(a, b)
        differ = len(figures.differing_positions(a, b))
        rows.append(f"| {a.expert.label} | {'none' if step is None else step} | {differ} of "
                    f"{len(a.token_ids)} | {a.answer or '-'} | {b.answer or '-'} |")
    same = sum(first_divergence(a, b) is None
               for a, b in zip(exact.trajectories, cached.trajectories, strict=True))
    work = ""
    if exact.timing.positions and cached.timing.positions:
        work = (f" The {mode} cache computed {cached.timing.positions / exact.timing.positions:.0%}"
                f" of the positions exact decoding did ({cached.timing.decode_s:.2f} s against "
                f"{exact.timing.decode_s:.2f} s).")
    head = (f"**Exact against {mode} cache**: {same} of {len(exact.trajectories)} experts "
            f"decode token for token alike. HEX answer exact **{exact.vote.winner or '-'}**, "
            f"{mode} **{cached.vote.winner or '-'}**.{work} Each block's first step is exact "
            f"in both; the cache reuses keys and values computed at that step, so later steps "
            f"see a slightly stale canvas and may pick other tokens.")
    return head + "\n\n" + "\n".join(rows)


# --- layout ------------------------------------------------------------------------------------

@dataclass
class CompareTab:
    sources: tuple[gr.Dropdown, gr.Dropdown]
    experts: tuple[gr.Dropdown, gr.Dropdown]
    runs: tuple[gr.State, gr.State]
    button: gr.Button
    reveal: gr.Plot
    maps: gr.Plot
    answers: gr.HTML
    cache_mode: gr.Radio
    cache_button: gr.Button
    cache_summary: gr.Markdown


def source_choices(folder: Path) -> list[str]:
    return [CURRENT] + [e.path.name for e in gallery.list_entries(folder) if not e.error]


def build(folder: Path) -> CompareTab:
    gr.Markdown("Two experts side by side, from the current Explore run or stored runs: reveal "
                "order on one colour scale, unmasking maps, and where their final tokens "
                "differ (✕, ▼). E.g. B=8 against the whole-answer margin row of one run.")
    sources, experts, runs = [], [], []
    with gr.Row():
        for name in ("A", "B"):
            with gr.Column(min_width=240):
                sources.append(gr.Dropdown(source_choices(folder), value=CURRENT,
                                           label=f"{name}: run", elem_id=f"compare-source-{name}"))
                experts.append(gr.Dropdown([], label=f"{name}: expert",
                                           elem_id=f"compare-expert-{name}"))
                runs.append(gr.State(None))
    button = gr.Button("Compare", variant="primary", elem_id="compare-button")
    with gr.Accordion("Exact against cached: the current run's question decoded both ways",
                      open=True):
        with gr.Row():
            cache_mode = gr.Radio(["prefix", "dual"], value="dual", label="Cache",
                                  elem_id="compare-cache-mode")
            cache_button = gr.Button("Decode exact and cached", elem_id="compare-cache-button")
        cache_summary = gr.Markdown(elem_id="compare-cache-summary")
    answers = gr.HTML(elem_id="compare-answers")
    reveal = gr.Plot(label="Reveal order", elem_id="compare-reveal", show_label=False)
    maps = gr.Plot(label="Unmasking maps", elem_id="compare-maps", show_label=False)
    return CompareTab(tuple(sources), tuple(experts), tuple(runs), button, reveal, maps, answers,
                      cache_mode, cache_button, cache_summary)


# --- events ------------------------------------------------------------------------------------

def wire(tab: CompareTab, folder: Path, state: gr.State, runner: Any = None,
         model: gr.Dropdown | None = None) -> None:
    """``state``: the current Explore run; ``runner`` and ``model`` decode it again for the
    exact-against-cached comparison (left out: that comparison is not wired)."""
    def pick_run(source, current) -> tuple:
        run = current if source == CURRENT else load_stored(folder, source)
        choices = expert_choices(run)
        return run, gr.update(choices=choices, value=choices[0][1] if choices else None)

    for source, expert, run_state, default_last in zip(tab.sources, tab.experts, tab.runs,
                                                       (False, True), strict=True):
        def on_source(source, current, default_last=default_last) -> tuple:
            run, update = pick_run(source, current)
            if run is not None:  # A: the middle block size; B: the last row, a baseline
                update["value"] = (len(run.trajectories) - 1 if default_last else
                                   run.voters[len(run.voters) // 2] if run.voters else 0)
            return run, update

        source.change(on_source, [source, state], [run_state, expert], api_visibility="private")
        state.change(on_source, [source, state], [run_state, expert], api_visibility="private")

    def on_compare(a_run, a, b_run, b) -> tuple:
        if a_run is None or b_run is None:
            raise gr.Error("pick two runs: run something in Explore, or choose stored runs")
        try:
            return compare_outputs(a_run, int(a or 0), b_run, int(b or 0))
        except (ValueError, IndexError) as err:
            raise gr.Error(str(err)) from None

    tab.button.click(on_compare, [tab.runs[0], tab.experts[0], tab.runs[1], tab.experts[1]],
                     [tab.reveal, tab.maps, tab.answers], api_visibility="private")
    if runner is not None and model is not None:
        wire_cache_compare(tab, state, runner, model)


def decoded_with(runner: Any, run: Run, model: str, cache: str) -> Run:
    """``run`` itself when it was decoded with ``cache``, else its prompt decoded again."""
    if run.config.cache == cache:
        return run
    *_, again = runner.redo(run, model, cache)
    return again


def wire_cache_compare(tab: CompareTab, state: gr.State, runner: Any,
                       model: gr.Dropdown) -> None:
    """Exact against cached: A is the exact decode of the current run's question, B the
    cached one, each expert against itself, with where their tokens part."""

    def on_cache_compare(current, mode, label) -> tuple:
        if current is None or not current.complete:
            raise gr.Error("run a question in Explore first (and let it finish)")
        try:
            exact = decoded_with(runner, current, label, "none")
            cached = decoded_with(runner, current, label, mode)
        except ValueError as err:
            raise gr.Error(str(err)) from None
        if cached.config.cache != mode:
            raise gr.Error("this model has no block KV cache: it decodes only exactly")
        pairs = zip(exact.trajectories, cached.trajectories, strict=True)
        parted = [i for i, (a, b) in enumerate(pairs) if first_divergence(a, b) is not None]
        middle = exact.voters[len(exact.voters) // 2] if exact.voters else 0
        pick = parted[0] if parted else middle
        names = ("exact", f"{mode} cache")
        reveal, maps, answers = compare_outputs(exact, pick, cached, pick, names)
        choices = expert_choices(exact)
        return (exact, cached, gr.update(choices=choices, value=pick),
                gr.update(choices=choices, value=pick), reveal, maps, answers,
                cache_divergence(exact, cached))

    tab.cache_button.click(on_cache_compare, [state, tab.cache_mode, model],
                           [tab.runs[0], tab.runs[1], tab.experts[0], tab.experts[1], tab.reveal,
                            tab.maps, tab.answers, tab.cache_summary], api_visibility="private")
