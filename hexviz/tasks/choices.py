"""Multiple-choice questions as the HEX code formats them: options as lettered lines.

Shared by ARC-C and TruthfulQA (HEX/eval/arcc.py, truthfulqa.py ``_format_question_with_choices``).
Their answers are parsed like MATH's (the last box, else ``<answer>``) and compared with MATH
equivalence, as HEX.py does; a letter written in prose without a box is not read.
"""

from __future__ import annotations

from collections.abc import Sequence


def lettered_question(stem: str, labels: Sequence[str], texts: Sequence[str]) -> str:
    """``stem``, a blank line, "Options:", one "A. text" line per option, "Choose ONE letter."."""
    options = "\n".join(f"{str(label).strip()}. {str(text).strip()}"
                        for label, text in zip(labels, texts))
    return f"{str(stem).strip()}\n\nOptions:\n{options}\n\nChoose ONE letter."
