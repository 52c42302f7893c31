"""Run -> panels: each selected expert's canvas (its words laid out as the answer reads), the
expert selectors of `hexviz animate --experts`, and one panel's `Canvas` after a number of steps.

Clock convention as in the charts: at clock t a panel shows its state after ``min(t, its steps)``
steps, so position p shows its token exactly when ``reveal_step[p] < t``; clock 0 is the
all-mask start. A growing canvas (``--length daedal`` / ``rho-eos``) is a panel of slots
(`hexviz.render.timeline`): every position that ever stood on it, of which a frame draws those
standing then, and those cut since the frame before struck through. A dVoting round's positions
re-masked at its start (``remask`` events) are drawn as masks ringed until decoded again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from hexviz.policy.blocks import PRESETS, normal_spec, schedule_sizes
from hexviz.render.states import END_OF_TEXT, END_OF_TURN, MASK, TEXT
from hexviz.render.timeline import NEVER, Timeline, timeline
from hexviz.runs import events as ev
from hexviz.runs.record import Run, Trajectory

LAYOUTS = ("one", "all", "compare")
MIN_WIDTH, MAX_WIDTH = 320, 3840
DEFAULT_WIDTH = 1280  # a 1280x720 slide
MAX_FPS = 30.0


@dataclass(frozen=True)
class AnimationSettings:
    """What to animate and how: layout, expert selectors, frame rate and width."""

    layout: str = "all"
    # "8", "8+8+16+32+64", "ada:0.3", "whole", "whole:margin"; () = the layout's default
    experts: tuple[str, ...] = ()
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
    ids: np.ndarray  # (L,) final token ids (a growing canvas: each slot's last)
    reveal_step: np.ndarray  # (L,) step each position was committed at; -1 never
    steps: int  # this expert's own number of steps (forward passes)
    block_length: int  # a growing canvas's block size (AdaBlock: the fallback's)
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
    timeline: Timeline | None = None  # a growing canvas's slots; None: a fixed canvas
    # (N, 2) [start, end) of each block the expert decoded, left to right (`Trajectory.blocks`)
    blocks: np.ndarray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))
    # (L,) the step a fixed canvas's position was last re-masked at (a dVoting round); -1 never
    remasked_at: np.ndarray | None = None

    @property
    def length(self) -> int:
        return len(self.ids)

    @cached_property
    def starts(self) -> frozenset[int]:
        """The positions of a fixed canvas that begin a block (and where the last recorded
        one ends, when a block has yet to open there)."""
        return frozenset({0, *self.blocks.ravel().tolist()} - {self.length})

    def block_at(self, position: int) -> tuple[int, int]:
        """The recorded block holding ``position`` of a fixed canvas; past them (a block not yet
        opened) one of ``block_length`` counted on from the last one's end."""
        i = int(np.searchsorted(self.blocks[:, 1], position, side="right"))
        if i < len(self.blocks):
            return int(self.blocks[i, 0]), int(self.blocks[i, 1])
        after = int(self.blocks[-1, 1]) if len(self.blocks) else 0
        start = after + (position - after) // self.block_length * self.block_length
        return start, min(start + self.block_length, self.length)

    @property
    def heading(self) -> str:
        return self.title + ("" if self.votes else " · no vote")

    @property
    def short(self) -> str:
        """The name the vote strip uses: its blocks ("B=8", "B=ada:0.3/8") and seed."""
        return self.title.split(" ")[0] + (f" seed {self.seed}" if self.seed else "")

    def kind(self, token_id: int) -> int:
        end_of_turn, end_of_text = self.special
        return END_OF_TEXT if token_id == end_of_text else (
            END_OF_TURN if token_id == end_of_turn else TEXT)

    def writes(self, position: int) -> bool:
        """Whether the position writes text: not an end token, nor a growing canvas's slot
        cut before anything was committed to it."""
        return self.kind(int(self.ids[position])) == TEXT and (
            self.timeline is None or self.reveal_step[position] >= 0)

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
        if self.timeline is not None:
            ids |= set(self.timeline.ids[:, position].tolist())
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


