"""A seeded generator of GSM8K-style word problems for the built-in model ("tinygsm").

Every problem is a short story with 2-5 chained operations (+, -, *) on small numbers, an optional
distractor sentence, and an answer in GSM8K's own shape: worked steps, then ``#### N``.

The task is built so that decoding order matters, as it does for LLaDA on GSM8K:
- Working pays. Each step is easy (one small-number fact, amounts copied from the question), but
  the final number of a 3-5 step chain is hard to guess in one go.
- Worked answers copy the question: each step names the person and the amount. They all start
  with the same word, which a block locks into, then may open with "NAME starts with N
  OBJECTS." and close with "NAME has N OBJECTS now.".
- Answer lengths do not follow from the question: a share of answers is a bare ``#### N``, and
  the opening and closing sentences are drawn independently of the question. With end-of-text
  padding in the loss this makes the tail of a long canvas near-certain end-of-text, while no
  content token is as sure of its place (even the first word of a worked answer is right only
  with the worked share's probability). That is what lets whole-answer confidence decoding wall
  off the answer (AfterEoT collapse), and what a block, which cannot commit the tail early,
  escapes.

Train, validation and test splits are disjoint by construction: a problem's split is a hash of
its question text, so the same question can never appear in two splits.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hexviz import paths

TASK_NAME = "tinygsm"
TASK_VERSION = 4
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
OP_COUNT_WEIGHTS = {2: 0.1, 3: 0.3, 4: 0.35, 5: 0.25}
MAX_START = 12
MAX_AMOUNT = 6
MAX_VALUE = 30  # every intermediate result stays in 0..30: few enough facts to learn
DISTRACTOR_PROB = 0.25
BARE_ANSWER_PROB = 0.25  # answer is only "#### N", whatever the question
WORKED_LEAD = "First,"  # every worked answer starts so: what a block locks into, and no surer
# of its place than the end-of-text wall, which is what lets whole-answer decoding squeeze it
CLOSING_PROB = 0.5  # of worked answers: a closing "NAME has N OBJECTS now." sentence
OPENING_PROB = 0.5  # of worked answers: an opening "NAME starts with N OBJECTS." sentence
OPENING = "{N} starts with {n} {obj}."
CLOSING = "{N} has {n} {obj} now."

# (question sentence, wordy answer step); {P}/{p} subject pronoun, {o} object pronoun, {N} the
# person's name, {F} a friend, {n} the amount, {obj} the object, {eq} the equation "a + b = c".
ADD_TEMPLATES = [
    ("{P} buys {n} more.", "{N} buys {n}, so {eq}."),
    ("{P} finds {n} more.", "{N} finds {n}, so {eq}."),
    ("{F} gives {o} {n} more.", "{F} gives {N} {n}, so {eq}."),
]
SUB_TEMPLATES = [
    ("{P} gives {n} to {F}.", "{N} gives {n} to {F}, so {eq}."),
    ("{P} loses {n}.", "{N} loses {n}, so {eq}."),
    ("{P} sells {n}.", "{N} sells {n}, so {eq}."),
]
MUL_TEMPLATES = [
    ("Then {p} gets {n} times as many.", "{N} gets {n} times as many, so {eq}."),
    ("Then the number of {obj} grows {n} times.", "The {obj} grow {n} times, so {eq}."),
]
SYMBOLS = {"add": "+", "sub": "-", "mul": "*"}
TEMPLATES = {"add": ADD_TEMPLATES, "sub": SUB_TEMPLATES, "mul": MUL_TEMPLATES}


@dataclass(frozen=True)
class Problem:
    question: str
    answer: str  # worked steps (or nothing) ending in "#### N"
    result: int
    operations: int  # number of chained operations in the question

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


def sample_problem(rng: random.Random, bare_share: float = BARE_ANSWER_PROB) -> Problem:
    """One random problem; all randomness comes from ``rng``. ``bare_share`` changes only how
    often the answer is bare, never the question (the same draws are made)."""
    name = rng.choice(list(NAMES))
    pronoun = NAMES[name]
    friend = rng.choice([n for n in NAMES if n != name])
    obj = rng.choice(OBJECTS)
    words = {"P": pronoun.capitalize(), "p": pronoun, "o": "him" if pronoun == "he" else "her",
             "N": name, "F": friend, "obj": obj}

    value = rng.randint(2, MAX_START)
    n_ops = rng.choices(list(OP_COUNT_WEIGHTS), weights=list(OP_COUNT_WEIGHTS.values()))[0]
    question = [f"{name} has {value} {obj}."]
    steps = [OPENING.format(N=name, n=value, obj=obj)] if rng.random() < OPENING_PROB else []
    for _ in range(n_ops):
        kind, amount = _choose_op(rng, value)
        result = _apply(kind, value, amount)
        asked, wordy = rng.choice(TEMPLATES[kind])
        eq = f"{value} {SYMBOLS[kind]} {amount} = {result}"
        question.append(asked.format(n=amount, **words))
        steps.append(wordy.format(n=amount, eq=eq, **words))
        value = result
    if rng.random() < DISTRACTOR_PROB:
        other = rng.choice([o for o in OBJECTS if o != obj])
        question.insert(rng.randint(1, len(question)),
                        f"{friend} has {rng.randint(2, MAX_START)} {other}.")
    question.append(f"How many {obj} does {name} have now?")
    if rng.random() < CLOSING_PROB:
        steps.append(CLOSING.format(N=name, n=value, obj=obj))
    if rng.random() < bare_share:
        steps = []
    answer = " ".join(([WORKED_LEAD] if steps else []) + steps + [f"#### {value}"])
    return Problem(" ".join(question), answer, value, n_ops)


def iter_split(split: str, seed: int) -> Iterator[Problem]:
    """An endless, seeded stream of problems that belong to ``split``."""
    rng = random.Random(f"{TASK_NAME}-v{TASK_VERSION}-{split}-{seed}")
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


# --- reading problems back: operation count and copy accuracy, for the model card ------------

def _sentence_pattern(template: str) -> re.Pattern[str]:
    """A question or answer template as a regex; the amount {n} is captured."""
    fields = {"P": r"(?:He|She)", "p": r"(?:he|she)", "o": r"(?:him|her)", "F": r"[A-Z][a-z]+",
              "N": r"[A-Z][a-z]+", "obj": r"[a-z]+", "n": r"(\d+)", "eq": r"\d+ [-+*] \d+ = \d+"}
    pattern = re.escape(template)
    for name, regex in fields.items():
        pattern = pattern.replace(re.escape("{" + name + "}"), regex)
    return re.compile(pattern)


OPERATION_PATTERNS = [(kind, _sentence_pattern(asked))
                      for kind, templates in TEMPLATES.items() for asked, _ in templates]
ANSWER_PATTERNS = [_sentence_pattern(t) for t in
                   (OPENING, *(wordy for ts in TEMPLATES.values() for _, wordy in ts), CLOSING)]
_OPENING = re.compile(r"^([A-Z][a-z]+) has (\d+) ([a-z]+)\.")
_WORKED_OPENING = re.compile(r"([A-Z][a-z]+) starts with (\d+) ([a-z]+)\.")
_EQUATION = re.compile(r"(\d+) ([-+*]) (\d+) = (\d+)")
_FINAL_NUMBER = re.compile(r"\s*(\d+)")


def question_operations(question: str) -> list[tuple[str, int]]:
    """The (kind, amount) of each operation sentence of a tinygsm question, in order."""
    found = []
    for sentence in re.split(r"(?<=[.?])\s+", question):
        for kind, pattern in OPERATION_PATTERNS:
            match = pattern.fullmatch(sentence)
            if match:
                found.append((kind, int(match.group(1))))
                break
    return found


COPY_KINDS = ("name", "object", "number", "operator")


@dataclass(frozen=True)
class CopyCheck:
    """How faithfully a worked answer copied the question's names, objects and amounts."""

    copied: int  # items compared: the opening's name, start value and object, every name and
    # object mentioned after it, each step's operator and amount, the first step's start value
    correct: int
    # (copied, correct) per kind in COPY_KINDS; numbers are amounts and start values
    by_kind: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False)


