"""Where each expert is at a global step: its block, and how many tokens it reveals.

Pure integer arithmetic, shared by the engine, the tests and the plots.
"""

from __future__ import annotations

from hexviz.policy.settings import DecodeConfig, Expert


def tokens_per_step(masked: int, steps: int) -> list[int]:
    """How many of ``masked`` tokens to reveal at each of ``steps`` steps (LLaDA, App. B.6).

    The count is spread evenly: ``masked // steps`` each, and the first ``masked % steps`` steps
    reveal one more.
    """
    base, extra = divmod(masked, steps)
    return [base + (1 if i < extra else 0) for i in range(steps)]


def block_bounds(expert: Expert, config: DecodeConfig, step: int) -> tuple[int, int]:
    """[start, end) of the block, in answer positions, that ``expert`` decodes at ``step``."""
    block = step // config.steps_per_block(expert)
    return block * expert.block_length, (block + 1) * expert.block_length


def reveal_count(expert: Expert, config: DecodeConfig, step: int) -> int:
    """How many tokens ``expert`` reveals at global ``step`` (a fresh block is all masks)."""
    per_block = config.steps_per_block(expert)
    return tokens_per_step(expert.block_length, per_block)[step % per_block]


def steps_left_in_block(expert: Expert, config: DecodeConfig, step: int) -> int:
    """Steps ``expert`` has left in its current block at global ``step``, this one included."""
    per_block = config.steps_per_block(expert)
    return per_block - step % per_block


def count_now(masked: int, steps_left: int) -> int:
    """Tokens to reveal now so that ``masked`` tokens are done in ``steps_left`` steps.

    ceil(masked / steps_left) at every step is exactly `tokens_per_step`'s split of a fresh
    block, and it stays right when a block starts with fewer masks (a forced token, or a fork
    that changed the block length).
    """
    return -(-masked // steps_left)
