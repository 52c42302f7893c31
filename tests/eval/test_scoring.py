"""Scoring eval records: accuracy per expert and of the vote, fewer votes, seeds, tie rules,
the task's check and the forward passes a vote costs."""

from __future__ import annotations

import dataclasses
import math

import pytest

from hexviz.eval.records import EvalResults, Record
from hexviz.eval.report import format_scaling, format_summary
from hexviz.eval.scoring import (
    paired_changes,
    scaling_curve,
    seed_scaling_curve,
    summarize,
    tie_rule_table,
)
from hexviz.policy.settings import DecodeConfig, Expert
from hexviz.runs.vote import TIE_RULES
from tests.conftest import hand_made_results
from tests.eval.test_records import load_results_from


def test_summary_of_a_hand_made_example():
    s = summarize(hand_made_results())
    assert [e.accuracy for e in s.experts] == [0.25, 0.5, 0.5, 0.5]
    assert [e.no_answer for e in s.experts] == [0.25, 0, 0, 0.5]
    assert [e.collapse for e in s.experts] == [0.25, 0, 0, 0.5]
    # votes: 5 (2-1), 7 (2-1), tie 4/3 -> first expert's "4", 2 -> HEX right on 2 of 4
    assert s.hex_accuracy == 0.5 and s.tie_rate == 0.25
    assert s.oracle == 0.75 and s.disagreement == 0.75
    assert s.mean_expert_accuracy == pytest.approx(5 / 12)


def test_rescoring_with_fewer_votes():
    results = hand_made_results()
    # one vote: expert B=2 alone; two votes: B=2 and B=4, ties go to B=2
    assert scaling_curve(results) == [(1, 0.25, 0.0), (2, 0.25, 0.25), (3, 0.5, 0.25)]
    assert summarize(results, voters=[1]).hex_accuracy == 0.5


def test_scaling_by_seeds_keeps_every_block_size():
    experts = [Expert(b, seed=s, temperature=0.5) for b in (2, 4) for s in (0, 1)]
    records = [  # answers in expert order: B=2 seed 0, B=2 seed 1, B=4 seed 0, B=4 seed 1
        Record(0, "a", "5", ["5", "6", "6", "5"], [False] * 4),  # 1 seed: tie -> "5"; 2: tie
        Record(1, "b", "7", ["1", "7", "2", "7"], [False] * 4),  # 1 seed: tie -> "1"; 2: "7"
        Record(2, "c", "3", ["3", "3", "3", "4"], [False] * 4),  # right either way
    ]
    results = EvalResults("m", "d.jsonl", DecodeConfig(16, 16), experts, "gsm8k", records)
    assert seed_scaling_curve(results) == [(1, 2, pytest.approx(2 / 3), pytest.approx(2 / 3)),
                                           (2, 4, 1.0, pytest.approx(1 / 3))]
    assert "seeds per block size" in format_scaling(scaling_curve(results),
                                                    seed_scaling_curve(results))
    one_seed = hand_made_results()
    assert seed_scaling_curve(one_seed) == []  # one seed: no second curve
    assert "seeds per block size" not in format_scaling(scaling_curve(one_seed), [])


def with_likelihoods(results):
    """hand_made_results with one-step likelihoods chosen so each tie rule scores differently:
    first 2/4 right, lowest_nll 1/4 (it follows lone confident experts), frequency_lowest_nll
    3/4 (it breaks problem 2's 4-vs-3 tie towards the likelier 3)."""
    lls = [[-1.0, -1.0, -0.5, -2.0], [-0.1, -1.0, -1.0, -1.0], [None, -0.9, -0.4, None],
           [-1.0, -1.0, -1.0, -0.1]]
    for record, ll in zip(results.records, lls, strict=True):
        record.one_step_log_likelihoods = ll
    return results


def test_tie_rules_on_hand_made_records():
    results = with_likelihoods(hand_made_results())
    assert [summarize(results, tie_rule=r).hex_accuracy for r in TIE_RULES] == [0.5, 0.25, 0.75]
    assert summarize(results).decided_by == {"majority": 3, "first": 1}
    assert tie_rule_table(results) == [("first", 0.5, 0.25), ("lowest_nll", 0.25, 1.0),
                                       ("frequency_lowest_nll", 0.75, 0.25)]
    old = tie_rule_table(hand_made_results())  # no likelihoods: only `first` can be scored
    assert old[0] == ("first", 0.5, 0.25) and old[1][1] is None and old[2][1] is None


def test_summaries_use_the_tasks_check():
    results = hand_made_results()  # expert B=8 answers 6, 7, 3, 2: right twice
    results.records[0].gold, results.records[0].answers[2] = "\\frac{1}{2}", "\\dfrac12"
    assert summarize(results).experts[2].accuracy == 0.5  # no task: plain equality
    results.task = "math"
    assert summarize(results).experts[2].accuracy == 0.75  # MATH equivalence


