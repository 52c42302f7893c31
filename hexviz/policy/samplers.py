"""Samplers: how many of the eligible positions an expert commits at one step.

A remasking rule (`hexviz.policy.rules`) orders the positions an expert may commit, best first;
a sampler says how many of that order to take. Each sampler is one small function
``(candidates, value) -> counts`` over the rows that use it, registered in `SAMPLERS`; the CLI
and the app list the dict's keys. Every sampler commits a leading run of the rule's order, so
the engine selects with one sort whatever the sampler:

- ``fixed``: LLaDA's schedule, an even share of the block per step (today's decode).
- ``threshold:T``: the first position always, and every further one while its confidence is at
  least T (Fast-dLLM, arXiv 2505.22618; the HEX authors' ``generate(threshold=T)``).
- ``factor:F``: the largest n whose n-th confidence is at least 1 - F / (n + 1) (Fast-dLLM's
  factor rule; ``generate(factor=F)``).
- ``bounded:T``: at least the fixed schedule's count, and every position above T when there are
  more (LLaDA2's sampler, diffusers' ``BlockRefinementScheduler``).
- ``entropy:G``: as many as keep (sum of their entropies - the largest) <= G (EB-sampler, arXiv
  2505.24857; diffusers' ``EntropyBoundScheduler``).

Token editing (``--edit T``, LLaDA 2.1) is `edits`: a committed token of the current block is
replaced when the model now proposes another one with probability above T. With ``--edit-scope
answer`` every committed token before the block's end may be (`EDIT_SCOPES`).

Only tensor methods are called, so this module (and the settings that validate a sampler's
name) loads without torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Candidates:
    """What a sampler sees of one step: each row's eligible positions in the order the rule
    would commit them, best first. Entries past ``eligible[r]`` are padding: confidence -inf,
    entropy +inf, so no test a sampler makes passes there."""

    confidence: torch.Tensor  # (R, L) in [0, 1]: the rule's confidence, in commit order
    entropy: torch.Tensor  # (R, L) nats: entropy of the model's distribution, same order
    eligible: torch.Tensor  # (R,) long: masked positions the row may commit now
    scheduled: torch.Tensor  # (R,) long: LLaDA's count now (what is left / steps left in block)
    floor: torch.Tensor  # (R,) long: the block's even split at the block's own step (diffusers)


Count = Callable[[Candidates, float | None], "torch.Tensor"]


def leading_run(ok: torch.Tensor) -> torch.Tensor:
    """(R, L) bool -> (R,) long: how many entries of each row are True before the first False."""
    return ok.long().cumprod(-1).sum(-1)


def at_least_one(counts: torch.Tensor, c: Candidates) -> torch.Tensor:
    """``counts`` raised to 1 where anything is eligible and capped at what is eligible."""
    return counts.maximum(c.eligible.clamp(max=1)).minimum(c.eligible)


def fixed(c: Candidates, value: float | None) -> torch.Tensor:
    """LLaDA's schedule: ceil(left / steps left) in the block (App. B.6), today's decode."""
    return c.scheduled.minimum(c.eligible)


def threshold(c: Candidates, value: float | None) -> torch.Tensor:
    """The best position, then every next one whose confidence is >= T. HEX's
    ``get_transfer_index`` keeps the top-1 and drops the rest below T (``< threshold``)."""
    return at_least_one(leading_run(c.confidence >= value), c)


def factor(c: Candidates, value: float | None) -> torch.Tensor:
    """The largest n whose n-th best confidence is >= 1 - F / (n + 1); at least one. HEX's
    ``get_transfer_index_dynamic`` stops at the first n that fails; the thresholds rise with n,
    so that is the largest n that passes."""
    n = c.confidence.new_ones(c.confidence.shape).cumsum(-1)  # 1, 2, ... per row
    return at_least_one(leading_run(c.confidence >= 1 - value / (n + 1)), c)


def bounded(c: Candidates, value: float | None) -> torch.Tensor:
    """The block's even split at this step of the block, or every position whose confidence is
    > T when there are more (``BlockRefinementScheduler.step``, mask mode)."""
    return leading_run(c.confidence > value).maximum(c.floor.minimum(c.eligible))


def entropy(c: Candidates, value: float | None) -> torch.Tensor:
    """The longest leading run whose entropies sum to at most G beyond their largest
    (``EntropyBoundScheduler.step``; the sum less the maximum bounds the accepted tokens'
    mutual information). The first position always passes (0 <= G)."""
    spare = c.entropy.cumsum(-1) - c.entropy.cummax(-1).values  # nan in the padding
    return at_least_one(leading_run(spare <= value), c)


def edits(current: torch.Tensor, proposal: torch.Tensor, confidence: torch.Tensor,
          editable: torch.Tensor, threshold: float) -> torch.Tensor:
    """(R, L) bool: committed tokens to replace by the proposal, where the model now prefers
    another token with probability above ``threshold`` (LLaDA 2.1's editing; diffusers'
    ``editing_transfer_index``: editable, changed, and ``> editing_threshold``)."""
    return editable & (proposal != current) & (confidence > threshold)


def line_up(scores: torch.Tensor, eligible: torch.Tensor, confidence: torch.Tensor,
            entropy: torch.Tensor, scheduled: torch.Tensor, floor: torch.Tensor,
            ) -> tuple[Candidates, torch.Tensor]:
    """Each row's eligible positions sorted by score, best first (ties to the lower position,
    as `select_top`), as `Candidates`; and each position's rank in that order, so that
    ``rank < counts[:, None]`` is what the row commits."""
    scores = scores.where(eligible, -math.inf)
    order = scores.argsort(dim=-1, descending=True, stable=True)
    rank = order.argsort(dim=-1)  # the inverse permutation: each position's place in the order
    candidates = Candidates(
        confidence=confidence.float().where(eligible, -math.inf).gather(-1, order),
        entropy=entropy.float().where(eligible, math.inf).gather(-1, order),
        eligible=eligible.sum(-1), scheduled=scheduled, floor=floor)
    return candidates, rank


def token_entropy(logits: torch.Tensor) -> torch.Tensor:
    """(..., V) logits -> (...) entropy in nats, as torch's ``Categorical(logits=...)`` computes
    it (a -inf logit, such as the removed [MASK], adds 0, not nan)."""
    log_p = logits.float().log_softmax(-1)
    return -(log_p.exp() * log_p).nan_to_num(nan=0.0).sum(-1)


# --- the registry and the spec ----------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    """One sampler: its count, its value's default and range (checked by `Sampler`)."""

    count: Count
    default: float | None  # None: the sampler takes no value
    check: Callable[[float], bool] = lambda v: True
    allowed: str = ""  # the range in words, for the error message
    variable: bool = True  # commits a variable number per step (blocks end when no mask is left)
    within_steps: bool = False  # never takes more than the configured steps
    needs_entropy: bool = False  # its count reads each position's entropy (computed only then)


