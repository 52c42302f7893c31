"""Animations of a run's unmasking for slides and READMEs: an animated GIF and one
self-contained HTML file that plays, pauses and scrubs offline.

Pure (no torch, no gradio): a `Run` becomes `Panel`s (one expert's canvas each, its words laid
out as the answer reads), the panels become `Frame`s on one shared clock, and the frames become
bytes. Clock convention as in the charts: at clock t a panel shows its state after
``min(t, its steps)`` steps, so position p shows its token exactly when ``reveal_step[p] < t``;
clock 0 is the all-mask start. Experts or runs of different step counts share the clock: one
that finished holds its last canvas. Layouts: ``one`` expert large, ``all`` experts side by
side with the vote filling in at the end, ``compare`` one expert of each of two runs.

The operator limits bound the work (`limits.Limits.max_animation_frames`, and for a GIF
`max_animation_pixels`, width x height x frames); a longer run is sampled evenly in time and the
frames say so, one that does not fit even sampled is refused in one line (`limits.LimitError`).
The GIF uses Pillow's bundled Aileron Regular (CC0, ships inside Pillow); the HTML uses the
reader's system fonts and requests nothing from the network.
"""

from __future__ import annotations

import html
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np

from hexviz import limits
from hexviz.app import palette
from hexviz.runs.record import Run, Trajectory
from hexviz.runs.vote import majority

# Position states; the same codes as the charts' (hexviz.app.plots).
MASK, TEXT, END_OF_TURN, END_OF_TEXT = 0, 1, 2, 3
LAYOUTS = ("one", "all", "compare")
FORMATS = (".gif", ".html")
MIN_WIDTH, MAX_WIDTH = 320, 3840
DEFAULT_WIDTH = 1280  # a 1280x720 slide
MAX_FPS = 30.0
START_HOLD_MS = 600  # the all-mask canvas, so the eye finds the start
VOTE_MS = 450  # each vote as it is counted
END_HOLD_MS = 2500  # the finished answer (and the vote's winner) before the loop restarts


@dataclass(frozen=True)
class Settings:
    """What to animate and how: layout, expert selectors, frame rate and width."""

    layout: str = "all"
    experts: tuple[str, ...] = ()  # "8", "whole", "whole:margin"; () = the layout's default
    fps: float = 8.0  # clock steps per second
    width: int = DEFAULT_WIDTH  # GIF pixels; the HTML scales to its window

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)} (got {self.layout!r})")
        if not (isinstance(self.fps, int | float) and 0 < self.fps <= MAX_FPS):
            raise ValueError(f"fps must be a number above 0 and at most {MAX_FPS:g} "
                             f"(got {self.fps!r})")
        if not (isinstance(self.width, int) and MIN_WIDTH <= self.width <= MAX_WIDTH):
            raise ValueError(f"width must be a whole number of pixels from {MIN_WIDTH} to "
                             f"{MAX_WIDTH} (got {self.width!r})")

    @property
    def step_ms(self) -> int:
        return max(20, round(1000 / self.fps))  # GIF delays are in 10 ms; browsers clamp < 20


def parse_experts(text: str | None) -> tuple[str, ...]:
    """"8,32,whole" -> ("8", "32", "whole")."""
    return tuple(s.strip() for s in (text or "").split(",") if s.strip())


# --- run -> panels ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Edit:
    """A committed token replaced during ``step`` (token editing; issue 22's ``edits``)."""

    step: int
    position: int
    old_id: int
    new_id: int


@dataclass(frozen=True, eq=False)
class Panel:
    """One expert's canvas: what it will show at every step, and how its words are spaced."""

    title: str  # "B=8 low_confidence", prefixed by the run's name in a comparison
    ids: np.ndarray  # (L,) final token ids
    reveal_step: np.ndarray  # (L,) step each position was committed at; -1 never
    steps: int  # this expert's own number of steps (forward passes)
    block_length: int
    special: tuple[int | None, int | None]  # (end_of_turn_id, end_of_text_id)
    vocab: dict[int, str]  # id -> display text, for every id the panel can show
    space_before: tuple[bool, ...]  # (L,) a space before position p, as the answer reads
    newline_after: tuple[bool, ...]  # (L,) the token ends a line
    edits: tuple[Edit, ...] = ()
    seed: int = 0
    log_likelihood: float | None = None  # one-step likelihood, for the NLL tie rules
    answer: str | None = None
    votes: bool = True
    collapsed: bool = False

    @property
    def length(self) -> int:
        return len(self.ids)

    @property
    def heading(self) -> str:
        return self.title + ("" if self.votes else " · no vote")

    @property
    def short(self) -> str:
        """The name the vote strip uses: the block size (and seed)."""
        return self.title.split(" ")[0] + (f" seed {self.seed}" if self.seed else "")

    def kind(self, token_id: int) -> int:
        end_of_turn, end_of_text = self.special
        return END_OF_TEXT if token_id == end_of_text else (
            END_OF_TURN if token_id == end_of_turn else TEXT)

    def ids_at(self, step: int) -> np.ndarray:
        """(L,) the token at each position after ``step`` steps (edits from ``step`` on undone)."""
        ids = self.ids.copy()
        for e in sorted((e for e in self.edits if e.step >= step), key=lambda e: -e.step):
            ids[e.position] = e.old_id
        return ids

    def texts_ever(self, position: int) -> list[str]:
        """Every text the position writes at some step (for a width that never changes); end
        tokens are drawn as small boxes, not as their text."""
        ids = {int(self.ids[position])} | {e.old_id for e in self.edits if e.position == position}
        return [self.vocab.get(i, f"#{i}") for i in sorted(ids) if self.kind(i) == TEXT]


