"""Two experts side by side, as the Compare tab and the What-if fork show them: where their
trajectories part, both reveal orders on one colour scale with their unmasking maps, both
answers, an exact decode against a cached one, a fork against its original, and one expert's
canvas at a step as a strip of tokens."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from hexviz.render import figures, growing, palette
from hexviz.render.plotting import block_name
from hexviz.render.states import END_OF_TEXT, END_OF_TURN, MASK
from hexviz.runs.record import Run, Trajectory

LINE_STYLE = "font-family: ui-monospace, monospace; font-size: 13px; margin: 3px 0;"
TOKEN_STYLE = ("display: inline-block; margin: 1px; padding: 0 3px; border-radius: 3px; "
               "font-family: ui-monospace, monospace; font-size: 12px;")
SHORT = {END_OF_TURN: "⏎", END_OF_TEXT: "∎"}  # end tokens, one character each


def expert_choices(run: Run | None) -> list[tuple[str, int]]:
    """An expert menu for ``run``: (row label, trajectory index) pairs; none without a run."""
    return [] if run is None else [(label, i) for i, label in enumerate(figures.row_labels(run))]


def answers_html(pairs: Sequence[tuple[str, Run, int]]) -> str:
    """Each named expert's final text and answer, one line each."""
    rows = []
    for name, run, i in pairs:
        t = run.trajectories[i]
        answer = "no answer" if t.answer is None else f"answer <b>{html.escape(t.answer)}</b>"
        rows.append(f'<div style="{LINE_STYLE}"><b>{html.escape(name)}</b> · '
                    f"{html.escape(figures.row_labels(run)[i])} · {answer}<br>"
                    f"{html.escape(t.text) or '<i>(empty)</i>'}</div>")
    return "\n".join(rows)


def first_divergence(a: Trajectory, b: Trajectory, after: int = 0) -> int | None:
    """The first step at or after ``after`` where the two trajectories revealed differently
    (growing canvases: where their steps changed the canvas differently)."""
    steps = max(len(a.draft_ids), len(b.draft_ids))
    if a.resized or b.resized or len(a.token_ids) != len(b.token_ids):
        return next((s for s in range(after, steps)
                     if step_changes(a, s) != step_changes(b, s)), None)
    for s in range(after, steps):
        ra, rb = a.reveal_step == s, b.reveal_step == s
        if not np.array_equal(ra, rb) or not np.array_equal(a.token_ids[ra], b.token_ids[rb]):
            return s
    return None


def step_changes(t: Trajectory, step: int) -> list[tuple[int, ...]]:
    """What step ``step`` did to the canvas: (kind, position, token, count) per event."""
    log, at = t.events, t.events.step == step
    return list(zip(log.kind[at].tolist(), log.position[at].tolist(), log.token[at].tolist(),
                    log.count[at].tolist(), strict=True))


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


def fork_summary(original: Run, index: int, fork: Run, step: int,
                 force: tuple[int, str] | None) -> str:
    """Markdown: what the fork after ``step`` changed (``force``: the forced position and its
    token's text), where it parted from expert ``index`` of ``original``, and both answers."""
    a, b = original.trajectories[index], fork.trajectories[0]
    diverge = first_divergence(a, b, step)
    differ = len(figures.differing_positions(a, b))
    what = []
    if block_name(b.expert) != block_name(a.expert):  # a plain size, else the blocks' name
        what.append(f"block length {b.expert.block_length}" if b.expert.blocks_spec.isdigit()
                    else f"blocks {block_name(b.expert).removeprefix('B=')}")
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


def canvas_html(run: Run, index: int, step: int) -> str:
    """The expert's canvas after ``step`` steps as numbered tokens (masked ones as ·)."""
    t = run.trajectories[index]
    tokens, states = t.tokens, None
    if growing.grows(run):  # the canvas as long as it was then, its tokens where they stood
        canvas = t.canvas_at(step, run.special.mask_id)
        states = growing.states_of(run, canvas.ids, canvas.reveal_step >= 0)
        vocab = growing.vocabulary(run)
        tokens = [growing.token_text(vocab, i) for i in canvas.ids.tolist()]
    states = figures.token_states(run, t, step) if states is None else states
    cells = []
    for p, (tok, state) in enumerate(zip(tokens, states, strict=True)):
        text = "·" if state == MASK else SHORT.get(int(state), html.escape(tok))
        cells.append(f'<span style="{TOKEN_STYLE}background:'
                     f'{palette.TOKEN_BACKGROUNDS[int(state)]}" '
                     f'title="position {p}: {html.escape(repr(tok))}">'
                     f'<sub style="color:#888">{p}</sub>{text}</span>')
    masked = int((states == MASK).sum())
    return (f'<div style="{LINE_STYLE}">after step {step}: {masked} positions still masked '
            f"(·); ⏎ end of turn, ∎ end-of-text</div><div>{''.join(cells)}</div>")
