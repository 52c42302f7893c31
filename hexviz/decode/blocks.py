"""Where each row decodes at a step: its block, the masked positions it may commit, how many
the fixed schedule asks for, and LLaDA2's editing of a finished block.

Blocks of known size (a plain size, a schedule) are the expert's `spans`: under ``fixed`` the
one whose steps hold the step, under a parallel sampler the one holding the row's first mask (a
block ends when it has no mask left); so too under ``fixed`` with post-block editing, whose
steps after each block take rows out of lock step. AdaBlock's blocks are opened where the
previous one ended and sized from the step's own proposals
(`hexviz.policy.blocks.ada_block_length`), so a row's blocks are kept as it decodes
(`RowBlocks`), which is also what the record says it used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hexviz.policy.blocks import ada_block_length
from hexviz.policy.schedule import count_now, span_at_position, span_at_step, tokens_per_step
from hexviz.policy.settings import DecodeConfig, Expert


@dataclass(frozen=True)
class RowBlock:
    """One row's block at one step: [start, end) in answer positions, the step it began at and
    the steps the fixed schedule gives it; ``opening``: an AdaBlock block whose end is set by
    this step's proposals (``end`` is its fallback until then)."""

    start: int
    end: int
    first_step: int
    steps: int
    opening: bool = False


class RowBlocks:
    """The blocks each row entered, in order: (start, end, first step) each."""

    def __init__(self, rows: int) -> None:
        self.used: list[list[tuple[int, int, int]]] = [[] for _ in range(rows)]

    def enter(self, row: int, block: RowBlock, step: int) -> None:
        used = self.used[row]
        if not used or used[-1][:2] != (block.start, block.end):
            used.append((block.start, block.end, step))

    def spans(self, row: int) -> list[tuple[int, int]]:
        return [(start, end) for start, end, _ in self.used[row]]

    def restore(self, row: int, spans: np.ndarray, reveal_step: np.ndarray, step: int) -> None:
        """A fork's row: the recorded blocks that began before ``step`` (each began with a
        commit), with the step of their first commit."""
        kept = []
        for start, end in np.asarray(spans, dtype=np.int64).reshape(-1, 2).tolist():
            revealed = reveal_step[start:end]
            before = revealed[(revealed >= 0) & (revealed < step)]
            if len(before):
                kept.append((start, end, int(before.min())))
        self.used[row] = kept


def row_block(used: RowBlocks, row: int, expert: Expert, config: DecodeConfig, step: int,
              first_mask: int, block_start_step) -> RowBlock:
    """The block ``row`` decodes at ``step``; ``first_mask`` is its first masked position and
    ``block_start_step(row, start)`` the step a block of known size began at."""
    if expert.adaptive:
        if used.used[row]:
            start, end, first = used.used[row][-1]
            if first_mask < end:
                return RowBlock(start, end, first, config.block_steps(end - start))
            start = end
        else:
            start = 0
        end = min(start + expert.block_length, config.gen_length)
        return RowBlock(start, end, step, config.block_steps(end - start), opening=True)
    if not (config.sampler.variable or config.edit_post_steps):  # fixed, in lock step
        span = span_at_step(expert, config, step)
        return RowBlock(span.start, span.end, span.first_step, span.steps)
    span = span_at_position(expert, config, first_mask)
    return RowBlock(span.start, span.end, block_start_step(row, span.start), span.steps)


def sized(block: RowBlock, expert: Expert, config: DecodeConfig, proposals: torch.Tensor,
          confidence: torch.Tensor) -> RowBlock:
    """An opening AdaBlock block with its end set from this step's proposals and their
    probabilities (L,); any other block as it is."""
    if not block.opening:
        return block
    size = ada_block_length(proposals, confidence, block.start, config.gen_length,
                            expert.block_length, expert.delimiter_ids,
                            expert.delimiter_threshold)
    return RowBlock(block.start, block.start + size, block.first_step, config.block_steps(size))


@dataclass(frozen=True)
class Blocks:
    """Where each computed row decodes now: its block's [start, end) in answer positions, and
    which masked positions it may commit."""

    start: torch.Tensor  # (R,)
    end: torch.Tensor  # (R,)
    inside: torch.Tensor  # (R, L) bool: the block's positions (where editing may act)
    eligible: torch.Tensor  # (R, L) bool
    rows: tuple[RowBlock, ...] = ()


