"""The built-in model's own format: GSM8K-style rows, the bare question as the user turn, the
answer after ``####`` (or a box, or the last number) normalised so "12.0" and "12" agree.

This is hexviz's behaviour before tasks existed, and the built-in model's default task; decoding
keeps the model's own settings (its hexviz.json), not the paper's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hexviz.tasks.answers import extract_gsm8k
from hexviz.tasks.base import Problem, Task

# The question a visitor sees first everywhere: the app opens on it (`hexviz.app.ui`), and the
# README, the CLI's and the API's pages decode it (tests/test_docs.py holds them to it).
FIRST_QUESTION = ("Mia has 12 marbles. She gives 3 to Ben. She buys 5 more. "
                  "Then she gets 2 times as many. How many marbles does Mia have now?")


def row_to_problem(row: Mapping[str, Any]) -> Problem:
    gold = extract_gsm8k(str(row["answer"]))
    if gold is None:
        raise ValueError("the answer has no final '#### N' line")
    return Problem(str(row["question"]), gold)


def is_correct(answer: str | None, gold: str | None) -> bool:
    return answer is not None and answer == gold


TASK = Task(
    name="tinygsm", description="the built-in model's format: bare question, '#### N' answer",
    system_prompt="", row_to_problem=row_to_problem, parser=extract_gsm8k, checker=is_correct,
    generation_prefix="", parse_raw_region=False, tokenize_prompt_text=False, paper_gen_length=None,
    row_format='{"question": ..., "answer": "... #### N"}')
