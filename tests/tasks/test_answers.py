"""Answer extraction, normalisation, collapse flag and the HEX vote."""

from __future__ import annotations

import pytest

from hexviz.tasks.answers import (
    extract_auto,
    extract_boxed,
    extract_choice,
    extract_gsm8k,
    extract_last_number,
    get_extractor,
    normalize,
)


@pytest.mark.parametrize("raw,expected", [
    ("12", "12"), ("12.0", "12"), ("1,000", "1000"), ("$1,234.50", "1234.5"), ("-3", "-3"),
    ("0.25", "0.25"), ("7.", "7"), ("−4", "-4"), ("x+1", "x+1"),
])
def test_normalize(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("text,expected", [
    ("5 + 3 = 8. #### 8", "8"), ("#### 1,200", "1200"), ("#### 3 then #### 4", "4"),
    ("the answer is 8", None), ("####", None), ("#### -2.50", "-2.5"),
])
def test_gsm8k(text, expected):
    assert extract_gsm8k(text) == expected


@pytest.mark.parametrize("text,expected", [
    (r"so \boxed{42}.", "42"), (r"\boxed{1} and \boxed{\frac{1}{2}}", r"\frac{1}{2}"),
    (r"\boxed{12.0}", "12"), (r"\boxed{3", None), ("no box", None),
])
def test_boxed(text, expected):
    assert extract_boxed(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("I had 3 and got 4, so 7 total.", "7"), ("costs $1,500 now", "1500"), ("none", None),
])
def test_last_number(text, expected):
    assert extract_last_number(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("The answer is (C).", "C"), ("answer: b", "B"), ("Thinking...\nD\n", "D"),
    ("A dog and a cat", None),
])
def test_choice(text, expected):
    assert extract_choice(text) == expected


def test_auto_prefers_hash_then_boxed_then_number():
    assert extract_auto(r"\boxed{5} #### 6") == "6"
    assert extract_auto(r"3 apples \boxed{5}") == "5"
    assert extract_auto("3 apples and 4") == "4"
    with pytest.raises(ValueError, match="unknown answer format 'nope'"):
        get_extractor("nope")