def remask_steps(t: Trajectory) -> np.ndarray | None:
    """(L,) the step each position was last re-masked at, -1 never; None for an expert that
    re-masked nothing."""
    log = t.events
    at = np.flatnonzero(log.kind == ev.REMASK)
    if not len(at):
        return None
    steps = np.full(len(t.token_ids), -1, dtype=np.int64)
    for i in at.tolist():  # in log order: the last remask of a position stays
        steps[log.position[i]] = log.step[i]
    return steps


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
    vocab = dict(vocab or run_vocab([run]))
    tl, ids, reveal, tokens = None, t.token_ids.astype(np.int64), t.reveal_step, t.tokens
    if run.config.length.grows:  # every slot that stood on the canvas, with what it last held
        tl = timeline(t.events, t.steps_taken, run.special.mask_id)
        ids, reveal = tl.ids[-1], tl.committed[-1]
        final = iter(t.tokens)  # the slots standing at the end are the final canvas, in order
        tokens = [next(final) if gone == NEVER else vocab.get(int(i), "") if r >= 0 else ""
                  for i, r, gone in zip(ids, reveal, tl.gone, strict=True)]
    kinds = [END_OF_TEXT if i == special[1] else END_OF_TURN if i == special[0] else TEXT
             for i in ids.tolist()]
    return Panel(
        title=prefix + t.expert.label, ids=ids, reveal_step=reveal.astype(np.int64),
        steps=steps_of(run, t), block_length=t.expert.block_length, special=special,
        vocab=vocab, space_before=tuple(spacing(tokens, kinds, t.text)),
        newline_after=tuple("\n" in tok for tok in tokens),
        edits=edits_of(t) if tl is None else (),  # a timeline holds its own edits
        seed=t.expert.seed if t.expert.temperature > 0 else 0,
        log_likelihood=getattr(t, "one_step_log_likelihood", None), answer=t.answer,
        votes=t.expert.votes, collapsed=t.collapsed, timeline=tl, blocks=t.blocks,
        remasked_at=remask_steps(t) if tl is None else None)


def selector_names(run: Run) -> list[str]:
    """The selectors this run answers to, for an error message: its voters' blocks as
    ``--blocks`` writes them (plain sizes ascending first), then the whole-answer rows."""
    specs = dict.fromkeys(t.expert.blocks_spec for t in run.trajectories if t.expert.votes)
    names = sorted((s for s in specs if s.isdigit()), key=int) + [s for s in specs
                                                                  if not s.isdigit()]
    wholes = [t.expert.remasking for t in run.trajectories if not t.expert.votes]
    return names + (["whole"] + [f"whole:{r}" for r in wholes] if wholes else [])


def blocks_key(spec: str, gen_length: int) -> str:
    """An expert's blocks in one spelling, so that a selector finds it however ``--blocks``
    wrote it: "ada" finds ada:0.3, "grow" the sizes it resolves to for ``gen_length``."""
    try:
        spec = normal_spec(spec)
        return "+".join(map(str, schedule_sizes(spec, gen_length))) if spec in PRESETS else spec
    except ValueError:  # a preset that does not fit, AdaBlock's T = inf of the parity tests
        return spec


def select(run: Run, selector: str | int) -> list[int]:
    """Trajectory indices for one selector: the blocks of voting experts (every seed) as
    ``--blocks`` writes them, a size (8), a schedule (8+8+16+32+64, a preset) or AdaBlock
    (ada, ada:0.3); ``whole`` (the whole-answer rows that don't vote) or ``whole:RULE``."""
    s = str(selector).strip().lower()
    if s == "whole" or s.startswith("whole:"):
        rule = s.partition(":")[2]
        found = [i for i, t in enumerate(run.trajectories)
                 if not t.expert.votes and (not rule or t.expert.remasking == rule)]
    else:
        try:
            normal_spec(s)
        except ValueError:
            raise ValueError(f"experts are block sizes or whole, such as 8,32,whole, "
                             f"8+8+16+32+64 or ada:0.3 (got {selector!r})") from None
        n = run.config.gen_length
        found = [i for i, t in enumerate(run.trajectories)
                 if t.expert.votes and blocks_key(t.expert.blocks_spec, n) == blocks_key(s, n)]
    if not found:
        raise ValueError(f"no expert {selector!r} in this run; it has "
                         f"{', '.join(selector_names(run))}")
    return found


