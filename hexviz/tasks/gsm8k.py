"""GSM8K (openai/gsm8k "main", test split) under the HEX protocol (HEX/eval/gsm8k.py).

Rows: ``{"question": ..., "answer": "... #### 18"}``. The parser is HEX's
``gsm_extract_ans_from_generation``: the first number of the first usable ``\\boxed{}``
(non-greedy, so ``\\boxed{\\frac{1}{2}}`` reads 1), else the last number inside ``<answer>``.
Answers are floats in the HEX code; here they are the float's text ("18.0"), so they vote and
compare exactly as the floats do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hexviz.tasks.base import RESPONSE_FORMAT, Problem, Task

# HEX/eval/gsm8k.py GSM_SYSTEM_PROMPT (note the space after "\boxed{}.")
SYSTEM_PROMPT = (
    "You are a math expert. You will be given a question to solve. Solve it step by step. "
    "Wrap the final answer in a \\boxed{}. \n"
    + RESPONSE_FORMAT)

_BOXED = re.compile(r"\\boxed{(.*?)}")
_NUMBER = re.compile(r"-?\d+\.?\d*")
_DOTS = re.compile(r"^\.+$")
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_GOLD = re.compile(r"####\s*\$?([\d,]+(?:\.\d+)?)")


def float_text(value: float) -> str:
    """A float as text that votes like the float: -0.0 joins 0.0."""
    return repr(value + 0.0)


def _number_in(text: str, last: bool) -> float | None:
    try:
        return float(text)
    except ValueError:
        numbers = _NUMBER.findall(text)
        return float(numbers[-1 if last else 0]) if numbers else None


def parse(text: str) -> str | None:
    """The final answer of a generation, as HEX's GSM8K parser reads it."""
    for content in _BOXED.findall(text):
        content = content.strip()
        if content and content != "..." and not _DOTS.match(content):
            value = _number_in(content, last=False)
            if value is not None:
                return float_text(value)
    match = _ANSWER.search(text)
    if match and match.group(1).strip():
        value = _number_in(match.group(1).strip(), last=True)
        if value is not None:
            return float_text(value)
    return None


def gold_answer(solution: str) -> str | None:
    """HEX's ``Parser.extract_answer_gsm8k``: the first number after ``####``; negative and
    malformed answers give None (such problems cannot be answered right, as in the paper)."""
    match = _GOLD.search(solution)
    if not match:
        return None
    try:
        return float_text(float(match.group(1).replace(",", "")))
    except ValueError:
        return None


def is_correct(answer: str | None, gold: str | None) -> bool:
    """``voted == ground_truth`` on floats (HEX_run_by_given_json_samples.py)."""
    if answer is None or gold is None:
        return False
    return float(answer) == float(gold)


def row_to_problem(row: Mapping[str, Any]) -> Problem:
    return Problem(row["question"], gold_answer(str(row["answer"])))


TASK = Task(
    name="gsm8k", description="GSM8K grade-school math (HEX protocol)",
    system_prompt=SYSTEM_PROMPT, row_to_problem=row_to_problem, parser=parse,
    checker=is_correct, row_format='{"question": ..., "answer": "... #### N"} (openai/gsm8k)')
