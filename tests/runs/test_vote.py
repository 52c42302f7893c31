"""HEX majority vote: counts, abstentions, the tie rules, serialisation."""

from __future__ import annotations

import json

import pytest

from hexviz.runs.vote import TIE_RULES, majority


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
                 "abstained": [1], "rule": "first", "decided_by": "majority"}


# --- tie rules on hand-built vote tables ----------------------------------------------------
# (answers, one-step log-likelihoods) per expert in vote order, and each rule's winner as the
# HEX code's most_frequent_elements_exclude_None_and_tie_lownll returns it (HEX.py keeps the
# first), run on the same tables (HEX_run_by_given_json_samples.py, commit b714b9c).
TABLES = {
    # 18 has three votes; 7 has the single best likelihood; the abstainer's is better still
    "unique": (["18", "18", "7", None, "18"], [-0.9, -0.8, -0.1, -0.05, -0.7],
               {"first": "18", "lowest_nll": "7", "frequency_lowest_nll": "18"}),
    # 7 and 12 tie 2-2; 7 came first, 12 holds the best likelihood (-0.2)
    "tie of two": (["7", "12", "12", "7", None], [-0.5, -0.2, -0.6, -0.4, -0.01],
                   {"first": "7", "lowest_nll": "12", "frequency_lowest_nll": "12"}),
    "tie of three": (["1", "2", "3"], [-0.3, -0.2, -0.1],
                     {"first": "1", "lowest_nll": "3", "frequency_lowest_nll": "3"}),
    # a lone answer with the best likelihood beats a unanimous-but-one majority under lowest_nll
    "lone best": (["5", "5", "5", "9", "4"], [-0.9, -0.8, -0.7, -0.3, -0.6],
                  {"first": "5", "lowest_nll": "9", "frequency_lowest_nll": "5"}),
}


@pytest.mark.parametrize("name", TABLES)
@pytest.mark.parametrize("rule", TIE_RULES)
def test_tie_rules_on_hand_built_tables(name, rule):
    answers, lls, winners = TABLES[name]
    vote = majority(answers, lls, tie=rule)
    assert vote.winner == winners[rule]
    assert vote.rule == rule


def test_first_is_todays_vote_and_needs_no_likelihoods():
    for answers, lls, _ in TABLES.values():
        plain, first = majority(answers), majority(answers, lls, tie="first")
        assert (first.winner, first.counts, first.tie, first.supporters, first.abstained) == (
            plain.winner, plain.counts, plain.tie, plain.supporters, plain.abstained)


def test_the_vote_records_what_decided():
    answers, lls, _ = TABLES["unique"]
    assert majority(answers, lls, "first").decided_by == "majority"
    assert majority(answers, lls, "frequency_lowest_nll").decided_by == "majority"
    assert majority(answers, lls, "lowest_nll").decided_by == "lowest_nll"
    answers, lls, _ = TABLES["tie of two"]
    assert majority(answers, lls, "first").decided_by == "first"
    assert majority(answers, lls, "frequency_lowest_nll").decided_by == "frequency_lowest_nll"
    assert majority([None], [None], "lowest_nll").decided_by is None


def test_equal_likelihoods_go_to_the_answer_seen_first():
    assert majority(["4", "3"], [-0.5, -0.5], "lowest_nll").winner == "4"
    assert majority(["4", "3", "3", "4"], [-0.1, -0.1, -0.2, -0.3],
                    "frequency_lowest_nll").winner == "4"


def test_likelihood_rules_refuse_missing_likelihoods():
    with pytest.raises(ValueError, match="lowest_nll tie rule needs one one-step likelihood"):
        majority(["1", "2"], None, "lowest_nll")
    with pytest.raises(ValueError, match=r"missing for experts 1"):
        majority(["1", "2"], [-0.1, None], "frequency_lowest_nll")
    assert majority(["1", None], [-0.1, None], "lowest_nll").winner == "1"  # abstainers need none
    with pytest.raises(ValueError, match="unknown tie rule 'random'; choose one of first"):
        majority(["1"], tie="random")


@pytest.mark.parametrize("answers,unfinished,expected", [
    (["3", "3"], 1, "3"), (["3", "4"], 0, None), (["3", "3", "4"], 1, None),
    (["3", "3", "4"], 0, "3"), ([None, None], 0, None), (["5"], 0, "5"), (["5"], 1, None),
    (["3", "3", "3", None], 2, "3"),
])
def test_settled_needs_a_lead_the_unfinished_cannot_catch(answers, unfinished, expected):
    from hexviz.runs.vote import settled
    assert settled(answers, unfinished) == expected


def test_a_decided_stop_never_lets_a_trailing_answer_win():
    """Every stop, against every way the stopped experts could have answered (a tie
    included): the full vote's winner is the decided one, under every tie rule."""
    import itertools
    import random

    from hexviz.runs.vote import decided_stop
    rng = random.Random(0)
    choices = ["1", "2", "3", None]
    stops = 0
    for _ in range(1000):
        n = rng.randint(2, 6)
        answers = [rng.choice(choices) for _ in range(n)]
        steps = [rng.randint(1, 5) for _ in range(n)]
        stop = decided_stop(answers, steps)
        if stop is None:
            continue
        stops += 1
        assert stop.saved == sum(steps[i] - stop.step for i in stop.stopped) > 0
        assert all(steps[i] > stop.step for i in stop.stopped)
        for others in itertools.product(choices, repeat=len(stop.stopped)):
            full = list(answers)
            for i, a in zip(stop.stopped, others, strict=True):
                full[i] = a
            for rule in ("first", "lowest_nll", "frequency_lowest_nll"):
                if rule == "lowest_nll":
                    continue  # picks by likelihood alone, not by votes: no stop settles it
                assert majority(full, [0.0] * n, rule).winner == stop.winner
    assert stops > 50


def test_weighted_votes_sum_their_experts_weights():
    from hexviz.runs.vote import likelihood_weights, weighted_winner
    assert weighted_winner(["1", "2", "2"], [0.9, 0.4, 0.4]) == "1"
    assert weighted_winner(["1", "2", "2"], [0.7, 0.4, 0.4]) == "2"
    assert weighted_winner(["1", None, "2"], [0.5, 9.0, 0.5]) == "1"  # tie: first seen
    assert weighted_winner(["1", "2"], [None, None]) is None
    assert likelihood_weights([0.0, None]) == [1.0, None]