def _unit(v: float) -> bool:
    return 0 < v <= 1


SAMPLERS: dict[str, Kind] = {
    "fixed": Kind(fixed, None, variable=False, within_steps=True),
    "threshold": Kind(threshold, 0.9, _unit, "must be in (0, 1]"),
    "factor": Kind(factor, 1.0, lambda v: v > 0, "must be a number > 0"),
    "bounded": Kind(bounded, 0.95, _unit, "must be in (0, 1]", within_steps=True),
    "entropy": Kind(entropy, 0.1, lambda v: v >= 0, "must be a number >= 0", needs_entropy=True),
}
SAMPLER_NAMES = tuple(SAMPLERS)
EDIT_ALLOWED = "must be in (0, 1]"


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _shown(value: object) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else repr(value)


def check_edit(edit: float | None) -> float | None:
    """``edit`` if it is a valid editing threshold (or None: no editing), else ValueError."""
    if edit is None:
        return None
    value = edit if isinstance(edit, (int, float)) and not isinstance(edit, bool) else None
    if value is None or not math.isfinite(value) or not _unit(value):
        raise ValueError(f"edit {EDIT_ALLOWED} (got {_shown(edit)})")
    return float(value)


# Which committed tokens editing may replace: the current block's (LLaDA 2.1, diffusers), or
# the whole answer's before the block's end, where a block's tokens written side by side in its
# last step are read again once the next ones give them context
EDIT_SCOPES = ("block", "answer")


