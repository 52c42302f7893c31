"""Concurrent decodes on one model sharing forward passes: step-level (continuous) batching.

Each decode runs the ordinary loop in its own thread with a `PooledLM` in place of the model.
When it asks for logits, its rows wait a moment for the other decodes in the pool to ask too;
then one thread computes every waiting ask in one forward pass per shape (rows of all visitors
stacked, equal rows computed once) and hands each decode its own rows back. With ``parallel``
above 1, that many passes run at once (on a CPU: one per core when torch takes one thread a
pass), so the decodes that missed a pass need not wait for it to end. A decode joins at
its next forward pass and leaves when its loop ends or is closed (a visitor who disconnects),
so the next pass no longer carries its rows.

Only asks of one width are stacked, whatever their row counts: padding a shorter prompt to a
longer one's width changes its logits in the last bits (a different attention path and
reduction order), and a batched run must equal the same run decoded alone token for token.
Rows of one width are independent of one another in the forward pass, so stacking them
changes nothing (the mixed crowd in the tests checks it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from hexviz.decode.step import shared_logits
from hexviz.models.wrapper import DiffusionLM

# How long an ask waits for the pool's other decodes after the last pass ended: about one
# step's bookkeeping in the loop on a CPU (reading the step, the rules, the record)
GATHER_SECONDS = 0.03


@dataclass(eq=False)
class _Ask:
    """One decode's forward pass: (R, T) ids and attention, the last ``keep`` positions."""

    x: torch.Tensor
    attention: torch.Tensor
    keep: int
    asked: float = field(default_factory=time.perf_counter)
    logits: torch.Tensor | None = None
    error: BaseException | None = None
    taken: bool = False  # into a pass, by whichever thread leads it
    done: bool = False

    @property
    def shape_key(self) -> tuple:
        # Widths, not row counts: decodes of 5 and 8 rows share a pass. A padded row is
        # computed with the attention mask, an unpadded one without (`DiffusionLM.logits`),
        # so padding is part of the shape
        return self.x.shape[1], self.keep, bool(self.attention.all())


@dataclass
class PoolStats:
    """What the pool did: forward passes, the asks they served, the rows asked for and the
    rows computed (equal rows across decodes once)."""

    passes: int = 0
    asks: int = 0
    rows_asked: int = 0
    rows_computed: int = 0

    @property
    def asks_per_pass(self) -> float:
        return self.asks / self.passes if self.passes else 0.0


class ForwardPool:
    """The forward passes of every decode on ``lm`` that joined it (`joined`), stacked."""

    def __init__(self, lm: DiffusionLM, gather_seconds: float = GATHER_SECONDS,
                 parallel: int = 1) -> None:
        if gather_seconds < 0:
            raise ValueError(f"gather_seconds must be 0 or more (got {gather_seconds})")
        if parallel < 1:
            raise ValueError(f"parallel must be at least 1 (got {parallel})")
        self.lm = lm
        self.gather_seconds = gather_seconds
        self.parallel = parallel  # passes computed at once (cores / torch's threads per pass)
        self.stats = PoolStats()
        self._cond = threading.Condition()
        self._members = 0
        self._asks: list[_Ask] = []
        self._running = 0  # passes being computed
        self._in_passes = 0  # asks inside them: their members cannot ask before they end
        self._last_pass_end = 0.0

    @property
    def members(self) -> int:
        """Decodes in the pool now."""
        with self._cond:
            return self._members

    @contextmanager
    def joined(self) -> Iterator[PooledLM]:
        """A member's view of the model for one decode; leaving frees its place at once."""
        with self._cond:
            self._members += 1
        try:
            yield PooledLM(self.lm, self)
        finally:
            with self._cond:
                self._members -= 1
                self._cond.notify_all()  # the others may no longer wait for it

    def logits(self, x: torch.Tensor, attention: torch.Tensor, keep: int) -> torch.Tensor:
        """``lm.logits(x, attention, keep)``, computed in a pass shared with the other
        members' asks."""
        ask = _Ask(x, attention, keep)
        with self._cond:
            self._asks.append(ask)
            self._cond.notify_all()
            while not ask.done:
                if not ask.taken and self._running < self.parallel and self._ready(ask):
                    batch, self._asks = self._asks, []
                    for taken in batch:
                        taken.taken = True
                    self._running += 1
                    self._in_passes += len(batch)
                    break
                # in another thread's pass, or no pass free: until one ends
                idle = ask.taken or self._running >= self.parallel
                self._cond.wait(None if idle else self._wait_left(ask))
        if not ask.done:
            self._compute(batch)
        if ask.error is not None:
            raise ask.error
        assert ask.logits is not None
        return ask.logits

    def _ready(self, ask: _Ask) -> bool:
        """Lead a pass now: every member not inside a pass has asked, or ``ask`` waited long
        enough."""
        return (len(self._asks) >= self._members - self._in_passes
                or self._wait_left(ask) == 0)

    def _wait_left(self, ask: _Ask) -> float:
        since = max(ask.asked, self._last_pass_end)
        return max(0.0, since + self.gather_seconds - time.perf_counter())

    def _compute(self, batch: list[_Ask]) -> None:
        """One forward pass per shape over ``batch``; every ask gets its rows or the error."""
        try:
            for group in _by_shape(batch):
                x = torch.cat([a.x for a in group])
                attention = torch.cat([a.attention for a in group])
                logits, computed = shared_logits(self.lm, x, attention, group[0].keep)
                for ask, rows in zip(group, logits.split([len(a.x) for a in group]),
                                     strict=True):
                    ask.logits = rows
                self.stats.passes += 1
                self.stats.asks += len(group)
                self.stats.rows_asked += len(x)
                self.stats.rows_computed += computed
        except BaseException as error:  # each waiting decode raises it in its own thread
            for ask in batch:
                if ask.logits is None:
                    ask.error = error
        finally:
            with self._cond:
                for ask in batch:
                    ask.done = True
                self._running -= 1
                self._in_passes -= len(batch)
                self._last_pass_end = time.perf_counter()
                self._cond.notify_all()


def _by_shape(asks: list[_Ask]) -> list[list[_Ask]]:
    """The asks grouped by `_Ask.shape_key`, groups in order of first ask."""
    groups: dict[tuple, list[_Ask]] = {}
    for ask in asks:
        groups.setdefault(ask.shape_key, []).append(ask)
    return list(groups.values())


class PooledLM:
    """A `DiffusionLM` whose full forward passes go through a `ForwardPool`; everything else
    (tokenizer, ids, a block cache's window passes) is the model's own."""

    def __init__(self, lm: DiffusionLM, pool: ForwardPool) -> None:
        self._lm = lm
        self._pool = pool

    def __getattr__(self, name: str):
        return getattr(self._lm, name)

    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
               keep: int | None = None) -> torch.Tensor:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        return self._pool.logits(input_ids, attention_mask, keep or input_ids.shape[1])
