"""The decode loop: schedule invariants, determinism, batching and parity with a reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hexviz.decode.assemble import decode, decode_many, iter_runs
from hexviz.decode.engine import Resume, top_candidates
from hexviz.decode.step import shared_logits
from hexviz.policy.schedule import block_bounds, reveal_count
from hexviz.policy.settings import DecodeConfig, Expert, hex_experts


def reference_generate(lm, prompt: list[int], expert: Expert, gen_length: int,
                       steps: int) -> list[int]:
    """A plain, un-batched transcription of LLaDA's generate(), one expert at a time.

    Differences from the published code, all shared with the engine on purpose: the [MASK]
    logit is removed, the Gumbel noise and the random scores come from the expert's own
    generator over the answer region only (noise first, then scores), and `margin` / `entropy`
    rules are added.
    """
    x = torch.full((1, len(prompt) + gen_length), lm.mask_id, dtype=torch.long)
    x[0, :len(prompt)] = torch.tensor(prompt)
    start = len(prompt)
    num_blocks = gen_length // expert.block_length
    steps_per_block = steps // num_blocks
    for block in range(num_blocks):
        lo = start + block * expert.block_length
        hi = lo + expert.block_length
        block_masked = int((x[0, lo:hi] == lm.mask_id).sum())
        base, extra = divmod(block_masked, steps_per_block)
        for i in range(steps_per_block):
            step = block * steps_per_block + i
            seed = np.random.SeedSequence([expert.seed, step]).generate_state(1)[0]
            generator = torch.Generator().manual_seed(int(seed))
            mask_index = x == lm.mask_id
            logits = lm.model(input_ids=x).logits[:, start:].clone()
            logits[..., lm.mask_id] = -torch.inf
            if expert.temperature > 0:
                u = torch.rand(logits[0].shape, generator=generator, dtype=torch.float64)
                x0 = (logits.double() - expert.temperature * torch.log(-torch.log(u))).argmax(-1)
            else:
                x0 = logits.argmax(-1)
            p = torch.softmax(logits.float(), dim=-1)
            if expert.remasking == "low_confidence":
                score = p.gather(-1, x0.unsqueeze(-1)).squeeze(-1)
            elif expert.remasking == "margin":
                top = p.topk(2, dim=-1).values
                score = top[..., 0] - top[..., 1]
            elif expert.remasking == "entropy":
                score = (p * p.clamp_min(1e-30).log()).sum(-1)
            else:
                score = torch.rand(gen_length, generator=generator).unsqueeze(0)
            score[:, hi - start:] = -torch.inf
            confidence = torch.where(mask_index[:, start:], score, -torch.inf)
            k = base + (1 if i < extra else 0)
            _, picked = torch.topk(confidence[0], k=k)
            x[0, start + picked] = x0[0, picked]
    return x[0, start:].tolist()


def check_invariants(run) -> None:
    config = run.config
    for t in run.trajectories:
        e = t.expert
        # every position revealed exactly once, nothing left masked
        assert (t.reveal_step >= 0).all()
        assert not (t.token_ids == run.special.mask_id).any()
        # per-step counts follow the schedule
        counts = np.bincount(t.reveal_step, minlength=config.steps)
        assert counts.tolist() == [reveal_count(e, config, s) for s in range(config.steps)]
        # block k finishes before block k+1 starts
        blocks = t.reveal_step.reshape(-1, e.block_length)
        assert (blocks.max(axis=1)[:-1] < blocks.min(axis=1)[1:]).all()
        # drafts exist exactly where the position was still masked
        for s in range(config.steps):
            still_masked = t.reveal_step >= s
            assert ((t.draft_ids[s] >= 0) == still_masked).all()
            assert (np.isnan(t.draft_prob[s]) == ~still_masked).all()


@pytest.mark.parametrize("rule", ["low_confidence", "margin", "entropy", "random"])
def test_every_expert_follows_the_schedule(random_lm, prompt_ids, rule):
    config = DecodeConfig(gen_length=32, steps=16)
    run = decode(random_lm, prompt_ids, hex_experts(32, [2, 4, 8, 16, 32], rule), config)
    check_invariants(run)


@pytest.mark.parametrize("block_length,steps,rule,temperature", [
    (4, 32, "low_confidence", 0.0), (8, 16, "margin", 0.0), (16, 8, "entropy", 0.0),
    (32, 32, "low_confidence", 0.0), (8, 8, "random", 0.0), (4, 16, "low_confidence", 0.7),
    (16, 32, "margin", 1.0),
])
def test_one_expert_equals_the_reference(random_lm, prompt_ids, block_length, steps, rule,
                                         temperature):
    expert = Expert(block_length, rule, seed=3, temperature=temperature)
    config = DecodeConfig(gen_length=32, steps=steps)
    run = decode(random_lm, prompt_ids, [expert], config)
    assert run.trajectories[0].token_ids.tolist() == reference_generate(
        random_lm, prompt_ids, expert, 32, steps)


def test_temperature_zero_is_deterministic(random_lm, prompt_ids):
    config = DecodeConfig(gen_length=32, steps=32)
    a = decode(random_lm, prompt_ids, hex_experts(32), config)
    b = decode(random_lm, prompt_ids, hex_experts(32), config)
    for ta, tb in zip(a.trajectories, b.trajectories, strict=True):
        assert (ta.token_ids == tb.token_ids).all()
        assert (ta.reveal_step == tb.reveal_step).all()


@pytest.mark.parametrize("temperature,rule", [
    (0.8, "low_confidence"), (0.0, "random"),
    pytest.param(0.0, "low_confidence", marks=pytest.mark.slow),
    pytest.param(0.5, "margin", marks=pytest.mark.slow)])
def test_batched_equals_sequential(random_lm, prompt_ids, temperature, rule):
    config = DecodeConfig(gen_length=32, steps=32)
    # Built directly: hex_experts refuses seeds that cannot differ, the engine must still batch
    # equal rows (temperature 0, low_confidence) exactly as it decodes them alone.
    experts = [Expert(b, rule, seed, temperature) for b in (2, 4, 8, 16, 32) for seed in (0, 1)]
    batched = decode(random_lm, prompt_ids, experts, config)
    for expert, t in zip(experts, batched.trajectories, strict=True):
        alone = decode(random_lm, prompt_ids, [expert], config).trajectories[0]
        assert t.token_ids.tolist() == alone.token_ids.tolist(), expert
        assert t.reveal_step.tolist() == alone.reveal_step.tolist(), expert


def test_distinct_rows_logits_equal_a_full_forward(random_lm, prompt_ids):
    rows = torch.tensor([prompt_ids, prompt_ids[::-1], prompt_ids, prompt_ids])
    rows[3, -1] = random_lm.mask_id  # equal ids to row 0 but one
    attention = torch.ones_like(rows)
    attention[2, 0] = 0  # equal ids to row 0, different attention
    full = random_lm.logits(rows, attention)[:, -5:]
    assert torch.allclose(shared_logits(random_lm, rows, attention, 5)[0], full, atol=1e-5)
    dup = torch.cat([rows, rows[:2]])
    dup_attention = torch.cat([attention, attention[:2]])
    got = shared_logits(random_lm, dup, dup_attention, 5)[0]
    assert torch.allclose(got, torch.cat([full, full[:2]]), atol=1e-5)


def test_experts_share_the_forward_pass_while_their_canvases_agree(random_lm, prompt_ids):
    computed = []
    hook = random_lm.model.register_forward_pre_hook(
        lambda module, args, kwargs: computed.append(len(kwargs["input_ids"])),
        with_kwargs=True)
    try:
        run = decode(random_lm, prompt_ids, hex_experts(32, [4, 8, 16, 32]), DecodeConfig(32, 32))
    finally:
        hook.remove()
    assert computed[0] == 1  # every expert starts from the same all-mask canvas
    for step, rows in enumerate(computed):
        canvases = {tuple(np.where(t.reveal_step < step, t.token_ids, -1))
                    for t in run.trajectories}
        assert rows == len(canvases)


def test_seeds_differ_when_sampling(random_lm, prompt_ids):
    config = DecodeConfig(gen_length=32, steps=32)
    run = decode(random_lm, prompt_ids, hex_experts(32, [8], seeds=2, temperature=1.0), config)
    assert run.trajectories[0].token_ids.tolist() != run.trajectories[1].token_ids.tolist()


def test_prompts_of_different_lengths_batch_like_separate_runs(random_lm):
    prompts = [random_lm.format_prompt(q) for q in
               ["Mia has 3 pens.", "Tom has 5 apples. He buys 3 more. How many now?"]]
    config = DecodeConfig(gen_length=16, steps=16)
    experts = hex_experts(16, [4, 8])
    together = decode_many(random_lm, prompts, experts, config)
    for prompt, run in zip(prompts, together, strict=True):
        alone = decode(random_lm, prompt, experts, config)
        assert run.prompt_ids == prompt
        for a, b in zip(run.trajectories, alone.trajectories, strict=True):
            assert a.token_ids.tolist() == b.token_ids.tolist()


def test_end_heavy_model_fills_the_tail_without_blocks(end_heavy_lm):
    """Sanity check of the fixture the EoS-control tests rely on."""
    prompt = end_heavy_lm.format_prompt("Tom has 5 apples.")
    run = decode(end_heavy_lm, prompt, [Expert(32)], DecodeConfig(32, 32))
    assert run.trajectories[0].end_fraction > 0.5


def test_forbid_end_of_text_removes_it(end_heavy_lm):
    prompt = end_heavy_lm.format_prompt("Tom has 5 apples.")
    config = DecodeConfig(32, 32, forbid_end_of_text=True)
    run = decode(end_heavy_lm, prompt, [Expert(32), Expert(8)], config)
    for t in run.trajectories:
        assert end_heavy_lm.special.end_of_text_id not in t.token_ids.tolist()


def test_end_tokens_last_reveals_them_after_other_tokens(end_heavy_lm):
    """At each step an end-token proposal is taken only when no other proposal is left."""
    prompt = end_heavy_lm.format_prompt("Tom has 5 apples.")
    for end_last in (False, True):
        config = DecodeConfig(32, 32, end_tokens_last=end_last)
        t = decode(end_heavy_lm, prompt, [Expert(16)], config).trajectories[0]
        violations = 0
        for step in range(config.steps):
            lo, hi = block_bounds(t.expert, config, step)
            draft = t.draft_ids[step, lo:hi]  # temperature 0: the proposals
            eligible = draft >= 0
            chosen = t.reveal_step[lo:hi] == step
            is_end = np.isin(draft, end_heavy_lm.end_ids)
            if (chosen & is_end).any() and (eligible & ~is_end & ~chosen).any():
                violations += 1
        assert (violations == 0) == end_last, violations


def test_progress_snapshots_grow(random_lm, prompt_ids):
    config = DecodeConfig(gen_length=16, steps=8)
    revealed = []
    for progress in iter_runs(random_lm, [prompt_ids], hex_experts(16, [4, 8]), config):
        run = progress.runs()[0]
        assert run.steps_done == progress.step
        revealed.append(int((run.trajectories[0].reveal_step >= 0).sum()))
    assert revealed == [2 * (s + 1) for s in range(8)]
    assert run.complete


def test_timing_covers_the_decode_and_grows_with_it(random_lm, prompt_ids):
    times = [p.runs()[0].timing.decode_s for p in iter_runs(
        random_lm, [prompt_ids], hex_experts(32, [4, 8, 16]), DecodeConfig(32, 16))]
    assert times[0] > 0 and times == sorted(times)


@pytest.mark.parametrize("experts,config,message", [
    ([Expert(5)], DecodeConfig(32, 32), "block_length must divide gen_length=32"),
    ([Expert(4)], DecodeConfig(32, 4), "steps must be a multiple of the number of blocks"),
])
def test_invalid_combinations_raise(random_lm, prompt_ids, experts, config, message):
    with pytest.raises(ValueError, match=message):
        decode(random_lm, prompt_ids, experts, config)


def test_unknown_answer_format_raises(random_lm, prompt_ids):
    with pytest.raises(ValueError, match="unknown answer format 'nope'"):
        decode(random_lm, prompt_ids, [Expert(8)], DecodeConfig(32, 32), reader="nope")


def test_too_long_for_the_model_is_refused(random_lm, prompt_ids):
    limit = random_lm.max_length
    room = limit - len(prompt_ids)
    with pytest.raises(ValueError, match=rf"gen_length must be at most {room} for this model and "
                                         rf"prompt \(got 256\): the prompt takes "
                                         rf"{len(prompt_ids)} of the model's {limit} positions"):
        decode(random_lm, prompt_ids, [Expert(256)], DecodeConfig(256, 256))


def test_end_density_is_the_mean_end_probability_over_masked_positions(random_lm, prompt_ids):
    config = DecodeConfig(16, 8)
    t = decode(random_lm, prompt_ids, [Expert(16)], config).trajectories[0]
    assert t.end_density.shape == (8,)
    # step 0: every answer position is masked; recompute from one plain forward pass
    x = torch.tensor([list(prompt_ids) + [random_lm.mask_id] * 16])
    with torch.no_grad():
        logits = random_lm.model(input_ids=x).logits[0, -16:].clone()
    logits[:, random_lm.mask_id] = -torch.inf
    p_end = torch.softmax(logits, -1)[:, list(random_lm.end_ids)].sum(-1)
    assert t.end_density[0] == pytest.approx(float(p_end.mean()), rel=1e-4)
    assert ((t.end_density >= 0) & (t.end_density <= 1)).all()


def test_whole_answer_confidence_on_an_end_heavy_model_is_a_wall_collapse(end_heavy_lm):
    prompt = end_heavy_lm.format_prompt("Tom has 5 apples.")
    t = decode(end_heavy_lm, prompt, [Expert(32)], DecodeConfig(32, 32)).trajectories[0]
    assert t.collapsed and len(t.text.split()) <= 4
    assert t.early_end_share > 0.5  # the tail's end tokens dominate the first half of reveals


# --- what-if forks ------------------------------------------------------------------------------

def fork(lm, prompt, original, expert, step, forced=None):
    config = original.config
    *_, progress = iter_runs(lm, [prompt], [expert], config,
                               resume=Resume(step, [original.trajectories[0]], [forced]))
    return progress.runs()[0].trajectories[0]


@pytest.mark.parametrize("rule,temperature,step", [
    ("low_confidence", 0.0, 5), ("random", 0.0, 11), ("margin", 0.9, 7), ("low_confidence", 0.7, 0),
])
def test_a_fork_with_unchanged_settings_reproduces_the_original(random_lm, prompt_ids, rule,
                                                                temperature, step):
    expert = Expert(8, rule, seed=2, temperature=temperature)
    original = decode(random_lm, prompt_ids, [expert], DecodeConfig(32, 16))
    again = fork(random_lm, prompt_ids, original, expert, step)
    t = original.trajectories[0]
    assert again.token_ids.tolist() == t.token_ids.tolist()
    assert again.reveal_step.tolist() == t.reveal_step.tolist()
    assert np.array_equal(again.draft_ids, t.draft_ids)
    assert np.allclose(again.end_density, t.end_density)


def test_forcing_a_token_changes_the_continuation(random_lm, prompt_ids):
    expert = Expert(8)
    config = DecodeConfig(32, 32)
    original = decode(random_lm, prompt_ids, [expert], config)
    t = original.trajectories[0]
    step = 3  # block 0 is half done; force the next position it would have revealed
    position = int(np.flatnonzero(t.reveal_step == step)[0])
    answer = np.where(t.reveal_step < step, t.token_ids, random_lm.mask_id).tolist()
    candidates = top_candidates(random_lm, prompt_ids, answer, position, k=3)
    assert candidates[0][0] == t.draft_ids[step, position]  # the draft is the top candidate
    token = next(c for c, _, _ in candidates if c != t.token_ids[position])
    forked = fork(random_lm, prompt_ids, original, expert, step, (position, token))
    assert forked.token_ids[position] == token and forked.reveal_step[position] == step
    assert forked.token_ids.tolist() != t.token_ids.tolist()
    assert (forked.reveal_step[t.reveal_step < step] == t.reveal_step[t.reveal_step < step]).all()
    assert (forked.reveal_step >= 0).all()  # the block with one mask fewer still finishes
    counts = np.bincount(forked.reveal_step, minlength=32)
    assert counts[step] == 2 and counts[:step].tolist() == [1] * step


@pytest.mark.parametrize("block_length", [4, 32])
def test_a_fork_can_change_the_block_length(random_lm, prompt_ids, block_length):
    config = DecodeConfig(32, 32)
    original = decode(random_lm, prompt_ids, [Expert(32)], config)  # scattered first reveals
    forked = fork(random_lm, prompt_ids, original, Expert(block_length), 9)
    assert (forked.reveal_step >= 0).all()  # leftovers of the old order are caught up
    for step in range(9, 32):  # and nothing is revealed beyond the new current block
        _, end = block_bounds(forked.expert, config, step)
        assert (np.flatnonzero(forked.reveal_step == step) < end).all()
    kept = original.trajectories[0].reveal_step < 9
    assert (forked.token_ids[kept] == original.trajectories[0].token_ids[kept]).all()


def test_a_fork_refuses_a_revealed_position(random_lm, prompt_ids):
    original = decode(random_lm, prompt_ids, [Expert(8)], DecodeConfig(32, 32))
    revealed = int(np.flatnonzero(original.trajectories[0].reveal_step == 0)[0])
    with pytest.raises(ValueError, match="already revealed"):
        fork(random_lm, prompt_ids, original, Expert(8), 4, (revealed, 5))


def hex_one_step(lm, prompt: list[int], token_ids: np.ndarray) -> float:
    """HEX generate.py's estimate by hand: one forward on prompt + all [MASK], log_softmax in
    float64 over the raw logits, the final tokens' log-probabilities averaged over the answer."""
    x = torch.tensor([prompt + [lm.mask_id] * len(token_ids)])
    with torch.no_grad():
        logits = lm.model(input_ids=x).logits[:, len(prompt):]
    log_probs = torch.log_softmax(logits.double(), dim=-1)[0]
    return float(log_probs.gather(-1, torch.from_numpy(token_ids)[:, None]).mean())