def display_text(token: str) -> str:
    """A token as it is drawn: whitespace collapsed (spacing and line ends are separate)."""
    return " ".join(token.split())


def is_word(text: str) -> bool:
    return bool(text) and (text[0].isalnum() or text[0] in "$(#\"'")


def spacing(tokens: Sequence[str], kinds: Sequence[int], answer_text: str) -> list[bool]:
    """Whether a space goes before each token, read off the decoded answer so the canvas reads
    like it; tokens the answer does not contain (after the first end token) fall back to their
    own leading space, or a space before a word."""
    spaces, cursor = [], 0
    for p, (token, kind) in enumerate(zip(tokens, kinds, strict=True)):
        shown = display_text(token)
        if kind != TEXT or not shown:
            spaces.append(False)
            continue
        at = cursor
        while at < len(answer_text) and answer_text[at].isspace():
            at += 1
        if answer_text.startswith(shown, at):
            spaces.append(at > cursor and p > 0)
            cursor = at + len(shown)
        else:
            spaces.append(p > 0 and (token[:1].isspace() or is_word(shown)))
    return spaces


def edits_of(t: Trajectory) -> tuple[Edit, ...]:
    """The trajectory's recorded edits ([step, position, old id, new id] rows), if any."""
    raw = getattr(t, "edits", None)
    if raw is None or len(raw) == 0:
        return ()
    rows = np.asarray(raw, dtype=np.int64).reshape(-1, 4)
    return tuple(Edit(*map(int, row)) for row in rows if 0 <= row[1] < len(t.token_ids))


def steps_of(run: Run, t: Trajectory) -> int:
    """The expert's own step count: ``steps_taken`` where the run records it, else the run's."""
    taken = getattr(t, "steps_taken", None)
    return run.steps_done if taken is None or int(taken) <= 0 else int(taken)


def run_vocab(runs: Sequence[Run]) -> dict[int, str]:
    """id -> display text from every final token of ``runs`` (a run stores no vocabulary)."""
    vocab: dict[int, str] = {}
    for run in runs:
        for t in run.trajectories:
            for i, token in zip(t.token_ids.tolist(), t.tokens, strict=True):
                vocab.setdefault(int(i), display_text(token))
            # runs with token editing store each edit's (old, new) text beside its ids
            for e, texts in zip(edits_of(t), getattr(t, "edit_texts", None) or [], strict=False):
                vocab.setdefault(e.old_id, display_text(texts[0]))
                vocab.setdefault(e.new_id, display_text(texts[1]))
    return vocab


def panel(run: Run, index: int, prefix: str = "", vocab: dict[int, str] | None = None) -> Panel:
    """Trajectory ``index`` of ``run`` as a panel."""
    t = run.trajectories[index]
    special = (run.special.end_of_turn_id, run.special.end_of_text_id)
    ids = t.token_ids.astype(np.int64)
    kinds = [END_OF_TEXT if i == special[1] else END_OF_TURN if i == special[0] else TEXT
             for i in ids.tolist()]
    vocab = dict(vocab or run_vocab([run]))
    return Panel(
        title=prefix + t.expert.label, ids=ids, reveal_step=t.reveal_step.astype(np.int64),
        steps=steps_of(run, t), block_length=t.expert.block_length, special=special,
        vocab=vocab, space_before=tuple(spacing(t.tokens, kinds, t.text)),
        newline_after=tuple("\n" in tok for tok in t.tokens), edits=edits_of(t),
        seed=t.expert.seed if t.expert.temperature > 0 else 0,
        log_likelihood=getattr(t, "one_step_log_likelihood", None), answer=t.answer, votes=t.expert.votes, collapsed=t.collapsed)


def selector_names(run: Run) -> list[str]:
    """The selectors this run answers to, for an error message."""
    names = [str(b) for b in sorted({t.expert.block_length for t in run.trajectories
                                     if t.expert.votes})]
    wholes = [t.expert.remasking for t in run.trajectories if not t.expert.votes]
    return names + (["whole"] + [f"whole:{r}" for r in wholes] if wholes else [])


