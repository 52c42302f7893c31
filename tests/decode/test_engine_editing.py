"""Token editing under the fixed sampler, checked against a plain one-expert loop of the rule:
the edit scope (the block's committed tokens, or the answer's before the block's end) and
post-block editing (after each block's share of the schedule, steps that only edit while they
change something, at most ``edit_post_steps`` + 1); the record they leave, and forks."""

from __future__ import annotations

import pytest
import torch

from hexviz.decode.assemble import decode, iter_runs
from hexviz.decode.engine import Resume
from hexviz.policy.settings import DecodeConfig, Expert

QUESTION = "Nora has 12 coins. She finds 7 more and buys 5 more. How many coins does Nora have now?"


def fixed_with_edits(lm, prompt: list[int], block: int, gen_length: int, steps: int,
                     edit: float, post_steps: int | None, scope: str = "block"):
    """One expert, low_confidence at temperature 0: LLaDA's fixed schedule per block, with
    token editing at every step of the block's committed tokens (scope "answer": of every
    committed token before the block's end) whose proposal differs with probability above
    ``edit``; after the block, editing-only steps until one changes nothing or ``post_steps`` +
    1 were taken (None: none; 0 is none in the engine). Returns tokens, steps taken, edits."""
    x = torch.full((1, len(prompt) + gen_length), lm.mask_id, dtype=torch.long)
    x[0, :len(prompt)] = torch.tensor(prompt)
    start, per_block = len(prompt), steps * block // gen_length
    step, made = 0, []

    def propose():
        logits = lm.model(input_ids=x).logits[0, start:].clone()
        logits[:, lm.mask_id] = -torch.inf
        p = torch.softmax(logits.float(), -1)
        conf, x0 = p.max(-1)
        return x0, conf

    def edit_block(lo, hi, x0, conf, masked):
        changed = []
        for i in range(lo if scope == "block" else 0, hi):
            if not masked[i] and x0[i] != x[0, start + i] and conf[i] > edit:
                changed.append([step, i, int(x[0, start + i]), int(x0[i])])
        return changed

    for lo in range(0, gen_length, block):
        hi = lo + block
        for i in range(per_block):
            x0, conf = propose()
            masked = x[0, start:] == lm.mask_id
            left = int(masked[lo:hi].sum())
            k = -(-left // (per_block - i))
            score = torch.where(masked & (torch.arange(gen_length) >= lo)
                                & (torch.arange(gen_length) < hi), conf, -torch.inf)
            picked = score.argsort(descending=True, stable=True)[:k]
            changed = edit_block(lo, hi, x0, conf, masked)
            for _, position, _, new in changed:
                x[0, start + position] = new
            x[0, start + picked] = x0[picked]
            made += changed
            step += 1
        for _ in range((post_steps + 1) if post_steps is not None else 0):
            x0, conf = propose()
            changed = edit_block(lo, hi, x0, conf, torch.zeros(gen_length, dtype=torch.bool))
            for _, position, _, new in changed:
                x[0, start + position] = new
            made += changed
            step += 1
            if not changed:
                break
    return x[0, start:].tolist(), step, made


@pytest.mark.parametrize("block,post,scope", [
    (32, 2, "block"), (16, 1, "answer"), pytest.param(64, 4, "block", marks=pytest.mark.slow)])
def test_fixed_with_post_edits_equals_the_plain_loop(builtin, block, post, scope):
    prompt = builtin.format_prompt(QUESTION)
    config = DecodeConfig(128, 64, edit=0.3, edit_post_steps=post, edit_scope=scope)
    ours = decode(builtin, prompt, [Expert(block)], config).trajectories[0]
    ids, steps, made = fixed_with_edits(builtin, prompt, block, 128, 64, 0.3, post, scope)
    assert ours.token_ids.tolist() == ids
    assert ours.steps_taken == steps > 64, "the case must take editing steps after its blocks"
    assert ours.edits.tolist() == made


@pytest.mark.parametrize("block", [4, 8])
def test_editing_the_answer_reaches_back_before_the_block(builtin, block):
    prompt = builtin.format_prompt(QUESTION)
    config = DecodeConfig(128, 64, edit=0.3, edit_scope="answer")
    ours = decode(builtin, prompt, [Expert(block)], config).trajectories[0]
    ids, steps, made = fixed_with_edits(builtin, prompt, block, 128, 64, 0.3, None, "answer")
    assert ours.token_ids.tolist() == ids and ours.steps_taken == steps == 64
    assert ours.edits.tolist() == made
    per_step = 64 * block // 128
    assert any(position // block < step // per_step for step, position, _, _ in made), \
        "the case must edit a block after it ended"


def test_without_post_steps_fixed_keeps_its_lock_step(builtin):
    prompt = builtin.format_prompt(QUESTION)
    config = DecodeConfig(128, 64, edit=0.3)
    ours = decode(builtin, prompt, [Expert(32)], config).trajectories[0]
    ids, steps, made = fixed_with_edits(builtin, prompt, 32, 128, 64, 0.3, None)
    assert ours.token_ids.tolist() == ids and ours.edits.tolist() == made
    assert ours.steps_taken == steps == 64


def test_post_steps_only_edit_the_block_just_filled(random_lm, prompt_ids):
    config = DecodeConfig(32, 16, edit=0.2, edit_post_steps=2)
    experts = [Expert(b) for b in (4, 8, 32)]
    run = decode(random_lm, prompt_ids, experts, config)
    assert run.complete and run.steps_done == max(t.steps_taken for t in run.trajectories)
    post_edits = 0
    for t in run.trajectories:
        assert (t.reveal_step >= 0).all()
        assert t.steps_taken <= config.step_cap_for([t.expert])
        blocks = t.reveal_step.reshape(-1, t.expert.block_length)
        assert (blocks.max(axis=1)[:-1] < blocks.min(axis=1)[1:]).all()  # in order
        for step, position, _, _ in t.edits.tolist():
            block = position // t.expert.block_length
            assert blocks[block].min() < step  # after the block began
            if block + 1 < len(blocks):
                assert step < blocks[block + 1].min()  # before the next one began
            post_edits += t.commits[step] == 0
        idle = [s for s in range(t.steps_taken) if t.commits[s] == 0]
        assert len(idle) <= 3 * len(blocks)  # at most post + 1 after each block
    assert post_edits > 0, "the case must edit after a block filled"


def test_post_steps_need_editing():
    with pytest.raises(ValueError, match="needs --edit"):
        DecodeConfig(32, 16, edit_post_steps=2)


@pytest.mark.parametrize("sampler,scope", [("fixed", "block"), ("factor:4", "block"),
                                           ("fixed", "answer")])
def test_a_fork_resumes_post_editing_where_the_original_stood(random_lm, prompt_ids, sampler,
                                                             scope):
    config = DecodeConfig(32, 16, sampler=sampler, edit=0.2, edit_post_steps=2,
                          edit_scope=scope)
    experts = [Expert(8), Expert(16)]
    original = decode(random_lm, prompt_ids, experts, config)
    idle = [s for t in original.trajectories for s in range(t.steps_taken) if t.commits[s] == 0]
    assert idle, "the case must take post steps"
    shortest = min(t.steps_taken for t in original.trajectories)
    for step in sorted(s for s in {0, *idle, *(s + 1 for s in idle)} if s < shortest):
        *_, last = iter_runs(random_lm, [prompt_ids], experts, config,
                             resume=Resume(step, original.trajectories))
        for a, b in zip(original.trajectories, last.runs()[0].trajectories, strict=True):
            assert a.token_ids.tolist() == b.token_ids.tolist(), step
            assert a.edits.tolist() == b.edits.tolist(), step
            assert a.commits.tolist() == b.commits.tolist(), step


def test_the_scope_is_checked_and_recorded_only_when_it_widens():
    with pytest.raises(ValueError, match="edit scope must be one of block, answer"):
        DecodeConfig(32, 16, edit=0.9, edit_scope="everywhere")
    with pytest.raises(ValueError, match="--edit-scope answer .* needs --edit"):
        DecodeConfig(32, 16, edit_scope="answer")
    with pytest.raises(ValueError, match="the KV cache does not recompute"):
        DecodeConfig(32, 16, edit=0.9, edit_scope="answer", cache="prefix")
    wide = DecodeConfig(32, 16, edit=0.9, edit_scope="answer")
    assert wide.to_json()["edit_scope"] == "answer" and DecodeConfig(**wide.to_json()) == wide
    assert "edit_scope" not in DecodeConfig(32, 16, edit=0.9).to_json()  # older files alike
    # beside a cache editing stays in the block; a model's decode carries its editing
    assert wide.with_cache("prefix").edit_scope == "block"
    assert wide.with_cache("none") == wide
    from hexviz.models.meta import ModelDefaults
    own = DecodeConfig.of_model(ModelDefaults(32, 16, "gsm8k", 0.9, "answer"), sampler="factor:1")
    assert (own.edit, own.edit_scope, own.sampler.spec) == (0.9, "answer", "factor:1")
    assert DecodeConfig.of_model(ModelDefaults(32, 16, "gsm8k", None, "answer")).edit_scope == (
        "block")  # a scope without a threshold edits nothing
