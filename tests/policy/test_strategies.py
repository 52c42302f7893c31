"""Strategies: dVoting's re-masking and early stop against the authors' rules on hand-built rows
(`tests.decode.published_dvoting`), and nonsense settings refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hexviz.policy.strategies import Strategy, answers_settled, consensus
from tests.decode import published_dvoting


@pytest.mark.parametrize("rows", [
    [[5, 6, 7, 8, 9, 9, 9, 9], [5, 6, 1, 8, 9, 9, 9, 9]],
    [[5, 6, 7, 8, 9, 9, 9, 9], [5, 6, 7, 8, 9, 9, 9, 9], [2, 6, 7, 3, 9, 9, 1, 9]],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]] * 3,
    [[4, 4, 4], [3, 4, 4]],
])
def test_consensus_equals_func_remask(rows):
    past = np.array(rows)
    mask_id = 99
    prompt = torch.tensor([[50, 51]])
    x_all = torch.cat([prompt.repeat(len(rows), 1), torch.tensor(rows)], 1)
    x = x_all[-1:].clone()
    theirs = published_dvoting.func_remask(x_all, x, 2, 5, 4, mask_id, 1.0)[0, 2:]
    assert consensus(past, mask_id).tolist() == theirs.tolist()


def test_the_first_rounds_start_afresh_as_func_remask_says():
    x = torch.tensor([[50, 5, 6, 7, 8]])
    for round_number in (2, 3):  # int(5 / 2 + 1) = 3: rounds 2 and 3 are all masks
        theirs = published_dvoting.func_remask(x, x, 1, 5, round_number, 99)[0, 1:]
        assert theirs.tolist() == [99] * 4
    assert Strategy("dvoting", 5).fresh_rounds() == 3
    assert Strategy("dvoting", 4).fresh_rounds() == 3 and Strategy("dvoting", 2).fresh_rounds() == 2


@pytest.mark.parametrize("answers", [
    ["1", "1"], ["1", "2"], ["1", None], [None, None], ["1", "1", "2"], ["1", "2", "3"],
    ["1", "2", "1", "2"], ["1", "1", "1", "2"], ["1", None, "1"], ["7"] * 3,
])
@pytest.mark.parametrize("rounds", [5, 4, 6])
def test_the_early_stop_equals_the_authors(answers, rounds):
    counts = published_dvoting.counts_sorted_of([a for a in answers if a is not None])
    assert answers_settled(answers, rounds) == published_dvoting.should_stop(counts, rounds)


@pytest.mark.parametrize("kwargs,message", [
    ({"rounds": 1}, "integer from 2 to 26"), ({"rounds": 27}, "integer from 2 to 26"),
    ({"entropy_threshold": -0.1}, "finite number >= 0"),
    ({"name": "beam"}, "unknown strategy 'beam'"),
])
def test_nonsense_strategies_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Strategy(**{"name": "dvoting", **kwargs})


