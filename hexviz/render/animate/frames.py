"""Panels -> frames on one shared clock, within the operator's limits.

Experts or runs of different step counts share the clock: one that finished holds its last
canvas. With layout ``all`` the vote fills in after the clock, one voter per frame. The limits
bound the work (`limits.Limits.max_animation_frames`, and for a GIF `max_animation_pixels`,
width x height x frames): a longer run is sampled evenly in time and the frames say so; one that
does not fit even sampled is refused in one line (`limits.LimitError`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hexviz import limits
from hexviz.render.animate.panels import Canvas, Panel, AnimationSettings, canvas, panels_for
from hexviz.runs.record import Run
from hexviz.runs.vote import majority

START_HOLD_MS = 600  # the all-mask canvas, so the eye finds the start
VOTE_MS = 450  # each vote as it is counted
END_HOLD_MS = 2500  # the finished answer (and the vote's winner) before the loop restarts


@dataclass(frozen=True, eq=False)
class Frame:
    clock: int  # the shared step
    canvases: tuple[Canvas, ...]  # one per panel
    votes_shown: int  # voting panels whose answer the vote strip counts so far
    final: bool  # the vote's result is shown
    duration_ms: int


@dataclass(frozen=True, eq=False)
class Animation:
    """A run's animation, ready to draw: its panels (one expert's canvas each) and the frames
    on their shared clock, with what the vote strip needs (voters, tie rule)."""

    title: str  # the question
    model: str
    settings: AnimationSettings
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


def vote_frames(settings: AnimationSettings, panels: Sequence[Panel]) -> int:
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


def build(run: Run, settings: AnimationSettings, other: Run | None = None,
          frame_pixels: int | None = None, lim: limits.Limits | None = None) -> Animation:
    """The animation's panels and frames within the limits (``frame_pixels``: a GIF's frame
    size, which bounds its frame count by the pixel limit)."""
    lim = lim or limits.current()
    panels = panels_for(run, settings, other)
    return build_from_panels(panels, run, settings, frame_pixels, lim)


def build_from_panels(panels: Sequence[Panel], run: Run, settings: AnimationSettings,
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
        held = tuple(c.held() for c in frames[-1].canvases)
        for k in range(1, len(voters) + 1):
            frames.append(Frame(clocks[-1], held, k, False, VOTE_MS))
        frames.append(Frame(clocks[-1], held, len(voters), True, END_HOLD_MS))
    return Animation(run.prompt, Path(run.model).name or run.model, settings, tuple(panels),
                     tuple(frames), total, len(clocks), voters, getattr(run, "tie_rule", "first"))
