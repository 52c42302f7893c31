"""Samplers on hand-built distributions (values worked out by hand), one step of each against
the published code on the same logits: the HEX authors' ``get_transfer_index`` /
``get_transfer_index_dynamic`` (transcribed below) and diffusers' ``BlockRefinementScheduler`` /
``EntropyBoundScheduler`` (imported; a test-only dependency)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from diffusers import BlockRefinementScheduler, EntropyBoundScheduler

from hexviz.policy.samplers import (
    EDIT_OFF,
    SAMPLER_NAMES,
    SAMPLERS,
    Candidates,
    Sampler,
    edits,
    leading_run,
    line_up,
    parse_edit,
    token_entropy,
)

INF = math.inf
M = 99  # the mask id of the hand-built blocks below


def cands(confidence, entropy=None, scheduled=None, floor=None) -> Candidates:
    """One row, already in commit order; no padding unless given as -inf / +inf."""
    conf = torch.tensor([confidence], dtype=torch.float32)
    ent = torch.tensor([entropy if entropy is not None else [0.0] * len(confidence)])
    eligible = torch.tensor([int(torch.isfinite(conf).sum())])
    long = lambda v: torch.tensor([v if v is not None else 1])  # noqa: E731
    return Candidates(conf, ent, eligible, long(scheduled), long(floor))


def count(spec: str, c: Candidates) -> int:
    return int(Sampler.parse(spec).counts(c)[0])


# --- hand-built values ------------------------------------------------------------------------

def test_leading_run_counts_until_the_first_false():
    ok = torch.tensor([[True, True, False, True], [False, True, True, True],
                       [True, True, True, True]])
    assert leading_run(ok).tolist() == [2, 0, 4]


@pytest.mark.parametrize("spec,expected", [
    ("threshold:0.9", 2),  # 0.95, 0.92 pass; 0.85 stops the run
    ("threshold:0.85", 3),  # at least T passes (HEX drops only `< threshold`)
    ("threshold:0.99", 1),  # nothing passes: the best one still commits
    ("threshold:0.5", 4),
])
def test_threshold_commits_the_best_and_every_next_one_at_least_t(spec, expected):
    assert count(spec, cands([0.95, 0.92, 0.85, 0.5])) == expected


def test_threshold_stops_at_the_padding_and_commits_nothing_when_nothing_is_eligible():
    assert count("threshold:0.1", cands([0.95, 0.92, -INF, -INF])) == 2
    assert count("threshold:0.9", cands([-INF, -INF])) == 0


@pytest.mark.parametrize("conf,f,expected", [
    # F=1: the n-th must be >= 1 - 1/(n+1): n=2 0.6667, n=3 0.75, n=4 0.8
    ([0.9, 0.7, 0.6, 0.55], 1.0, 2),  # 0.7 >= 0.667; 0.6 < 0.75
    ([0.9, 0.7, 0.76, 0.81], 1.0, 4),  # the order is the rule's, not sorted by confidence
    ([0.3, 0.2, 0.1], 1.0, 1),  # the first always commits (HEX: threshs[0] = -1)
    # F=0.5: n=2 0.8333, n=3 0.875
    ([0.9, 0.84, 0.86, 0.1], 0.5, 2),  # 0.86 < 0.875
    ([0.99, 0.5, 0.5], 3.0, 3),  # F=3: n=2 0.0, n=3 0.25
])
def test_factor_takes_the_largest_n_whose_nth_confidence_clears_one_minus_f_over_n_plus_1(
        conf, f, expected):
    assert count(f"factor:{f}", cands(conf)) == expected


@pytest.mark.parametrize("conf,floor,expected", [
    ([0.99, 0.97, 0.96, 0.3], 2, 3),  # three above 0.95 > floor 2: all three
    ([0.99, 0.5, 0.4, 0.3], 2, 2),  # one above: the floor's two
    ([0.95, 0.5], 1, 1),  # > T, strictly: 0.95 does not pass 0.95; the floor's one
    ([0.99, 0.98, -INF], 4, 2),  # the floor capped at what is eligible
])
def test_bounded_commits_at_least_the_floor_and_every_position_above_t(conf, floor, expected):
    assert count("bounded:0.95", cands(conf, floor=floor)) == expected


def test_bounded_at_one_is_the_floor():
    assert count("bounded:1", cands([1.0, 1.0, 1.0], floor=2)) == 2


def test_fixed_is_the_schedule_capped_at_what_is_eligible():
    assert count("fixed", cands([0.1, 0.99, 0.5], scheduled=2)) == 2
    assert count("fixed", cands([0.1, -INF], scheduled=3)) == 1


def test_token_entropy_of_hand_built_distributions():
    log = math.log
    logits = torch.tensor([
        [0.0, -INF, -INF, -INF],  # one-hot: 0 (a -inf logit adds nothing)
        [0.0, 0.0, -INF, -INF],  # two equal: ln 2
        [0.0, 0.0, 0.0, 0.0],  # four equal: ln 4
        [log(0.5), log(0.25), log(0.25), -INF],  # 0.5 ln 2 + 0.5 ln 4 = 1.5 ln 2
    ])
    expected = [0.0, log(2), log(4), 1.5 * log(2)]
    assert token_entropy(logits).tolist() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("gamma,expected", [
    # entropies in commit order: 0, ln2, ln2, ln4. Sum minus the largest after each:
    # 0, 0, ln2 (0.693), 2 ln2 (1.386)
    (0.0, 2), (0.5, 2), (0.7, 3), (1.3, 3), (1.4, 4),
])
def test_entropy_bound_sums_all_but_the_largest_entropy(gamma, expected):
    log = math.log
    c = cands([1.0, 0.5, 0.5, 0.25], entropy=[0.0, log(2), log(2), log(4)])
    assert count(f"entropy:{gamma}", c) == expected


def test_entropy_bound_follows_the_rules_order_not_the_entropies():
    log = math.log
    # ln4 first: sum-minus-max stays 0 while every later one is no larger (ln2 <= ln4)... :
    # 0, ln2 (0.693), 2 ln2 (1.386)
    c = cands([0.4, 0.6, 0.6], entropy=[log(4), log(2), log(2)])
    assert count("entropy:0.7", c) == 2
    assert count("entropy:0.6", c) == 1
    assert count("entropy:0", cands([0.9, 0.9], entropy=[0.2, 0.1])) == 1


def test_edits_replace_committed_tokens_the_model_now_prefers_above_t():
    current = torch.tensor([[5, 7, M, 9, 4]])
    proposal = torch.tensor([[5, 8, 3, 2, 6]])
    conf = torch.tensor([[0.99, 0.9, 0.95, 0.5, 0.8]])
    editable = torch.tensor([[True, True, False, True, True]])
    # 0: same token; 1: changed at 0.9 > 0.8; 2: masked; 3: 0.5; 4: 0.8 is not > 0.8
    assert edits(current, proposal, conf, editable, 0.8).tolist() == [
        [False, True, False, False, False]]


def test_line_up_orders_by_score_pads_and_ranks():
    scores = torch.tensor([[0.2, 0.9, 0.5, 0.7]])
    eligible = torch.tensor([[True, True, False, True]])
    conf = torch.tensor([[0.2, 0.9, 0.5, 0.7]])
    ent = torch.tensor([[1.0, 0.1, 0.5, 0.3]])
    c, rank = line_up(scores, eligible, conf, ent, torch.tensor([1]), torch.tensor([1]))
    assert c.confidence[0].tolist() == pytest.approx([0.9, 0.7, 0.2, -INF])
    assert c.entropy[0].tolist() == pytest.approx([0.1, 0.3, 1.0, INF])
    assert c.eligible.tolist() == [3]
    assert (rank < 2).tolist() == [[False, True, False, True]]


# --- the spec ---------------------------------------------------------------------------------

def test_every_registered_sampler_parses_with_its_default_and_round_trips():
    assert SAMPLER_NAMES == ("fixed", "threshold", "factor", "bounded", "entropy")
    for name, kind in SAMPLERS.items():
        s = Sampler.parse(name)
        assert s.value == kind.default
        assert Sampler.parse(s.spec) == s
    assert Sampler.parse(" threshold:0.80 ", edit=0.9) == Sampler("threshold", 0.8, 0.9)
    assert Sampler.parse("threshold:0.8", edit=0.9).label == "threshold:0.8, edit 0.9"
    assert not Sampler().variable and Sampler.parse("factor:2").variable


@pytest.mark.parametrize("text,edit,message", [
    ("threshold:1.5", None, "threshold must be in (0, 1] (got 1.5)"),
    ("threshold:0", None, "threshold must be in (0, 1] (got 0)"),
    ("factor:-1", None, "factor must be a number > 0 (got -1)"),
    ("entropy:-0.1", None, "entropy must be a number >= 0 (got -0.1)"),
    ("bounded:2", None, "bounded must be in (0, 1] (got 2)"),
    ("fixed", 0, "edit must be in (0, 1] (got 0)"),
    ("fixed", 1.5, "edit must be in (0, 1] (got 1.5)"),
    ("fixed:3", None, "fixed takes no value (got fixed:3)"),
    ("greedy", None, "unknown sampler 'greedy'; choose one of fixed, threshold, factor"),
    ("threshold:abc", None, "a sampler's value must be a finite number"),
    ("threshold:nan", None, "a sampler's value must be a finite number"),
    ("factor:inf", None, "a sampler's value must be a finite number"),
])
def test_bad_settings_are_refused_in_one_line(text, edit, message):
    with pytest.raises(ValueError) as err:
        Sampler.parse(text, edit=edit)
    assert message in str(err.value) and "\n" not in str(err.value)


# --- HEX's get_transfer_index / get_transfer_index_dynamic on the same logits ------------------
# Transcribed from junos-ai-org/hex, HEX/eval/generate.py at commit
# b714b9c61b8ab700261fed42cab5b2b8ff00a394 (temperature 0, remasking 'low_confidence'; the
# top-10 confidence logging, which changes nothing, left out).

def hex_get_transfer_index(logits, mask_index, x, num_transfer_tokens, threshold=None):
    x0 = torch.argmax(logits, dim=-1)  # add_gumbel_noise returns logits at temperature 0
    p = F.softmax(logits.to(torch.float64), dim=-1)
    x0_p = torch.squeeze(torch.gather(p, dim=-1, index=torch.unsqueeze(x0, -1)), -1)
    x0 = torch.where(mask_index, x0, x)
    confidence = torch.where(mask_index, x0_p, -np.inf)
    transfer_index = torch.zeros_like(x0, dtype=torch.bool, device=x0.device)
    if threshold is not None:
        num_transfer_tokens = mask_index.sum(dim=1, keepdim=True)
    for j in range(confidence.shape[0]):
        _, select_index = torch.topk(confidence[j], k=num_transfer_tokens[j])
        transfer_index[j, select_index] = True
        if threshold is not None:
            for k in range(1, num_transfer_tokens[j]):
                if confidence[j, select_index[k]] < threshold:
                    transfer_index[j, select_index[k]] = False
    return x0, transfer_index


def hex_get_transfer_index_dynamic(logits, mask_index, x, factor=1):
    x0 = torch.argmax(logits, dim=-1)
    p = F.softmax(logits.to(torch.float64), dim=-1)
    x0_p = torch.gather(p, dim=-1, index=x0.unsqueeze(-1)).squeeze(-1)
    x0 = torch.where(mask_index, x0, x)
    confidence = torch.where(mask_index, x0_p, -np.inf)
    transfer_index = torch.zeros_like(x0, dtype=torch.bool)
    for j in range(confidence.shape[0]):
        num_to_transfer = mask_index[j].sum().item()
        if num_to_transfer == 0:
            continue
        ns = list(range(1, num_to_transfer + 1))
        es = [factor / (n + 1) for n in ns]
        threshs = [1 - e for e in es]
        threshs[0] = -1
        sorted_conf = torch.sort(confidence[j][mask_index[j]], descending=True)[0]
        top_i = len(threshs)
        for i in range(len(threshs)):
            if sorted_conf[i] < threshs[i]:
                top_i = i
                break
        if top_i == 0:
            top_i = 1
        _, select_index = torch.topk(confidence[j], k=top_i)
        transfer_index[j, select_index] = True
    return x0, transfer_index


def random_block(seed: int, rows: int = 6, length: int = 16, vocab: int = 40,
                 masked_share: float = 0.6):
    """Logits from peaked to flat per position (so thresholds split them), and a block with
    some positions committed and the rest masked."""
    g = torch.Generator().manual_seed(seed)
    sharpness = torch.rand(rows, length, 1, generator=g) * 8
    logits = torch.randn(rows, length, vocab, generator=g) * sharpness
    sample = torch.randint(0, vocab, (rows, length), generator=g)
    masked = torch.rand(rows, length, generator=g) < masked_share
    masked[:, 0] = True  # every row has something to commit
    return logits, torch.where(masked, M, sample), masked


def ours(spec: str, logits, masked, floor=None, scheduled=None):
    """One step of our sampler on a block: the proposal, low_confidence order, commit mask."""
    probs = torch.softmax(logits.float(), dim=-1)
    conf, x0 = probs.max(-1)
    rows = logits.shape[0]
    ones = torch.ones(rows, dtype=torch.long)
    c, rank = line_up(conf, masked, conf, token_entropy(logits),
                      ones if scheduled is None else scheduled, ones if floor is None else floor)
    return x0, conf, rank < Sampler.parse(spec).counts(c)[:, None]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("t", [0.3, 0.7, 0.9])
def test_threshold_equals_hex_get_transfer_index(seed, t):
    logits, sample, masked = random_block(seed)
    _, hex_transfer = hex_get_transfer_index(logits, masked, sample, None, threshold=t)
    assert torch.equal(ours(f"threshold:{t}", logits, masked)[2], hex_transfer)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("f", [0.5, 1.0, 2.0])
def test_factor_equals_hex_get_transfer_index_dynamic(seed, f):
    logits, sample, masked = random_block(seed)
    _, hex_transfer = hex_get_transfer_index_dynamic(logits, masked, sample, factor=f)
    assert torch.equal(ours(f"factor:{f}", logits, masked)[2], hex_transfer)


def test_the_hand_checks_above_are_not_vacuous_on_random_blocks():
    """The random blocks commit several tokens in some rows and only the best one, below the
    threshold, in others."""
    counts = torch.cat([ours("threshold:0.9", *random_block(s)[::2])[2].sum(-1)
                        for s in range(6)])
    assert counts.min() == 1 and counts.max() >= 3


# --- diffusers' schedulers on the same logits ---------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("t,edit", [(0.95, None), (0.7, None), (0.9, 0.6), (0.5, 0.8)])
@pytest.mark.parametrize("step", [0, 1, 3])
def test_bounded_and_edit_equal_block_refinement_step(seed, t, edit, step):
    block_length, steps = 16, 4
    logits, sample, masked = random_block(seed, length=block_length)
    scheduler = BlockRefinementScheduler(block_length=block_length, num_inference_steps=steps)
    scheduler.set_timesteps(steps, block_length=block_length)
    out = scheduler.step(logits, step, sample, mask_token_id=M, temperature=0.0, threshold=t,
                         editing_threshold=edit)
    # the even split of the block at the block's own step (4 x 4 here)
    floor = torch.full((len(sample),), block_length // steps)
    x0, conf, chosen = ours(f"bounded:{t}", logits, masked, floor=floor)
    assert torch.equal(chosen, out.transfer_index)
    if edit is None:
        assert not out.editing_transfer_index.any()
        return
    edited = edits(sample, x0, conf, ~masked, edit)
    assert torch.equal(edited, out.editing_transfer_index)
    assert edited.any(), "the case must edit something"
    ours_next = torch.where(chosen | edited, x0, sample)
    assert torch.equal(ours_next, out.prev_sample)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("gamma", [0.01, 0.1, 0.5, 2.0])
def test_entropy_equals_entropy_bound_step_in_entropy_order(seed, gamma):
    """EntropyBoundScheduler accepts the lowest-entropy positions of a whole (uniform-noise)
    sequence; with its temperature fixed at 1, our entropy sampler in the entropy rule's order
    over an all-masked block accepts the same positions."""
    logits, sample, _ = random_block(seed)
    scheduler = EntropyBoundScheduler(entropy_bound=gamma, t_max=1.0, t_min=1.0,
                                      num_inference_steps=8)
    out = scheduler.step(logits, 0, sample, generator=torch.Generator().manual_seed(0))
    everything = torch.ones_like(sample, dtype=torch.bool)
    entropies = token_entropy(logits)
    ones = torch.ones(len(sample), dtype=torch.long)
    c, rank = line_up(-entropies, everything, torch.zeros_like(entropies), entropies, ones, ones)
    chosen = rank < Sampler.parse(f"entropy:{gamma}").counts(c)[:, None]
    assert torch.equal(chosen, out.accepted_index)


@pytest.mark.parametrize("value,parsed", [
    (None, None), ("", None), ("  ", None), ("off", EDIT_OFF), ("OFF", EDIT_OFF), (0, EDIT_OFF),
    ("0", EDIT_OFF), ("0.9", 0.9), (0.5, 0.5), (1, 1.0),
])
def test_an_edit_request_is_the_models_default_off_or_a_threshold(value, parsed):
    assert parse_edit(value) == parsed


@pytest.mark.parametrize("value", ["high", 1.5, -0.1, True, float("nan")])
def test_a_bad_edit_request_is_refused_in_one_line(value):
    with pytest.raises(ValueError, match=r"edit must be in \(0, 1\]"):
        parse_edit(value)
