"""Block schedules: which blocks an expert decodes, left to right.

HEX's experts differ in one number, a block size kept for the whole answer. An expert here may
also follow an explicit schedule of sizes (``8+8+16+32+64``, summing to gen_length), a preset
that grows or shrinks along the answer, or AdaBlock's adaptive blocks (``ada``, ``ada:T``; Lu et
al., AdaBlock-dLLM, ``llada/generate_adablock.py``): at a block's first step the model's
proposals within a quarter of the answer ahead are searched for a delimiter (a newline, a
sentence end), and the block ends at the one the model is surest of when that probability is at
least T, else after a fallback size. ``--blocks`` lists experts comma-separated
(`parse_block_specs`); `ada_block_length` is the authors' ``compute_block_length``.

Only tensor methods are called, so this module loads without torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

# The authors' eval_adablock.sh: DELIMITER_THRESHOLD=0.3, INIT_BLOCK_LENGTH=32 for a 512-token
# answer (the fallback, kept as the same share of gen_length here)
ADA_THRESHOLD = 0.3
ADA_FALLBACK_SHARE = 16  # fallback block = gen_length / 16
ADA_WINDOW_SHARE = 0.25  # compute_block_length: the delimiter window is 25% of gen_length
# Presets as fractions of gen_length (gen_length / f each): blocks that double along the answer
# (the HEX authors' "dynamic increasing blocksize" runs are such schedules), and the reverse
PRESETS: dict[str, tuple[int, ...]] = {"grow": (32, 32, 16, 8, 4, 2),
                                       "shrink": (2, 4, 8, 16, 32, 32)}
ADA = "ada"
GRAMMAR = ("integers such as 8,16,32, schedules such as 8+8+16+32+64, the presets grow and "
           "shrink, or ada / ada:T (AdaBlock, T in (0, 1])")


def _positive(text: str, spec: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"block sizes must be {GRAMMAR} (got {spec!r})") from None
    if value < 1:
        raise ValueError(f"block sizes must be positive (got {value} in {spec!r})")
    return value


def ada_threshold(spec: str) -> float:
    """T of ``ada:T`` (the authors' 0.3 for a bare ``ada``), checked to lie in (0, 1]."""
    _, sep, raw = spec.partition(":")
    if not sep:
        return ADA_THRESHOLD
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value <= 1:
        raise ValueError(f"ada:T takes a delimiter threshold T in (0, 1] (got {spec!r})")
    return value


def normal_spec(item: int | str) -> str:
    """One expert's spec as ``--blocks`` writes it, checked; ValueError with the grammar."""
    spec = str(item).strip().lower().replace(" ", "")
    if spec == ADA or spec.startswith(ADA + ":"):
        threshold = ada_threshold(spec)
        return ADA if threshold == ADA_THRESHOLD else f"{ADA}:{threshold:g}"
    if spec in PRESETS:
        return spec
    if "+" in spec:
        return "+".join(str(_positive(part, spec)) for part in spec.split("+"))
    return str(_positive(spec, spec))


def parse_block_specs(values: str | Iterable[int | str]) -> tuple[int | str, ...]:
    """Experts from "8,16,32,ada,8+24+96" or a list: plain sizes as ints, ascending, then the
    schedules, presets and ``ada`` experts as normalized text in the order given; ValueError
    when empty, malformed, or repeated (a repeat would count one expert twice in the vote)."""
    items = values.split(",") if isinstance(values, str) else list(values)
    specs = [normal_spec(v) for v in items if str(v).strip()]
    if not specs:
        raise ValueError("at least one block size (expert) is needed")
    repeated = sorted({s for s in specs if specs.count(s) > 1})
    if repeated:
        raise ValueError(f"each block size may appear once (got {', '.join(repeated)} more "
                         f"than once); use seeds for several votes per block size")
    sizes = sorted(int(s) for s in specs if s.isdigit())
    return (*sizes, *(s for s in specs if not s.isdigit()))


def schedule_sizes(spec: str, gen_length: int) -> tuple[int, ...]:
    """The sizes of an explicit schedule or a preset for ``gen_length``; ValueError unless they
    sum to it."""
    if spec in PRESETS:
        if gen_length % max(PRESETS[spec]):
            raise ValueError(f"the {spec} preset's blocks are gen_length divided by "
                             f"{', '.join(map(str, PRESETS[spec]))}; gen_length must be a "
                             f"multiple of {max(PRESETS[spec])} (got {gen_length})")
        return tuple(gen_length // f for f in PRESETS[spec])
    sizes = tuple(int(s) for s in spec.split("+"))
    if sum(sizes) != gen_length:
        raise ValueError(f"block schedule {spec} sums to {sum(sizes)}, not the answer length "
                         f"gen_length={gen_length}")
    return sizes


def ada_fallback(gen_length: int) -> int:
    """AdaBlock's fallback block for ``gen_length``: the authors' 32 of 512, at least 1."""
    return max(1, gen_length // ADA_FALLBACK_SHARE)


def ada_window(gen_length: int, remaining: int) -> int:
    """How many positions from a block's start are searched for a delimiter."""
    return min(int(ADA_WINDOW_SHARE * gen_length), remaining)


def ada_block_length(proposals: torch.Tensor, confidence: torch.Tensor, start: int,
                     gen_length: int, fallback: int, delimiter_ids: Iterable[int],
                     threshold: float) -> int:
    """The length of the block that starts at answer position ``start``: up to and including
    the delimiter whose proposal is likeliest within the window, when its probability is >=
    ``threshold`` (the first such position on a tie, as ``torch.max``), else ``fallback``;
    never past gen_length. ``proposals`` and ``confidence`` (L,) are the step's proposed
    tokens and their probabilities over the answer region."""
    remaining = gen_length - start
    window = ada_window(gen_length, remaining)
    tokens = proposals[start:start + window]
    is_delimiter = tokens.new_zeros(tokens.shape, dtype=bool)
    for token in delimiter_ids:
        is_delimiter |= tokens == token
    if not bool(is_delimiter.any()):
        return min(fallback, remaining)
    where = is_delimiter.nonzero().squeeze(-1)
    best, index = confidence[start:start + window][where].max(dim=0)
    if float(best) >= threshold:
        return int(where[index]) + 1
    return min(fallback, remaining)
