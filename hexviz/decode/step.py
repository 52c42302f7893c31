"""What both decode loops share: each step's random stream, the batch they decode, the record
they hand out, and the forward pass that computes equal rows once (`engine` for fixed-length
canvases, `canvas` for growing ones)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from hexviz.models.wrapper import DiffusionLM
from hexviz.policy.settings import DecodeConfig, Expert
from hexviz.runs.events import EventLog
from hexviz.runs.record import Timing


def step_seed(seed: int, step: int) -> int:
    """A 32-bit seed mixed from (seed, step) (torch's CPU generator keeps 32 bits of a seed)."""
    return int(np.random.SeedSequence([seed, step]).generate_state(1)[0])


def step_generator(seed: int, step: int, device: torch.device | str = "cpu") -> torch.Generator:
    """The random stream of one expert at one step: a pure function of (seed, step), so a
    decode resumed at any step (`Resume`) draws the same noise as the original run."""
    return torch.Generator(device=device).manual_seed(step_seed(seed, step))


def add_gumbel_noise(logits: torch.Tensor, temperature: float,
                     generator: torch.Generator) -> torch.Tensor:
    """Gumbel-max in float64 (LLaDA's ``add_gumbel_noise``): argmax of the result samples
    softmax(logits / T). Written as logits - T*log(-log u), equal in argmax to LLaDA's
    exp(logits) / (-log u)^T, without overflow."""
    u = torch.rand(logits.shape, generator=generator, dtype=torch.float64, device=logits.device)
    return logits.double() - temperature * torch.log(-torch.log(u))


@dataclass(frozen=True)
class Batch:
    """What the decode loop works on: prompts x experts, and the settings."""

    prompts: list[list[int]]
    experts: list[Expert]
    config: DecodeConfig

    @property
    def rows(self) -> list[tuple[int, Expert]]:
        """(prompt index, expert) per batch row: prompt-major, experts in vote order."""
        return [(p, e) for p in range(len(self.prompts)) for e in self.experts]


@dataclass(frozen=True)
class Decoded:
    """The loop's record: per batch row (prompt-major, experts in vote order) its tokens and
    what each step did, as numpy arrays; the one-step log-likelihoods once decoding is
    complete (None before, and for forks, which never saw step 0). The arrays are the loop's
    own, so read a snapshot before the loop takes its next step (`assemble` copies them)."""

    prompts: list[list[int]]
    experts: list[Expert]
    config: DecodeConfig
    token_ids: np.ndarray  # (R, L)
    reveal_step: np.ndarray  # (R, L)
    reveal_conf: np.ndarray  # (R, L)
    draft_ids: np.ndarray  # (R, S, L)
    draft_prob: np.ndarray  # (R, S, L)
    end_density: np.ndarray  # (R, S)
    commits: np.ndarray  # (R, S)
    edits: list[list[tuple[int, int, int, int]]]  # per row: (step, position, old, new)
    steps_taken: np.ndarray  # (R,)
    steps_done: int
    timing: Timing
    one_step_log_likelihood: np.ndarray | None = None  # (R,)
    # A growing canvas (`hexviz.decode.canvas`): each row's event log, which its final canvas,
    # reveal order and commits are read from (the positional arrays above are then unused)
    events: list[EventLog] | None = None
    # Per row, the [start, end) of each block it entered so far; None: its sizes laid out
    blocks: list[list[tuple[int, int]]] | None = None
    # Per row, the step after which a decided vote stopped it (-1: not stopped); None: none
    stopped: np.ndarray | None = None


@dataclass
class StepProgress:
    """Handed out after every step; ``decoded()`` snapshots the record so far."""

    step: int  # steps done
    steps: int  # the most steps the run may take (`DecodeConfig.step_cap`)
    decoded: Callable[[], Decoded]


def shared_logits(lm: DiffusionLM, x: torch.Tensor, attention: torch.Tensor,
                  keep: int) -> tuple[torch.Tensor, int]:
    """``lm.logits(x, attention, keep)`` with each distinct row computed once, and how many
    rows were computed.

    Rows are independent, so rows with equal ids and attention have equal logits. Experts on
    one prompt start from the same all-mask canvas and stay equal while they reveal the same
    tokens (every one of them at step 0), so this skips about one row in eight on the built-in
    model, exactly.
    """
    keys = torch.cat([x, attention], dim=1)
    distinct, inverse = torch.unique(keys, dim=0, return_inverse=True)
    if len(distinct) == len(keys):
        return lm.logits(x, attention, keep), len(keys)
    width = x.shape[1]
    return lm.logits(distinct[:, :width], distinct[:, width:], keep)[inverse], len(distinct)
