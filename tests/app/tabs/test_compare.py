"""Compare: the current run's question decoded exactly and with a KV cache, each expert against
itself."""

from __future__ import annotations

from hexviz.app.tabs import compare
from hexviz.render import compare as render_compare
from hexviz.render import figures


def test_exact_against_cached_says_where_each_expert_parts():
    from hexviz.app.loading import BUILTIN_LABEL
    from hexviz.app.runner import LocalRunner, RunRequest

    local = LocalRunner()
    *_, exact = local.run(RunRequest("Tom has 5 apples. He buys 3 more. How many now?",
                                     blocks=(4, 8, 16), gen_length=32, steps=16))
    assert compare.decoded_with(local, exact, BUILTIN_LABEL, "none") is exact
    cached = compare.decoded_with(local, exact, BUILTIN_LABEL, "dual")
    assert cached.config.cache == "dual"
    text = render_compare.cache_divergence(exact, cached)
    lines = text.splitlines()
    assert lines[0].startswith("**Exact against dual cache**")
    assert "computed" in lines[0] and "of the positions exact decoding did" in lines[0]
    rows = [line for line in lines if line.startswith("| B=") or line.startswith("| whole")]
    assert len(rows) == len(exact.trajectories)
    for row, a, b in zip(rows, exact.trajectories, cached.trajectories, strict=True):
        step = render_compare.first_divergence(a, b)
        assert row.split(" | ")[1] == ("none" if step is None else str(step))
        assert f"{len(figures.differing_positions(a, b))} of 32" in row
    same = text.split(": ")[1].split(" of ")[0]
    assert int(same) == sum(render_compare.first_divergence(a, b) is None
                            for a, b in zip(exact.trajectories, cached.trajectories, strict=True))


def test_compare_says_what_to_do_while_a_side_has_no_run():
    from hexviz.app import ui
    from tests.conftest import FakeRunner, known_run

    hint = compare.compare_hint(None, None)
    assert hint.startswith("**A and B have no run yet.**")
    assert "run a question there" in hint and "stored run" in hint  # both ways to get one
    run = known_run()
    assert compare.compare_hint(run, None).startswith("**B has no run yet.**")
    assert compare.compare_hint(run, run) == ""  # nothing to say once both have one
    demo = ui.build_demo(FakeRunner())
    shown = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "compare-hint"]
    assert len(shown) == 1 and shown[0].value == hint  # before any run: the hint
