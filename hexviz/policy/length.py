"""Answer canvases that grow and shrink: the settings of DAEDAL and rho-EOS.

A fixed answer region (``fixed``, LLaDA's and HEX's) starts as ``gen_length`` masks and keeps
that length. The variable-length modes start shorter and change the canvas from the model's
end-of-text signal, up to ``gen_length`` (the authors' ``max_gen_length``):

- ``daedal`` (DAEDAL, Li et al., ICLR 2026; ``models/LLaDA_DAEDAL.py`` of yjyddq/rho-EOS):
  before denoising, appends ``expansion_factor`` masks while the end-of-text confidence at the
  tail is below ``eos_confidence_threshold``; while denoising, replaces the least sure mask of
  the current block (below ``low_conf_threshold``) by ``expansion_factor`` masks while that
  confidence is below ``expand_eos_confidence_threshold``.
- ``rho-eos`` (arXiv 2601.22527; ``models/LLaDA_rho_EOS.py``): after every step, appends masks
  when the end-of-text signal is below ``low_density_threshold`` and cuts the tail when it is
  above ``high_density_threshold``, by ``expansion_factor`` times 1, 2, 4 or 8 (``scheduler``)
  as the signal lies further outside the band; for the first ``max_adjust_steps`` steps.

Both commit inside blocks of the expert's size that start where the last full block ended, every
mask whose confidence is above ``high_conf_threshold``, else the most confident one. The
defaults are the authors' (their ``generate`` and ``scripts/``); `fitted_to` fits them to a
short canvas. `hexviz.decode.canvas` decodes them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING

from hexviz import limits

if TYPE_CHECKING:
    import torch

LENGTH_MODES = ("fixed", "daedal", "rho-eos")
SCHEDULERS = ("const", "linear", "exp")  # rho-EOS's multiplier growth outside the band
# rho-EOS's length signal: what its published code reads (the end-of-text confidence at the
# tail, as DAEDAL's), or what its paper describes (the share of masks whose argmax is the end)
EOS_SIGNALS = ("tail", "density")
DENSITY_INTERVAL = 0.1  # rho-EOS: one multiplier segment per 0.1 of distance from the band
MAX_MULTIPLIER = 8  # rho-EOS caps the multiplier at 8


@dataclass(frozen=True)
class LengthConfig:
    """How the answer canvas changes; ``fixed`` leaves every other field unused."""

    mode: str = "fixed"
    initial_length: int = 64
    expansion_factor: int = 8
    high_conf_threshold: float = 0.9
    low_conf_threshold: float = 0.1  # daedal: a mask below it may be expanded
    eos_confidence_threshold: float = 0.5  # daedal: stop growing the initial canvas
    expand_eos_confidence_threshold: float = 0.9  # daedal: no insertions above it
    eos_check_tokens: int = 32  # tail positions whose end-of-text confidence is averaged
    low_density_threshold: float = 0.4  # rho-eos: grow below it
    high_density_threshold: float = 0.6  # rho-eos: shrink above it
    scheduler: str = "exp"  # rho-eos
    max_adjust_steps: int = 64  # rho-eos: the length changes only in the first steps
    eos_signal: str = "tail"  # rho-eos: one of EOS_SIGNALS

    def __post_init__(self) -> None:
        if self.mode not in LENGTH_MODES:
            raise ValueError(f"unknown length mode {self.mode!r}; choose one of "
                             f"{', '.join(LENGTH_MODES)}")
        for name in ("initial_length", "expansion_factor", "eos_check_tokens",
                     "max_adjust_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{flag(name)} must be a positive integer (got {value!r})")
        for name in ("high_conf_threshold", "low_conf_threshold", "eos_confidence_threshold",
                     "expand_eos_confidence_threshold", "low_density_threshold",
                     "high_density_threshold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    0 < value < 1):
                raise ValueError(f"{flag(name)} must be a number strictly between 0 and 1 "
                                 f"(got {value!r})")
        if self.low_density_threshold > self.high_density_threshold:
            raise ValueError(f"--low-density-threshold ({self.low_density_threshold}) must not "
                             f"be above --high-density-threshold "
                             f"({self.high_density_threshold})")
        if self.eos_signal not in EOS_SIGNALS:
            raise ValueError(f"unknown end-of-text signal {self.eos_signal!r}; choose one of "
                             f"{', '.join(EOS_SIGNALS)}")
        if self.eos_signal != "tail" and self.mode != "rho-eos":
            raise ValueError("--eos-signal chooses rho-eos's length signal; add --length rho-eos")
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"unknown scheduler {self.scheduler!r}; choose one of "
                             f"{', '.join(SCHEDULERS)}")

    @classmethod
    def from_json(cls, d: dict | LengthConfig | None) -> LengthConfig:
        if d is None or isinstance(d, LengthConfig):
            return d or cls()
        if not isinstance(d, dict):
            raise ValueError("length must be an object of settings")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown length setting {unknown[0]!r}")
        return cls(**d)

    def to_json(self) -> dict:
        return asdict(self)

    @property
    def grows(self) -> bool:
        """Whether the canvas may change length."""
        return self.mode != "fixed"

    def check(self, gen_length: int) -> None:
        """Raise ValueError unless the canvas can start at ``initial_length`` under the
        maximum ``gen_length``."""
        if self.grows and self.initial_length > gen_length:
            raise ValueError(f"--initial-length ({self.initial_length}) must not be above the "
                             f"maximum length --gen-length ({gen_length})")

    def step_cap(self, gen_length: int) -> int:
        """The most steps a decode may take (`limits.growing_step_cap`)."""
        return limits.growing_step_cap(self.mode, gen_length, self.initial_length,
                                       self.expansion_factor)

    def label(self) -> str:
        if not self.grows:
            return "fixed length"
        return f"{self.mode} (start {self.initial_length})"


def flag(name: str) -> str:
    """The CLI flag of a `LengthConfig` field."""
    return "--" + name.replace("_", "-")


def fitted_to(config: LengthConfig, gen_length: int, given: set[str] = frozenset()) -> tuple[
        LengthConfig, list[str]]:
    """``config`` with the authors' defaults fitted to a maximum of ``gen_length`` where they
    do not fit (the settings in ``given`` are the user's and stay), and a note for each fit.
    The authors' 64-token start and 32-token end-of-text window were made for 2,048 positions."""
    if not config.grows:
        return config, []
    changes, notes = {}, []
    if "initial_length" not in given and config.initial_length > gen_length // 2:
        changes["initial_length"] = max(1, gen_length // 4)
        notes.append(f"{flag('initial_length')} {changes['initial_length']} (the authors' "
                     f"{config.initial_length} does not fit a maximum of {gen_length})")
    if "eos_check_tokens" not in given and config.eos_check_tokens > gen_length // 2:
        changes["eos_check_tokens"] = max(2, gen_length // 4)
        notes.append(f"{flag('eos_check_tokens')} {changes['eos_check_tokens']} (the authors' "
                     f"{config.eos_check_tokens} does not fit a maximum of {gen_length})")
    return replace(config, **changes), notes


# --- one row's decisions, as the authors' code makes them (tensor methods only) ---------------

def tail_eos_confidence(pred: torch.Tensor, probs_eos: torch.Tensor, eos_id: int,
                        check_tokens: int) -> float:
    """The authors' ``_calculate_eos_confidence`` for one canvas: from its last position back,
    the end-of-text probability of the first ``check_tokens`` positions whose argmax is the end
    token, summed and divided by ``check_tokens`` (not by how many were found)."""
    found = (pred == eos_id).nonzero().flatten().flip(0)[:check_tokens]
    return sum(probs_eos[found].tolist()) / check_tokens


def masked_eos_density(pred: torch.Tensor, masked: torch.Tensor, eos_id: int) -> float:
    """The implicit end-of-text density rho-EOS's paper describes (its published code's unused
    ``_calculate_eos_density``): the share of still-masked positions whose argmax is the end
    token, 0 when none is masked."""
    count = int(masked.sum())
    return float(((pred == eos_id) & masked).sum()) / count if count else 0.0


def positions_to_fill(pred: torch.Tensor, conf: torch.Tensor, logits: torch.Tensor,
                      eligible: torch.Tensor, threshold: float, mask_id: int) -> torch.Tensor:
    """(L,) bool: the masks of the block to commit, and ``pred`` updated where the fallback
    chose another token. Every eligible mask whose argmax is a real token with confidence above
    ``threshold``; if none, the most confident one whose argmax is not [MASK]; if every argmax
    is [MASK], the position and token that are most likely once [MASK] is excluded."""
    fill = (conf > threshold) & eligible & (pred != mask_id)
    if fill.any() or not eligible.any():
        return fill
    candidates = eligible.nonzero().flatten()
    order = conf[candidates].sort(descending=True).indices
    for i in order.tolist():
        if pred[candidates[i]] != mask_id:
            fill[candidates[i]] = True
            return fill
    stuck = logits[candidates].clone()
    stuck[:, mask_id] = -math.inf
    best_conf, best_token = stuck.softmax(-1).max(-1)
    pick = int(best_conf.argmax())
    pred[candidates[pick]] = best_token[pick]
    fill[candidates[pick]] = True
    return fill


def position_to_expand(conf: torch.Tensor, eligible: torch.Tensor, fill: torch.Tensor,
                       low_threshold: float) -> int | None:
    """DAEDAL's insertion point: the least confident mask of the block below ``low_threshold``
    that is not being committed, or None."""
    candidates = ((conf < low_threshold) & eligible & ~fill).nonzero().flatten()
    if len(candidates) == 0:
        return None
    return int(candidates[conf[candidates].topk(1, largest=False).indices[0]])


def density_action(density: torch.Tensor, config: LengthConfig) -> tuple[int, int]:
    """rho-EOS's ``E_factor_func`` for one canvas (``density``: a 1-element float32 tensor):
    (how many positions, +1 grow / -1 shrink / 0 keep). The further the signal lies outside
    [low, high], the larger the multiplier of ``expansion_factor`` (1, 2, 4, 8 with ``exp``)."""
    low, high = config.low_density_threshold, config.high_density_threshold
    if bool(density > high):
        action, gap = -1, (density - high).clamp_min(0.0)
    elif bool(density < low):
        action, gap = 1, (low - density).clamp_min(0.0)
    else:
        return 0, 0
    segment = int(((gap + 1e-12) / DENSITY_INTERVAL).ceil().long())
    if config.scheduler == "const":
        multiplier = 1
    elif config.scheduler == "linear":
        multiplier = max(segment, 1)
    else:
        multiplier = max(2 ** (segment - 1) if segment > 0 else 0, 1)
    return min(multiplier, MAX_MULTIPLIER) * config.expansion_factor, action
