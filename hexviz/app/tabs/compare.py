"""The Compare tab: two experts side by side, of the current Explore run or of stored runs, and
the current run's question decoded exactly and with a KV cache, each expert against itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from hexviz.app.widgets import load_stored, refusal
from hexviz.render.animate import middle_voter
from hexviz.render.compare import (cache_divergence, compare_outputs, expert_choices,
                                   first_divergence)
from hexviz.runs import gallery
from hexviz.runs.record import Run

CURRENT = "current Explore run"
TAB_ID = "compare"


def compare_hint(a: Run | None, b: Run | None) -> str:
    """What to do while A or B has no run (their expert menus stay empty until then); nothing
    once both have one."""
    missing = " and ".join(name for name, run in (("A", a), ("B", b)) if run is None)
    if not missing:
        return ""
    return (f"**{missing} {'have' if ' and ' in missing else 'has'} no run yet.** "
            f"“{CURRENT}” is the run Explore showed last: run a question there, or load one "
            f"with a lesson chapter's **Try it yourself** or the Gallery's **Replay in "
            f"Explore**. Or pick a stored run in the run menu. Then pick an expert for A and B "
            f"and press Compare.")


# --- layout ------------------------------------------------------------------------------------

@dataclass
class CompareTab:
    """The Compare tab's components: A's and B's run and expert, and what they show."""

    sources: tuple[gr.Dropdown, gr.Dropdown]
    experts: tuple[gr.Dropdown, gr.Dropdown]
    runs: tuple[gr.State, gr.State]
    hint: gr.Markdown  # what to do while A or B has no run (`compare_hint`)
    button: gr.Button
    reveal: gr.Plot
    maps: gr.Plot
    answers: gr.HTML
    cache_mode: gr.Radio
    cache_button: gr.Button
    cache_summary: gr.Markdown


def source_choices(folder: Path) -> list[str]:
    """The run menu: the current Explore run, then every readable stored run in ``folder``."""
    return [CURRENT] + [e.path.name for e in gallery.list_entries(folder) if not e.error]


def build(folder: Path) -> CompareTab:
    """A and B (a run and an expert each), the exact-against-cached controls, and the views."""
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
    hint = gr.Markdown(compare_hint(None, None), elem_id="compare-hint")
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
    return CompareTab(tuple(sources), tuple(experts), tuple(runs), hint, button, reveal, maps,
                      answers, cache_mode, cache_button, cache_summary)


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
                                   middle_voter(run))
            return run, update

        source.change(on_source, [source, state], [run_state, expert], api_visibility="private")
        state.change(on_source, [source, state], [run_state, expert], api_visibility="private")
        run_state.change(compare_hint, list(tab.runs), tab.hint, api_visibility="private")

    def on_compare(a_run, a, b_run, b) -> tuple:
        if a_run is None or b_run is None:
            raise refusal("pick two runs: run something in Explore, or choose stored runs")
        try:
            return compare_outputs(a_run, int(a or 0), b_run, int(b or 0))
        except (ValueError, IndexError) as err:
            raise refusal(str(err)) from None

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
            raise refusal("run a question in Explore first (and let it finish)")
        try:
            exact = decoded_with(runner, current, label, "none")
            cached = decoded_with(runner, current, label, mode)
        except ValueError as err:
            raise refusal(str(err)) from None
        if cached.config.cache != mode:
            raise refusal("this model has no block KV cache: it decodes only exactly")
        pairs = zip(exact.trajectories, cached.trajectories, strict=True)
        parted = [i for i, (a, b) in enumerate(pairs) if first_divergence(a, b) is not None]
        pick = parted[0] if parted else middle_voter(exact)
        names = ("exact", f"{mode} cache")
        reveal, maps, answers = compare_outputs(exact, pick, cached, pick, names)
        choices = expert_choices(exact)
        return (exact, cached, gr.update(choices=choices, value=pick),
                gr.update(choices=choices, value=pick), reveal, maps, answers,
                cache_divergence(exact, cached))

    tab.cache_button.click(on_cache_compare, [state, tab.cache_mode, model],
                           [tab.runs[0], tab.runs[1], tab.experts[0], tab.experts[1], tab.reveal,
                            tab.maps, tab.answers, tab.cache_summary], api_visibility="private")
