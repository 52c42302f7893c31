"""Position states: one set of codes and names, shared by the charts and the animations."""

from __future__ import annotations

from hexviz.render import figures, states
from hexviz.render.animate import panels


def test_one_code_per_state_and_a_name_for_each():
    codes = [states.MASK, states.TEXT, states.END_OF_TURN, states.END_OF_TEXT]
    assert codes == list(range(len(states.STATE_NAMES)))
    assert states.STATE_NAMES[states.MASK] == "[MASK]"


def test_the_charts_and_the_animations_use_the_same_codes():
    for name in ("MASK", "TEXT", "END_OF_TURN", "END_OF_TEXT"):
        assert getattr(figures, name) is getattr(states, name) is getattr(panels, name)
