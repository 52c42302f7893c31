"""The event log: replaying it, what is derived from it, its JSON, and logs of fixed records."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hexviz.runs import events as ev
from hexviz.runs.events import COMMIT, DELETE, EDIT, INSERT, REMASK, Event, EventLog

M = 99  # the mask id of these logs


def log_of(initial: int, *events: Event) -> EventLog:
    return EventLog.of(initial, events)


# A canvas of 3 masks: step 0 commits 10 at 1; step 1 inserts 2 masks before 1 (the 10 moves to
# 3), commits 11 at 0 and edits the 10 to 12; step 2 deletes the last two (the 12 and a mask),
# re-masks 0 and commits 13 at 1.
LOG = log_of(3, Event(0, COMMIT, 1, 10, prob=0.5),
             Event(1, INSERT, 1, count=2), Event(1, COMMIT, 0, 11, prob=0.9),
             Event(1, EDIT, 3, 12, 10, prob=0.8),
             Event(2, DELETE, 3, count=2), Event(2, REMASK, 0, old=11), Event(2, COMMIT, 1, 13,
                                                                              prob=0.7))


def test_the_canvas_at_each_step_follows_the_events_in_order():
    assert ev.canvas_at(LOG, 0, M).ids.tolist() == [M, M, M]
    assert ev.canvas_at(LOG, 1, M).ids.tolist() == [M, 10, M]
    after_two = ev.canvas_at(LOG, 2, M)
    assert after_two.ids.tolist() == [11, M, M, 12, M]
    assert after_two.reveal_step.tolist() == [1, -1, -1, 0, -1]  # an edit keeps the commit step
    final = ev.final_canvas(LOG, M)
    assert final.ids.tolist() == [M, 13, M]
    assert final.reveal_step.tolist() == [-1, 2, -1]
    assert [c.ids.tolist() for c in ev.canvases(LOG, 3, M)] == [
        [M, 10, M], [11, M, M, 12, M], [M, 13, M]]


def test_derived_counts_lengths_edits_and_deletions():
    assert ev.commits_per_step(LOG, 3).tolist() == [1, 1, 1]
    assert ev.canvas_lengths(LOG, 3).tolist() == [3, 5, 3]
    assert ev.edit_table(LOG).tolist() == [[1, 3, 10, 12]]
    assert ev.deletions(LOG, M) == [ev.Deletion(2, 3, (12, M))]
    assert LOG.resizes and not log_of(2, Event(0, COMMIT, 0, 5)).resizes
    assert len(LOG.before(2)) == 4


@pytest.mark.parametrize("bad, message", [
    (Event(0, COMMIT, 3, 5), "commit at 3 on a canvas of 3"),
    (Event(0, EDIT, 0, 5, 4), "edit at 0, which is masked"),
    (Event(0, REMASK, 0), "already masked"),
    (Event(0, INSERT, 4, count=1), "insert of 1 at 4"),
    (Event(0, DELETE, 2, count=2), "delete of 2 at 2"),
])
def test_an_event_that_does_not_fit_its_canvas_is_refused(bad, message):
    with pytest.raises(ev.EventLogError, match=message):
        ev.final_canvas(log_of(3, bad), M)


def test_a_fixed_record_reads_as_commits_then_edits():
    token_ids = np.array([7, 8, 9])
    reveal_step = np.array([1, 0, 1])
    reveal_conf = np.array([0.5, 0.6, 0.7], dtype=np.float32)
    edits = np.array([[2, 1, 4, 8]])  # position 1 was committed as 4, edited to 8 at step 2
    log = ev.from_positional(token_ids, reveal_step, reveal_conf, edits, 3)
    assert [(e.step, e.kind, e.position, e.token) for e in log.events()] == [
        (0, COMMIT, 1, 4), (1, COMMIT, 0, 7), (1, COMMIT, 2, 9), (2, EDIT, 1, 8)]
    final = ev.final_canvas(log, M)
    assert final.ids.tolist() == token_ids.tolist()
    assert final.reveal_step.tolist() == reveal_step.tolist()
    assert ev.canvas_at(log, 2, M).ids.tolist() == [7, 4, 9]


def test_the_json_round_trip_keeps_every_column():
    back = ev.from_json(json.loads(json.dumps(ev.to_json(LOG))), 3, 100, 8)
    for name in ev.COLUMNS:
        a, b = getattr(LOG, name), getattr(back, name)
        assert np.allclose(a, b, equal_nan=True) if name == "prob" else a.tolist() == b.tolist()
    assert back.initial_length == 3
    assert math.isnan(ev.to_json(LOG)["prob"][1] or math.nan)  # an insert has no probability


@pytest.mark.parametrize("change, message", [
    ({"kind": ["commit", "fly", "commit", "edit", "delete", "remask", "commit"]}, "kinds"),
    ({"step": [0, 1, 1, 1, 2, 2, 1]}, "rise"),
    ({"step": [0, 1, 1, 1, 2, 2, 9]}, "below 3"),
    ({"token": [10, -1, 11, 12, -1, -1, 1000]}, "token ids"),
    ({"position": [0, 1.5, 0, 3, 3, 0, 1]}, "integers"),
    ({"count": [1, 2, 1, 1, 0, 1, 1]}, "counts"),
    ({"prob": [2.0, None, 0.9, 0.8, None, None, 0.7]}, "probabilities"),
    ({"initial_length": 50}, "initial_length"),
    ({"step": [0, 1]}, "one length"),
])
def test_a_damaged_log_is_refused_in_one_line(change, message):
    d = {**ev.to_json(LOG), **change}
    with pytest.raises(ev.EventLogError, match=message):
        ev.from_json(d, 3, 100, 8)


def test_a_log_that_grows_past_the_maximum_is_refused():
    d = ev.to_json(log_of(3, Event(0, INSERT, 3, count=6)))
    with pytest.raises(ev.EventLogError, match="grows past 8"):
        ev.from_json(d, 1, 100, 8)
