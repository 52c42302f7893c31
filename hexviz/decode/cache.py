"""What each step recomputes: ``none`` (everything, exact), ``prefix`` or ``dual`` block cache.

Fast-dLLM's caches (Wu et al. 2025, arXiv 2505.22618), for rows that reach block boundaries at
different steps: a row whose current block changed (or that has no cache yet) gets a full
forward, which is exact and refreshes its keys and values; until its block changes again it
computes only a window, every layer's keys and values elsewhere taken from that first forward:

- ``prefix``: the current block and everything after it (the prompt and finished blocks cached);
- ``dual``: the current block alone (the masked suffix cached too).

Positions outside the window keep the logits they got when last computed (the block's first
forward), so the loop reads a full (R, L, V) logits tensor in every mode.
"""

from __future__ import annotations

import torch

from hexviz.models.kvcache import KVCache, Window
from hexviz.models.wrapper import DiffusionLM
from hexviz.policy.settings import check_cache_mode


def first_masked(answer: torch.Tensor, mask_id: int) -> torch.Tensor:
    """(R,) the first still-masked answer position of each row (its length when none is)."""
    masked = answer == mask_id
    return torch.where(masked.any(-1), masked.int().argmax(-1), answer.shape[1])


def distinct_representatives(keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For rows ``keys`` (n, K): (indices of one row per distinct value, (n,) each row's
    representative's place among them)."""
    _, inverse = torch.unique(keys, dim=0, return_inverse=True)
    first = torch.full((int(inverse.max()) + 1,), len(keys), dtype=torch.long,
                       device=keys.device)
    first = first.scatter_reduce(0, inverse, torch.arange(len(keys), device=keys.device), "amin")
    return first, inverse


class BlockCache:
    """The keys and values of each row's current block, and the last logits of every answer
    position; `logits` gives the next step's (R, L, V) logits, computing what the mode asks."""

    def __init__(self, mode: str, rows: int) -> None:
        if check_cache_mode(mode) == "none":
            raise ValueError("the exact mode ('none') recomputes everything and keeps no cache")
        self.mode = mode
        self.rows = torch.arange(rows)  # the batch rows the state below belongs to
        self.kv: KVCache | None = None
        self.block = torch.full((rows,), -1, dtype=torch.long)  # block start the cache is for
        self.start = torch.zeros(rows, dtype=torch.long)  # window start, fixed at a refresh
        self.last: torch.Tensor | None = None  # (R, L, V) logits, each as last computed
        self.tokens = 0  # positions computed, all steps
        self.refreshes = 0  # rows that got a full forward, all steps

    def select(self, rows: torch.Tensor) -> None:
        """Keep only batch rows ``rows`` (the others finished and left), in that order."""
        rows = rows.cpu()
        if torch.equal(rows, self.rows):
            return
        where = torch.searchsorted(self.rows, rows)
        if bool((where >= len(self.rows)).any()) or not torch.equal(self.rows[where], rows):
            raise ValueError(f"rows that left the batch cannot come back (had "
                             f"{self.rows.tolist()}, asked for {rows.tolist()})")
        self.rows = rows
        here = where.to(self.block.device)
        self.block, self.start = self.block[here], self.start[here]
        if self.kv is not None:
            self.kv = self.kv.take(where.to(self.kv.keys[0].device))
            self.last = self.last[where.to(self.last.device)]

    def logits(self, lm: DiffusionLM, x: torch.Tensor, attention: torch.Tensor, width: int,
               block_start: torch.Tensor, block_end: torch.Tensor,
               rows: torch.Tensor | None = None) -> tuple[torch.Tensor, int]:
        """(R, L, V) logits of the answer region ``x[:, width:]`` of canvas ``x`` (R, T), and
        how many rows were computed; ``block_start`` and ``block_end`` (R,) are each row's
        current block, in answer positions; ``rows`` (ascending) are the batch rows ``x``
        holds, when finished rows have left."""
        if rows is not None:
            self.select(rows)
        rows, length = x.shape
        gen_length = length - width
        device = x.device
        block_start, block_end = block_start.to(device), block_end.to(device)
        refresh = (block_start != self.block.to(device)) | (self.kv is None)
        starts = torch.minimum(block_start, first_masked(x[:, width:], lm.mask_id))
        self.start = torch.where(refresh, starts, self.start.to(device))
        self.block = torch.where(refresh, block_start, self.block.to(device))

        # Rows that refresh and are equal (experts on one prompt at step 0) compute once.
        fresh = refresh.nonzero().squeeze(1)
        kept = (~refresh).nonzero().squeeze(1)
        source = torch.empty(rows, dtype=torch.long, device=device)
        compute = kept
        if len(fresh):
            first, inverse = distinct_representatives(torch.cat([x, attention], 1)[fresh])
            compute = torch.cat([fresh[first], kept])
            source[fresh] = inverse
        source[kept] = torch.arange(len(kept), device=device) + (len(compute) - len(kept))
        n_fresh = len(compute) - len(kept)
        end = block_end if self.mode == "dual" else torch.full_like(block_end, gen_length)
        window = Window(
            torch.cat([torch.zeros(n_fresh, dtype=torch.long, device=device),
                       width + self.start[kept]]),
            torch.cat([torch.full((n_fresh,), length, dtype=torch.long, device=device),
                       width + end[kept]]))
        cache = None if self.kv is None else self.kv.take(compute)
        out = lm.forward_window(x[compute], attention[compute], window, cache, gen_length)
        self.tokens += int(window.width.sum())
        self.refreshes += len(fresh)

        # Every row takes its computed row's cache and logits; the rest keep their last.
        self.kv = out.cache.take(source)
        new = out.logits.new_full((len(compute), gen_length, out.logits.shape[-1]), torch.nan)
        new[out.rows, out.positions - width] = out.logits
        computed = torch.zeros(len(compute), gen_length, dtype=torch.bool, device=device)
        computed[out.rows, out.positions - width] = True
        new, computed = new[source], computed[source]
        if self.last is None:
            self.last = new
        else:
            self.last = torch.where(computed[..., None], new, self.last)
        return self.last.clone(), len(compute)
