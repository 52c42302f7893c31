"""4x4 Sudoku (the d1/HEX repository's 4x4_test_sudoku.csv) under the HEX protocol
(HEX/eval/sudoku.py, parsed as HEX_run_by_given_json_samples.py ``parse_sudoku_answers``).

Rows: CSV columns ``Puzzle`` and ``Solution`` (16 digits each, 0 = empty). The gold is
``[puzzle, solution]`` as JSON text. The answer is the digits found by the first of five
patterns that matches; "" when none does (and "" votes, as in the HEX code). The paper scores
cells: `cells` counts the empty cells filled right; `is_correct` asks for all of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from hexviz.tasks.base import Problem, Task

# HEX/eval/sudoku.py SUDOKU_SYSTEM_PROMPT (it starts and ends with a line break)
SYSTEM_PROMPT = (
    "\nPlease solve the following 4x4 Sudoku puzzle. The puzzle is provided as a 16-character "
    "string reading left-to-right, top-to-bottom, where '0' represents empty cells.\n\n"
    "Rules:\n- Fill empty cells with digits 1-4\n- Each row must contain digits 1-4 exactly once\n"
    "- Each column must contain digits 1-4 exactly once\n"
    "- Each 2x2 box must contain digits 1-4 exactly once\n\n"
    "Important: Your solution must be a COMPLETE 16-character string with only the digits 1-4, "
    "representing your final solved grid.\n\n"
    "Respond in this exact format:\n<reasoning>\nYour step-by-step solving process\n"
    "</reasoning>\n<answer>\n[16-character solution string with no spaces or separators]\n"
    "</answer>\n")

_PATTERNS = [re.compile(p, re.DOTALL) for p in (
    r"<answer>.*?```\s*([\d\s]+)```",
    r"<answer>(.*?)(?:<\|eot_id\|>|<\|endoftext\|>|</answer>)",
    r"</answer>\s*(.*?)(?:<\|eot_id\|>|<\|endoftext\|>|$)",
    r".*?(\d{16})\s*</answer>",
    r"\b(\d{16})\b",
)]
_GRID = re.compile(r"^[0-9]{16}$")


def parse(text: str) -> str:
    """The solution digits of a generation, whitespace removed; "" when none is found."""
    for pattern in _PATTERNS:
        match = pattern.search(text)
        if match and match.group(1).strip():
            return re.sub(r"\s", "", match.group(1).strip())
    return ""


def cells(answer: str | None, gold: str) -> tuple[int, int]:
    """(empty cells filled right, empty cells): HEX's ``evaluate_sudoku_answers``, the answer
    padded with 0 or cut to 16 characters."""
    puzzle, solution = json.loads(gold)
    empty = [i for i in range(16) if puzzle[i] == "0"]
    if not answer:
        return 0, len(empty)
    grid = (answer + "0" * 16)[:16]
    return sum(grid[i] == solution[i] for i in empty), len(empty)


def is_correct(answer: str | None, gold: str | None) -> bool:
    if gold is None:
        return False
    right, empty = cells(answer, gold)
    return right == empty


def row_to_problem(row: Mapping[str, Any]) -> Problem:
    puzzle, solution = str(row["Puzzle"]).strip(), str(row["Solution"]).strip()
    if not _GRID.match(puzzle) or not _GRID.match(solution):
        raise ValueError(f"Puzzle and Solution must be 16 digits (got {puzzle!r}, {solution!r})")
    return Problem(f"Solve the following Sudoku puzzle: {puzzle}\n", json.dumps([puzzle, solution]))


TASK = Task(
    name="sudoku", description="4x4 Sudoku (HEX protocol)",
    system_prompt=SYSTEM_PROMPT, row_to_problem=row_to_problem, parser=parse,
    checker=is_correct, row_format="CSV columns Puzzle,Solution (4x4_test_sudoku.csv)")
