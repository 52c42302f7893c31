"""Run -> panels: settings, expert selectors, layouts, words spaced as the answer reads."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hexviz.paths import GALLERY
from hexviz.render import animate
from hexviz.render.animate import panels
from hexviz.runs import record
from hexviz.render.states import END_OF_TEXT
from tests.conftest import known_run
from tests.render.conftest import ADA_STARTS, SCHEDULE_STARTS


@pytest.mark.parametrize("kwargs,needle", [
    ({"layout": "grid"}, "layout must be one of"), ({"fps": 0}, "fps must be"),
    ({"fps": 100}, "fps must be"), ({"width": 100}, "width must be"),
    ({"width": 640.5}, "width must be")])
def test_bad_settings_are_refused(kwargs, needle):
    with pytest.raises(ValueError, match=needle) as err:
        animate.AnimationSettings(**kwargs)
    assert "(got" in str(err.value)


def test_a_run_without_edits_or_steps_taken_loads_as_before():
    run = known_run()  # recorded no edits (as files written before samplers)
    assert len(run.trajectories[0].edits) == 0
    p = animate.panel(run, 0)
    assert p.edits == () and p.steps == run.steps_done


def test_expert_selectors(stored):
    assert animate.parse_experts("8, 32,whole") == ("8", "32", "whole")
    assert [stored.trajectories[i].expert.block_length for i in animate.select(stored, "8")] == [8]
    assert len(animate.select(stored, "whole")) == 3
    margin = animate.select(stored, "whole:margin")
    assert [stored.trajectories[i].expert.remasking for i in margin] == ["margin"]
    with pytest.raises(ValueError, match=r"no expert '7' in this run; it has 4, 8, 16"):
        animate.select(stored, "7")
    with pytest.raises(ValueError, match="block sizes or whole"):
        animate.select(stored, "big")
    anim = animate.build(stored, animate.AnimationSettings(layout="all", experts=("8", "whole")))
    assert [p.title for p in anim.panels] == ["B=8 low_confidence", "whole (low_confidence)",
                                              "whole (margin)", "whole (random)"]


def test_compare_layout(stored):
    anim = animate.build(stored,
                         animate.AnimationSettings(layout="compare", experts=("8", "whole")))
    assert [p.title for p in anim.panels] == ["A: B=8 low_confidence",
                                              "B: whole (low_confidence)"]
    other = record.load(GALLERY / "lesson-2-end-of-text-wall.json")
    both = animate.build(stored, animate.AnimationSettings(layout="compare", experts=("16",)),
                         other)
    assert both.panels[1].answer == other.trajectories[animate.select(other, "16")[0]].answer
    with pytest.raises(ValueError, match="two experts"):
        animate.build(stored, animate.AnimationSettings(layout="compare", experts=("16",)))
    with pytest.raises(ValueError, match="different answer lengths"):
        animate.build(stored, animate.AnimationSettings(layout="compare"), known_run())


def test_words_read_like_the_answer(stored):
    t = stored.trajectories[2]
    p = animate.panel(stored, 2)
    # "First, Ruby gets 2 times as many, so" : no space before either comma
    assert t.tokens[:10] == ["First", ",", "Ruby", "gets", "2", "times", "as", "many", ",", "so"]
    assert p.space_before[:10] == (False, False, True, True, True, True, True, True, False,
                                   True)
    groups = panels.words(p)
    assert groups[0] == [0, 1] and [7, 8] in groups  # punctuation never starts a line


def test_a_growing_canvas_is_a_panel_of_every_slot_it_ever_had(grown):
    p = animate.panel(grown, 1)  # 8 slots; positions 3..7 cut at step 1
    assert p.length == 8 and p.timeline is not None
    assert p.reveal_step[:3].tolist() == grown.trajectories[1].reveal_step.tolist()
    assert not p.writes(4)  # a slot cut while masked stands alone: it never writes text
    assert [len(g) for g in panels.words(p)] == [1, 1, 1, 1, 1, 1, 1, 1]
    c = animate.canvas(p, 2, 1)  # the frame after the cut
    assert c.cut.tolist() == [False] * 3 + [True] * 5 and c.standing.tolist() == [0, 1, 2]
    assert c.states[3] == END_OF_TEXT  # what it held, drawn struck
    held = c.held()
    assert not held.cut.any() and held.drawn.sum() == 3
    fixed = animate.panel(known_run(), 0)
    assert fixed.timeline is None and animate.canvas(fixed, 2, 1).drawn is None


def test_selectors_take_an_experts_blocks_as_blocks_writes_them(uneven):
    assert animate.select(uneven, "4+4+8") == [0]
    assert animate.select(uneven, " ADA:0.50 ") == [1]
    assert animate.select(uneven, "whole") == [2]
    # the schedule starts with a 4 and AdaBlock falls back to 4: neither is the plain size 4
    with pytest.raises(ValueError, match=r"no expert '4' in this run; it has 4\+4\+8, "
                                         r"ada:0.5, whole, whole:low_confidence"):
        animate.select(uneven, "4")
    with pytest.raises(ValueError, match="no expert 'ada'"):  # the authors' T, 0.3
        animate.select(uneven, "ada")
    assert animate.select(known_run(), 2) == [0]  # a size as an int too
    assert panels.blocks_key("grow", 64) == "2+2+4+8+16+32"
    assert panels.blocks_key("grow", 65) == "grow"  # does not fit: found by nothing


def test_a_panel_holds_its_experts_recorded_blocks(uneven):
    ada = animate.panel(uneven, 1)
    assert ada.title == "B=ada:0.5/4 low_confidence" and ada.short == "B=ada:0.5/4"
    assert ada.starts == frozenset({0, *ADA_STARTS})
    assert animate.panel(uneven, 0).starts == frozenset({0, *SCHEDULE_STARTS})
    assert [ada.block_at(q) for q in (0, 5, 6, 8, 9, 15)] == [
        (0, 6), (0, 6), (6, 9), (6, 9), (9, 16), (9, 16)]
    # past the recorded blocks (one not yet opened): the fallback size on from their end
    opened = replace(ada, blocks=np.array([[0, 6]]))
    assert [opened.block_at(q) for q in (6, 9, 14)] == [(6, 10), (6, 10), (14, 16)]