def middle_voter(run: Run) -> int:
    """The expert a view shows when it shows one: the middle block size of the voters."""
    return run.voters[len(run.voters) // 2] if run.voters else 0


def chosen(run: Run, selectors: Sequence[str]) -> list[int]:
    return list(dict.fromkeys(i for s in selectors for i in select(run, s)))


def panels_for(run: Run, settings: AnimationSettings, other: Run | None = None) -> list[Panel]:
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


def words(p: Panel, cells: Sequence[int] | None = None) -> list[list[int]]:
    """Positions (``cells``, default all) grouped into the units a line may not break inside: a
    token and the tokens written against it with no space ("2" "," -> "2,"); each end token
    stands alone."""
    groups: list[list[int]] = []
    for q in (range(p.length) if cells is None else cells):
        attached = (groups and not p.space_before[q] and p.writes(q)
                    and p.writes(groups[-1][-1]) and not p.newline_after[groups[-1][-1]])
        if attached:
            groups[-1].append(q)
        else:
            groups.append([q])
    return groups



# --- one panel at one step ----------------------------------------------------------------------

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
    drawn: np.ndarray | None = None  # (L,) a growing canvas's slots drawn; None: every one
    cut: np.ndarray | None = None  # (L,) its slots cut since the previous frame (struck)
    remasked: np.ndarray | None = None  # (L,) masks re-masked at an earlier step; None: none

    @property
    def standing(self) -> np.ndarray:
        """The slots on the canvas at this frame, in order (its positions)."""
        if self.drawn is None:
            return np.arange(len(self.shown))
        return np.flatnonzero(self.drawn & ~self.cut)

    def held(self) -> Canvas:
        """This canvas held after the clock has ended: nothing fresh, nothing cut."""
        if self.drawn is None:
            return replace(self, fresh=np.zeros_like(self.fresh),
                           flash=np.zeros_like(self.flash))
        return replace(self, fresh=np.zeros_like(self.fresh), flash=np.zeros_like(self.flash),
                       drawn=self.drawn & ~self.cut, cut=np.zeros_like(self.cut))


def block_starts(p: Panel, c: Canvas) -> frozenset[int]:
    """The slots that start a block at this frame: a fixed canvas's recorded blocks, a growing
    canvas's every block length along it as it stands then."""
    if c.drawn is None:
        return p.starts
    return frozenset(c.standing[::p.block_length].tolist())


def canvas(p: Panel, step: int, previous: int) -> Canvas:
    """Panel ``p`` after ``step`` steps; ``previous`` is its step at the frame before."""
    if p.timeline is not None:
        return grown_canvas(p, step, previous)
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
    if len(masked) and step < p.steps:  # the recorded block holding the first mask
        block = p.block_at(int(masked[0]))
    fresh = shown & (p.reveal_step >= previous) if step > previous else np.zeros_like(shown)
    remasked = None
    if p.remasked_at is not None:  # masked again, and not decoded again yet
        remasked = ~shown & (p.remasked_at >= 0) & (p.remasked_at < step)
    return Canvas(step, shown, ids, texts, states, fresh, flash & shown, edited & shown, block,
                  step >= p.steps, remasked=remasked)



def grown_canvas(p: Panel, step: int, previous: int) -> Canvas:
    """A growing canvas's panel after ``step`` steps: the slots standing then, and those cut
    since ``previous`` with what they held."""
    tl = p.timeline
    row, live = tl.at(step), tl.live(step)
    later = step > previous
    cut = tl.struck(step, previous) if later else np.zeros(p.length, dtype=bool)
    drawn = live | cut
    committed, edited_at = tl.committed[row], tl.edited[row]
    shown = drawn & (committed >= 0)
    ids = np.where(shown, tl.ids[row], -1)
    states = np.array([p.kind(int(i)) if s else MASK for i, s in zip(ids, shown, strict=True)],
                      dtype=np.int8)
    texts = tuple(p.vocab.get(int(i), f"#{i}") if s and k == TEXT else ""
                  for i, s, k in zip(ids, shown, states, strict=True))
    edited = shown & (edited_at >= 0)
    flash = edited & live & (edited_at >= previous) if later else np.zeros_like(shown)
    fresh = shown & live & (committed >= previous) if later else np.zeros_like(shown)
    standing = np.flatnonzero(live)
    masked = np.flatnonzero(committed[standing] < 0)
    block = None
    if len(masked) and step < p.steps:  # in positions along the canvas, then as slots
        start = int(masked[0]) // p.block_length * p.block_length
        end = min(start + p.block_length, len(standing))
        block = (int(standing[start]), int(standing[end - 1]) + 1)
    return Canvas(step, shown, ids, texts, states, fresh, flash, edited, block, step >= p.steps,
                  drawn, cut)
