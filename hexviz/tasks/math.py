"""MATH-500 (HuggingFaceH4/MATH-500, test split) under the HEX protocol (HEX/eval/math500.py).

Rows: ``{"problem": ..., "answer": ..., "solution": ..., ...}``. The answer is the last box's
content (else ``<answer>``), compared with the MATH benchmark's normalisation
(`hexviz.tasks.latex`); an unboxed generation parses to itself, as in the HEX code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hexviz.tasks.base import RESPONSE_FORMAT, Problem, Task
from hexviz.tasks.latex import math_equal, parse_boxed_answer

# HEX/eval/math500.py MATH500_SYSTEM_PROMPT, stray quote and trailing newline included
SYSTEM_PROMPT = (
    "You are a math expert. You will be given a question to solve. Solve it step by step. "
    "Wrap the final answer in a \\boxed{}.\n"
    + RESPONSE_FORMAT + "\" \n")  # sic: HEX's MATH prompt ends so


def row_to_problem(row: Mapping[str, Any]) -> Problem:
    return Problem(row["problem"], str(row["answer"]))


TASK = Task(
    name="math", description="MATH-500 competition math (HEX protocol)",
    system_prompt=SYSTEM_PROMPT, row_to_problem=row_to_problem, parser=parse_boxed_answer,
    checker=math_equal, row_format='{"problem": ..., "answer": ...} (HuggingFaceH4/MATH-500)')
