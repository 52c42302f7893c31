"""HEX majority vote: counts, abstentions, ties to the first expert, serialisation."""

from __future__ import annotations

import json

from hexviz.runs.vote import majority


def test_majority_winner_counts_and_abstentions():
    vote = majority(["12", None, "7", "12", None])
    assert (vote.winner, vote.tie) == ("12", False)
    assert vote.counts == {"12": 2, "7": 1}
    assert vote.supporters == {"12": [0, 3], "7": [2]}
    assert vote.abstained == [1, 4]


def test_tie_goes_to_the_first_expert_and_is_reported():
    vote = majority([None, "7", "12", "12", "7"])
    assert (vote.winner, vote.tie) == ("7", True)
    assert majority(["5", "6"]).winner == "5"


def test_no_answers_means_no_winner():
    vote = majority([None, None])
    assert (vote.winner, vote.counts, vote.tie, vote.abstained) == (None, {}, False, [0, 1])


def test_vote_json_names_supporters_and_abstentions():
    d = json.loads(json.dumps(majority(["3", None, "3"]).to_json()))
    assert d == {"winner": "3", "counts": {"3": 2}, "tie": False, "supporters": {"3": [0, 2]},
                 "abstained": [1]}
