"""Frames -> one self-contained HTML file that plays, pauses and scrubs offline: the frames' data
as JSON and a small player (`player.html` and `player.js` beside this module), nothing fetched.

The page uses the reader's system fonts. `player.js` holds its non-breaking spaces as the
characters themselves (U+00A0), so the pages stay byte for byte what they were.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from functools import cache
from importlib import resources

import numpy as np

from hexviz import limits
from hexviz.render import palette
from hexviz.render.animate.frames import Animation, build, build_from_panels
from hexviz.render.animate.panels import AnimationSettings, Canvas, panel, run_vocab, words
from hexviz.runs.record import Run


def html_data(anim: Animation) -> dict:
    """What the player needs, read off the frames: for each panel the frame each position first
    shows at, each text change with its frame, the block and the step per frame."""
    frames = anim.frames
    panels = []
    for i, p in enumerate(anim.panels):
        cs = [f.canvases[i] for f in frames]
        never = len(frames)
        appear = [next((n for n, c in enumerate(cs) if c.shown[q]), never)
                  for q in range(p.length)]
        changes = []  # [frame, position, text, state]: the first text and every later one
        for q in range(p.length):
            last = None
            for n, c in enumerate(cs):
                now = (c.texts[q], int(c.states[q]))
                if c.shown[q] and now != last:
                    changes.append([n, q, now[0], now[1]])
                    last = now
        flashes = [[n, q] for n, c in enumerate(cs) for q in np.flatnonzero(c.flash).tolist()]
        panels.append({
            "title": p.heading, "steps": p.steps,
            "space": [int(s) for s in p.space_before], "newline": [int(s) for s in p.newline_after],
            "appear": appear, "changes": changes, "flash": flashes,
            "group": [g[0] for g in words(p)],  # where each unbreakable word starts
            "block": [list(c.block) if c.block else None for c in cs],
            "step": [c.step for c in cs], "done": [int(c.done) for c in cs],
            "answer": p.answer, "collapsed": p.collapsed, "votes": p.votes,
            **(growing_data(cs) if p.timeline is not None else {}),
            **({"remask": remask_data(cs)} if p.remasked_at is not None else {}),
        })
    vote_lines = []
    for f in frames:
        counted = [anim.panels[i] for i in anim.voters[:f.votes_shown]]
        result = anim.result(f)
        vote_lines.append([" · ".join(f"{p.short}: {p.answer or 'none'}" for p in counted),
                           result])
    return {
        "question": anim.title, "model": anim.model, "layout": anim.settings.layout,
        "captions": [anim.caption(f) for f in frames],
        "durations": [f.duration_ms for f in frames], "panels": panels,
        "vote": vote_lines if anim.voters else None,
        "colors": {"mask": palette.MASK, "text": palette.TEXT, "eot": palette.END_OF_TURN,
                   "eos": palette.END_OF_TEXT, "edit": palette.EDIT, "ink": palette.INK,
                   "muted": palette.MUTED, "winner": palette.WINNER},
    }




def remask_data(cs: Sequence[Canvas]) -> list[list[int]]:
    """[position, frame] for each position a dVoting round re-masked: the first frame it is
    drawn re-masked at (it stays so until it shows again, its frame in ``appear``)."""
    ringed = np.array([c.remasked for c in cs])  # (F, L)
    return [[q, int(ringed[:, q].argmax())] for q in np.flatnonzero(ringed.any(0)).tolist()]


def growing_data(cs: Sequence[Canvas]) -> dict:
    """A growing canvas's frames for the player: the frames [first, end) each slot is drawn
    in (one stretch: it stands from its insert to its delete, then is drawn cut once), the
    slots drawn cut at each frame, and the canvas's length at each frame."""
    drawn = np.array([c.drawn for c in cs])  # (F, L)
    ever = drawn.any(0)
    first = np.where(ever, drawn.argmax(0), len(cs))
    end = np.where(ever, len(cs) - drawn[::-1].argmax(0), len(cs))
    return {"shows": np.stack([first, end], 1).tolist(),
            "cut": [[n, q] for n, c in enumerate(cs) for q in np.flatnonzero(c.cut).tolist()],
            "length": [len(c.standing) for c in cs]}


@cache
def player_template() -> str:
    """The page around the data: `player.html` with `player.js` inlined at ``__PLAYER_JS__``."""
    here = resources.files(__package__)
    page = here.joinpath("player.html").read_text(encoding="utf-8")
    return page.replace("__PLAYER_JS__", here.joinpath("player.js").read_text(encoding="utf-8"))


def min_column(anim: Animation) -> int:
    """The narrowest a panel may get before the grid wraps (one expert gets the whole row)."""
    return {"one": 900, "compare": 420}.get(anim.settings.layout, 280)


def render_html(anim: Animation) -> str:
    """The animation as one HTML file: its data as JSON and a small player, nothing fetched."""
    data = json.dumps(html_data(anim), ensure_ascii=True, separators=(",", ":"))
    data = data.replace("</", "<\\/")  # a token "</script>" must not end the data block
    values = {"__TITLE__": html.escape(" ".join(anim.title.split())[:120]),
              "__MINCOL__": str(min_column(anim)), "__MASK__": palette.MASK,
              "__TEXT__": palette.TEXT, "__EOT__": palette.END_OF_TURN,
              "__EOS__": palette.END_OF_TEXT, "__EDIT__": palette.EDIT, "__INK__": palette.INK,
              "__MUTED__": palette.MUTED, "__WINNER__": palette.WINNER,
              "__REMASK__": palette.REMASK}
    page = player_template()
    for key, value in values.items():
        page = page.replace(key, value)
    return page.replace("__DATA__", data)


def html_page(run: Run, settings: AnimationSettings, other: Run | None = None,
              lim: limits.Limits | None = None) -> str:
    return render_html(build(run, settings, other, None, lim))


def page_of(run: Run, indices: Sequence[int], settings: AnimationSettings,
            lim: limits.Limits | None = None) -> str:
    """The HTML animation of trajectories ``indices`` of ``run`` (for a view that picks its
    experts by index, such as a lesson chapter); compare names them A and B."""
    vocab = run_vocab([run])
    names = ("A: ", "B: ") if settings.layout == "compare" else ("",) * len(indices)
    panels = [panel(run, i, names[n] if n < len(names) else "", vocab)
              for n, i in enumerate(indices)]
    return render_html(build_from_panels(panels, run, settings, None, lim or limits.current()))


# The frame takes its page's height once loaded, and again whenever it changes: a fixed
# height leaves a blank band under a short page and cuts a tall one (a phone wraps more lines).
# The frame is same-origin (srcdoc, not sandboxed), so its handler may read the page.
FIT_HEIGHT_JS = ("const d = this.contentDocument; if (!d) return; const fit = () => { "
                 "this.style.height = d.documentElement.offsetHeight + 'px'; }; "
                 "fit(); new ResizeObserver(fit).observe(d.body);")


def iframe(page: str, height: int = 420) -> str:
    """``page`` inside an iframe (for an app view that does not run scripts of its own),
    ``height`` px tall until the page has loaded, then as tall as the page."""
    # Not sandboxed: a sandboxed frame runs in its own renderer process, and in Chromium a click
    # on the page just after scrolling past a tall one was lost (the lesson's Next button). The
    # page is ours: token text goes in through JSON and textContent, never as markup.
    return (f'<iframe title="unmasking animation" srcdoc="{html.escape(page, quote=True)}" '
            f'onload="{html.escape(FIT_HEIGHT_JS, quote=True)}" '
            f'style="width:100%;height:{height}px;border:0"></iframe>')
