"""Limits on files read from elsewhere: their size before reading, their arrays' values."""

from __future__ import annotations

import math

import pytest

from hexviz import limits


def test_a_file_over_the_upload_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "run.json"
    path.write_bytes(b"x" * 2048)
    limits.check_file_size(path, limits.Limits(max_upload_mb=1))
    with pytest.raises(limits.LimitError, match="HEXVIZ_MAX_UPLOAD_MB"):
        limits.check_file_size(path, limits.Limits(max_upload_mb=0.001))


def test_arrays_hold_whole_numbers_and_probabilities_in_range():
    assert limits.int_array([1, 2.0, -1], "ids", -1).tolist() == [1, 2, -1]
    with pytest.raises(limits.ShapeError, match="ids must hold whole numbers"):
        limits.int_array([1.5], "ids", 0)
    with pytest.raises(limits.ShapeError, match="ids holds 9, outside 0..8"):
        limits.int_array([1, 9], "ids", 0, 8)
    probs = limits.prob_array([0.5, None], "conf")
    assert probs[0] == 0.5 and math.isnan(probs[1])
    with pytest.raises(limits.ShapeError, match="conf must hold probabilities from 0 to 1"):
        limits.prob_array([1.5], "conf")
    with pytest.raises(limits.ShapeError, match="NaN, which JSON does not allow"):
        limits.refuse_constant("NaN")


def test_a_run_whose_declared_sizes_disagree_is_refused():
    expert = {"token_ids": [0] * 4, "tokens": ["a"] * 4, "reveal_step": [0] * 4,
              "reveal_conf": [1.0] * 4, "draft_ids": [[0] * 4], "draft_prob": [[1.0] * 4]}
    run = {"config": {"gen_length": 4, "steps": 1}, "steps_done": 1, "experts": [expert]}
    limits.check_run_shape(run)
    with pytest.raises(limits.ShapeError, match="expert 0 tokens has 3 entries"):
        limits.check_run_shape(run | {"experts": [expert | {"tokens": ["a"] * 3}]})
    with pytest.raises(limits.ShapeError, match="steps_done \\(2\\) is more than steps \\(1\\)"):
        limits.check_run_shape(run | {"steps_done": 2})
