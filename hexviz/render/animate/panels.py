"""Run -> panels: each selected expert's canvas (its words laid out as the answer reads), the
expert selectors of `hexviz animate --experts`, and one panel's `Canvas` after a number of steps.

Clock convention as in the charts: at clock t a panel shows its state after ``min(t, its steps)``
steps, so position p shows its token exactly when ``reveal_step[p] < t``; clock 0 is the
all-mask start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hexviz.render.states import END_OF_TEXT, END_OF_TURN, MASK, TEXT
from hexviz.runs.record import Run, Trajectory

LAYOUTS = ("one", "all", "compare")
MIN_WIDTH, MAX_WIDTH = 320, 3840
DEFAULT_WIDTH = 1280  # a 1280x720 slide
MAX_FPS = 30.0


@dataclass(frozen=True)
class AnimationSettings:
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
        log_likelihood=getattr(t, "one_step_log_likelihood", None), answer=t.answer,
        votes=t.expert.votes, collapsed=t.collapsed)


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

