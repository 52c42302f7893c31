"""A seeded generator of GSM8K-style word problems for the built-in model ("tinygsm").

Every problem is a short story with 1-4 chained operations (+, -, *), an optional distractor
sentence, and an answer in GSM8K's own shape: a chain of thought, then ``#### N``.

The answer's verbosity is drawn independently of the question (an optional restatement, terse or
wordy steps, an optional closing sentence), so its length cannot be read off the prompt. That is
the condition under which LLaDA-style training on end-of-text padding makes whole-answer
confidence decoding fill the tail with end tokens first (AfterEoT collapse).

Train, validation and test splits are disjoint by construction: a problem's split is a hash of
its question text, so the same question can never appear in two splits.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hexviz import paths

TASK_NAME = "tinygsm"
TEST_SET = paths.TEST_SET

NAMES = {
    "Tom": "he", "Mia": "she", "Sam": "he", "Ava": "she", "Leo": "he", "Zoe": "she",
    "Max": "he", "Lily": "she", "Ben": "he", "Emma": "she", "Jack": "he", "Nora": "she",
    "Owen": "he", "Ruby": "she", "Finn": "he", "Ella": "she",
}
OBJECTS = [
    "apples", "pens", "books", "marbles", "stickers", "cookies", "cards", "shells",
    "coins", "stamps", "cupcakes", "toys", "balloons", "pencils",
]
OP_COUNT_WEIGHTS = (0.3, 0.35, 0.25, 0.1)  # 1, 2, 3 or 4 operations
# Small numbers keep the arithmetic facts few enough (about 200) for a 1.8M-parameter model to
# learn in an hour of CPU.
MAX_START = 9
MAX_AMOUNT = 5
MAX_VALUE = 20  # every intermediate result stays in 0..20
DISTRACTOR_PROB = 0.25

# (question sentence, verbose answer sentence); {P}/{p} subject pronoun, {o} object pronoun,
# {F} a friend, {n} the amount, {obj} the object, {eq} the equation "a + b = c".
ADD_TEMPLATES = [
    ("{P} buys {n} more.", "{P} buys {n}, so {eq}."),
    ("{P} finds {n} more.", "{P} finds {n}, so {eq}."),
    ("{F} gives {o} {n} more.", "{F} gives {n}, so {eq}."),
]
SUB_TEMPLATES = [
    ("{P} gives {n} to {F}.", "{P} gives {n} away, so {eq}."),
    ("{P} loses {n}.", "{P} loses {n}, so {eq}."),
    ("{P} sells {n}.", "{P} sells {n}, so {eq}."),
]
MUL_TEMPLATES = [
    ("Then {p} gets {n} times as many.", "{n} times as many, so {eq}."),
    ("Then the number of {obj} grows {n} times.", "It grows {n} times, so {eq}."),
]
SYMBOLS = {"add": "+", "sub": "-", "mul": "*"}
TEMPLATES = {"add": ADD_TEMPLATES, "sub": SUB_TEMPLATES, "mul": MUL_TEMPLATES}


@dataclass(frozen=True)
class Problem:
    question: str
    answer: str  # chain of thought ending in "#### N"
    result: int

    def to_gsm8k(self) -> dict[str, str]:
        return {"question": self.question, "answer": self.answer}


def split_of(question: str) -> str:
    """The split a question belongs to, fixed by a hash of its text (90/5/5)."""
    bucket = int(hashlib.sha256(question.encode()).hexdigest()[:8], 16) % 100
    if bucket < 90:
        return "train"
    return "validation" if bucket < 95 else "test"


def _choose_op(rng: random.Random, value: int) -> tuple[str, int]:
    kinds = (["add"] if value < MAX_VALUE else []) + (["sub"] if value > 0 else [])
    kinds += ["mul"] if 1 < value and value * 2 <= MAX_VALUE else []
    kind = rng.choice(kinds)
    if kind == "add":
        return kind, rng.randint(1, min(MAX_AMOUNT, MAX_VALUE - value))
    if kind == "sub":
        return kind, rng.randint(1, min(MAX_AMOUNT, value))
    return kind, rng.choice([k for k in (2, 3) if value * k <= MAX_VALUE])


def _apply(kind: str, value: int, amount: int) -> int:
    return {"add": value + amount, "sub": value - amount, "mul": value * amount}[kind]


def sample_problem(rng: random.Random) -> Problem:
    """One random problem; all randomness comes from ``rng``."""
    name = rng.choice(list(NAMES))
    pronoun = NAMES[name]
    friend = rng.choice([n for n in NAMES if n != name])
    obj = rng.choice(OBJECTS)
    words = {"P": pronoun.capitalize(), "p": pronoun, "o": "him" if pronoun == "he" else "her",
             "F": friend, "obj": obj}

    value = rng.randint(2, MAX_START)
    n_ops = rng.choices(range(1, 5), weights=OP_COUNT_WEIGHTS)[0]
    question = [f"{name} has {value} {obj}."]
    steps = [f"{name} starts with {value} {obj}."] if rng.random() < 0.4 else []
    for _ in range(n_ops):
        kind, amount = _choose_op(rng, value)
        result = _apply(kind, value, amount)
        asked, verbose = rng.choice(TEMPLATES[kind])
        eq = f"{value} {SYMBOLS[kind]} {amount} = {result}"
        question.append(asked.format(n=amount, **words))
        terse = rng.random() < 0.5
        steps.append(f"{eq}." if terse else verbose.format(n=amount, eq=eq, **words))
        value = result
    if rng.random() < DISTRACTOR_PROB:
        other = rng.choice([o for o in OBJECTS if o != obj])
        question.insert(rng.randint(1, len(question)),
                        f"{friend} has {rng.randint(2, MAX_START)} {other}.")
    question.append(f"How many {obj} does {name} have now?")
    if rng.random() < 0.3:
        steps.append(f"{name} has {value} now.")
    steps.append(f"#### {value}")
    return Problem(" ".join(question), " ".join(steps), value)


def iter_split(split: str, seed: int) -> Iterator[Problem]:
    """An endless, seeded stream of problems that belong to ``split``."""
    rng = random.Random(f"{TASK_NAME}-{split}-{seed}")
    while True:
        problem = sample_problem(rng)
        if split_of(problem.question) == split:
            yield problem


def unique_problems(split: str, count: int, seed: int = 0) -> list[Problem]:
    """``count`` distinct problems of ``split`` (distinct by question text)."""
    seen: dict[str, Problem] = {}
    for problem in iter_split(split, seed):
        seen.setdefault(problem.question, problem)
        if len(seen) == count:
            return list(seen.values())
    raise AssertionError("unreachable: iter_split is endless")


def write_jsonl(problems: list[Problem], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for problem in problems:
            f.write(json.dumps(problem.to_gsm8k()) + "\n")