def test_one_step_likelihood_is_hexs_estimate_for_every_expert(random_lm):
    prompts = [random_lm.format_prompt(q) for q in
               ["Mia has 3 pens.", "Tom has 5 apples. He buys 3 more. How many now?"]]
    experts = hex_experts(16, [2, 4, 8]) + [Expert(16, "margin", votes=False)]
    runs = decode_many(random_lm, prompts, experts, DecodeConfig(gen_length=16, steps=16))
    for prompt, run in zip(prompts, runs, strict=True):
        for t in run.trajectories:
            assert t.one_step_log_likelihood == pytest.approx(
                hex_one_step(random_lm, prompt, t.token_ids), abs=1e-5)  # float32 forwards
            assert t.one_step_log_likelihood < 0
    values = [t.one_step_log_likelihood for t in runs[0].trajectories]
    assert len(set(values)) > 1  # it tells the experts' answers apart


def test_one_step_likelihood_is_left_out_of_snapshots_and_forks(random_lm, prompt_ids):
    expert = Expert(8)
    snapshots = [progress.runs()[0] for progress in
                 iter_runs(random_lm, [prompt_ids], [expert], DecodeConfig(32, 16))]
    assert snapshots[3].trajectories[0].one_step_log_likelihood is None  # still masked
    original = snapshots[-1]
    assert original.trajectories[0].one_step_log_likelihood is not None
    assert fork(random_lm, prompt_ids, original, expert, 4).one_step_log_likelihood is None


