"""Block KV caching (Fast-dLLM, Wu et al. 2025, arXiv 2505.22618): a forward pass that computes
only a window of each row and takes every other position's keys and values from a cache.

In a bidirectional model every position's keys and values depend on the whole canvas, so reusing
them after the canvas changed is an approximation. The caller refreshes the cache with a full
forward at the start of each block (window = the whole row, no cache needed) and, until the
next block starts, computes only each row's window: *prefix cache* the current block and all
after it, *dual cache* the current block alone. In every layer the window's hidden states,
queries, keys and values are computed afresh; the keys and values outside it are the cache's.

Rows may have windows of different widths (experts with different block sizes, rows at different
blocks): the windows' tokens are packed into one sequence for the token-wise layers (norms,
projections, MLP: one matrix product per weight for the whole batch), and attention runs once per
group of rows whose windows are equally wide. Models implement ``forward_window`` with these
pieces (`hexviz.models.modernbert`, `hexviz.models.llada`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Window:
    """Per row, the positions ``[start, end)`` a forward computes; (R,) long tensors."""

    start: torch.Tensor
    end: torch.Tensor

    def __post_init__(self) -> None:
        if self.start.shape != self.end.shape or self.start.dim() != 1:
            raise ValueError(f"a window needs one start and one end per row (got shapes "
                             f"{tuple(self.start.shape)} and {tuple(self.end.shape)})")
        if bool((self.start < 0).any()) or bool((self.end < self.start).any()):
            raise ValueError(f"a window needs 0 <= start <= end in every row (got start "
                             f"{self.start.tolist()}, end {self.end.tolist()})")

    @classmethod
    def full(cls, rows: int, length: int, device: torch.device | str = "cpu") -> Window:
        """Every position of every row: a forward that needs no cache and fills one."""
        return cls.between(0, length, rows, device)

    @classmethod
    def between(cls, start: int, end: int, rows: int,
                device: torch.device | str = "cpu") -> Window:
        """The same ``[start, end)`` in every row."""
        return cls(torch.full((rows,), start, dtype=torch.long, device=device),
                   torch.full((rows,), end, dtype=torch.long, device=device))

    @property
    def rows(self) -> int:
        return len(self.start)

    @property
    def width(self) -> torch.Tensor:
        return self.end - self.start

    def covers(self, length: int) -> bool:
        """Whether every row computes all ``length`` positions."""
        return bool((self.start == 0).all()) and bool((self.end == length).all())

    def clipped_from(self, first: int) -> Window:
        """The part of each row's window at or after position ``first`` (may be empty)."""
        start = self.start.clamp_min(first)
        return Window(torch.minimum(start, self.end), self.end)


@dataclass(frozen=True)
class Packed:
    """A window's tokens in one sequence, row by row: token n is row ``rows[n]``'s position
    ``positions[n]``; ``offsets[r]`` is where row r's tokens begin."""

    rows: torch.Tensor  # (N,)
    positions: torch.Tensor  # (N,)
    offsets: torch.Tensor  # (R,)
    window: Window

    @property
    def tokens(self) -> int:
        return len(self.rows)

    @cached_property
    def groups(self) -> list[tuple[torch.Tensor | slice, torch.Tensor]]:
        """(rows, their tokens' packed indices (G, w)) per window width w > 0, rows as a slice
        where they are consecutive (a view of the cache instead of a copy) and as (G,) indices
        otherwise (worked out once: every layer's attention asks)."""
        widths = self.window.width
        out = []
        for w in sorted(set(widths.tolist())):
            if w == 0:
                continue
            rows = (widths == w).nonzero().squeeze(1)
            tokens = self.offsets[rows, None] + torch.arange(w, device=rows.device)
            first, last = int(rows[0]), int(rows[-1])
            out.append((slice(first, last + 1) if last - first + 1 == len(rows) else rows,
                        tokens))
        return out


def pack(window: Window) -> Packed:
    widths = window.width
    offsets = widths.cumsum(0) - widths
    rows = torch.repeat_interleave(torch.arange(window.rows, device=widths.device), widths)
    index = torch.arange(len(rows), device=widths.device)
    positions = window.start[rows] + index - offsets[rows]
    return Packed(rows, positions, offsets, window)


def subset_index(outer: Packed, inner: Packed) -> torch.Tensor:
    """(N_inner,) where each of ``inner``'s tokens sits in ``outer`` (inner's windows lie inside
    outer's, row by row)."""
    rows = inner.rows
    return outer.offsets[rows] + inner.positions - outer.window.start[rows]


@dataclass(frozen=True)
class KVCache:
    """Every layer's keys (rotary embeddings applied) and values at every position of every row:
    ``keys[i]``, ``values[i]`` are (R, T, H_kv, D)."""

    keys: tuple[torch.Tensor, ...]
    values: tuple[torch.Tensor, ...]

    def __post_init__(self) -> None:
        if len(self.keys) != len(self.values) or not self.keys:
            raise ValueError(f"a cache needs keys and values for each layer (got "
                             f"{len(self.keys)} and {len(self.values)})")

    @property
    def rows(self) -> int:
        return self.keys[0].shape[0]

    @property
    def length(self) -> int:
        return self.keys[0].shape[1]

    def take(self, rows: torch.Tensor) -> KVCache:
        """The cache of rows ``rows`` (in that order, repeats allowed); this cache itself when
        they are all its rows in order (nothing writes into a cache's tensors, so sharing them
        is safe, and a step that keeps every row copies nothing)."""
        if len(rows) == self.rows and torch.equal(rows.cpu(), torch.arange(self.rows)):
            return self
        return KVCache(tuple(k[rows] for k in self.keys), tuple(v[rows] for v in self.values))