def test_forward_passes_per_expert_and_for_the_vote():
    results = hand_made_results()
    for r, steps in zip(results.records, ([4, 6, 3, 16], [5, 5, 2, 16], [8, 1, 3, 16],
                                          [4, 4, 4, 16]), strict=True):
        r.steps = steps
    s = summarize(results)
    assert [e.steps for e in s.experts] == [5.25, 4.0, 3.0, 16.0]
    # voters are the first three: sums 13, 12, 12, 12; slowest 6, 5, 8, 4
    assert s.vote_row_passes == pytest.approx(49 / 4) and s.vote_steps == pytest.approx(23 / 4)
    assert "passes 12.2 rows, 5.8 batched" in format_summary(s)
    assert summarize(load_results_from(results)).vote_row_passes == s.vote_row_passes
    old = hand_made_results()  # files written before steps were recorded
    assert math.isnan(summarize(old).vote_row_passes)


def test_paired_changes_count_answers_a_setting_repaired_and_broke():
    base = hand_made_results()
    changed_answers = [["5", "5", "5", None],  # expert 3 repaired (6 -> 5)
                       ["1", "7", "7", "7"],
                       [None, "4", "4", None],  # expert 3 broken (3 -> 4): vote 3 -> 4
                       ["9", "2", "2", "1"]]  # expert 1 repaired; the baseline does not count
    records = [dataclasses.replace(r, answers=a)
               for r, a in zip(base.records, changed_answers, strict=True)]
    changed = dataclasses.replace(base, records=records)
    effect = paired_changes(changed, base)
    assert (effect.fixed, effect.broken, effect.answers) == (2, 1, 12)
    assert (effect.hex_with, effect.hex_without) == (0.5, 0.5)  # the votes did not turn
    assert paired_changes(base, base).fixed == paired_changes(base, base).broken == 0
    with pytest.raises(ValueError, match="different problems"):
        paired_changes(dataclasses.replace(base, records=base.records[1:]), base)
    with pytest.raises(ValueError, match="different experts"):
        paired_changes(dataclasses.replace(base, experts=base.experts[::-1]), base)


def test_rescues_are_problems_only_a_schedule_or_adaptive_expert_got_right():
    from hexviz.eval.scoring import rescues, right_matrix
    experts = [Expert(4), Expert(8), Expert(4, schedule=(4, 12)),
               Expert(4, delimiter_threshold=0.3, delimiter_ids=(5,)),
               Expert(16, "margin", votes=False)]
    records = [Record(0, "q0", "1", ["1", "2", "1", "2", "1"], [False] * 5),
               Record(1, "q1", "1", ["2", "2", "1", "2", "1"], [False] * 5),  # schedule alone
               Record(2, "q2", "1", ["2", "2", "2", "1", "2"], [False] * 5),  # adaptive alone
               Record(3, "q3", "1", ["2", "2", "2", "2", "1"], [False] * 5)]  # a baseline
    results = EvalResults("m", "d.jsonl", DecodeConfig(16, 16), experts, "gsm8k", records)
    assert right_matrix(results)[1] == (False, False, True, False, True)
    assert rescues(results) == {2: [1], 3: [2]}


def test_vote_variants_weigh_and_stop_on_hand_made_records():
    from hexviz.eval.report import format_vote_variants
    from hexviz.eval.scoring import vote_variants
    experts = [Expert(b) for b in (2, 4, 8)]
    records = [  # answers, steps, likelihoods, confidences
        Record(0, "a", "5", ["5", "5", "6"], [False] * 3, steps=[2, 3, 9],
               one_step_log_likelihoods=[-2.0, -2.0, -0.1], confidences=[0.9, 0.9, 0.5]),
        Record(1, "b", "6", ["5", "6", "6"], [False] * 3, steps=[4, 4, 4],
               one_step_log_likelihoods=[-0.1, -3.0, -3.0], confidences=[0.4, 0.3, 0.3]),
    ]
    results = EvalResults("m", "d.jsonl", DecodeConfig(16, 16), experts, "gsm8k", records)
    v = vote_variants(results)
    assert v.plain == 1.0 and v.oracle == 1.0
    assert v.likelihood == 0.0  # -0.1 outweighs two of -2.0 / -3.0 on both problems
    assert v.confidence == 1.0  # 0.9 + 0.9 > 0.5; 0.3 + 0.3 > 0.4
    assert v.row_passes == (14 + 12) / 2
    # problem 0: "5" leads 2-0 after step 3 with one expert left: stop, 6 rows saved
    assert v.decided_row_passes == (8 + 12) / 2 and v.decided_share == 0.5
    assert "stops when decided" in format_vote_variants(v)