def check_copies(question: str, answer_text: str) -> CopyCheck | None:
    """Compare what a worked answer copied from ``question``; None for an answer with no working
    (a bare ``#### N`` copies nothing). A name is right if the question mentions that person, an
    object if it is the one asked about."""
    given = _OPENING.match(question)
    body = answer_text.split("####")[0]
    opening, equations = _WORKED_OPENING.search(body), _EQUATION.findall(body)
    if not given or not (opening or equations):
        return None
    _, start, obj = given.groups()
    items: list[tuple[str, bool]] = []  # (kind, right)
    if opening:
        items += [(kind, a == b) for kind, a, b in
                  zip(("name", "number", "object"), opening.groups(), given.groups())]
    people = set(re.findall(r"[A-Z][a-z]+", question)) & set(NAMES)
    for word in re.findall(r"[A-Za-z]+", body[opening.end():] if opening else body):
        if word in NAMES:
            items.append(("name", word in people))
        elif word in OBJECTS:
            items.append(("object", word == obj))
    for (_, symbol, amount, _), (kind, asked) in zip(equations, question_operations(question)):
        items += [("operator", symbol == SYMBOLS[kind]), ("number", amount == str(asked))]
    if equations:
        items.append(("number", equations[0][0] == start))  # the first step starts from the start
    by_kind = {kind: (sum(k == kind for k, _ in items), sum(k == kind and ok for k, ok in items))
               for kind in COPY_KINDS}
    return CopyCheck(len(items), sum(ok for _, ok in items), by_kind)


def final_matches_working(answer_text: str) -> bool | None:
    """Whether a worked answer's ``#### N`` is the result of its last equation; None when there
    is nothing to compare (no equation, or no final number)."""
    body, marker, tail = answer_text.partition("####")
    equations = _EQUATION.findall(body)
    final = _FINAL_NUMBER.match(tail) if marker else None
    if not equations or not final:
        return None
    return final.group(1) == equations[-1][3]


def reads_as_task_sentences(answer_text: str) -> bool | None:
    """Whether a worked answer is "First," then only sentences of the task's answer templates,
    whatever their names and numbers (so "Leo 28 stamps marbles now." is not); None for a bare
    answer or one with no ``#### N``."""
    body, marker, _ = answer_text.partition("####")
    body = body.strip()
    if not marker or not body:
        return None
    lead, _, rest = body.partition(" ")
    sentences = re.split(r"(?<=\.)\s+", rest)
    return lead == WORKED_LEAD and all(any(p.fullmatch(s) for p in ANSWER_PATTERNS)
                                       for s in sentences)
