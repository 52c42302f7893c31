"""The state of an answer position at a step, as every view colours it: still masked, text, or
one of the two end tokens. The charts (`figures`), the animations (`animate`) and the app's
token strips share these codes and names."""

from __future__ import annotations

MASK, TEXT, END_OF_TURN, END_OF_TEXT = 0, 1, 2, 3
STATE_NAMES = ("[MASK]", "text", "end of turn", "end-of-text")  # indexed by state; chart legends
