"""ARC-Challenge (allenai/ai2_arc "ARC-Challenge", test split) under the HEX protocol
(HEX/eval/arcc.py).

Rows: ``{"question": ..., "choices": {"text": [...], "label": ["A", ...]}, "answerKey": "B"}``.
Labels are used as given (a few ARC rows are labelled 1-4).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hexviz.tasks.base import RESPONSE_FORMAT, Problem, Task
from hexviz.tasks.choices import lettered_question
from hexviz.tasks.latex import math_equal, parse_boxed_answer

# HEX/eval/arcc.py ARC_C_SYSTEM_PROMPT
SYSTEM_PROMPT = (
    "You are a science and reasoning expert. You will be given a multiple-choice question with "
    "options labeled A, B, C, D (and sometimes E).\n"
    "Think step by step, but output only ONE final choice.\n"
    "Wrap ONLY the final choice letter in a \\boxed{}.\n\n"
    + RESPONSE_FORMAT)


def row_to_problem(row: Mapping[str, Any]) -> Problem:
    choices = row.get("choices") or {}
    labels, texts = choices.get("label") or [], choices.get("text") or []
    if not labels or len(labels) != len(texts):
        raise ValueError("choices must hold as many labels as texts")
    question = lettered_question(row.get("question", ""), labels, texts)
    return Problem(question, str(row.get("answerKey", "")).strip())


TASK = Task(
    name="arcc", description="ARC-Challenge science questions (HEX protocol)",
    system_prompt=SYSTEM_PROMPT, row_to_problem=row_to_problem, parser=parse_boxed_answer,
    checker=math_equal,
    row_format='{"question": ..., "choices": {"text": [...], "label": [...]}, "answerKey": ...} '
               '(allenai/ai2_arc)')