def test_a_decided_vote_stops_the_experts_that_cannot_change_it(builtin):
    from hexviz.decode.assemble import decode
    from hexviz.policy.settings import hex_experts
    from hexviz.runs.record import dumps, loads
    from hexviz.eval.batch import read_problems
    from hexviz.paths import TEST_SET
    from hexviz.runs.vote import settled

    prompt = builtin.format_prompt(read_problems(TEST_SET, 2)[1].question)  # two experts stop
    full, decided = (decode(builtin, prompt, hex_experts(128),
                            DecodeConfig(128, 64, sampler="threshold:0.9", decided_vote=dv))
                     for dv in (False, True))
    stopped = [t for t in decided.trajectories if t.stopped_at >= 0]
    assert stopped, "nothing stopped: a weak test"
    assert decided.vote.winner == full.vote.winner and decided.complete
    assert decided.timing.row_passes < full.timing.row_passes
    step = stopped[0].stopped_at
    finished = [t.answer for t in decided.trajectories if t.stopped_at < 0 and t.steps_taken <= step]
    assert settled(finished, len(stopped)) == decided.vote.winner  # settled when they stopped
    steps = [t.steps_taken for t in full.trajectories]
    for earlier in range(1, step):  # and at no step before
        done = [t.answer for t, n in zip(full.trajectories, steps, strict=True) if n <= earlier]
        assert settled(done, len(steps) - len(done)) is None
    for t in stopped:
        assert t.answer is None and t.steps_taken == step and not t.finished
        assert t.one_step_log_likelihood is None  # nothing read from an unfinished canvas
    for a, b in zip(full.trajectories, decided.trajectories, strict=True):
        if b.stopped_at < 0:  # the experts that ran on are the full run's, token for token
            assert a.token_ids.tolist() == b.token_ids.tolist()
    back = loads(dumps(decided))
    assert [t.stopped_at for t in back.trajectories] == [t.stopped_at for t in decided.trajectories]
    assert back.config.decided_vote and back.vote.winner == decided.vote.winner


def test_a_decided_vote_needs_experts_that_finish_apart():
    with pytest.raises(ValueError, match="under the fixed sampler every expert ends"):
        DecodeConfig(128, 64, decided_vote=True)
