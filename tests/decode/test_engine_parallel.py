"""The decode loop with parallel samplers: token-for-token parity with the HEX authors'
``generate(threshold=...)`` / ``generate(factor=...)`` (transcribed below) and with a loop of
diffusers' ``BlockRefinementScheduler.step`` on the built-in model; variable steps, finished
rows dropped, edits recorded, forks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from diffusers import BlockRefinementScheduler

from hexviz.decode.assemble import decode, decode_many, iter_runs
from hexviz.decode.engine import Resume
from hexviz.policy.settings import DecodeConfig, Expert, hex_experts
from hexviz.runs.record import dumps, loads
from tests.policy.test_samplers import hex_get_transfer_index, hex_get_transfer_index_dynamic

HEX_COMMIT = "b714b9c61b8ab700261fed42cab5b2b8ff00a394"
QUESTIONS = [
    "Nora has 12 coins. She finds 7 more and buys 5 more. How many coins does Nora have now?",
    "A box holds 6 pens. Sam buys 4 boxes and gives away 9 pens. How many pens are left?",
]


# --- HEX's generate(), transcribed --------------------------------------------------------------
# From junos-ai-org/hex, HEX/eval/generate.py at commit b714b9c61b8ab700261fed42cab5b2b8ff00a394:
# `get_num_transfer_tokens` and the threshold / factor / fixed paths of `generate` with
# remasking='low_confidence' at temperature 0 (cfg_scale 0 and cfg unused there). Left out, as
# they change no token: the one-step log-likelihood, `save_intermediate` logging, the tokenizer.
# `model(x).logits` is the checkpoint's own forward on the whole unpadded sequence.

def hex_get_num_transfer_tokens(mask_index, steps):
    mask_num = mask_index.sum(dim=1, keepdim=True)
    base = mask_num // steps
    remainder = mask_num % steps
    num_transfer_tokens = torch.zeros(mask_num.size(0), steps, device=mask_index.device,
                                      dtype=torch.int64) + base
    for i in range(mask_num.size(0)):
        num_transfer_tokens[i, :remainder[i]] += 1
    return num_transfer_tokens


@torch.no_grad()
def hex_generate(model, prompt, steps=128, gen_length=128, block_length=128, mask_id=126336,
                 threshold=None, factor=None):
    x = torch.full((prompt.shape[0], prompt.shape[1] + gen_length), mask_id, dtype=torch.long)
    x[:, :prompt.shape[1]] = prompt.clone()
    assert gen_length % block_length == 0
    num_blocks = gen_length // block_length
    assert steps % num_blocks == 0
    steps = steps // num_blocks
    nfe = 0
    for num_block in range(num_blocks):
        lo = prompt.shape[1] + num_block * block_length
        hi = prompt.shape[1] + (num_block + 1) * block_length
        block_mask_index = x[:, lo:hi] == mask_id
        num_transfer_tokens = hex_get_num_transfer_tokens(block_mask_index, steps)
        i = 0
        while True:
            nfe += 1
            mask_index = x == mask_id
            logits = model(x).logits
            mask_index[:, hi:] = 0
            if factor is None:
                x0, transfer_index = hex_get_transfer_index(
                    logits, mask_index, x,
                    num_transfer_tokens[:, i] if threshold is None else None, threshold)
            else:
                x0, transfer_index = hex_get_transfer_index_dynamic(logits, mask_index, x,
                                                                    factor)
            x[transfer_index] = x0[transfer_index]
            i += 1
            if (x[:, lo:hi] == mask_id).sum() == 0:
                break
    return x, nfe


EVERY_SIZE = (4, 8, 16, 32, 64)  # the HEX experts of the built-in model (gen_length 128)


@pytest.mark.parametrize("sampler,kwargs,sizes", [
    # the quick tier checks one block size of each family; the full tier every size
    ("threshold:0.9", {"threshold": 0.9}, (16,)), ("factor:1", {"factor": 1.0}, (16,)),
    ("fixed", {}, (16,)),
    pytest.param("threshold:0.9", {"threshold": 0.9}, EVERY_SIZE, marks=pytest.mark.slow),
    pytest.param("threshold:0.7", {"threshold": 0.7}, EVERY_SIZE, marks=pytest.mark.slow),
    pytest.param("factor:1", {"factor": 1.0}, EVERY_SIZE, marks=pytest.mark.slow),
    pytest.param("factor:0.5", {"factor": 0.5}, EVERY_SIZE, marks=pytest.mark.slow),
    pytest.param("fixed", {}, EVERY_SIZE, marks=pytest.mark.slow),
])
def test_equals_hex_generate_for_every_hex_block_size(builtin, sampler, kwargs, sizes):
    """Every HEX expert of the built-in model (gen_length 128: blocks 4 ... 64), batched, equals
    HEX's generate() run alone for that block size (those of ``sizes``), token for token and in
    forward passes."""
    config = DecodeConfig(builtin.defaults.gen_length, builtin.defaults.steps, sampler=sampler)
    experts = hex_experts(config.gen_length)
    assert tuple(e.block_length for e in experts) == EVERY_SIZE
    prompts = [builtin.format_prompt(q) for q in QUESTIONS]
    runs = decode_many(builtin, prompts, experts, config)
    for prompt, run in zip(prompts, runs, strict=True):
        for t in (t for t in run.trajectories if t.expert.block_length in sizes):
            x, nfe = hex_generate(builtin.model, torch.tensor([prompt]), config.steps,
                                  config.gen_length, t.expert.block_length, builtin.mask_id,
                                  **kwargs)
            assert t.token_ids.tolist() == x[0, len(prompt):].tolist(), (sampler, t.expert)
            assert t.steps_taken == nfe, (sampler, t.expert)


def test_threshold_takes_fewer_steps_than_fixed_and_they_differ_by_expert(builtin):
    config = DecodeConfig(128, 64, sampler="threshold:0.9")
    run = decode(builtin, builtin.format_prompt(QUESTIONS[0]), hex_experts(128), config)
    taken = [t.steps_taken for t in run.trajectories]
    assert max(taken) < 64 and len(set(taken)) > 1
    assert run.steps_done == max(taken)
    assert max(c for t in run.trajectories for c in t.commits) > 1


# --- diffusers' BlockRefinementScheduler, one block at a time ----------------------------------

def block_refinement_generate(lm, prompt, gen_length, block_length, steps, threshold, edit):
    """A decode loop around diffusers' ``BlockRefinementScheduler.step`` (mask mode, temperature
    0): per block, ``set_timesteps(steps per block)`` and step until the block has no mask.
    Shared with the engine on purpose: the [MASK] logit is removed and a block ends when it has
    no mask left (LLaDA2's pipeline goes on editing for up to `max_post_steps`; hexviz does not),
    and the model sees the whole canvas, as in every hexviz expert."""
    x = torch.full((1, len(prompt) + gen_length), lm.mask_id, dtype=torch.long)
    x[0, :len(prompt)] = torch.tensor(prompt)
    per_block = steps * block_length // gen_length
    scheduler = BlockRefinementScheduler(block_length=block_length,
                                         num_inference_steps=per_block)
    edits, step = [], 0
    for lo in range(len(prompt), len(prompt) + gen_length, block_length):
        hi = lo + block_length
        scheduler.set_timesteps(per_block, block_length=block_length)
        i = 0
        while (x[0, lo:hi] == lm.mask_id).any():
            logits = lm.model(input_ids=x).logits[:, lo:hi].clone()
            logits[..., lm.mask_id] = -torch.inf
            out = scheduler.step(logits, i, x[:, lo:hi], mask_token_id=lm.mask_id,
                                 temperature=0.0, threshold=threshold, editing_threshold=edit)
            for p in out.editing_transfer_index[0].nonzero().flatten().tolist():
                edits.append([step, lo - len(prompt) + p, int(x[0, lo + p]),
                              int(out.prev_sample[0, p])])
            x[:, lo:hi] = out.prev_sample
            i += 1
            step += 1
    return x[0, len(prompt):].tolist(), step, edits


@pytest.mark.parametrize("t,edit", [
    (0.9, 0.5),  # the quick tier: one case, with edits
    pytest.param(0.9, None, marks=pytest.mark.slow),
    pytest.param(0.7, None, marks=pytest.mark.slow),
    pytest.param(0.8, 0.3, marks=pytest.mark.slow)])
def test_bounded_and_edit_equal_a_block_refinement_loop(builtin, t, edit):
    config = DecodeConfig(128, 64, sampler=f"bounded:{t}", edit=edit)
    prompt = builtin.format_prompt(QUESTIONS[1])
    run = decode(builtin, prompt, hex_experts(128), config)
    for traj in run.trajectories:
        ids, steps, made = block_refinement_generate(builtin, prompt, 128,
                                                     traj.expert.block_length, 64, t, edit)
        assert traj.token_ids.tolist() == ids, traj.expert
        assert traj.steps_taken == steps <= 64
        assert traj.edits.tolist() == made
    if edit is not None:
        assert sum(len(traj.edits) for traj in run.trajectories) > 0, "the case must edit"


def test_editing_edits_something_on_the_built_in_model(builtin):
    """The parity above is not vacuous: with a low editing threshold tokens are replaced."""
    config = DecodeConfig(128, 64, sampler="threshold:0.7", edit=0.3)
    run = decode(builtin, builtin.format_prompt(QUESTIONS[0]), hex_experts(128), config)
    assert sum(len(t.edits) for t in run.trajectories) > 0


# --- the loop's own invariants on a random model -----------------------------------------------

@pytest.mark.parametrize("sampler", ["threshold:0.5", "factor:1", "bounded:0.6", "entropy:0.5",
                                     "threshold:0.3"])
@pytest.mark.parametrize("rule", ["low_confidence", "margin", "entropy", "random"])
def test_variable_samplers_reveal_every_position_once_block_by_block(random_lm, prompt_ids,
                                                                    sampler, rule):
    config = DecodeConfig(32, 16, sampler=sampler)
    run = decode(random_lm, prompt_ids, hex_experts(32, [2, 4, 8, 16, 32], rule), config)
    assert run.complete
    for t in run.trajectories:
        assert (t.reveal_step >= 0).all() and (t.reveal_step < t.steps_taken).all()
        assert t.commits.tolist() == np.bincount(t.reveal_step, minlength=t.steps_taken).tolist()
        assert (t.commits >= 1).all()  # every step commits something
        blocks = t.reveal_step.reshape(-1, t.expert.block_length)
        assert (blocks.max(axis=1)[:-1] < blocks.min(axis=1)[1:]).all()  # in order, no overlap
        assert t.draft_ids.shape == (t.steps_taken, 32)
        if sampler.startswith("bounded"):
            assert t.steps_taken <= config.steps
        assert t.steps_taken <= config.step_cap


def test_finished_rows_cost_no_forward_pass(random_lm, prompt_ids):
    config = DecodeConfig(32, 32, sampler="threshold:0.3")
    experts = hex_experts(32, [2, 4, 8, 16, 32])
    run = decode(random_lm, prompt_ids, experts, config)
    taken = sorted(t.steps_taken for t in run.trajectories)
    assert len(set(taken)) > 1, "the experts should finish at different steps"
    rows = run.timing.step_rows
    assert len(rows) == run.steps_done
    # at each step at most the unfinished experts are computed (equal rows once)
    for s, computed in enumerate(rows):
        assert 1 <= computed <= sum(t.steps_taken > s for t in run.trajectories)
    assert run.timing.row_passes == sum(rows) <= sum(taken)
    assert rows[-1] < max(rows) and rows[-1] == 1  # at the end one expert is left


def test_each_expert_alone_equals_its_row_in_the_batch(random_lm, prompt_ids):
    config = DecodeConfig(32, 16, sampler="factor:1", edit=0.4)
    experts = [Expert(b, "low_confidence", 0, temp) for b in (4, 16) for temp in (0.0, 0.8)]
    batched = decode(random_lm, prompt_ids, experts, config)
    for e, t in zip(experts, batched.trajectories, strict=True):
        alone = decode(random_lm, prompt_ids, [e], config).trajectories[0]
        assert t.token_ids.tolist() == alone.token_ids.tolist(), e
        assert t.reveal_step.tolist() == alone.reveal_step.tolist(), e
        assert t.edits.tolist() == alone.edits.tolist(), e


def test_edits_are_recorded_and_reveal_steps_kept(random_lm, prompt_ids):
    config = DecodeConfig(32, 32, sampler="threshold:0.5", edit=0.2)
    run = decode(random_lm, prompt_ids, hex_experts(32, [8, 32]), config)
    assert sum(len(t.edits) for t in run.trajectories), "a low threshold on a random model edits"
    for t in run.trajectories:
        last_new = {}
        for step, position, old, new in t.edits.tolist():
            assert 0 <= t.reveal_step[position] < step < t.steps_taken  # edited after commit
            assert old != new
            assert old == last_new.get(position, old)  # edits of one position chain
            last_new[position] = new
            block = position // t.expert.block_length  # inside the block decoded at that step
            block_steps = t.reveal_step.reshape(-1, t.expert.block_length)[block]
            assert step <= block_steps.max()
        for position, new in last_new.items():
            assert t.token_ids[position] == new


def test_a_fork_with_unchanged_settings_continues_the_original(random_lm, prompt_ids):
    config = DecodeConfig(32, 32, sampler="threshold:0.5", edit=0.3)
    experts = hex_experts(32, [4, 16])
    original = decode(random_lm, prompt_ids, experts, config)
    for step in (0, 3, 6):
        *_, last = iter_runs(random_lm, [prompt_ids], experts, config,
                               resume=Resume(step, original.trajectories))
        forked = last.runs()[0]
        for a, b in zip(original.trajectories, forked.trajectories, strict=True):
            assert a.token_ids.tolist() == b.token_ids.tolist(), step
            assert a.reveal_step.tolist() == b.reveal_step.tolist(), step
            assert a.edits.tolist() == b.edits.tolist(), step
            assert a.commits.tolist() == b.commits.tolist(), step


def test_runs_round_trip_through_json_with_the_new_fields(random_lm, prompt_ids):
    config = DecodeConfig(32, 16, sampler="threshold:0.5", edit=0.3)
    run = decode(random_lm, prompt_ids, hex_experts(32, [4, 16]), config)
    back = loads(dumps(run))
    assert back.config == config and back.config.sampler.edit == 0.3
    assert back.timing.row_passes == run.timing.row_passes
    for a, b in zip(run.trajectories, back.trajectories, strict=True):
        assert a.steps_taken == b.steps_taken
        assert a.commits.tolist() == b.commits.tolist()
        assert a.edits.tolist() == b.edits.tolist()
