"""Frames -> an animated GIF: the layout (a header, the panels in the grid that keeps the image
shortest, the vote strip, a legend), incremental drawing of what changed, one fixed palette.

Drawn with Pillow's bundled Aileron Regular (CC0, ships inside Pillow); characters it lacks are
drawn as '?' (the HTML keeps them).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from hexviz import limits
from hexviz.render import palette
from hexviz.render.animate.frames import Animation, Frame, build_from_panels
from hexviz.render.animate.panels import (AnimationSettings, Canvas, Panel, block_starts, canvas,
                                          panels_for, words)
from hexviz.render.states import END_OF_TEXT, END_OF_TURN, MASK, TEXT
from hexviz.runs.record import Run


@cache
def font(size: int):
    """Pillow's bundled Aileron Regular (CC0) at ``size`` pixels."""
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


@cache
def _notdef(size: int) -> bytes:
    return bytes(font(size).getmask("\uffff"))


def drawable(text: str, size: int) -> str:
    """``text`` with characters the bundled font lacks written as '?' (it covers ASCII and a
    few marks; the HTML shows every character)."""
    def ok(ch: str) -> bool:
        return ch.isascii() or bytes(font(size).getmask(ch)) != _notdef(size)
    return "".join(ch if ok(ch) else "?" for ch in text)