@dataclass(frozen=True)
class WindowOutput:
    """Logits of the computed positions in the last ``keep`` (packed: token n is row
    ``rows[n]``'s position ``positions[n]``) and the cache to use next: the input cache with
    every row's window overwritten by this forward's keys and values."""

    logits: torch.Tensor  # (N, V)
    rows: torch.Tensor  # (N,)
    positions: torch.Tensor  # (N,)
    cache: KVCache


def check_inputs(input_ids: torch.Tensor, window: Window, cache: KVCache | None,
                 layers: int) -> None:
    rows, length = input_ids.shape
    if window.rows != rows or bool((window.end > length).any()):
        raise ValueError(f"the window must have one [start, end) per row within the "
                         f"{length} positions (got {window.rows} rows, ends {window.end.tolist()})")
    if cache is None:
        if not window.covers(length):
            raise ValueError("without a cache every row's window must be the whole sequence")
    elif cache.rows != rows or cache.length != length or len(cache.keys) != layers:
        raise ValueError(f"the cache holds {cache.rows} rows x {cache.length} positions x "
                         f"{len(cache.keys)} layers; the input needs {rows} x {length} x {layers}")


def position_ids(attention_mask: torch.Tensor | None, rows: int, length: int,
                 device: torch.device) -> torch.Tensor:
    """(R, T) positions: left padding keeps a real token's position as in an unpadded row."""
    if attention_mask is None:
        return torch.arange(length, device=device).expand(rows, length)
    return (attention_mask.cumsum(-1) - 1).clamp_min(0)


def key_padding(attention_mask: torch.Tensor | None) -> torch.Tensor | None:
    """(R, T) True where a key may be attended to; None when every position may."""
    if attention_mask is None or bool(attention_mask.all()):
        return None
    return attention_mask.bool()


@dataclass(frozen=True)
class WindowPlan:
    """What a model's ``forward_window`` computes, and where, before its first layer."""

    packed: Packed  # every row's window, flattened: the tokens the layers compute
    tail: Packed  # the window positions among the last ``keep``: where logits are read
    positions: torch.Tensor  # (R, T) position ids
    padding: torch.Tensor | None  # (R, T) keys that may be attended to; None: all


def plan_window(input_ids: torch.Tensor, window: Window, cache: KVCache | None, layers: int,
                attention_mask: torch.Tensor | None, keep: int | None) -> WindowPlan:
    """Check a ``forward_window`` call's inputs and lay out its packed tokens (``keep`` None or
    0: logits of every window position)."""
    check_inputs(input_ids, window, cache, layers)
    rows, length = input_ids.shape
    return WindowPlan(pack(window), pack(window.clipped_from(length - (keep or length))),
                      position_ids(attention_mask, rows, length, input_ids.device),
                      key_padding(attention_mask))


def layer_keys(cache: KVCache | None, layer: int) -> torch.Tensor | None:
    return None if cache is None else cache.keys[layer]


def layer_values(cache: KVCache | None, layer: int) -> torch.Tensor | None:
    return None if cache is None else cache.values[layer]


def write_window(cached: torch.Tensor | None, fresh: torch.Tensor, packed: Packed) -> torch.Tensor:
    """(R, T, H, D): ``cached`` with the window's positions replaced by ``fresh`` (N, H, D);
    a new tensor, the cache itself is left as it was. Without a cache the window covers every
    position (`check_inputs`), so nothing is read from it."""
    if cached is None:
        length = int(packed.window.end.max())
        cached = fresh.new_empty(packed.window.rows, length, *fresh.shape[1:])
    return cached.index_put((packed.rows, packed.positions), fresh)


def attend(query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, packed: Packed,
           padding: torch.Tensor | None, scale: float | None = None) -> torch.Tensor:
    """Attention of the packed queries (N, H, D) over their own row's keys and values
    (R, T, H_kv, D), one call per group of equally wide windows; (N, H, D)."""
    heads, kv_heads = query.shape[1], keys.shape[2]
    out = torch.empty_like(query)
    for rows, tokens in packed.groups:
        q = query[tokens].transpose(1, 2)  # (G, H, w, D)
        k, v = (t[rows].transpose(1, 2) for t in (keys, values))  # (G, H_kv, T, D)
        if kv_heads != heads:  # grouped-query attention
            k = k.repeat_interleave(heads // kv_heads, dim=1)
            v = v.repeat_interleave(heads // kv_heads, dim=1)
        mask = None if padding is None else padding[rows, None, None, :]
        out[tokens] = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                                     scale=scale).transpose(1, 2)
    return out