def select(run: Run, selector: str) -> list[int]:
    """Trajectory indices for one selector: a block size (its voting experts, every seed),
    ``whole`` (the whole-answer rows that don't vote) or ``whole:RULE``."""
    s = selector.strip().lower()
    if s == "whole" or s.startswith("whole:"):
        rule = s.partition(":")[2]
        found = [i for i, t in enumerate(run.trajectories)
                 if not t.expert.votes and (not rule or t.expert.remasking == rule)]
    elif s.isdigit():
        found = [i for i, t in enumerate(run.trajectories)
                 if t.expert.votes and t.expert.block_length == int(s)]
    else:
        raise ValueError(f"experts are block sizes or whole, such as 8,32,whole (got {selector!r})")
    if not found:
        raise ValueError(f"no expert {selector!r} in this run; it has "
                         f"{', '.join(selector_names(run))}")
    return found


def middle_voter(run: Run) -> int:
    return run.voters[len(run.voters) // 2] if run.voters else 0


def chosen(run: Run, selectors: Sequence[str]) -> list[int]:
    return list(dict.fromkeys(i for s in selectors for i in select(run, s)))


def panels_for(run: Run, settings: Settings, other: Run | None = None) -> list[Panel]:
    """The layout's panels: ``one`` the first selected expert (default: the middle voter);
    ``all`` every selected expert (default: all); ``compare`` one expert of ``run`` and one of
    ``other`` (default: ``run`` itself), the first selector for each side, or one per side."""
    vocab = run_vocab([run] + ([other] if other is not None else []))
    experts = settings.experts
    if settings.layout == "one":
        index = chosen(run, experts)[0] if experts else middle_voter(run)
        return [panel(run, index, vocab=vocab)]
    if settings.layout == "all":
        indices = chosen(run, experts) if experts else list(range(len(run.trajectories)))
        return [panel(run, i, vocab=vocab) for i in indices]
    b_run = other if other is not None else run
    if len(experts) > 2:
        raise ValueError(f"compare takes one expert for each side, such as 8,whole "
                         f"(got {','.join(experts)})")
    if not experts:
        a = middle_voter(run)
        b = middle_voter(b_run) if other is not None else next(
            (i for i, t in enumerate(run.trajectories) if not t.expert.votes), len(run.voters) - 1)
    elif len(experts) == 1:
        if other is None:
            raise ValueError("compare needs two experts (such as 8,whole) or a second run")
        a, b = select(run, experts[0])[0], select(b_run, experts[0])[0]
    else:
        a, b = select(run, experts[0])[0], select(b_run, experts[1])[0]
    if run.config.gen_length != b_run.config.gen_length:
        raise ValueError(f"these runs have different answer lengths ({run.config.gen_length} "
                         f"and {b_run.config.gen_length} tokens); compare runs of one length")
    names = ("A: ", "B: ")
    return [panel(run, a, names[0], vocab), panel(b_run, b, names[1], vocab)]


# --- panels -> frames ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Canvas:
    """One panel at one frame: the data a renderer draws."""

    step: int  # steps this panel has done at this frame
    shown: np.ndarray  # (L,) bool: reveal_step < step
    ids: np.ndarray  # (L,) the token at each shown position (-1 where masked)
    texts: tuple[str, ...]  # (L,) what is written there ("" where masked)
    states: np.ndarray  # (L,) MASK, TEXT, END_OF_TURN, END_OF_TEXT
    fresh: np.ndarray  # (L,) revealed since the previous frame
    flash: np.ndarray  # (L,) edited since the previous frame
    edited: np.ndarray  # (L,) edited at some step so far
    block: tuple[int, int] | None  # the current block [start, end); None when finished
    done: bool


def canvas(p: Panel, step: int, previous: int) -> Canvas:
    """Panel ``p`` after ``step`` steps; ``previous`` is its step at the frame before."""
    shown = (p.reveal_step >= 0) & (p.reveal_step < step)
    ids = np.where(shown, p.ids_at(step), -1)
    states = np.array([p.kind(int(i)) if s else MASK for i, s in zip(ids, shown, strict=True)],
                      dtype=np.int8)
    texts = tuple(p.vocab.get(int(i), f"#{i}") if s and k == TEXT else ""
                  for i, s, k in zip(ids, shown, states, strict=True))
    flash = np.zeros(p.length, dtype=bool)
    edited = np.zeros(p.length, dtype=bool)
    for e in p.edits:
        if e.step < step:
            edited[e.position] = True
            flash[e.position] |= e.step >= previous
    masked = np.flatnonzero(~shown)
    block = None
    if len(masked) and step < p.steps:
        start = int(masked[0]) // p.block_length * p.block_length
        block = (start, min(start + p.block_length, p.length))
    fresh = shown & (p.reveal_step >= previous) if step > previous else np.zeros_like(shown)
    return Canvas(step, shown, ids, texts, states, fresh, flash & shown, edited & shown, block,
                  step >= p.steps)


@dataclass(frozen=True, eq=False)
class Frame:
    clock: int  # the shared step
    canvases: tuple[Canvas, ...]  # one per panel
    votes_shown: int  # voting panels whose answer the vote strip counts so far
    final: bool  # the vote's result is shown
    duration_ms: int


@dataclass(frozen=True, eq=False)
class Animation:
    title: str  # the question
    model: str
    settings: Settings
    panels: tuple[Panel, ...]
    frames: tuple[Frame, ...]
    clock_steps: int  # the longest panel's steps
    clocks_shown: int  # distinct clock values drawn (< clock_steps + 1 when sampled in time)
    voters: tuple[int, ...] = field(default=())  # panel indices that vote, in vote order
    tie_rule: str = "first"  # the run's (`hexviz.runs.vote.TIE_RULES`)

    @property
    def sampled(self) -> bool:
        return self.clocks_shown < self.clock_steps + 1

    def vote_at(self, frame: Frame):
        """The vote over the voters counted so far, under the run's tie rule (the first
        expert's answer when a likelihood rule lacks likelihoods)."""
        counted = [self.panels[i] for i in self.voters[:frame.votes_shown]]
        answers = [p.answer for p in counted]
        try:
            return majority(answers, [p.log_likelihood for p in counted], self.tie_rule)
        except ValueError:
            return majority(answers)

    def result(self, frame: Frame) -> str:
        """The vote's line once it is counted: winner, votes, and what broke a tie."""
        if not frame.final or not self.voters:
            return ""
        vote = self.vote_at(frame)
        if vote.winner is None:
            return "no expert gave an answer"
        broken = {"first": "the smallest block", "lowest_nll": "the lowest NLL",
                  "frequency_lowest_nll": "the lowest NLL"}.get(vote.decided_by or "", "")
        return (f"HEX answer {vote.winner}: {vote.counts[vote.winner]} of "
                f"{sum(vote.counts.values())} votes"
                + (f" (tie, broken by {broken})" if vote.tie and broken else ""))

    def caption(self, frame: Frame) -> str:
        text = f"step {frame.clock} of {self.clock_steps}"
        if self.sampled:
            text += (f" · sampled in time: {self.clocks_shown} of {self.clock_steps + 1} "
                     f"steps shown")
        return text


def vote_frames(settings: Settings, panels: Sequence[Panel]) -> int:
    """Frames after the clock: one per counted vote and one for the result (layout all)."""
    voters = sum(p.votes for p in panels)
    return voters + 1 if settings.layout == "all" and voters else 0


def frame_budget(lim: limits.Limits, frame_pixels: int | None, extra: int) -> int:
    """How many clock frames fit the operator's limits; LimitError when not even two do."""
    budget = int(lim.max_animation_frames)
    why = "HEXVIZ_MAX_ANIMATION_FRAMES"
    if frame_pixels:
        by_pixels = int(lim.max_animation_pixels // frame_pixels)
        if by_pixels < budget:
            budget, why = by_pixels, "HEXVIZ_MAX_ANIMATION_PIXELS"
    if budget - extra < 2:
        size = f" of {frame_pixels:,} pixels" if frame_pixels else ""
        raise limits.LimitError(f"this animation needs at least {extra + 2} frames{size}; this "
                                f"app allows {budget} ({why}); choose fewer experts or a "
                                f"smaller width")
    return budget - extra


def build(run: Run, settings: Settings, other: Run | None = None,
          frame_pixels: int | None = None, lim: limits.Limits | None = None) -> Animation:
    """The animation's panels and frames within the limits (``frame_pixels``: a GIF's frame
    size, which bounds its frame count by the pixel limit)."""
    lim = lim or limits.current()
    panels = panels_for(run, settings, other)
    return build_from_panels(panels, run, settings, frame_pixels, lim)


def build_from_panels(panels: Sequence[Panel], run: Run, settings: Settings,
                      frame_pixels: int | None, lim: limits.Limits) -> Animation:
    if len(panels) > lim.max_experts:
        raise limits.LimitError(f"{len(panels)} experts is more than this app's "
                                f"{lim.max_experts} (HEXVIZ_MAX_EXPERTS); choose fewer")
    extra = vote_frames(settings, panels)
    total = max(p.steps for p in panels)
    clocks = limits.sample_steps(total, 1, frame_budget(lim, frame_pixels, extra), 10**12)
    frames, previous = [], [0] * len(panels)
    for n, clock in enumerate(clocks):
        steps = [min(clock, p.steps) for p in panels]
        canvases = tuple(canvas(p, s, prev) for p, s, prev in zip(panels, steps, previous,
                                                                  strict=True))
        previous = steps
        last = n == len(clocks) - 1
        duration = START_HOLD_MS if n == 0 else (END_HOLD_MS if last and not extra
                                                 else settings.step_ms)
        frames.append(Frame(clock, canvases, 0, last and not extra, duration))
    voters = tuple(i for i, p in enumerate(panels) if p.votes) if extra else ()
    if extra:
        # The clock has ended: hold the final canvases (nothing fresh) while the votes count.
        held = tuple(replace(c, fresh=np.zeros_like(c.fresh), flash=np.zeros_like(c.flash))
                     for c in frames[-1].canvases)
        for k in range(1, len(voters) + 1):
            frames.append(Frame(clocks[-1], held, k, False, VOTE_MS))
        frames.append(Frame(clocks[-1], held, len(voters), True, END_HOLD_MS))
    return Animation(run.prompt, Path(run.model).name or run.model, settings, tuple(panels),
                     tuple(frames), total, len(clocks), voters, getattr(run, "tie_rule", "first"))


# --- GIF: layout, incremental drawing, fixed palette ----------------------------------------

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


def words(p: Panel) -> list[list[int]]:
    """Positions grouped into the units a line may not break inside: a token and the tokens
    written against it with no space ("2" "," -> "2,"); each end token stands alone."""
    groups: list[list[int]] = []
    for q in range(p.length):
        attached = (groups and not p.space_before[q] and p.kind(int(p.ids[q])) == TEXT
                    and p.kind(int(p.ids[groups[-1][-1]])) == TEXT
                    and not p.newline_after[groups[-1][-1]])
        if attached:
            groups[-1].append(q)
        else:
            groups.append([q])
    return groups


def flow(p: Panel, width: int, m: Metrics) -> tuple[np.ndarray, int]:
    """Each position's box inside a panel ``width`` wide, wrapped like text (a word never
    split from its punctuation); and the height."""
    space = math.ceil(font(m.size).getlength(" "))
    widths = [min(cell_width(p, q, m), width) for q in range(p.length)]
    boxes = np.zeros((p.length, 4), dtype=np.int32)
    x, y = 0, 0
    for group in words(p):
        lead = m.gap + (space if p.space_before[group[0]] else 0)
        span = sum(widths[q] for q in group) + m.gap * sum(
            q % p.block_length == 0 for q in group[1:])
        if x and x + lead + span > width:
            x, y = 0, y + m.line
        elif x:
            x += lead
        for n, q in enumerate(group):
            if n and q % p.block_length == 0:
                x += m.gap  # a block edge inside a word: room for the outline
            if x and x + widths[q] > width:  # a word longer than the line breaks inside
                x, y = 0, y + m.line
            boxes[q] = (x, y, x + widths[q], y + m.cell)
            x += widths[q]
        if p.newline_after[group[-1]]:
            x, y = 0, y + m.line
    return boxes, (y + m.line if x else y)


@dataclass(frozen=True, eq=False)
class Geometry:
    width: int
    height: int
    metrics: Metrics
    boxes: tuple[PanelBox, ...]
    vote_y: int | None  # top of the vote strip
    legend_y: int


def geometry(anim_panels: Sequence[Panel], settings: Settings) -> Geometry:
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
        flows = [flow(p, inner, m) for p in anim_panels]
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
        for colour, name, outlined in ((palette.MASK, "masked", False),
                                       (palette.TEXT, "just revealed", False),
                                       (palette.END_OF_TURN, "end of turn", False),
                                       (palette.END_OF_TEXT, "end of text", False),
                                       (palette.EDIT, "edited", False),
                                       (None, "current block", True)):
            h = m.cell // 2
            if outlined:
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
                bool(c.edited[q]))

    def paint_cell(self, box, key: tuple) -> None:
        state, text, fresh, flash, edited = key
        x0, y0, x1, y1 = (int(v) for v in box)
        self.rect((x0, y0, x1 - 1, y1 - 1), fill=palette.BACKGROUND)  # wipe the last state
        if state == MASK:
            self.rect((x0, y0, x1 - 1, y1 - 1), fill=palette.MASK)
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

    def outline(self, box: PanelBox, block: tuple[int, int], colour: str) -> None:
        """The block's cells outlined, one rectangle per line it spans."""
        cells = box.cells[block[0]:block[1]]
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
            if self.blocks[i] is not None and self.blocks[i] != c.block:
                self.outline(box, self.blocks[i], palette.BACKGROUND)
            for q in range(p.length):
                key = self.cell_key(c, q)
                if key != self.keys[i][q]:
                    self.paint_cell(box.cells[q], key)
                    self.keys[i][q] = key
            if c.block is not None:
                self.outline(box, c.block, palette.INK)
            self.blocks[i] = c.block
        if self.geo.vote_y is not None:
            self.vote_strip(frame)

    def panel_title(self, p: Panel, c: Canvas, box: PanelBox) -> None:
        m = self.m
        y = box.y + m.line // 2 + 2
        left = p.heading
        status = f"step {c.step}/{p.steps}"
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


def gif_geometry(run: Run, settings: Settings, other: Run | None = None) -> Geometry:
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


def gif(run: Run, settings: Settings, other: Run | None = None,
        lim: limits.Limits | None = None) -> bytes:
    lim = lim or limits.current()
    panels = panels_for(run, settings, other)
    geo = geometry(panels, settings)
    anim = build_from_panels(panels, run, settings, geo.width * geo.height, lim)
    return render_gif(anim, geo)


# --- HTML: one file, its data and player inline -------------------------------------------------

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


HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hexviz animation: __TITLE__</title>
<style>
:root { --mask: __MASK__; --text: __TEXT__; --eot: __EOT__; --eos: __EOS__; --edit: __EDIT__;
        --ink: __INK__; --muted: __MUTED__; --winner: __WINNER__; }
body { margin: 0; padding: 10px 14px; font: 16px/1.45 system-ui, -apple-system, "Segoe UI",
       Roboto, "Noto Sans", "DejaVu Sans", Arial, sans-serif; color: var(--ink); background: #fff; }
#question { font-size: 15px; margin-bottom: 2px; }
#controls { display: flex; gap: 10px; align-items: center; margin: 4px 0 8px; flex-wrap: wrap; }
#controls button { font: inherit; padding: 2px 12px; min-width: 5.5em; cursor: pointer; }
#scrub { flex: 1 1 240px; min-width: 160px; }
#caption { color: var(--muted); font-variant-numeric: tabular-nums; font-size: 14px; }
#panels { display: grid; gap: 10px;
          grid-template-columns: repeat(auto-fit, minmax(min(100%, __MINCOL__px), 1fr)); }
.panel { border: 1px solid var(--mask); border-radius: 6px; padding: 4px 8px 6px; min-width: 0; }
.head { display: flex; justify-content: space-between; gap: 8px; font-size: 14px; }
.head .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.status { color: var(--muted); white-space: nowrap; }
.status.answer { color: var(--ink); font-weight: 600; }
.canvas { line-height: 1.75; margin-top: 2px; font-size: 15px; }
.w { display: inline-block; padding: 2px 0; vertical-align: middle; }
.w.sp { padding-left: 0.28em; }
.w.blk { box-shadow: inset 0 2px 0 var(--ink), inset 0 -2px 0 var(--ink); }
.w.blk.first { box-shadow: inset 2px 2px 0 var(--ink), inset 0 -2px 0 var(--ink); padding-left: 3px; }
.w.blk.last { box-shadow: inset -2px 2px 0 var(--ink), inset 0 -2px 0 var(--ink); padding-right: 3px; }
.w.blk.first.last { box-shadow: inset 0 0 0 2px var(--ink); }
.c { display: inline-block; min-height: 1.3em; vertical-align: middle; border-radius: 3px;
     margin: 0 1px; box-sizing: border-box; text-align: left; white-space: pre; }
.c.m { background: var(--mask); color: transparent; }
.c.eot { background: var(--eot); width: 0.6em; min-width: 0 !important; color: transparent; }
.c.eos { background: var(--eos); width: 0.6em; min-width: 0 !important; color: transparent; }
.c.fresh { color: var(--text); }
.c.flash { background: var(--edit); color: #fff; }
.c.edited { box-shadow: inset 0 -2px 0 var(--edit); }
.g { white-space: nowrap; }
.br { display: block; height: 0; }
#vote { margin-top: 8px; }
#vote .result { color: var(--winner); font-weight: 600; }
#legend { margin-top: 6px; color: var(--muted); font-size: 13px; display: flex; flex-wrap: wrap;
          gap: 2px 16px; }
#legend span { white-space: nowrap; }
#legend i { display: inline-block; width: 0.9em; height: 0.9em; vertical-align: -0.1em;
            margin-right: 4px; border-radius: 2px; }
