"""Compare: differing positions on one scale, where two experts part, exact against cached."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hexviz.app.tabs import compare
from hexviz.render import figures as plots
from tests.conftest import known_run


def test_compare_marks_differing_positions_on_one_scale():
    run = known_run()
    reveal, maps, answers = compare.compare_outputs(run, 0, run, 1)
    heat, marks = reveal.data[0], reveal.data[1]
    assert np.array(heat.z).tolist() == [[0, 1, 2, 3], [3, 2, 1, 0]]
    assert heat.zmax == 3 and heat.zmin == 0  # one colour scale for both rows
    assert list(marks.x) == [0, 1, 2]  # [5, 7, 1, 2] vs [1, 2, 2, 2]
    assert "3 positions differ" in reveal.layout.title.text
    assert len([d for d in maps.data if d.type == "heatmap"]) == 2
    assert "answer <b>7</b>" in answers and "no answer" in answers
    same = plots.differing_positions(run.trajectories[0], run.trajectories[0])
    assert len(same) == 0


def test_first_divergence():
    run = known_run()
    a = run.trajectories[0]
    b = replace(a, token_ids=np.array([5, 7, 1, 9]))
    assert compare.first_divergence(a, a) is None
    assert compare.first_divergence(a, b) == 3
    c = replace(a, reveal_step=np.array([0, 2, 1, 3], dtype=np.int32))
    assert compare.first_divergence(a, c, after=1) == 1


def test_exact_against_cached_says_where_each_expert_parts():
    from hexviz.app.loading import BUILTIN_LABEL
    from hexviz.app.runner import LocalRunner, RunRequest

    local = LocalRunner()
    *_, exact = local.run(RunRequest("Tom has 5 apples. He buys 3 more. How many now?",
                                     blocks=(4, 8, 16), gen_length=32, steps=16))
    assert compare.decoded_with(local, exact, BUILTIN_LABEL, "none") is exact
    cached = compare.decoded_with(local, exact, BUILTIN_LABEL, "dual")
    assert cached.config.cache == "dual"
    text = compare.cache_divergence(exact, cached)
    lines = text.splitlines()
    assert lines[0].startswith("**Exact against dual cache**")
    assert "computed" in lines[0] and "of the positions exact decoding did" in lines[0]
    rows = [line for line in lines if line.startswith("| B=") or line.startswith("| whole")]
    assert len(rows) == len(exact.trajectories)
    for row, a, b in zip(rows, exact.trajectories, cached.trajectories, strict=True):
        step = compare.first_divergence(a, b)
        assert row.split(" | ")[1] == ("none" if step is None else str(step))
        assert f"{len(plots.differing_positions(a, b))} of 32" in row
    same = text.split(": ")[1].split(" of ")[0]
    assert int(same) == sum(compare.first_divergence(a, b) is None
                            for a, b in zip(exact.trajectories, cached.trajectories, strict=True))
