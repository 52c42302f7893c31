"""The run record: JSON round trip, schema checks and clear messages for bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hexviz.decode.assemble import decode
from hexviz.policy.settings import DecodeConfig, Expert, hex_experts
from hexviz.runs import record
from hexviz.runs.record import SCHEMA_VERSION, TrajectoryFormatError
from tests.conftest import known_run


@pytest.fixture(scope="module")
def run(random_lm, prompt_ids):
    experts = hex_experts(16, [4, 8]) + [Expert(16, "margin", votes=False)]
    return decode(random_lm, prompt_ids, experts, DecodeConfig(16, 16), question="Q?")


def test_json_round_trip_keeps_every_array(run, tmp_path):
    back = record.load(record.save(run, tmp_path / "run.json"))
    assert (back.model, back.prompt, back.prompt_ids) == (run.model, "Q?", run.prompt_ids)
    assert back.config == run.config and back.special == run.special
    assert back.timing == run.timing and back.steps_done == run.steps_done
    for a, b in zip(run.trajectories, back.trajectories, strict=True):
        assert a.expert == b.expert
        assert (a.token_ids == b.token_ids).all() and a.tokens == b.tokens
        assert (a.reveal_step == b.reveal_step).all() and (a.draft_ids == b.draft_ids).all()
        np.testing.assert_allclose(a.reveal_conf, b.reveal_conf, atol=1e-4)
        np.testing.assert_allclose(a.draft_prob, b.draft_prob, atol=1e-4)  # nan == nan here
        assert (a.text, a.answer, a.collapsed) == (b.text, b.answer, b.collapsed)
        np.testing.assert_allclose(a.end_density, b.end_density, atol=1e-4)
        assert a.early_end_share == pytest.approx(b.early_end_share, nan_ok=True)
        assert a.ar_ness == b.ar_ness and a.order_correlation == b.order_correlation
        assert a.one_step_log_likelihood == b.one_step_log_likelihood < 0
    assert back.vote == run.vote


def test_older_files_load_and_their_flags_are_read_off_the_arrays(run):
    d = json.loads(record.dumps(run))
    for expert in d["experts"]:  # a file from before the order metrics and the wall rule
        for key in ("end_density", "early_end_share", "order_correlation", "ar_ness"):
            del expert[key]
        expert["collapsed"] = not expert["collapsed"]
    back = record.run_from_json(d)
    for a, b in zip(run.trajectories, back.trajectories, strict=True):
        assert b.collapsed == a.collapsed  # recomputed, not taken from the file
        assert b.end_density.shape == (0,)
        assert b.ar_ness == a.ar_ness


def test_json_carries_the_cli_contract(run):
    d = json.loads(record.dumps(run))
    assert {"model", "prompt_ids", "gen_length", "steps", "experts", "vote", "timing"} <= set(d)
    expert = d["experts"][0]
    assert {"block_length", "remasking", "seed", "temperature", "token_ids", "reveal_step",
            "text", "answer", "collapsed", "early_end_share", "order_correlation", "ar_ness",
            "end_density"} <= set(expert)
    assert len(expert["end_density"]) == d["steps_done"]
    assert set(d["vote"]) >= {"winner", "counts", "tie"}
    # issue 22 added the rows actually computed, issue 24 the positions, issue 44 the rows a
    # decided vote saved (additive: the contract's two keys stay)
    assert set(d["timing"]) == {"decode_s", "forward_passes", "row_passes", "step_rows",
                                "positions", "row_passes_saved"}
    assert d["strategy"] == "hex" and "blocks" in expert
    assert d["timing"]["row_passes"] == sum(d["timing"]["step_rows"]) <= (
        d["timing"]["forward_passes"] * len(d["experts"]))
    assert {"steps_taken", "commits", "edits"} <= set(expert)
    assert d["experts"][2]["votes"] is False


def test_baselines_do_not_vote(run):
    assert run.voters == [0, 1]
    assert 2 not in sum(run.vote.supporters.values(), []) + run.vote.abstained


@pytest.mark.parametrize("text,message", [
    ("not json", "not a JSON file"),
    ("[1, 2]", "not a hexviz run"),
    ('{"schema": "other"}', "not a hexviz run"),
    ('{"schema": "hexviz.run", "schema_version": 99}', "schema version 99 is not supported"),
    ('{"schema": "hexviz.run", "schema_version": %d}' % SCHEMA_VERSION, "missing field"),
])
def test_bad_files_give_clear_messages(text, message):
    with pytest.raises(TrajectoryFormatError, match=message):
        record.loads(text)


def test_damaged_arrays_are_refused(run):
    d = json.loads(record.dumps(run))
    d["experts"][0]["reveal_step"] = d["experts"][0]["reveal_step"][:-1]
    with pytest.raises(TrajectoryFormatError, match="reveal_step"):
        record.run_from_json(d)
    d = json.loads(record.dumps(run))
    d["config"]["gen_length"] = 7
    with pytest.raises(TrajectoryFormatError, match="damaged hexviz run"):
        record.run_from_json(d)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(TrajectoryFormatError, match="cannot read"):
        record.load(tmp_path / "nope.json")


def test_files_without_likelihoods_or_tie_rule_load(run):
    d = json.loads(record.dumps(run))
    del d["task"], d["tie_rule"]
    for expert in d["experts"]:
        del expert["one_step_log_likelihood"]
    back = record.run_from_json(d)
    assert back.task is None and back.tie_rule == "first"
    assert all(t.one_step_log_likelihood is None for t in back.trajectories)
    assert back.vote.winner == run.vote.winner


def test_the_tie_rule_is_stored_and_decides_the_vote(run):
    d = json.loads(record.dumps(run))
    d["tie_rule"] = "lowest_nll"
    back = record.run_from_json(d)
    best = max(back.voters, key=lambda i: back.trajectories[i].one_step_log_likelihood)
    assert back.vote.winner == back.trajectories[best].answer
    assert (back.vote.rule, back.vote.decided_by) == ("lowest_nll", "lowest_nll")
    assert json.loads(record.dumps(back))["vote"]["rule"] == "lowest_nll"


@pytest.mark.parametrize("change,message", [
    ({"tie_rule": "coin"}, "unknown tie rule 'coin'"),
    ({"tie_rule": "lowest_nll", "likelihood": None}, "needs every answering expert's"),
    ({"likelihood": 0.5}, "one_step_log_likelihood must be a number <= 0 or null"),
    ({"likelihood": "high"}, "one_step_log_likelihood must be a number <= 0 or null"),
])
def test_bad_likelihoods_and_tie_rules_are_refused(run, change, message):
    d = json.loads(record.dumps(run))
    d["experts"][0]["answer"] = "7"  # an answering expert
    if "tie_rule" in change:
        d["tie_rule"] = change["tie_rule"]
    if "likelihood" in change:
        d["experts"][0]["one_step_log_likelihood"] = change["likelihood"]
    with pytest.raises(TrajectoryFormatError, match=message):
        record.run_from_json(d)


# The keys records gained after the first gallery was stored (issue 22's samplers and
# edits, the block cache, tie rules); a record without them is what those files hold.
LATER_KEYS = {"": ("tie_rule", "task"), "config": ("cache", "edit", "edit_scope", "sampler"),
              "vote": ("rule", "decided_by"), "timing": ("positions", "row_passes", "step_rows")}
LATER_EXPERT_KEYS = ("edit_texts", "edits", "events", "steps_taken", "commits",
                     "one_step_log_likelihood")


def written_before_samplers(raw: dict) -> dict:
    for section, keys in LATER_KEYS.items():
        for key in keys:
            (raw[section] if section else raw).pop(key, None)
    for expert in raw["experts"]:
        for key in LATER_EXPERT_KEYS:
            expert.pop(key, None)
    return raw


def test_runs_written_before_samplers_load_with_their_steps_and_commits(tmp_path):
    """Records from before issue 22 have no sampler, steps_taken, commits or edits."""
    from hexviz.paths import GALLERY

    # not the parallel sampler's, the growing canvas's or the block schedules' runs
    files = sorted(p for p in GALLERY.glob("*.json")
                   if not p.name.startswith(("lesson-6", "lesson-7", "blocks-")))
    assert len(files) >= 6  # chapters 1-4 and the examples
    for path in files:
        old = tmp_path / path.name
        old.write_text(json.dumps(written_before_samplers(json.loads(path.read_text()))))
        run = record.load(old)
        assert run.config.sampler.spec == "fixed" and run.timing.row_passes is None
        assert run.config.cache == "none" and run.timing.positions is None  # before caching
        for t in run.trajectories:
            assert t.steps_taken == len(t.draft_ids) == run.steps_done
            assert t.commits.tolist() == np.bincount(t.reveal_step,
                                                     minlength=t.steps_taken).tolist()
            assert t.edits.shape == (0, 4)


def test_the_cache_mode_and_positions_round_trip(run):
    from dataclasses import replace

    cached = replace(run, config=replace(run.config, cache="dual"),
                     timing=replace(run.timing, positions=1234))
    back = record.loads(record.dumps(cached))
    assert back.config.cache == "dual" and back.timing.positions == 1234
    d = json.loads(record.dumps(cached))
    d["config"]["cache"] = "full"
    with pytest.raises(Exception, match="unknown cache mode 'full'"):
        record.loads(json.dumps(d))


def test_damaged_edits_are_refused(run):
    d = json.loads(record.dumps(run))
    d["experts"][0]["edits"] = [[0, 1, 1, 2]]  # in range, but no such edit in the log
    with pytest.raises(TrajectoryFormatError, match="edits differ from what its events say"):
        record.loads(json.dumps(d))
    d["experts"][0]["edits"] = [[0, 40, 1, 2]]  # position 40 of a 32-token answer
    with pytest.raises(TrajectoryFormatError, match="edits name a step or position"):
        record.loads(json.dumps(d))
    d["experts"][0]["edits"] = [[0, 1, 2]]
    with pytest.raises(TrajectoryFormatError, match="damaged"):
        record.loads(json.dumps(d))


def test_a_file_without_the_sampler_fields_loads_as_a_fixed_run(run):
    d = json.loads(record.dumps(run))
    for key in ("sampler", "edit"):
        del d["config"][key]
    for e in d["experts"]:
        for key in ("steps_taken", "commits", "edits", "edit_texts"):
            del e[key]
    d["timing"] = {"decode_s": 0.5, "forward_passes": d["steps_done"]}
    old = record.loads(json.dumps(d))
    assert old.config == run.config and old.timing.row_passes is None and old.complete
    for a, b in zip(run.trajectories, old.trajectories, strict=True):
        assert (a.steps_taken, a.commits.tolist()) == (b.steps_taken, b.commits.tolist())


def test_a_run_recounts_its_vote_under_a_new_tie_rule():
    run = known_run()
    for i, t in enumerate(run.trajectories):
        t.one_step_log_likelihood = -1.0 - i
    assert run.vote.rule == "first"
    run.tie_rule = "lowest_nll"
    assert run.vote.rule == "first"  # counted once, kept
    assert run.recount().vote.rule == "lowest_nll"


@pytest.mark.parametrize("bad", [{"x": "a"}, {"5": 3}, {"10000000": "a"}, ["5", "a"]])
def test_damaged_cut_texts_are_refused(run, bad):
    d = json.loads(record.dumps(run))
    d["experts"][0]["cut_texts"] = bad
    with pytest.raises(TrajectoryFormatError, match="cut_texts must map"):
        record.loads(json.dumps(d))