</style></head>
<body>
<div id="question"></div>
<div id="controls"><button id="play" type="button">Pause</button>
<input id="scrub" type="range" min="0" value="0" step="1" aria-label="frame">
<span id="caption"></span></div>
<div id="panels"></div>
<div id="vote"></div>
<div id="legend"><span><i style="background:var(--mask)"></i>masked</span>
<span><i style="background:var(--text)"></i>just revealed</span>
<span><i style="background:var(--eot)"></i>end of turn</span>
<span><i style="background:var(--eos)"></i>end of text</span>
<span><i style="background:var(--edit)"></i>edited</span>
<span><i style="box-shadow:inset 0 0 0 2px var(--ink)"></i>current block</span></div>
<script type="application/json" id="hexviz-data">__DATA__</script>
<script>
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("hexviz-data").textContent);
  var n = D.durations.length, frame = 0, playing = true, timer = null;
  document.getElementById("question").textContent = D.question;
  var scrub = document.getElementById("scrub"), play = document.getElementById("play");
  scrub.max = n - 1;
  if (!D.vote) document.getElementById("vote").style.display = "none";
  var root = document.getElementById("panels"), views = [];
  D.panels.forEach(function (p) {
    var box = document.createElement("div"); box.className = "panel";
    var head = document.createElement("div"); head.className = "head";
    var name = document.createElement("span"); name.className = "name"; name.textContent = p.title;
    var status = document.createElement("span"); status.className = "status";
    head.appendChild(name); head.appendChild(status); box.appendChild(head);
    var cv = document.createElement("div"); cv.className = "canvas"; box.appendChild(cv);
    var byPos = {};  // position -> [[frame, text, state], ...]
    p.changes.forEach(function (c) { (byPos[c[1]] = byPos[c[1]] || []).push([c[0], c[2], c[3]]); });
    var cells = [], wraps = [], starts = {}, group = null;
    p.group.forEach(function (q) { starts[q] = true; });
    for (var q = 0; q < p.appear.length; q++) {
      if (starts[q] || !group) {  // a word and its punctuation never split across lines
        group = document.createElement("span"); group.className = "g"; cv.appendChild(group);
      }
      var w = document.createElement("span"); w.className = "w" + (p.space[q] ? " sp" : "");
      var s = document.createElement("span"); s.className = "c";
      // the widest text this position ever shows, so words never move
      var longest = (byPos[q] || []).reduce(function (a, c) { return c[1].length > a.length ? c[1] : a; }, "");
      s.textContent = longest || "\u00a0";
      w.appendChild(s); group.appendChild(w); cells.push(s); wraps.push(w);
      if (p.newline[q]) {
        var br = document.createElement("span"); br.className = "br"; cv.appendChild(br); group = null;
      }
    }
    var flash = {};
    p.flash.forEach(function (f) { (flash[f[0]] = flash[f[0]] || {})[f[1]] = true; });
    views.push({p: p, cells: cells, wraps: wraps, status: status, byPos: byPos, flash: flash});
    root.appendChild(box);
  });
  function measure() {  // fix each cell's width at its widest text (again when fonts change)
    views.forEach(function (v) {
      v.cells.forEach(function (s) { s.style.minWidth = ""; });
      var saved = v.cells.map(function (s) { return [s.className, s.textContent]; });
      v.cells.forEach(function (s, q) {
        var list = v.byPos[q] || [], best = "";
        list.forEach(function (c) { if (c[2] === 1 && c[1].length > best.length) best = c[1]; });
        s.className = "c"; s.textContent = best || "\u00a0";
      });
      var widths = v.cells.map(function (s) { return s.getBoundingClientRect().width; });
      v.cells.forEach(function (s, q) {
        s.style.minWidth = widths[q] + "px"; s.className = saved[q][0]; s.textContent = saved[q][1];
      });
    });
  }
  function version(v, q, f) {
    var list = v.byPos[q] || [], found = null;
    for (var i = 0; i < list.length && list[i][0] <= f; i++) found = list[i];
    return found;
  }
  function edited(v, q, f) {
    var list = v.byPos[q] || [], k = 0;
    for (var i = 0; i < list.length && list[i][0] <= f; i++) k++;
    return k > 1;
  }
  function show(f) {
    frame = f; scrub.value = f;
    document.getElementById("caption").textContent = D.captions[f];
    views.forEach(function (v) {
      var p = v.p, blk = p.block[f];
      for (var q = 0; q < v.cells.length; q++) {
        var s = v.cells[q], cls = "c", text = "\u00a0";
        if (f < p.appear[q]) cls += " m";
        else {
          var ver = version(v, q, f);
          if (ver[2] === 2) cls += " eot"; else if (ver[2] === 3) cls += " eos";
          else { text = ver[1] || "\u00a0"; if (p.appear[q] === f) cls += " fresh"; }
          if (v.flash[f] && v.flash[f][q]) cls += " flash";
          else if (edited(v, q, f)) cls += " edited";
        }
        s.className = cls; s.textContent = text;
        s.dataset.state = f < p.appear[q] ? "mask" : "shown";
        var inBlock = blk && q >= blk[0] && q < blk[1];
        v.wraps[q].className = "w" + (p.space[q] ? " sp" : "") + (inBlock ? " blk" : "") +
          (inBlock && q === blk[0] ? " first" : "") + (inBlock && q === blk[1] - 1 ? " last" : "");
      }
      var done = p.done[f];
      v.status.className = "status" + (done ? " answer" : "");
      v.status.textContent = done ? ((p.collapsed ? "collapsed · " : "") +
        (p.answer !== null ? "answer " + p.answer : "no answer")) : "step " + p.step[f] + "/" + p.steps;
    });
    if (D.vote) {
      var line = D.vote[f], el = document.getElementById("vote");
      el.innerHTML = "";
      var a = document.createElement("div");
      a.textContent = "Vote: " + (line[0] || "waiting for the experts to finish");
      var b = document.createElement("div"); b.className = "result"; b.textContent = line[1] || "\u00a0";
      el.appendChild(a); el.appendChild(b);
    }
  }
  function tick() {
    timer = null;
    if (!playing) return;
    show(frame + 1 < n ? frame + 1 : 0);
    timer = setTimeout(tick, D.durations[frame]);
  }
  function setPlaying(on) {
    playing = on; play.textContent = on ? "Pause" : "Play";
    if (timer) { clearTimeout(timer); timer = null; }
    if (on) timer = setTimeout(tick, D.durations[frame]);
  }
  play.addEventListener("click", function () { setPlaying(!playing); });
  scrub.addEventListener("input", function () { setPlaying(false); show(+scrub.value); });
  document.addEventListener("keydown", function (e) {
    if (e.target === scrub) return;
    if (e.key === " ") { e.preventDefault(); setPlaying(!playing); }
    else if (e.key === "ArrowRight") { setPlaying(false); show(Math.min(n - 1, frame + 1)); }
    else if (e.key === "ArrowLeft") { setPlaying(false); show(Math.max(0, frame - 1)); }
  });
  window.hexviz = {show: show, setPlaying: setPlaying, frames: n,
                   frame: function () { return frame; }, playing: function () { return playing; }};
  measure(); show(0); setPlaying(!/[?#&]paused/.test(location.href));
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(function () { measure(); show(frame); });
})();
</script>
</body></html>
"""


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
              "__MUTED__": palette.MUTED, "__WINNER__": palette.WINNER}
    page = HTML_TEMPLATE
    for key, value in values.items():
        page = page.replace(key, value)
    return page.replace("__DATA__", data)


def html_page(run: Run, settings: Settings, other: Run | None = None,
              lim: limits.Limits | None = None) -> str:
    return render_html(build(run, settings, other, None, lim))


def page_of(run: Run, indices: Sequence[int], settings: Settings,
            lim: limits.Limits | None = None) -> str:
    """The HTML animation of trajectories ``indices`` of ``run`` (for a view that picks its
    experts by index, such as a lesson chapter); compare names them A and B."""
    vocab = run_vocab([run])
    names = ("A: ", "B: ") if settings.layout == "compare" else ("",) * len(indices)
    panels = [panel(run, i, names[n] if n < len(names) else "", vocab)
              for n, i in enumerate(indices)]
    return render_html(build_from_panels(panels, run, settings, None, lim or limits.current()))


def iframe(page: str, height: int = 420) -> str:
    """``page`` inside an iframe (for an app view that does not run scripts of its own)."""
    # Not sandboxed: a sandboxed frame runs in its own renderer process, and in Chromium a click
    # on the page just after scrolling past a tall one was lost (the lesson's Next button). The
    # page is ours: token text goes in through JSON and textContent, never as markup.
    return (f'<iframe title="unmasking animation" srcdoc="{html.escape(page, quote=True)}" '
            f'style="width:100%;height:{height}px;border:0"></iframe>')


# --- files --------------------------------------------------------------------------------------

def output_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"the output must end in .gif or .html (got {Path(path).name!r})")
    return suffix


def export(run: Run, suffix: str, settings: Settings | None = None,
           folder: Path | None = None) -> Path:
    """The animation in the app's export folder, named by the run and settings (a second
    request reuses the file); the folder is pruned like every other download."""
    import hashlib

    from hexviz.runs import record

    settings = settings or Settings()
    output_format(f"x{suffix}")
    folder = folder or limits.export_folder()
    key = record.dumps(run) + repr(settings)
    path = folder / f"hexviz-animation-{hashlib.sha1(key.encode()).hexdigest()[:12]}{suffix}"
    if not path.exists():  # written whole, then renamed: a reader never sees half a file
        data = gif(run, settings) if suffix == ".gif" else html_page(run, settings).encode()
        part = path.with_name(path.name + ".part")
        part.write_bytes(data)
        part.replace(path)
    limits.prune_exports(folder, keep={path})
    return path


def write(run: Run, out: str | Path, settings: Settings, other: Run | None = None,
          lim: limits.Limits | None = None) -> Path:
    """Write the animation to ``out``; its suffix (.gif or .html) picks the format."""
    out = Path(out)
    if output_format(out) == ".gif":
        out.write_bytes(gif(run, settings, other, lim))
    else:
        out.write_text(html_page(run, settings, other, lim), encoding="utf-8")
    return out
