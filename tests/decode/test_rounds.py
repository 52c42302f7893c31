"""dVoting's rounds: one round equals the published ``generate_entropy_adaptive`` (run as
published, `published_dvoting`) token for token on the built-in model; a run of rounds keeps
only what every earlier round agreed on and logs the rest as re-masked."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hexviz.decode.assemble import decode
from hexviz.decode.rounds import entropy_commits
from hexviz.policy.settings import DecodeConfig, Expert
from hexviz.policy.strategies import Strategy
from hexviz.runs import events as ev
from hexviz.runs.record import dumps, loads
from tests.decode import published_dvoting

QUESTIONS = [
    "Mia has 12 marbles. She gives 3 to Ben. She buys 5 more. Then she gets 2 times as many. "
    "How many marbles does Mia have now?",
    "Leo has 28 stamps. He buys 14 more and gives 7 to Ann. How many stamps does Leo have now?",
]
GEN_LENGTH = 128
SAMPLED_LENGTH = 64


class Published:
    """The checkpoint as the authors' code calls it: ``model(x).logits``, ``model.device``."""

    def __init__(self, lm) -> None:
        self.lm, self.device = lm, lm.device

    def __call__(self, x):
        return self.lm.model(input_ids=x)


def dvoting(rounds: int = 5, threshold: float = 0.3) -> DecodeConfig:
    return DecodeConfig(GEN_LENGTH, 64, strategy=Strategy("dvoting", rounds, threshold))


def rounds_of(n: int, block: int = 8, temperature: float = 0.0) -> list[Expert]:
    return [Expert(block, "entropy", r - 1, temperature, round=r) for r in range(1, n + 1)]


@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize("block,threshold", [(8, 0.3), (32, 0.3), (16, 1.0)])
def test_one_round_equals_the_published_function(builtin, question, block, threshold):
    prompt = builtin.format_prompt(question)
    run = decode(builtin, prompt, rounds_of(2, block), dvoting(2, threshold))
    first = run.trajectories[0]
    out, steps = published_dvoting.generate_entropy_adaptive(
        Published(builtin), builtin.tokenizer, torch.tensor([prompt]), gen_length=GEN_LENGTH,
        block_length=block, temperature=0.0, mask_id=builtin.mask_id,
        entropy_thresh=threshold)
    assert first.token_ids.tolist() == out[0, len(prompt):].tolist()
    assert first.steps_taken == steps
    assert first.commits.max() > 1, "no step committed several tokens: a weak test"


def test_a_step_goes_on_into_the_next_block_while_blocks_fill():
    masked = torch.tensor([True, False, False, False, True, True, True, True])
    entropy = torch.tensor([0.1, 9.0, 9.0, 9.0, 0.2, 0.1, 2.0, 3.0], dtype=torch.float64)
    assert entropy_commits(masked, entropy, 4, 0.3) == [0, 4, 5]  # block 0 fills: go on
    entropy[0] = 5.0  # nothing under the threshold: the least-entropy one, then stop
    assert entropy_commits(masked, entropy, 4, 0.3) == [0, 4, 5]
    masked[1] = True
    assert entropy_commits(masked, entropy, 4, 0.3) == [0]  # block 0 still open: stop


def test_rounds_at_temperature_0_agree_and_stop_after_two(builtin):
    run = decode(builtin, builtin.format_prompt(QUESTIONS[0]), rounds_of(5), dvoting())
    assert [t.expert.round for t in run.trajectories] == [1, 2]
    a, b = run.trajectories
    assert a.token_ids.tolist() == b.token_ids.tolist()
    assert run.timing.row_passes == a.steps_taken + b.steps_taken
    assert run.vote.winner == a.answer and run.complete


@pytest.fixture(scope="module")
def sampled(builtin):
    """Five rounds sampled hot enough to disagree, on a 64-token answer (quick)."""
    config = DecodeConfig(SAMPLED_LENGTH, 32, strategy=Strategy("dvoting", 5, 0.3))
    return decode(builtin, builtin.format_prompt(QUESTIONS[1]), rounds_of(5, 8, 1.5), config)


def test_later_rounds_keep_only_what_every_earlier_round_agreed_on(builtin, sampled):
    rounds = sampled.trajectories
    assert len(rounds) >= 4, "the rounds settled before any kept a canvas: a weak test"
    mask = builtin.mask_id
    for k, t in enumerate(rounds):
        start = t.canvas_at(0, mask).ids  # before its first step: all masks
        assert (start == mask).all()
        kept = ev.canvas_at(t.events.before(1), 1, mask)  # after step 0's remasks and commits
        remasked = t.events.kind == ev.REMASK
        if k < 3:
            assert not remasked.any()
            continue
        earlier = np.stack([r.token_ids for r in rounds[:k]])
        unanimous = (earlier == earlier[0]).all(0)
        unanimous[-SAMPLED_LENGTH // 4:] = False
        re_masked = set(t.events.position[remasked].tolist())
        assert re_masked == set(np.flatnonzero(~unanimous).tolist())
        carried = t.events.step[(t.events.kind == ev.COMMIT) & np.isnan(t.events.prob)]
        assert len(carried) == SAMPLED_LENGTH and (carried == 0).all()
        assert (kept.ids[unanimous] == earlier[0][unanimous]).all()


def test_a_dvoting_run_survives_its_json(sampled):
    run = sampled
    d = loads(dumps(run))
    assert d.config.strategy == Strategy("dvoting", 5, 0.3)
    assert [t.expert.round for t in d.trajectories] == [t.expert.round for t in run.trajectories]
    assert [t.token_ids.tolist() for t in d.trajectories] == [
        t.token_ids.tolist() for t in run.trajectories]
    assert d.vote.winner == run.vote.winner
    assert all(t.one_step_log_likelihood is not None for t in d.trajectories)  # weighted votes


def test_dvoting_refuses_settings_it_does_not_have():
    with pytest.raises(ValueError, match="leave --sampler at fixed"):
        DecodeConfig(128, 64, sampler="threshold", strategy=Strategy("dvoting"))
    with pytest.raises(ValueError, match="blocks of one size"):
        dvoting().check(Expert(8, schedule=(8, 120)))
