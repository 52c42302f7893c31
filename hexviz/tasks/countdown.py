"""Countdown (three numbers; the d1/HEX repository's countdown_cd3_test.jsonl) under the HEX
protocol (HEX/eval/countdown.py, parsed and scored as HEX_run_by_given_json_samples.py does).

Rows: ``{"input": "44,19,35", "output": "98"}``. The gold is ``[[numbers], target]`` as JSON
text (the HEX records' ``ground_truth``). The answer is an expression: the last box's content,
else ``<answer>``, else the whole generation, with LaTeX operators made Python's. It is right
when it uses each given number exactly once and evaluates to the target (within 1e-5).
"""

from __future__ import annotations

import ast
import json
import operator
import re
from collections.abc import Mapping
from typing import Any

from hexviz.tasks.base import RESPONSE_FORMAT, Problem, Task
from hexviz.tasks.latex import Unnormalizable, answer_tags, last_boxed, unbox

_ALLOWED = re.compile(r"^[\d+\-*/().\s]+$")
_LEFT_OF_EQUALS = re.compile(r"([0-9+\-*/() ]+)=[0-9. ]+")
_INTEGER = re.compile(r"\d+")
_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
              ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow,
              ast.UAdd: operator.pos, ast.USub: operator.neg}
MAX_EXPONENT = 10_000  # beyond this an integer power would not finish; treated as invalid

# HEX/eval/countdown.py CTD_SYSTEM_PROMPT (no line break before "Respond")
SYSTEM_PROMPT = (
    "Using only the provided numbers, create an arithmetic expression that evaluates to exactly "
    "the provided target number. You may use the operations +, -, *, and / as needed, but each "
    "number must be used exactly once. Think step-by-step. After reasoning, provide only your "
    "final expression inside \\boxed{} tags without including an equals sign or the target "
    "number. For example: \\boxed{a + b * c}"
    + RESPONSE_FORMAT)


def parse(text: str) -> str:
    """The expression of a generation (never None: at worst the whole text)."""
    try:
        equation = unbox(last_boxed(text))
    except Unnormalizable:
        tagged = answer_tags(text)
        equation = tagged if tagged is not None else text
    return equation.replace("\\div", "/").replace("\\times", "*").replace("\\cdot", "*")


def _value(node: ast.AST) -> Any:
    if isinstance(node, ast.Expression):
        return _value(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_value(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Pow) and right > MAX_EXPONENT and abs(left) > 1:
            raise OverflowError("exponent too large")
        return _OPERATORS[type(node.op)](left, right)
    raise TypeError(f"not arithmetic: {type(node).__name__}")


def evaluate(expression: str) -> Any:
    """The expression's value as Python computes it; inf when it is not plain arithmetic.

    HEX calls ``eval`` on text of digits, operators, brackets and spaces; an AST walk over the
    same grammar gives the same values without running code."""
    if not _ALLOWED.match(expression):
        return float("inf")
    try:
        return _value(ast.parse(expression.strip(), mode="eval"))
    except Exception:  # noqa: BLE001  syntax errors, division by zero, overflow: as HEX, inf
        return float("inf")


def uses_numbers(expression: str, numbers: list[int]) -> bool:
    return sorted(int(n) for n in _INTEGER.findall(expression)) == sorted(numbers)


def is_correct(answer: str | None, gold: str | None) -> bool:
    """HEX's ``evaluate_countdown``: an "expr = target" answer keeps its left side."""
    if answer is None or gold is None:
        return False
    numbers, target = json.loads(gold)
    match = _LEFT_OF_EQUALS.search(answer)
    expression = match.group(1).strip() if match else answer
    if not uses_numbers(expression, numbers):
        return False
    return abs(evaluate(expression) - target) < 1e-5


def row_to_problem(row: Mapping[str, Any]) -> Problem:
    target = int(row["output"])
    numbers = [int(n) for n in str(row["input"]).split(",")]
    return Problem(f"Numbers: {numbers}\nTarget: {target}", json.dumps([numbers, target]))


TASK = Task(
    name="countdown", description="Countdown arithmetic, 3 numbers (HEX protocol)",
    system_prompt=SYSTEM_PROMPT, row_to_problem=row_to_problem, parser=parse,
    checker=is_correct, row_format='{"input": "44,19,35", "output": "98"} (countdown_cd3_test)')
