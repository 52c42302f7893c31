"""The decode loop's block cache: which rows refresh, which windows they compute, and the logits
it hands the loop (exact on a refresh, the plain recomputation of the approximation otherwise,
the last computed elsewhere)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hexviz.decode.assemble import decode, decode_many
from hexviz.decode.cache import (
    BlockCache,
    distinct_representatives,
)
from hexviz.models.kvcache import Window
from hexviz.policy.settings import (
    DecodeConfig,
    Expert,
    baseline_experts,
    cache_refusal,
    check_cache_mode,
    hex_experts,
)
from tests.decode.test_engine_parallel import hex_get_num_transfer_tokens
from tests.models.test_kvcache import (
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
from tests.policy.test_samplers import hex_get_transfer_index

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
    step0, _ = cache.logits(lm, first, attention, PROMPT, start, end)
    exact0 = exact_forward(model, first, attention)[:, -ANSWER:]
    torch.testing.assert_close(step0, exact0, atol=1e-5, rtol=1e-5)
    assert cache.refreshes == 4 and cache.tokens == 4 * T

    # Tokens revealed only inside each row's current block, as the loop does.
    step = first.clone()
    for r, a in enumerate(start.tolist()):
        step[r, PROMPT + a:PROMPT + a + BLOCK] = later[r, PROMPT + a:PROMPT + a + BLOCK]
    step1, _ = cache.logits(lm, step, attention, PROMPT, start, end)
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
    got, _ = cache.logits(lm, moved, attention, PROMPT, *blocks(0, 4, 0, 0))  # row 1 moved on
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
    logits, computed = cache.logits(lm, x, att, PROMPT, *blocks(0, 0, 4, 0))
    assert computed == 2
    assert cache.tokens == 2 * T and cache.refreshes == 4  # three equal rows computed once
    assert torch.equal(logits[0], logits[2]) and not torch.equal(logits[0], logits[3])
    cache.select(torch.tensor([0, 3]))  # rows 1 and 2 finished
    assert cache.kv.rows == 2 and torch.equal(cache.last[1], logits[3])
    again, computed = cache.logits(lm, x[[0, 3]], att[[0, 3]], PROMPT, *blocks(0, 0),
                                   rows=torch.tensor([0, 3]))
    assert computed == 2
    torch.testing.assert_close(again, logits[[0, 3]], atol=1e-5, rtol=1e-5)  # same canvas
    with pytest.raises(ValueError, match="cannot come back"):
        cache.select(torch.tensor([1, 3]))


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
    step0, _ = cache.logits(lm, first, attention, PROMPT, *blocks(8, 8, 8, 8))
    assert cache.start.tolist() == [0, 0, 0, 0]
    step = first.clone()
    step[:, PROMPT + 8:PROMPT + 12] = later[:, PROMPT + 8:PROMPT + 12]
    step1, _ = cache.logits(lm, step, attention, PROMPT, *blocks(8, 8, 8, 8))
    assert not torch.allclose(step1[:, :8], step0[:, :8], atol=1e-4)  # recomputed
    torch.testing.assert_close(step1[:, 12:], step0[:, 12:])  # the suffix kept


# --- the decode loop with a cache ---------------------------------------------------------------
# Fast-dLLM's generate_with_prefix_cache / generate_with_dual_cache, transcribed from
# NVlabs/Fast-dLLM, llada/generate.py at commit 24cc59e75f20a6384bae8c905965bb090b96388e
# (remasking='low_confidence', temperature 0: its add_gumbel_noise returns the logits, and its
# get_transfer_index is the HEX code transcribed in tests/decode/test_samplers.py). The unused
# nfe count and a dead argmax are left out. The model it calls is its modified LLaDA; here
# `FastDLLMModel` gives a model that interface with the plain full-length recomputation above.

FAST_DLLM_COMMIT = "24cc59e75f20a6384bae8c905965bb090b96388e"


class FastDLLMModel:
    """Fast-dLLM's model interface over `modernbert_reference`: ``model(x, use_cache=True)``
    returns logits and every layer's (keys, values) (B, H, T, D); with ``past_key_values`` of
    the prompt and finished blocks, ``x`` is the rest of the canvas (its keys and values
    computed, the cached ones before them); with ``replace_position`` too, ``x`` is the block
    and only its keys and values are computed (its attention writes them into the cache)."""

    def __init__(self, model) -> None:
        self.model = model
        self.canvas = None  # the canvas of the last full forward: the prefix or suffix tokens

    def __call__(self, x, past_key_values=None, use_cache=False, replace_position=None):
        from types import SimpleNamespace

        if past_key_values is None:
            self.canvas = x.clone()
            logits, kv = modernbert_reference(self.model, x, torch.ones_like(x))
            return SimpleNamespace(logits=logits, past_key_values=kv)
        if replace_position is None:
            start = past_key_values[0][0].shape[-2]
            canvas = torch.cat([self.canvas[:, :start], x], 1)
            inside = torch.arange(canvas.shape[1]) >= start
        else:
            canvas = self.canvas.clone()
            canvas[replace_position] = x.flatten()
            inside = replace_position[0]
        length = canvas.shape[1]

        def swap(i, k, v):
            def cached(t):
                pad = t.new_zeros(*t.shape[:2], length - t.shape[2], t.shape[3])
                return torch.cat([t, pad], 2)
            keep = inside[None, None, :, None]
            return (torch.where(keep, k, cached(past_key_values[i][0])),
                    torch.where(keep, v, cached(past_key_values[i][1])))

        logits, _ = modernbert_reference(self.model, canvas, torch.ones_like(canvas), swap)
        return SimpleNamespace(logits=logits[:, inside])


@torch.no_grad()
def fast_dllm_prefix_cache(model, prompt, steps, gen_length, block_length, mask_id,
                           threshold=None):
    x = torch.full((1, prompt.shape[1] + gen_length), mask_id, dtype=torch.long)
    x[:, :prompt.shape[1]] = prompt.clone()
    assert gen_length % block_length == 0
    num_blocks = gen_length // block_length
    assert steps % num_blocks == 0
    steps = steps // num_blocks
    for num_block in range(num_blocks):
        current_block_start = prompt.shape[1] + num_block * block_length
        current_block_end = current_block_start + block_length
        block_mask_index = (x[:, current_block_start:current_block_end] == mask_id)
        num_transfer_tokens = hex_get_num_transfer_tokens(block_mask_index, steps)
        output = model(x, use_cache=True)
        past_key_values = output.past_key_values
        mask_index = (x == mask_id)
        mask_index[:, current_block_end:] = 0
        x0, transfer_index = hex_get_transfer_index(
            output.logits, mask_index, x,
            num_transfer_tokens[:, 0] if threshold is None else None, threshold)
        x[transfer_index] = x0[transfer_index]
        past_key_values = [tuple(t[:, :, :current_block_start] for t in layer)
                           for layer in past_key_values]
        i = 1
        while True:
            mask_index = (x[:, current_block_start:] == mask_id)
            mask_index[:, block_length:] = 0
            logits = model(x[:, current_block_start:], past_key_values=past_key_values,
                           use_cache=True).logits
            x0, transfer_index = hex_get_transfer_index(
                logits, mask_index, x[:, current_block_start:],
                num_transfer_tokens[:, i] if threshold is None else None, threshold)
            x[:, current_block_start:][transfer_index] = x0[transfer_index]
            if (x[:, current_block_start:current_block_end] == mask_id).sum() == 0:
                break
            i += 1
    return x


@torch.no_grad()
def fast_dllm_dual_cache(model, prompt, steps, gen_length, block_length, mask_id,
                         threshold=None):
    x = torch.full((1, prompt.shape[1] + gen_length), mask_id, dtype=torch.long)
    x[:, :prompt.shape[1]] = prompt.clone()
    assert gen_length % block_length == 0
    num_blocks = gen_length // block_length
    assert steps % num_blocks == 0
    steps = steps // num_blocks
    for num_block in range(num_blocks):
        current_block_start = prompt.shape[1] + num_block * block_length
        current_block_end = current_block_start + block_length
        block_mask_index = (x[:, current_block_start:current_block_end] == mask_id)
        num_transfer_tokens = hex_get_num_transfer_tokens(block_mask_index, steps)
        output = model(x, use_cache=True)
        past_key_values = output.past_key_values
        mask_index = (x == mask_id)
        mask_index[:, current_block_end:] = 0
        x0, transfer_index = hex_get_transfer_index(
            output.logits, mask_index, x,
            num_transfer_tokens[:, 0] if threshold is None else None, threshold)
        x[transfer_index] = x0[transfer_index]
        i = 1
        replace_position = torch.zeros_like(x, dtype=torch.bool)
        replace_position[:, current_block_start:current_block_end] = 1
        while True:
            mask_index = (x[:, current_block_start:current_block_end] == mask_id)
            logits = model(x[:, current_block_start:current_block_end],
                           past_key_values=past_key_values, use_cache=True,
                           replace_position=replace_position).logits
            x0, transfer_index = hex_get_transfer_index(
                logits, mask_index, x[:, current_block_start:current_block_end],
                num_transfer_tokens[:, i] if threshold is None else None, threshold)
            x[:, current_block_start:current_block_end][transfer_index] = x0[transfer_index]
            if (x[:, current_block_start:current_block_end] == mask_id).sum() == 0:
                break
            i += 1
    return x


FAST_DLLM = {"prefix": fast_dllm_prefix_cache, "dual": fast_dllm_dual_cache}
QUESTIONS = [
    "Nora has 12 coins. She finds 7 more and buys 5 more. How many coins does Nora have now?",
    "A box holds 6 pens. Sam buys 4 boxes. How many pens does he have?",
]


@pytest.mark.parametrize("mode,sampler,threshold", [
    ("prefix", "threshold:0.9", 0.9), ("dual", "fixed", None),  # the quick tier: one each
    pytest.param("prefix", "fixed", None, marks=pytest.mark.slow),
    pytest.param("dual", "threshold:0.9", 0.9, marks=pytest.mark.slow)])
def test_equals_fast_dllm_cached_generate(builtin, mode, sampler, threshold):
    """Experts of different block sizes batched with padded prompts (rows reach block
    boundaries at different steps with the threshold sampler) equal Fast-dLLM's cached
    generate run alone for each, token for token."""
    config = DecodeConfig(32, 16, sampler=sampler, cache=mode)
    experts = hex_experts(32, [4, 8, 16])
    prompts = [builtin.format_prompt(q) for q in QUESTIONS]
    runs = decode_many(builtin, prompts, experts, config)
    assert len(prompts[0]) != len(prompts[1])  # one of them is left-padded in the batch
    adapter = FastDLLMModel(builtin.model)
    for prompt, run in zip(prompts, runs, strict=True):
        assert run.config.cache == mode
        for t in run.trajectories:
            x = FAST_DLLM[mode](adapter, torch.tensor([prompt]), config.steps, 32,
                                t.expert.block_length, builtin.mask_id, threshold)
            assert t.token_ids.tolist() == x[0, len(prompt):].tolist(), (mode, t.expert)


def test_one_step_per_block_is_exact_decoding(builtin):
    """Every step is the first of a block, so the cached runs equal the exact one."""
    experts = [Expert(8, rule) for rule in ("low_confidence", "margin", "random")]
    prompts = [builtin.format_prompt(q) for q in QUESTIONS]
    exact = decode_many(builtin, prompts, experts, DecodeConfig(32, 4))
    for mode in ("prefix", "dual"):
        cached = decode_many(builtin, prompts, experts, DecodeConfig(32, 4, cache=mode))
        for a, b in zip(exact, cached, strict=True):
            for s, t in zip(a.trajectories, b.trajectories, strict=True):
                assert s.token_ids.tolist() == t.token_ids.tolist()
                assert s.reveal_step.tolist() == t.reveal_step.tolist()
                np.testing.assert_allclose(s.draft_prob, t.draft_prob, atol=1e-5)


@pytest.mark.slow
def test_cached_runs_differ_from_exact_and_compute_fewer_positions(builtin):
    prompts = [builtin.format_prompt(q) for q in QUESTIONS]
    experts = hex_experts(64, [4, 8, 16, 32])
    runs = {mode: decode_many(builtin, prompts, experts, DecodeConfig(64, 32, cache=mode))
            for mode in ("none", "prefix", "dual")}
    positions = {mode: r[0].timing.positions for mode, r in runs.items()}
    assert positions["dual"] < positions["prefix"] < positions["none"]
    ids = {mode: np.stack([t.token_ids for r in rs for t in r.trajectories])
           for mode, rs in runs.items()}
    assert (ids["dual"] != ids["none"]).any()  # an approximation, visible on this model
    for r in runs["dual"]:
        for t in r.trajectories:  # every position revealed once, blocks in order
            assert (t.reveal_step >= 0).all()
            blocks = t.reveal_step.reshape(-1, t.expert.block_length)
            assert (blocks.max(1)[:-1] < blocks.min(1)[1:]).all()


def test_a_model_without_a_cache_decodes_exactly(random_lm, prompt_ids):
    config = DecodeConfig(16, 8, cache="dual")
    assert cache_refusal(random_lm, "dual").endswith(
        "has no block KV cache (hexviz has one for ModernBERT with global attention, as the "
        "built-in model, and for its native LLaDA); cache 'dual' decodes exactly, as cache "
        "'none'")
    assert cache_refusal(random_lm, "none") is None
    run = decode(random_lm, prompt_ids, hex_experts(16, [4, 8]), config)
    exact = decode(random_lm, prompt_ids, hex_experts(16, [4, 8]), DecodeConfig(16, 8))
    assert run.config.cache == "none"  # what it ran with
    for a, b in zip(run.trajectories, exact.trajectories, strict=True):
        assert a.token_ids.tolist() == b.token_ids.tolist()



def test_whole_answer_rows_cache_the_same_with_prefix_and_dual(builtin):
    """One block: nothing follows it, so both caches compute the same window."""
    prompt = builtin.format_prompt(QUESTIONS[0])
    experts = baseline_experts(32)
    prefix, dual = (decode(builtin, prompt, experts, DecodeConfig(32, 16, cache=mode))
                    for mode in ("prefix", "dual"))
    for a, b in zip(prefix.trajectories, dual.trajectories, strict=True):
        assert a.token_ids.tolist() == b.token_ids.tolist()
        assert a.reveal_step.tolist() == b.reveal_step.tolist()
    assert prefix.timing.positions == dual.timing.positions