def as_blocks(rows: list[RowBlock], masked: torch.Tensor, experts: list[Expert],
              config: DecodeConfig, positions: torch.Tensor) -> Blocks:
    """The rows' blocks as tensors. Under ``fixed`` a block of known size may also commit masks
    before it (left only by a fork that changed the block length); elsewhere only its own."""
    bounds = torch.tensor([(b.start, b.end) for b in rows], device=masked.device).reshape(-1, 2)
    start, end = bounds[:, 0], bounds[:, 1]
    inside = (positions >= start[:, None]) & (positions < end[:, None])
    own = torch.tensor([config.sampler.variable or e.adaptive for e in experts],
                       device=masked.device)
    before_end = positions < end[:, None]
    return Blocks(start, end, inside, masked & torch.where(own[:, None], inside, before_end),
                  tuple(rows))


def editing_finished_blocks(blocks: Blocks, post_start: np.ndarray, post_end: np.ndarray
                            ) -> Blocks:
    """``blocks`` with the rows that edit a finished block (``post_start`` >= 0) moved to it:
    nothing there to commit, its tokens to edit."""
    post = torch.from_numpy(post_start).to(blocks.start.device)
    if not (post >= 0).any():
        return blocks
    start = torch.where(post >= 0, post, blocks.start)
    end = torch.where(post >= 0, torch.from_numpy(post_end).to(post.device), blocks.end)
    positions = torch.arange(blocks.inside.shape[1], device=post.device)
    inside = (positions >= start[:, None]) & (positions < end[:, None])
    return Blocks(start, end, inside, blocks.eligible & (post < 0)[:, None], blocks.rows)


def schedule_counts(rows: list[RowBlock], eligible: torch.Tensor, step: int
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """(scheduled, floor), (R,) each: LLaDA's count now (what is left over the steps left in
    the block), and the block's even split at the block's own step (diffusers' schedule)."""
    scheduled, floor = [], []
    for block, left in zip(rows, eligible.sum(-1).tolist(), strict=True):
        scheduled.append(count_now(left, max(1, block.first_step + block.steps - step)))
        own_step = min(step - block.first_step, block.steps - 1)
        floor.append(tokens_per_step(block.end - block.start, block.steps)[own_step])
    device = eligible.device
    return torch.tensor(scheduled, device=device), torch.tensor(floor, device=device)


@dataclass(frozen=True)
class PostState:
    """Where a row stands in post-block editing before a step: the finished block it edits
    ([start, end); start -1: none), the post steps it took there, and the step after its last
    post step (where the next block began)."""

    start: int = -1
    end: int = 0
    taken: int = 0
    ended: int = 0


def post_state_at(step: int, reveal_step: np.ndarray, commits: np.ndarray, edits: np.ndarray,
                  expert: Expert, config: DecodeConfig) -> PostState:
    """A recorded row's post-block editing state before ``step``, read off its record (a fork's
    start): a step that committed nothing was a post step, and a block whose last commit came
    before ``step`` is edited while `follow_post_steps` would have gone on."""
    commits = np.asarray(commits[:step])
    ended = int(np.flatnonzero(commits == 0)[-1]) + 1 if (commits == 0).any() else 0
    committed = np.flatnonzero(commits > 0)
    if not len(committed):
        return PostState(ended=ended)
    filled = int(committed[-1])
    last = int(np.flatnonzero(reveal_step == filled).max())
    span = span_at_position(expert, config, last)
    revealed = reveal_step[span.start:span.end]
    if not ((revealed >= 0) & (revealed < step)).all():
        return PostState(ended=ended)  # the block still has masks: no post step yet
    if config.sampler.variable and filled - int(revealed.min()) + 1 >= span.steps:
        return PostState(ended=ended)  # it used all its steps: the next block follows
    taken = step - 1 - filled
    changed = bool((np.asarray(edits).reshape(-1, 4)[:, 0] == step - 1).any())
    if taken == 0 or (taken <= config.edit_post_steps and changed):
        return PostState(span.start, span.end, taken, ended)
    return PostState(ended=ended)
