"""Box extraction and MATH equivalence: the HEX code's rules, quirks included.

Expected values were computed with ``last_boxed_only_string``, ``remove_boxed`` and ``is_equiv``
of junos-ai-org/hex HEX/eval/parser_helper.py (commit b714b9c61b8ab700261fed42cab5b2b8ff00a394).
"""

from __future__ import annotations

import pytest

from hexviz.tasks.latex import (
    Unnormalizable,
    answer_tags,
    last_boxed,
    math_equal,
    normalize_math,
    parse_boxed_answer,
    unbox,
)


@pytest.mark.parametrize("text,boxed", [
    ("a \\boxed{1} b \\boxed{\\frac{1}{2}} c", "\\boxed{\\frac{1}{2}}"),
    ("no box at all", "no box at all"),  # the whole text comes back
    ("\\boxed{1", None),  # braces never close
    ("\\fbox{2} end", "\\fbox{2}"),
    ("x \\boxed 3$ y \\boxed{4}", "\\boxed 3"),  # a spaced \boxed wins, up to "$"
    ("\\boxed}{5}", None),  # "}" first takes the depth below 0: the box never closes
])
def test_last_boxed(text, boxed):
    assert last_boxed(text) == boxed


def test_unbox():
    assert unbox("\\boxed{7}") == "7" and unbox("\\boxed 7") == "7"
    assert unbox("\\fbox{7}") == "\\fbox{7}" and unbox("plain") == "plain" and unbox("") == ""
    with pytest.raises(Unnormalizable):
        unbox(None)


def test_answer_tags_take_the_first_pair():
    assert answer_tags("<answer> 1 </answer><answer>2</answer>") == "1"
    assert answer_tags("<answer>\n\n</answer>") == ""
    assert answer_tags("none") is None


@pytest.mark.parametrize("text,answer", [
    ("\\boxed{}<answer>7</answer>", "7"), ("\\boxed{}", ""), ("\\boxed{8", None),
    ("\\boxed{8<answer>9</answer>", "9"), ("plain text", "plain text"),
])
def test_parse_boxed_answer(text, answer):
    assert parse_boxed_answer(text) == answer


@pytest.mark.parametrize("raw,normal", [
    ("\\dfrac{1}{2}", "\\frac{1}{2}"), ("\\frac12", "\\frac{1}{2}"), ("0.5", "\\frac{1}{2}"),
    ("3/4", "\\frac{3}{4}"), ("\\left( 1, 2 \\right)", "(1,2)"), ("5 \\text{ cm}", "5"),
    ("x = 3", "3"), ("\\sqrt3", "\\sqrt{3}"), (".5", "\\frac{1}{2}"), ("10\\%", "10"), ("", ""),
    ("90^\\circ", "90"), ("\\frac1{72}", "\\frac{1}{72}"),
])
def test_normalize_math(raw, normal):
    assert normalize_math(raw) == normal


@pytest.mark.parametrize("raw", ["a/b", "\\sqrt", "\\frac", "1 \\text{ m} \\text{ s}"])
def test_unnormalizable_answers_compare_raw(raw):
    with pytest.raises(Unnormalizable):
        normalize_math(raw)
    assert math_equal(raw, raw) and not math_equal(raw, raw + " ")


def test_none_rules():
    assert math_equal(None, None)  # as HEX's is_equiv ("WARNING: Both None")
    assert not math_equal(None, "1") and not math_equal("1", None)
