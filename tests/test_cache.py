"""The decode loop's block cache: which rows refresh, which windows they compute, and the logits
it hands the loop (exact on a refresh, the plain recomputation of the approximation otherwise,
the last computed elsewhere)."""

from __future__ import annotations

import pytest
import torch

from hexviz.decode.cache import BlockCache, check_cache_mode, distinct_representatives
from hexviz.models.kvcache import Window
from tests.test_kvcache import (
    ANSWER,
    PROMPT,
    T,
    approximation,
    canvas,
    exact_forward,
    llada_reference,
    modernbert_reference,
    tiny_llada,
    tiny_modernbert,
    wrap,
)

ARCHITECTURES = [pytest.param(tiny_modernbert, modernbert_reference, id="modernbert"),
                 pytest.param(tiny_llada, llada_reference, id="llada")]
BLOCK = 4


def blocks(*starts: int) -> tuple[torch.Tensor, torch.Tensor]:
    start = torch.tensor(starts)
    return start, start + BLOCK


@pytest.mark.parametrize("mode", ["prefix", "dual"])
@pytest.mark.parametrize("build,reference", ARCHITECTURES)
def test_refresh_is_exact_then_windows_follow_the_approximation(build, reference, mode):
    model = build()
    lm = wrap(model)
    first, later, attention = canvas()
    start, end = blocks(0, 4, 8, 12)
    finished = torch.randint(4, 40, first.shape, generator=torch.Generator().manual_seed(2))
    for r, a in enumerate(start.tolist()):  # blocks before the current one are finished
        first[r, PROMPT:PROMPT + a] = finished[r, PROMPT:PROMPT + a]
    cache = BlockCache(mode, 4)
    step0 = cache.logits(lm, first, attention, PROMPT, start, end)
    exact0 = exact_forward(model, first, attention)[:, -ANSWER:]
    torch.testing.assert_close(step0, exact0, atol=1e-5, rtol=1e-5)
    assert cache.refreshes == 4 and cache.tokens == 4 * T

    # Tokens revealed only inside each row's current block, as the loop does.
    step = first.clone()
    for r, a in enumerate(start.tolist()):
        step[r, PROMPT + a:PROMPT + a + BLOCK] = later[r, PROMPT + a:PROMPT + a + BLOCK]
    step1 = cache.logits(lm, step, attention, PROMPT, start, end)
    window_end = end if mode == "dual" else torch.full((4,), ANSWER)
    window = Window(PROMPT + start, PROMPT + window_end)
    expected = approximation(reference, model, first, step, attention, window)[:, -ANSWER:]
    for r in range(4):
        a, b = int(start[r]), int(window_end[r])
        torch.testing.assert_close(step1[r, a:b], expected[r, a:b], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(step1[r, :a], step0[r, :a])  # not computed: kept
        torch.testing.assert_close(step1[r, b:], step0[r, b:])
    assert cache.refreshes == 4 and cache.tokens == 4 * T + int((window_end - start).sum())


@pytest.mark.parametrize("build,reference", ARCHITECTURES)
def test_a_row_whose_block_changed_refreshes_alone(build, reference):
    model = build()
    lm = wrap(model)
    first, later, attention = canvas()
    cache = BlockCache("dual", 4)
    cache.logits(lm, first, attention, PROMPT, *blocks(0, 0, 0, 0))
    moved = first.clone()
    moved[:, PROMPT:PROMPT + BLOCK] = later[:, PROMPT:PROMPT + BLOCK]
    got = cache.logits(lm, moved, attention, PROMPT, *blocks(0, 4, 0, 0))  # row 1 moved on
    exact = exact_forward(model, moved, attention)[:, -ANSWER:]
    torch.testing.assert_close(got[1], exact[1], atol=1e-5, rtol=1e-5)
    assert cache.refreshes == 5
    assert not torch.allclose(got[0, :BLOCK], exact[0, :BLOCK], atol=1e-3)  # still cached


def test_equal_rows_refresh_once_and_rows_can_leave():
    lm = wrap(tiny_modernbert())
    first, _, attention = canvas()
    x = torch.cat([first[:1].expand(3, -1), first[1:2]])
    att = torch.cat([attention[:1].expand(3, -1), attention[1:2]])
    cache = BlockCache("prefix", 4)
    logits = cache.logits(lm, x, att, PROMPT, *blocks(0, 0, 4, 0))
    assert cache.tokens == 2 * T and cache.refreshes == 4  # three equal rows computed once
    assert torch.equal(logits[0], logits[2]) and not torch.equal(logits[0], logits[3])
    cache.select(torch.tensor([3, 0]))
    assert cache.kv.rows == 2 and torch.equal(cache.last[0], logits[3])
    again = cache.logits(lm, x[[3, 0]], att[[3, 0]], PROMPT, *blocks(0, 0))
    torch.testing.assert_close(again, logits[[3, 0]], atol=1e-5, rtol=1e-5)  # same canvas


def test_distinct_representatives_are_the_first_of_each():
    keys = torch.tensor([[1, 2], [3, 4], [1, 2], [5, 6], [3, 4]])
    first, inverse = distinct_representatives(keys)
    assert torch.equal(keys[first[inverse]], keys)
    assert sorted(first.tolist()) == [0, 1, 3]


def test_unknown_modes_are_refused():
    assert check_cache_mode("dual") == "dual"
    with pytest.raises(ValueError, match="unknown cache mode 'full'; choose one of none"):
        check_cache_mode("full")
    with pytest.raises(ValueError, match="keeps no cache"):
        BlockCache("none", 2)


def test_masked_positions_before_the_block_are_computed_too():
    """After a fork that changed the block size, positions before the current block may still
    be masked; they are eligible, so the window starts at the first of them."""
    model = tiny_modernbert()
    lm = wrap(model)
    first, later, attention = canvas()
    cache = BlockCache("dual", 4)
    step0 = cache.logits(lm, first, attention, PROMPT, *blocks(8, 8, 8, 8))
    assert cache.start.tolist() == [0, 0, 0, 0]
    step = first.clone()
    step[:, PROMPT + 8:PROMPT + 12] = later[:, PROMPT + 8:PROMPT + 12]
    step1 = cache.logits(lm, step, attention, PROMPT, *blocks(8, 8, 8, 8))
    assert not torch.allclose(step1[:, :8], step0[:, :8], atol=1e-4)  # recomputed
    torch.testing.assert_close(step1[:, 12:], step0[:, 12:])  # the suffix kept
