"""The teaching views: the Lesson tab, the Gallery, Compare and the what-if fork panel.

Layout and events only, as in `hexviz.app.ui`: the lesson and the gallery read stored runs
(`lesson`, `gallery`), forks and top candidates are asked of the runner. Handlers return
``{component: value}`` dicts, so they fill Explore's views through the ``show`` function
`hexviz.app.ui` hands in.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from hexviz.app import animate, gallery
from hexviz.app import plots
from hexviz.app.format import OWN_FORMAT
from hexviz.app.lesson import Chapter
from hexviz.decode.rules import RULE_NAMES
from hexviz.decode.settings import divisors
from hexviz.runs.record import Run, TrajectoryFormatError

CURRENT = "current Explore run"
SAME = "same"
LESSON_INTRO = (
    "A short tour of how a masked diffusion LM decodes, in six chapters. Every figure is a "
    "**stored run** of the built-in model (no decoding, no waiting); **Try it yourself** loads "
    "a chapter's run and settings into Explore, where you can change them and run again.")
ROW = "font-family: ui-monospace, monospace; font-size: 13px; margin: 3px 0;"
TOKEN = ("display: inline-block; margin: 1px; padding: 0 3px; border-radius: 3px; "
         "font-family: ui-monospace, monospace; font-size: 12px;")
TOKEN_COLORS = {plots.MASK: "#e6e6e6", plots.TEXT: "#dce8f5", plots.END_OF_TURN: "#fde0c5",
                plots.END_OF_TEXT: "#f9d0d0"}

SHORT = {plots.END_OF_TURN: "⏎", plots.END_OF_TEXT: "∎"}  # end tokens, one character each
Show = Callable[[Run], dict]  # a run -> {Explore view component: value}


# --- pure helpers ------------------------------------------------------------------------------

def expert_choices(run: Run | None) -> list[tuple[str, int]]:
    return [] if run is None else [(label, i) for i, label in enumerate(plots.row_labels(run))]


def settings_values(run: Run) -> list[Any]:
    """Explore's settings for ``run``, in `hexviz.app.ui`'s settings order after the model:
    blocks, rule, gen_length, steps, temperature, seeds, forbid, end_last, baselines, sampler,
    edit, cache, task."""
    s = gallery.explore_settings(run)
    return [s["blocks"], s["remasking"], s["gen_length"], s["steps"], s["temperature"],
            s["seeds"], s["forbid_end_of_text"], s["end_tokens_last"], s["baselines"],
            s["sampler"], "" if s["edit"] is None else f"{s['edit']:g}", s["cache"],
            run.task or OWN_FORMAT]


def gallery_markdown(entries: Sequence[gallery.Entry]) -> str:
    if not entries:
        return (f"No stored runs in `{gallery.GALLERY_DIR.name}/` yet: "
                f"`python -m hexviz.app.lesson build` writes the lesson's, and any hexviz run JSON dropped there is listed.")
    rows = ["| file | question | model | settings |", "|---|---|---|---|"]
    for e in entries:
        if e.error:
            rows.append(f"| {e.path.name} | ⚠ cannot replay: {e.error} | | |")
        else:
            prompt = e.prompt[:90].replace("|", "\\|")
            rows.append(f"| {e.path.name} | {prompt} | {e.model} | {e.settings} |")
    return "\n".join(rows)


def canvas_html(run: Run, index: int, step: int) -> str:
    """The expert's canvas after ``step`` steps as numbered tokens (masked ones as ·)."""
    t = run.trajectories[index]
    states = plots.token_states(run, t, step)
    cells = []
    for p, (tok, state) in enumerate(zip(t.tokens, states, strict=True)):
        text = "·" if state == plots.MASK else SHORT.get(int(state), html.escape(tok))
        cells.append(f'<span style="{TOKEN}background:{TOKEN_COLORS[int(state)]}" '
                     f'title="position {p}: {html.escape(repr(tok))}">'
                     f'<sub style="color:#888">{p}</sub>{text}</span>')
    masked = int((states == plots.MASK).sum())
    return (f'<div style="{ROW}">after step {step}: {masked} positions still masked '
            f"(·); ⏎ end of turn, ∎ end-of-text</div><div>{''.join(cells)}</div>")