@dataclass(frozen=True)
class Metrics:
    """Pixel sizes, all from the font size."""

    size: int

    @property
    def line(self) -> int:
        return round(self.size * 1.55)

    @property
    def cell(self) -> int:
        return round(self.size * 1.3)

    @property
    def pad(self) -> int:
        return max(1, round(self.size * 0.08))

    @property
    def gap(self) -> int:
        return 4  # between cells: exactly room for the block's 2-pixel outline

    @property
    def end_width(self) -> int:
        return max(6, round(self.size * 0.6))

    @property
    def inset(self) -> int:
        return max(6, self.size // 2)  # a panel's border to its cells (outline included)

    @property
    def margin(self) -> int:
        return round(self.size * 0.9)


@dataclass(frozen=True, eq=False)
class PanelBox:
    x: int
    y: int
    w: int
    h: int
    cells: np.ndarray  # (L, 4) x0, y0, x1, y1 of each position's box, in image pixels


def cell_width(p: Panel, position: int, m: Metrics) -> int:
    texts = p.texts_ever(position)
    if not texts:
        return m.end_width
    width = max(font(m.size).getlength(drawable(t, m.size)) for t in texts)
    return max(m.size // 3 if p.kind(int(p.ids[position])) == TEXT else m.end_width,
               math.ceil(width) + 2 * m.pad)


def cell_widths(p: Panel, width: int, m: Metrics) -> list[int]:
    return [min(cell_width(p, q, m), width) for q in range(p.length)]


def flow(p: Panel, width: int, m: Metrics, cells: Sequence[int] | None = None,
         starts: frozenset[int] | None = None,
         widths: list[int] | None = None) -> tuple[np.ndarray, int]:
    """Each position's box inside a panel ``width`` wide, wrapped like text (a word never
    split from its punctuation); and the height. ``cells``: the positions drawn (default all;
    the others keep an empty box), ``starts``: those that begin a block (default the panel's
    recorded blocks, `Panel.starts`)."""
    space = math.ceil(font(m.size).getlength(" "))
    widths = widths or cell_widths(p, width, m)
    edge = (p.starts if starts is None else starts).__contains__
    boxes = np.zeros((p.length, 4), dtype=np.int32)
    x, y = 0, 0
    for group in words(p, cells):
        lead = m.gap + (space if p.space_before[group[0]] else 0)
        span = sum(widths[q] for q in group) + m.gap * sum(edge(q) for q in group[1:])
        if x and x + lead + span > width:
            x, y = 0, y + m.line
        elif x:
            x += lead
        for n, q in enumerate(group):
            if n and edge(q):
                x += m.gap  # a block edge inside a word: room for the outline
            if x and x + widths[q] > width:  # a word longer than the line breaks inside
                x, y = 0, y + m.line
            boxes[q] = (x, y, x + widths[q], y + m.cell)
            x += widths[q]
        if p.newline_after[group[-1]]:
            x, y = 0, y + m.line
    return boxes, (y + m.line if x else y)


def frame_layout(p: Panel, c: Canvas) -> tuple[tuple[int, ...], frozenset[int]]:
    """The cells a growing canvas's frame draws, in order, and those that start a block."""
    return tuple(np.flatnonzero(c.drawn).tolist()), block_starts(p, c)


def panel_flow(p: Panel, width: int, m: Metrics) -> tuple[np.ndarray, int]:
    """`flow` of a panel: a growing canvas's tallest, over the frames of every step (its last
    step's boxes)."""
    if p.timeline is None:
        return flow(p, width, m)
    widths = cell_widths(p, width, m)
    layouts = {frame_layout(p, canvas(p, s, max(s - 1, 0))) for s in range(p.steps + 1)}
    flows = [flow(p, width, m, cells, starts, widths) for cells, starts in layouts]
    last = flow(p, width, m, *frame_layout(p, canvas(p, p.steps, p.steps)), widths)
    return last[0], max(h for _, h in flows)


@dataclass(frozen=True, eq=False)
class Geometry:
    width: int
    height: int
    metrics: Metrics
    boxes: tuple[PanelBox, ...]
    vote_y: int | None  # top of the vote strip
    legend_y: int


def geometry(anim_panels: Sequence[Panel], settings: AnimationSettings) -> Geometry:
    """Where everything goes: a header, the panels in the grid that keeps the image shortest,
    the vote strip (layout all), a legend."""
    width = settings.width
    size = max(11, round(width / (64 if settings.layout == "one" else 80)))
    m = Metrics(size)
    header = m.margin + 2 * m.line
    n = len(anim_panels)
    best = None
    for cols in range(1, min(n, 4) + 1) if settings.layout == "all" else [min(n, 2)]:
        pw = (width - 2 * m.margin - (cols - 1) * m.margin) // cols
        inner = pw - 2 * m.inset
        if inner < 8 * size and cols > 1:
            continue
        flows = [panel_flow(p, inner, m) for p in anim_panels]
        rows = [max(h for _, h in flows[r:r + cols]) for r in range(0, n, cols)]
        height = sum(m.line + h + m.inset for h in rows) + (len(rows) - 1) * m.margin
        if best is None or height < best[0]:
            best = (height, cols, pw, flows, rows)
    _, cols, pw, flows, rows = best
    boxes, y = [], header
    for r, row_h in enumerate(rows):
        for c in range(cols):
            i = r * cols + c
            if i >= n:
                break
            x = m.margin + c * (pw + m.margin)
            cells, _ = flows[i]
            top = y + m.line
            placed = cells + np.array([x + m.inset, top, x + m.inset, top], dtype=np.int32)
            boxes.append(PanelBox(x, y, pw, m.line + row_h + m.inset, placed))
        y += m.line + row_h + m.inset + m.margin
    vote_y = None
    if settings.layout == "all" and any(p.votes for p in anim_panels):
        vote_y, y = y, y + 2 * m.line
    return Geometry(width, y + m.line + m.margin // 2, m, tuple(boxes), vote_y, y)


def _blend(fg: str, bg: str, levels: int) -> list[tuple[int, int, int]]:
    a, b = np.array(palette.rgb(fg)), np.array(palette.rgb(bg))
    return [tuple(round(float(v)) for v in b + (a - b) * k / levels) for k in range(1, levels)]


@cache
def gif_palette() -> tuple[tuple[int, int, int], ...]:
    """Every colour a frame uses, with anti-aliasing ramps for text on its backgrounds; frames
    are mapped onto it (no dithering), so every frame shares one palette."""
    base = [palette.BACKGROUND, palette.INK, palette.MASK, palette.TEXT, palette.END_OF_TURN,
            palette.END_OF_TEXT, palette.EDIT, palette.WINNER, palette.MUTED]
    colours = [palette.rgb(c) for c in base]
    for fg, bg in ((palette.INK, palette.BACKGROUND), (palette.TEXT, palette.BACKGROUND),
                   (palette.MUTED, palette.BACKGROUND), (palette.WINNER, palette.BACKGROUND),
                   (palette.BACKGROUND, palette.EDIT), (palette.BACKGROUND, palette.WINNER),
                   (palette.INK, palette.MASK)):
        colours += _blend(fg, bg, 8)
    colours.append(palette.rgb(palette.REMASK))  # last: the other colours keep their indices
    return tuple(dict.fromkeys(colours))


def _palette_image():
    from PIL import Image

    image = Image.new("P", (1, 1))
    flat = [v for c in gif_palette() for v in c]
    image.putpalette(flat + flat[:3] * (256 - len(gif_palette())))
    return image


class GifPainter:
    """Draws frames one after another, redrawing only what changed since the last one."""

    def __init__(self, anim: Animation, geo: Geometry) -> None:
        from PIL import Image, ImageDraw

        self.anim, self.geo, self.m = anim, geo, geo.metrics
        self.image = Image.new("RGB", (geo.width, geo.height), palette.BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)
        self.keys: list[list[tuple | None]] = [[None] * p.length for p in anim.panels]
        self.blocks: list[tuple[int, int] | None] = [None] * len(anim.panels)
        # each panel's cell boxes now; a growing canvas's are laid out again as it changes
        self.cells = [box.cells for box in geo.boxes]
        self.layouts: list[tuple | None] = [None] * len(anim.panels)
        self.widths: dict[int, list[int]] = {}  # a growing canvas's cell widths, by panel
        self.dirty: list[tuple[int, int, int, int]] = []
        self.text_cache: dict[tuple, str] = {}
        self._static()

    # drawing primitives record the region they touch
    def rect(self, box, fill=None, outline=None, width=1) -> None:
        self.draw.rectangle(box, fill=fill, outline=outline, width=width)
        self.dirty.append(tuple(int(v) for v in box))

    def text(self, xy, text: str, fill: str, size: int | None = None, anchor="lm",
             clear_to: int | None = None) -> None:
        """Write ``text``; with ``clear_to``, first blank its line up to that x."""
        size = size or self.m.size
        x, y = xy
        if clear_to is not None:
            self.rect((x, y - self.m.line // 2, clear_to, y + self.m.line // 2 - 1),
                      fill=palette.BACKGROUND)
        self.draw.text(xy, drawable(text, size), font=font(size), fill=fill, anchor=anchor)
        if clear_to is None:
            left, top, right, bottom = self.draw.textbbox(xy, drawable(text, size),
                                                          font=font(size), anchor=anchor)
            self.dirty.append((int(left), int(top), int(right), int(bottom)))

    def _static(self) -> None:
        m, geo, anim = self.m, self.geo, self.anim
        question = " ".join(anim.title.split())
        limit = int(geo.width / (m.size * 0.52))
        if len(question) > limit:
            question = question[:limit - 1] + "…"
        self.text((m.margin, m.margin + m.line // 2), question or "(no question)", palette.INK)
        for box in geo.boxes:
            self.rect((box.x, box.y, box.x + box.w - 1, box.y + box.h - 1), outline=palette.MASK)
        self.legend()

    def legend(self) -> None:
        m, y = self.m, self.geo.legend_y + self.m.line // 2
        x = m.margin
        entries = [(palette.MASK, "masked", False), (palette.TEXT, "just revealed", False),
                   (palette.END_OF_TURN, "end of turn", False),
                   (palette.END_OF_TEXT, "end of text", False), (palette.EDIT, "edited", False),
                   (None, "current block", True)]
        if any(p.timeline is not None and p.timeline.cuts for p in self.anim.panels):
            entries.append((palette.INK, "cut", False))
        if any(p.remasked_at is not None for p in self.anim.panels):
            entries.append((palette.REMASK, "re-masked", False))
        for colour, name, outlined in entries:
            h = m.cell // 2
            if name == "cut":  # a struck-through cell
                self.rect((x, y - h, x + m.size, y + h), fill=palette.MASK)
                self.rect((x, y - 1, x + m.size, y), fill=palette.INK)
            elif name == "re-masked":  # a mask ringed
                self.rect((x, y - h, x + m.size, y + h), fill=palette.MASK, outline=colour,
                          width=2)
            elif outlined:
                self.rect((x, y - h, x + m.size, y + h), outline=palette.INK, width=2)
            elif name == "just revealed":
                self.text((x, y), "abc", palette.TEXT)
                x += round(font(m.size).getlength("abc")) - m.size
            else:
                self.rect((x, y - h, x + m.size, y + h), fill=colour)
            self.text((x + m.size + m.inset // 2, y), name, palette.MUTED)
            x += m.size + m.inset // 2 + round(font(m.size).getlength(name)) + 2 * m.margin

    def cell_key(self, c: Canvas, q: int) -> tuple:
        return (int(c.states[q]), c.texts[q], bool(c.fresh[q]), bool(c.flash[q]),
                bool(c.edited[q]), c.cut is not None and bool(c.cut[q]),
                c.remasked is not None and bool(c.remasked[q]))

    def paint_cell(self, box, key: tuple) -> None:
        state, text, fresh, flash, edited, cut, remasked = key
        x0, y0, x1, y1 = (int(v) for v in box)
        self.rect((x0, y0, x1 - 1, y1 - 1), fill=palette.BACKGROUND)  # wipe the last state
        if state == MASK:
            self.rect((x0, y0, x1 - 1, y1 - 1), fill=palette.MASK,
                      **dict(outline=palette.REMASK, width=2) if remasked else {})
        elif state == END_OF_TURN:
            self.rect((x0, y0, x1 - 1, y1 - 1), fill=palette.END_OF_TURN)
        elif state == END_OF_TEXT:
            self.rect((x0, y0, x1 - 1, y1 - 1), fill=palette.END_OF_TEXT)
        else:
            ink = palette.INK
            if flash:
                self.rect((x0, y0, x1 - 1, y1 - 1), fill=palette.EDIT)
                ink = palette.BACKGROUND
            elif fresh:
                ink = palette.TEXT
            self.draw.text((x0 + self.m.pad, (y0 + y1) // 2), drawable(text, self.m.size),
                           font=font(self.m.size), fill=ink, anchor="lm")
            if edited and not flash:
                self.rect((x0, y1 - 2, x1 - 1, y1 - 1), fill=palette.EDIT)
        if cut:  # struck through at the frame it went
            middle = (y0 + y1) // 2
            self.rect((x0, middle - 1, x1 - 1, middle), fill=palette.INK)

    def relayout(self, i: int, p: Panel, c: Canvas, box: PanelBox) -> None:
        """Lay a growing canvas's panel out for this frame's cells, and clear it to repaint:
        the cells cut at this frame are left out if with them it would not fit its box."""
        m = self.m
        inner = box.w - 2 * m.inset
        if i not in self.widths:
            self.widths[i] = cell_widths(p, inner, m)
        cells, starts = frame_layout(p, c)
        boxes, height = flow(p, inner, m, cells, starts, self.widths[i])
        if m.line + height + m.inset > box.h:
            cells = tuple(c.standing.tolist())
            boxes, _ = flow(p, inner, m, cells, starts, self.widths[i])
        self.cells[i] = boxes + np.array([box.x + m.inset, box.y + m.line] * 2, dtype=np.int32)
        self.layouts[i] = (frame_layout(p, c), cells)
        self.keys[i] = [None] * p.length
        self.blocks[i] = None
        top = box.y + m.line - m.gap // 2  # the block outline sits a little above the cells
        self.rect((box.x + 1, top, box.x + box.w - 2, box.y + box.h - 2), fill=palette.BACKGROUND)

    def outline(self, cells: np.ndarray, block: tuple[int, int], colour: str) -> None:
        """The block's cells outlined, one rectangle per line it spans."""
        cells = cells[block[0]:block[1]]
        cells = cells[cells[:, 2] > cells[:, 0]]  # a growing canvas's cells drawn now
        g = self.m.gap // 2
        for top in sorted(set(cells[:, 1].tolist())):
            row = cells[cells[:, 1] == top]
            self.rect((int(row[:, 0].min()) - g, top - g, int(row[:, 2].max()) + g - 1,
                       int(row[:, 3].max()) + g - 1), outline=colour, width=2)

    def paint(self, frame: Frame) -> None:
        anim, m = self.anim, self.m
        self.text((m.margin, m.margin + m.line + m.line // 2), anim.caption(frame), palette.MUTED,
                  clear_to=self.geo.width - 1)
        for i, (p, c, box) in enumerate(zip(anim.panels, frame.canvases, self.geo.boxes,
                                            strict=True)):
            self.panel_title(p, c, box)
            drawn = range(p.length)
            if p.timeline is not None:
                if self.layouts[i] is None or self.layouts[i][0] != frame_layout(p, c):
                    self.relayout(i, p, c, box)
                drawn = self.layouts[i][1]
            if self.blocks[i] is not None and self.blocks[i] != c.block:
                self.outline(self.cells[i], self.blocks[i], palette.BACKGROUND)
            for q in drawn:
                key = self.cell_key(c, q)
                if key != self.keys[i][q]:
                    self.paint_cell(self.cells[i][q], key)
                    self.keys[i][q] = key
            if c.block is not None:
                self.outline(self.cells[i], c.block, palette.INK)
            self.blocks[i] = c.block
        if self.geo.vote_y is not None:
            self.vote_strip(frame)

    def panel_title(self, p: Panel, c: Canvas, box: PanelBox) -> None:
        m = self.m
        y = box.y + m.line // 2 + 2
        left = p.heading
        status = f"step {c.step}/{p.steps}"
        if p.timeline is not None:  # a growing canvas: how long it is now
            status += f" · length {len(c.standing)}"
        if c.done:
            status = ("collapsed · " if p.collapsed else "") + (
                f"answer {p.answer}" if p.answer is not None else "no answer")
        key = (left, status)
        if self.text_cache.get(("title", box.x, box.y)) == key:
            return
        self.text_cache[("title", box.x, box.y)] = key
        room = box.w - 2 * m.inset - font(m.size).getlength(drawable(status, m.size)) - m.size
        self.text((box.x + m.inset, y), fit(left, room, m.size), palette.INK,
                  clear_to=box.x + box.w - 2)
        colour = palette.INK if c.done else palette.MUTED  # green is the vote's winner only
        self.text((box.x + box.w - m.inset, y), status, colour, anchor="rm")

    def vote_strip(self, frame: Frame) -> None:
        anim, m = self.anim, self.m
        y = self.geo.vote_y + m.line // 2
        key = (frame.votes_shown, frame.final)
        if self.text_cache.get("vote") == key:
            return
        self.text_cache["vote"] = key
        counted = [anim.panels[i] for i in anim.voters[:frame.votes_shown]]
        line = "Vote: " + ("   ".join(f"{p.short}: {p.answer or 'none'}" for p in counted)
                           if counted else "waiting for the experts to finish")
        self.text((m.margin, y), line, palette.INK, clear_to=self.geo.width - 1)
        self.text((m.margin, y + m.line), anim.result(frame), palette.WINNER,
                  clear_to=self.geo.width - 1)

    def take(self, previous):
        """This frame as a palette image: only the regions drawn since the last one are
        mapped onto the palette and pasted over the previous frame."""
        from PIL import Image

        pal = _palette_image()
        if previous is None:
            frame = self.image.quantize(palette=pal, dither=Image.Dither.NONE)
        else:
            frame = previous.copy()
            w, h = self.image.size
            for x0, y0, x1, y1 in merge_boxes(self.dirty):
                box = (max(0, x0), max(0, y0), min(w, x1 + 1), min(h, y1 + 1))
                if box[2] > box[0] and box[3] > box[1]:
                    crop = self.image.crop(box).quantize(palette=pal, dither=Image.Dither.NONE)
                    frame.paste(crop, box[:2])
        self.dirty = []
        return frame


def merge_boxes(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Fewer, larger regions: boxes on one text line are joined (each crop costs a call)."""
    rows: dict[int, list[int]] = {}
    for x0, y0, x1, y1 in boxes:
        key = y0 // 8
        if key in rows:
            r = rows[key]
            rows[key] = [min(r[0], x0), min(r[1], y0), max(r[2], x1), max(r[3], y1)]
        else:
            rows[key] = [x0, y0, x1, y1]
    return [tuple(r) for r in rows.values()]


def fit(text: str, room: float, size: int) -> str:
    """``text`` cut with an ellipsis to fit ``room`` pixels."""
    if font(size).getlength(drawable(text, size)) <= room:
        return text
    while text and font(size).getlength(drawable(text + "…", size)) > room:
        text = text[:-1]
    return text.rstrip() + "…"


def gif_geometry(run: Run, settings: AnimationSettings, other: Run | None = None) -> Geometry:
    return geometry(panels_for(run, settings, other), settings)


def render_gif(anim: Animation, geo: Geometry | None = None) -> bytes:
    """The animation as an animated GIF (looping)."""
    geo = geo or geometry(anim.panels, anim.settings)
    painter = GifPainter(anim, geo)
    images, previous = [], None
    for frame in anim.frames:
        painter.paint(frame)
        previous = painter.take(previous)
        images.append(previous)
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], loop=0,
                   duration=[f.duration_ms for f in anim.frames], optimize=False, disposal=1)
    return out.getvalue()


def gif(run: Run, settings: AnimationSettings, other: Run | None = None,
        lim: limits.Limits | None = None) -> bytes:
    lim = lim or limits.current()
    panels = panels_for(run, settings, other)
    geo = geometry(panels, settings)
    anim = build_from_panels(panels, run, settings, geo.width * geo.height, lim)
    return render_gif(anim, geo)
