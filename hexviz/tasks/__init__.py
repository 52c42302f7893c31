"""Tasks: how a question is put to the model and how its final answer is read.

Pure Python (no torch, numpy or app); imported by the decode loop, the eval and the app.

    from hexviz.tasks import get_task
    task = get_task("arcc")        # gsm8k, math, arcc, truthfulqa, countdown, sudoku, tinygsm
    problems = task.read(path)     # the dataset's public row format, .jsonl or .parquet
    task.user_message(problems[0]) # system prompt + question, as the HEX paper built it
    task.parse(text)               # the final answer as the paper parsed it, or None
"""

from __future__ import annotations

from hexviz.tasks import arcc, countdown, gsm8k, math, sudoku, tinygsm, truthfulqa
from hexviz.tasks.base import Problem, Task

TASKS: dict[str, Task] = {m.TASK.name: m.TASK for m in (
    gsm8k, math, arcc, truthfulqa, countdown, sudoku, tinygsm)}
TASK_NAMES = tuple(TASKS)
PAPER_TASKS = ("gsm8k", "math", "arcc", "truthfulqa")  # the HEX paper's Table 1
DEFAULT_TASK = "tinygsm"


def get_task(name: str) -> Task:
    """The task called ``name``; ValueError listing the known ones otherwise."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    return TASKS[name]


__all__ = ["DEFAULT_TASK", "PAPER_TASKS", "TASKS", "TASK_NAMES", "Problem", "Task", "get_task"]