def check_edit_scope(scope: object) -> str:
    if scope not in EDIT_SCOPES:
        raise ValueError(f"edit scope must be one of {', '.join(EDIT_SCOPES)} (got {scope!r})")
    return str(scope)


EDIT_OFF = 0.0  # a request's edit that turns editing off where the model's default would edit
OFF_WORDS = ("off", "none", "0")


def parse_edit(value: object) -> float | None:
    """A requested editing threshold from the CLI, the app or the API: blank or None is the
    model's default (None), "off" (or 0) is `EDIT_OFF`, else a threshold in (0, 1]."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip().lower() in OFF_WORDS:
        return EDIT_OFF
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"edit {EDIT_ALLOWED}, or off (got {value!r})") from None
    if value == EDIT_OFF and not isinstance(value, bool):
        return EDIT_OFF
    return check_edit(value)


@dataclass(frozen=True)
class Sampler:
    """How many tokens per step: a registered sampler and its value, plus optional editing.

    ``Sampler.parse("threshold:0.9")``; a bare name takes the sampler's default value. Checked
    at construction, so a bad setting fails before any model work.
    """

    name: str = "fixed"
    value: float | None = None
    edit: float | None = None  # editing threshold; None = no editing

    def __post_init__(self) -> None:
        kind = SAMPLERS.get(self.name)
        if kind is None:
            raise ValueError(f"unknown sampler {self.name!r}; choose one of "
                             f"{', '.join(SAMPLER_NAMES)} (as NAME or NAME:VALUE)")
        if kind.default is None:
            if self.value is not None:
                raise ValueError(f"{self.name} takes no value (got {self.name}:{self.value:g})")
        else:
            value = kind.default if self.value is None else self.value
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not math.isfinite(value) or not kind.check(value)):
                raise ValueError(f"{self.name} {kind.allowed} (got {_shown(value)})")
            object.__setattr__(self, "value", float(value))
        object.__setattr__(self, "edit", check_edit(self.edit))

    @classmethod
    def parse(cls, text: str, edit: float | None = None) -> Sampler:
        """``NAME`` or ``NAME:VALUE`` (e.g. ``threshold:0.9``), with an editing threshold."""
        name, sep, raw = str(text).strip().partition(":")
        name = name.strip()
        if not sep:
            return cls(name, None, edit)
        value = _number(raw.strip())
        if value is None:
            raise ValueError(f"a sampler's value must be a finite number, as in "
                             f"{name or 'threshold'}:0.9 (got {text!r})")
        return cls(name, value, edit)

    def with_edit(self, edit: float | None) -> Sampler:
        """This sampler with editing threshold ``edit``; None keeps its own."""
        return self if edit is None else Sampler(self.name, self.value, edit)

    def step_cap(self, steps: int, gen_length: int) -> int:
        """The most steps any expert may take: ``steps`` when each step commits at least the
        fixed schedule's share (``fixed``, ``bounded``), else ``gen_length``, since each step
        commits at least one token: every expert has finished by then."""
        return steps if self.kind.within_steps else gen_length

    @property
    def kind(self) -> Kind:
        return SAMPLERS[self.name]

    @property
    def variable(self) -> bool:
        """True when rows may finish at different steps (every sampler but ``fixed``)."""
        return self.kind.variable

    @property
    def spec(self) -> str:
        """The ``NAME[:VALUE]`` text that parses back to this sampler (editing aside)."""
        return self.name if self.value is None else f"{self.name}:{self.value:g}"

    @property
    def label(self) -> str:
        return self.spec + (f", edit {self.edit:g}" if self.edit is not None else "")

    def counts(self, candidates: Candidates) -> torch.Tensor:
        """(R,) tokens each row commits now."""
        return self.kind.count(candidates, self.value)