def answers_html(pairs: Sequence[tuple[str, Run, int]]) -> str:
    """Each named expert's final text and answer, one line each."""
    rows = []
    for name, run, i in pairs:
        t = run.trajectories[i]
        answer = "no answer" if t.answer is None else f"answer <b>{html.escape(t.answer)}</b>"
        rows.append(f'<div style="{ROW}"><b>{html.escape(name)}</b> · '
                    f"{html.escape(plots.row_labels(run)[i])} · {answer}<br>"
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
    return (plots.compare_reveal(a_run, a, b_run, b, names, fork_step),
            plots.compare_maps(a_run, a, b_run, b, names),
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
        differ = len(plots.differing_positions(a, b))
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


def fork_summary(original: Run, index: int, fork: Run, step: int,
                 force: tuple[int, str] | None) -> str:
    a, b = original.trajectories[index], fork.trajectories[0]
    diverge = first_divergence(a, b, step)
    differ = len(plots.differing_positions(a, b))
    what = [f"block length {b.expert.block_length}"] if (
        b.expert.block_length != a.expert.block_length) else []
    if b.expert.remasking != a.expert.remasking:
        what.append(f"rule {b.expert.remasking}")
    if b.expert.temperature != a.expert.temperature:
        what.append(f"temperature {b.expert.temperature:g}")
    if force is not None:
        what.append(f"position {force[0]} forced to {force[1]!r}")
    change = ", ".join(what) or "nothing changed"
    where = ("the continuation is identical to the original" if diverge is None else
             f"they diverge at step {diverge}; {differ} final tokens differ")
    return (f"Fork after step {step} ({change}): {where}. Original answer "
            f"**{a.answer or '—'}**, fork answer **{b.answer or '—'}**.")


# --- layout ------------------------------------------------------------------------------------

@dataclass
class LessonTab:
    chapters: list[Chapter]
    tries: list[gr.Button]  # one per chapter with a run, in chapter order
    scaling_button: gr.Button | None
    animations: list[AnimationControls] = field(default_factory=list)  # as ``tries``


def lesson_tab(chapters: list[Chapter]) -> LessonTab:
    gr.Markdown(LESSON_INTRO)
    tries, scaling_button, animations = [], None, []
    with gr.Tabs(elem_id="lesson-chapters") as chapter_tabs:
        for n, chapter in enumerate(chapters):
            with gr.Tab(chapter.short, id=f"chapter-{n}", elem_id=f"chapter-{chapter.key}"):
                gr.Markdown(f"### {chapter.title}\n{chapter.text}")
                figures = list(chapter.figures)
                if chapter.animation is not None and figures:
                    with gr.Row(equal_height=False):  # the words appearing, beside the chart
                        with gr.Column(min_width=320):
                            gr.Plot(figures.pop(0), show_label=False)
                        with gr.Column(min_width=320):
                            gr.HTML(animate.iframe(chapter.animation, INLINE_HEIGHT),
                                    elem_id=f"animation-inline-{chapter.key}")
                for figure in figures:
                    gr.Plot(figure, show_label=False)
                if chapter.run is not None:
                    animations.append(animation_controls(chapter.key))
                with gr.Row():
                    if chapter.run is not None:
                        tries.append(gr.Button("Try it yourself in Explore →", variant="primary",
                                               elem_id=f"try-{chapter.key}"))
                    elif chapter.key == "scaling":
                        scaling_button = gr.Button("Open the Scaling tab →", variant="primary",
                                                   elem_id="try-scaling")
                    if n + 1 < len(chapters):
                        nxt = gr.Button("Next chapter", elem_id=f"next-{chapter.key}")
                        nxt.click(lambda n=n: gr.Tabs(selected=f"chapter-{n + 1}"), None,
                                  chapter_tabs, api_visibility="private")
    return LessonTab(chapters, tries, scaling_button, animations)


@dataclass
class GalleryTab:
    listing: gr.Markdown
    pick: gr.Dropdown
    refresh: gr.Button
    open: gr.Button
    animation: AnimationControls | None = None


def gallery_tab(folder: Path) -> GalleryTab:
    entries = gallery.list_entries(folder)
    gr.Markdown("Stored runs replay in every Explore view without a model. A hexviz run JSON "
                "from elsewhere (the CLI's `--json`, Explore's download, a GPU run of "
                f"LLaDA-8B) joins the list when dropped into `{folder.name}/` (Refresh).")
    pick = gr.Dropdown([(e.label, str(e.path)) for e in entries], label="Stored run",
                       value=str(entries[0].path) if entries else None, elem_id="gallery-pick")
    with gr.Row():
        open_button = gr.Button("Replay in Explore", variant="primary", elem_id="gallery-open")
        refresh = gr.Button("Refresh list")
    animation = animation_controls("gallery")
    listing = gr.Markdown(gallery_markdown(entries), elem_id="gallery-list")
    return GalleryTab(listing, pick, refresh, open_button, animation)


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


def compare_tab(folder: Path) -> CompareTab:
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


@dataclass
class ForkPanel:
    expert: gr.Dropdown
    step: gr.Slider
    canvas: gr.HTML
    block: gr.Dropdown
    rule: gr.Dropdown
    temperature: gr.Textbox
    position: gr.Textbox
    show_candidates: gr.Button
    candidate: gr.Dropdown
    button: gr.Button
    summary: gr.Markdown
    reveal: gr.Plot
    maps: gr.Plot
    answers: gr.HTML


def fork_panel() -> ForkPanel:
    gr.Markdown("Pick an expert and a step, then continue decoding from that exact canvas with "
                "another block length, rule or temperature, or with one masked position forced "
                "to a token from the model's top candidates. Unchanged settings reproduce the "
                "original token for token.")
    with gr.Row():
        expert = gr.Dropdown([], label="Expert", elem_id="fork-expert")
        step = gr.Slider(0, 63, value=16, step=1, label="Fork after step", elem_id="fork-step")
    canvas = gr.HTML(elem_id="fork-canvas")
    with gr.Row():
        block = gr.Dropdown([SAME], value=SAME, label="Block length from here")
        rule = gr.Dropdown([SAME, *RULE_NAMES], value=SAME, label="Remasking rule")
        temperature = gr.Textbox(SAME, label="Temperature (same, or a number)")
    with gr.Row():
        position = gr.Textbox("", label="Force position (optional: a masked position's number)",
                              elem_id="fork-position")
        show_candidates = gr.Button("Top candidates there", elem_id="fork-candidates")
        candidate = gr.Dropdown([], label="Forced token", elem_id="fork-token")
    button = gr.Button("Fork", variant="primary", elem_id="fork-button")
    summary = gr.Markdown(elem_id="fork-summary")
    answers = gr.HTML(elem_id="fork-answers")
    reveal = gr.Plot(show_label=False, elem_id="fork-reveal")
    maps = gr.Plot(show_label=False, elem_id="fork-maps")
    return ForkPanel(expert, step, canvas, block, rule, temperature, position, show_candidates,
                     candidate, button, summary, reveal, maps, answers)


# --- events ------------------------------------------------------------------------------------

def load_stored(folder: Path, name: str | None) -> Run:
    """A stored run by file name, only from ``folder``; bad files become a message."""
    if not name:
        raise gr.Error("pick a stored run first")
    path = (folder / Path(name).name).resolve()
    if path.parent != folder.resolve():
        raise gr.Error("that file is not in the gallery")
    try:
        return gallery.read_run(path)
    except TrajectoryFormatError as err:
        raise gr.Error(f"cannot replay {path.name}: {err}") from None


def wire_lesson(tab: LessonTab, show: Show, view_outputs: list, settings: list, tabs: gr.Tabs,
                explore_id: str, scaling_id: str) -> None:
    """Try it yourself: the chapter's run in every Explore view, its settings in the inputs.

    ``settings``: [prompt, blocks, rule, gen_length, steps, temperature, seeds, forbid,
    end_last, baselines] components.
    """
    outputs = [*view_outputs, *settings, tabs]
    runs = [c for c in tab.chapters if c.run is not None]
    for chapter, button in zip(runs, tab.tries, strict=True):
        def on_try(path=chapter.path) -> dict:
            run = gallery.read_run(path)
            return {**show(run), **load_settings(settings, run),
                    tabs: gr.Tabs(selected=explore_id)}

        button.click(on_try, None, outputs, api_visibility="private")
    for chapter, controls in zip(runs, tab.animations, strict=True):
        wire_animation(controls, [], lambda path=chapter.path: gallery.read_run(path))
    if tab.scaling_button is not None:
        tab.scaling_button.click(lambda: gr.Tabs(selected=scaling_id), None, tabs,
                                 api_visibility="private")


def load_settings(settings: list, run: Run) -> dict:
    prompt, blocks, *rest = settings
    values = settings_values(run)
    out = {prompt: run.prompt,
           blocks: gr.update(choices=divisors(run.config.gen_length), value=values[0])}
    out.update(dict(zip(rest, values[1:], strict=True)))
    return out


def wire_gallery(tab: GalleryTab, folder: Path, show: Show, view_outputs: list, settings: list,
                 tabs: gr.Tabs, explore_id: str) -> None:
    def on_open(name) -> dict:
        run = load_stored(folder, name)
        return {**show(run), **load_settings(settings, run), tabs: gr.Tabs(selected=explore_id)}

    def on_refresh() -> tuple:
        entries = gallery.list_entries(folder)
        return (gallery_markdown(entries),
                gr.update(choices=[(e.label, str(e.path)) for e in entries]))

    tab.open.click(on_open, [tab.pick], [*view_outputs, *settings, tabs],
                   api_visibility="private")
    tab.refresh.click(on_refresh, None, [tab.listing, tab.pick], api_visibility="private")
    if tab.animation is not None:
        wire_animation(tab.animation, [tab.pick], lambda name: load_stored(folder, name))


def wire_compare(tab: CompareTab, folder: Path, state: gr.State, runner: Any = None,
                 model: gr.Dropdown | None = None) -> None:
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


def parse_temperature(text: str | None) -> float | None:
    text = (text or "").strip()
    if text in ("", SAME):
        return None
    try:
        value = float(text)
    except ValueError:
        raise gr.Error(f"temperature must be 'same' or a number >= 0 (got {text!r})") from None
    if not value >= 0:
        raise gr.Error(f"temperature must be a number >= 0 (got {text!r})")
    return value


def parse_position(text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise gr.Error(f"the position must be a whole number (got {text!r})") from None


def wire_fork(panel: ForkPanel, runner, state: gr.State, model: gr.Dropdown) -> None:
    from hexviz.app.runner import ForkRequest

    def on_run(run) -> tuple:
        if run is None or not run.complete:
            return gr.skip(), gr.skip(), gr.skip()
        choices = expert_choices(run)
        index = plots.default_pressure_rows(run)[-1]
        step = run.config.steps // 4
        return (gr.update(choices=choices, value=index),
                gr.update(maximum=run.config.steps - 1, value=step),
                gr.update(choices=[SAME, *divisors(run.config.gen_length)], value=SAME))

    def on_canvas(run, index, step) -> str:
        if run is None or index is None:
            return ""
        return canvas_html(run, int(index), int(step))

    def on_candidates(run, index, step, position, model_label) -> Any:
        if run is None or index is None:
            raise gr.Error("run something in Explore (or replay a stored run) first")
        p = parse_position(position)
        if p is None:
            raise gr.Error("type the position to force (the small number of a masked token)")
        t = run.trajectories[int(index)]
        if not 0 <= p < len(t.token_ids):
            raise gr.Error(f"position must be from 0 to {len(t.token_ids) - 1} (got {p})")
        if 0 <= t.reveal_step[p] < int(step):
            raise gr.Error(f"position {p} is already revealed after step {int(step)}; pick a "
                           "masked one (·)")
        if not hasattr(runner, "candidates"):
            raise gr.Error("this app's engine cannot list candidates")
        try:
            top = runner.candidates(model_label, run, int(index), int(step), p)
        except ValueError as err:
            raise gr.Error(str(err)) from None
        except Exception as err:  # the app stays up; the user sees what went wrong
            raise gr.Error(f"listing candidates failed: {type(err).__name__}: {err}") from None
        choices = [(f"{text!r}  {prob:.1%}", token) for token, text, prob in top]
        return gr.update(choices=choices, value=choices[0][1])

    def on_fork(run, index, step, block, rule, temperature, position, token, model_label,
                progress=gr.Progress()) -> tuple:
        if run is None or index is None:
            raise gr.Error("run something in Explore (or replay a stored run) first")
        p = parse_position(position)
        if p is not None and token is None:
            raise gr.Error("pick the forced token: press 'Top candidates there' first")
        force = None if p is None else (p, int(token))
        try:
            request = ForkRequest(
                run, int(index), int(step), model_label,
                block_length=None if block in (None, SAME) else int(block),
                remasking=None if rule in (None, SAME) else rule,
                temperature=parse_temperature(temperature), force=force)
            progress(0, desc="forking")
            *_, fork = runner.fork(request)
        except ValueError as err:
            raise gr.Error(str(err)) from None
        except AttributeError:
            raise gr.Error("this app's engine cannot fork runs") from None
        except Exception as err:  # the app stays up; the user sees what went wrong
            raise gr.Error(f"the fork failed: {type(err).__name__}: {err}") from None
        shown = None if force is None else (force[0], fork.trajectories[0].tokens[force[0]])
        reveal, maps, answers = compare_outputs(run, int(index), fork, 0,
                                                ("original", "fork"), int(step))
        return fork_summary(run, int(index), fork, int(step), shown), reveal, maps, answers

    state.change(on_run, [state], [panel.expert, panel.step, panel.block],
                 api_visibility="private")
    for trigger in (panel.expert.change, panel.step.change):
        trigger(on_canvas, [state, panel.expert, panel.step], [panel.canvas],
                api_visibility="private")
    for trigger in (panel.expert.change, panel.step.change, panel.position.change):
        trigger(lambda: gr.update(choices=[], value=None), None, [panel.candidate],
                api_visibility="private")
    panel.show_candidates.click(on_candidates,
                                [state, panel.expert, panel.step, panel.position, model],
                                [panel.candidate], api_visibility="private")
    panel.button.click(on_fork, [state, panel.expert, panel.step, panel.block, panel.rule,
                                 panel.temperature, panel.position, panel.candidate, model],
                       [panel.summary, panel.reveal, panel.maps, panel.answers],
                       api_visibility="private")


# --- animations (GIF and offline HTML downloads; `hexviz.app.animate` draws them) ---------------

INLINE_HEIGHT = 520  # px: a lesson chapter's inline animation


@dataclass
class AnimationControls:
    button: gr.Button
    files: gr.File


def animation_controls(key: str) -> AnimationControls:
    button = gr.Button("Animation: GIF for slides, HTML that plays offline",
                       elem_id=f"animate-{key}", size="sm")
    files = gr.File(label="Animation", file_count="multiple", interactive=False,
                    elem_id=f"animation-{key}", visible=False)  # shown once made
    return AnimationControls(button, files)


def animation_files(run: Run | None) -> list[str]:
    """Every expert of ``run`` as a GIF and an HTML page in the export folder."""
    if run is None:
        raise gr.Error("run a prompt or open a stored run first")
    try:
        return [str(animate.export(run, suffix)) for suffix in animate.FORMATS]
    except ValueError as err:  # the operator's limits: one line
        raise gr.Error(f"cannot animate this run: {err}") from None


def wire_animation(controls: AnimationControls, inputs: list,
                   to_run: Callable[..., Run | None]) -> None:
    controls.button.click(
        lambda *values: gr.File(value=animation_files(to_run(*values)), visible=True), inputs,
        controls.files, api_visibility="private")
