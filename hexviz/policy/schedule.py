"""Where each expert is at a global step: its block, and how many tokens it reveals.

Pure integer arithmetic, shared by the engine, the tests and the plots.
"""

from __future__ import annotations

from dataclasses import dataclass

from hexviz.policy.settings import DecodeConfig, Expert


def tokens_per_step(masked: int, steps: int) -> list[int]:
    """How many of ``masked`` tokens to reveal at each of ``steps`` steps (LLaDA, App. B.6).

    The count is spread evenly: ``masked // steps`` each, and the first ``masked % steps`` steps
    reveal one more.
    """
    base, extra = divmod(masked, steps)
    return [base + (1 if i < extra else 0) for i in range(steps)]


@dataclass(frozen=True)
class BlockSpan:
    """One block of an expert: answer positions [start, end), and its steps under ``fixed``:
    it begins at ``first_step`` and takes ``steps``."""

    start: int
    end: int
    first_step: int
    steps: int


def spans(expert: Expert, config: DecodeConfig) -> list[BlockSpan]:
    """The expert's blocks of known size (plain or scheduled) with their steps under ``fixed``:
    each takes `DecodeConfig.block_steps`, so every block commits the same tokens per step."""
    out, start, first = [], 0, 0
    for size in expert.sizes(config.gen_length):
        steps = config.block_steps(size)
        out.append(BlockSpan(start, start + size, first, steps))
        start, first = start + size, first + steps
    return out


def span_at_step(expert: Expert, config: DecodeConfig, step: int) -> BlockSpan:
    """The block ``expert`` decodes at global ``step`` under ``fixed`` (the last one after)."""
    found = spans(expert, config)
    return next((s for s in found if step < s.first_step + s.steps), found[-1])


def span_at_position(expert: Expert, config: DecodeConfig, position: int) -> BlockSpan:
    """The block of known size that holds answer ``position``."""
    found = spans(expert, config)
    return next((s for s in found if position < s.end), found[-1])


def block_bounds(expert: Expert, config: DecodeConfig, step: int) -> tuple[int, int]:
    """[start, end) of the block, in answer positions, that ``expert`` decodes at ``step``."""
    span = span_at_step(expert, config, step)
    return span.start, span.end


def reveal_count(expert: Expert, config: DecodeConfig, step: int) -> int:
    """How many tokens ``expert`` reveals at global ``step`` (a fresh block is all masks)."""
    span = span_at_step(expert, config, step)
    return tokens_per_step(span.end - span.start, span.steps)[step - span.first_step]


def steps_left_in_block(expert: Expert, config: DecodeConfig, step: int) -> int:
    """Steps ``expert`` has left in its current block at global ``step``, this one included."""
    span = span_at_step(expert, config, step)
    return span.first_step + span.steps - step


def count_now(masked: int, steps_left: int) -> int:
    """Tokens to reveal now so that ``masked`` tokens are done in ``steps_left`` steps.

    ceil(masked / steps_left) at every step is exactly `tokens_per_step`'s split of a fresh
    block, and it stays right when a block starts with fewer masks (a forced token, or a fork
    that changed the block length).
    """
    return -(-masked // steps_left)
