"""Final-answer extraction from an expert's text, and numeric normalisation.

Extractors are plain functions ``text -> answer | None`` registered in ``EXTRACTORS``; every
answer passes through ``normalize`` so that "12.0", "12" and "$12" vote together.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

Extractor = Callable[[str], str | None]

_NUMBER = r"[-−]?\$?\s?\d[\d,]*(?:\.\d+)?|[-−]?\.\d+"
_HASH_ANSWER = re.compile(r"####\s*(" + _NUMBER + ")")
_ANY_NUMBER = re.compile(_NUMBER)
_CHOICE = re.compile(
    r"(?:answer|option|choice)\s*(?:is|:)?\s*\(?([A-E])\)?(?![A-Za-z])|^\s*\(?([A-E])[).:]?\s*$",
    re.IGNORECASE | re.MULTILINE)


def normalize(answer: str) -> str:
    """Canonical form of an answer: numbers lose commas, units, signs of zero and trailing zeros."""
    text = answer.strip().rstrip(".").replace("−", "-")
    number = text.replace(",", "").replace("$", "").replace(" ", "")
    try:
        value = Decimal(number)
    except InvalidOperation:
        return text
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _last(matches: list[str]) -> str | None:
    return normalize(matches[-1]) if matches else None


def extract_gsm8k(text: str) -> str | None:
    """The number after the last ``####`` (GSM8K's answer line)."""
    return _last(_HASH_ANSWER.findall(text))


def extract_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{...}``, braces balanced."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 1, start + len("\\boxed{")
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return normalize(text[i:j])
    return None


def extract_last_number(text: str) -> str | None:
    """The last number anywhere in the text."""
    return _last(_ANY_NUMBER.findall(text))


def extract_choice(text: str) -> str | None:
    """A multiple-choice letter: "the answer is (C)" or a line holding only "C"."""
    letters = [a or b for a, b in _CHOICE.findall(text)]
    return letters[-1].upper() if letters else None


def extract_auto(text: str) -> str | None:
    """``####``, else ``\\boxed{}``, else the last number."""
    return extract_gsm8k(text) or extract_boxed(text) or extract_last_number(text)


EXTRACTORS: dict[str, Extractor] = {
    "gsm8k": extract_gsm8k,
    "boxed": extract_boxed,
    "last_number": extract_last_number,
    "choice": extract_choice,
    "auto": extract_auto,
}


def get_extractor(name: str) -> Extractor:
    if name not in EXTRACTORS:
        raise ValueError(f"unknown answer format {name!r}; choose one of {', '.join(EXTRACTORS)}")
    return EXTRACTORS[name]
