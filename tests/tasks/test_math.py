"""The math task (MATH-500): prompt, parser and equivalence checked against the HEX code.

Expected values come from running ``parse_math_answers`` (HEX_run_by_given_json_samples.py) and
``is_equiv`` (parser_helper.py) of junos-ai-org/hex HEX/eval/ (commit b714b9c61b8ab700261fed42cab5b2b8ff00a394) on each
(generation, gold) pair.
"""

from __future__ import annotations

import pytest

from hexviz.tasks import get_task
from tests.tasks.conftest import FIXTURES, check_paper_prompt

TASK = get_task("math")
DATA = FIXTURES / "math500" / "test.jsonl"
# HEX/eval/math500.py MATH500_SYSTEM_PROMPT: no space after "{}.", and it ends '</answer>" \n'
SYSTEM = ("You are a math expert. You will be given a question to solve. Solve it step by step. "
          "Wrap the final answer in a \\boxed{}.\nRespond in the following format:\n"
          "<reasoning>\nYour reasoning here\n</reasoning>\n<answer>\n\\boxed{...}\n</answer>\" \n")

# (generation, HEX's parsed answer, gold, HEX's is_equiv)
CASES = [
    ('\\boxed{\\frac{1}{2}}', '\\frac{1}{2}', '\\frac{1}{2}', True),
    ('\\boxed{\\dfrac{1}{2}}', '\\dfrac{1}{2}', '\\frac{1}{2}', True),
    ('\\boxed{\\frac12}', '\\frac12', '\\frac{1}{2}', True),
    ('\\boxed{0.5}', '0.5', '\\frac{1}{2}', True),
    ('\\boxed{1/2}', '1/2', '\\frac{1}{2}', True),
    ('\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}', '\\left( 3, \\frac{\\pi}{2} \\right)', '\\left( 3, \\frac{\\pi}{2} \\right)', True),
    ('\\boxed{(3,\\frac{\\pi}{2})}', '(3,\\frac{\\pi}{2})', '\\left( 3, \\frac{\\pi}{2} \\right)', True),
    ('\\boxed{5 \\text{ cm}}', '5 \\text{ cm}', '5', True),
    ('\\boxed{5\\text{ cm} \\text{ and } 6}', '5\\text{ cm} \\text{ and } 6', '5', False),
    ('\\boxed{90^\\circ}', '90^\\circ', '90', True),
    ('\\boxed{90^{\\circ}}', '90^{\\circ}', '90', True),
    ('\\boxed{10\\%}', '10\\%', '10', True),
    ('\\boxed{\\$10}', '\\$10', '10', True),
    ('\\boxed{x = 3}', 'x = 3', '3', True),
    ('\\boxed{xyz = 3}', 'xyz = 3', '3', False),
    ('\\boxed{\\sqrt3}', '\\sqrt3', '\\sqrt{3}', True),
    ('\\boxed{2\\sqrt{2}}', '2\\sqrt{2}', '2\\sqrt{2}', True),
    ('\\boxed{\\sqrt}', '\\sqrt', '\\sqrt', True),
    ('\\boxed{\\frac}', '\\frac', '\\frac', True),
    ('\\boxed{a/b}', 'a/b', 'a/b', True),
    ('\\boxed{03/4}', '03/4', '\\frac{3}{4}', False),
    ('\\boxed{}', '', '', True),
    ('\\boxed{}<answer>7</answer>', '7', '7', True),
    ('\\boxed{} and no tags', '', '', True),
    ('<answer>\\frac{1}{2}</answer>', '<answer>\\frac{1}{2}</answer>', '\\frac{1}{2}', False),
    ('The answer is 7, stated plainly.', 'The answer is 7, stated plainly.', '7', False),
    ('\\boxed{3} then \\boxed{4}', '4', '4', True),
    ('\\boxed{\\boxed{5}}', '5', '5', True),
    ('\\fbox{6}', '\\fbox{6}', '6', False),
    ('\\boxed 7$ and more', '7', '7', True),
    ('\\boxed{8', None, '8', False),
    ('\\boxed{8<answer>9</answer>', '9', '9', True),
    ('\\boxed{.5}', '.5', '0.5', True),
    ('\\boxed{ .5}', ' .5', '0.5', True),
    ('\\boxed{\\tfrac{2}{3}}', '\\tfrac{2}{3}', '\\frac23', True),
    ('\\boxed{\\{1,2\\}}', '\\{1,2\\}', '\\{1,2\\}', True),
    ('\\boxed{\\text{(C)}}', '\\text{(C)}', '\\text{(C)}', True),
    ('\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}', '\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}', '\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}', True),
    ('\\boxed{-\\frac{1}{3}}', '-\\frac{1}{3}', '-\\frac13', True),
    ('\\boxed{\\frac{1}{2}}<|eot_id|><|endoftext|><|endoftext|>', '\\frac{1}{2}', '\\frac{1}{2}', True),
]


@pytest.mark.parametrize("generation,expected,gold,equivalent", CASES)
def test_parser_and_equivalence_match_the_hex_code(generation, expected, gold, equivalent):
    answer = TASK.parse(generation)
    assert answer == expected
    assert TASK.is_correct(answer, gold) is equivalent


def test_reads_the_fixture():
    problems = TASK.read(DATA)
    assert [p.gold for p in problems] == [
        "\\frac{1}{2}", "\\left( 3, \\frac{\\pi}{2} \\right)", "120"]
    assert problems[0].question == "What is $\\frac{1}{4} + \\frac{1}{4}$?"


def test_prompt_is_the_system_prompt_then_the_question(builtin_tokenizer, llada_tokenizer):
    check_paper_prompt(TASK, DATA, SYSTEM, builtin_tokenizer, llada_tokenizer)


def test_enough_tricky_generations():
    assert len(CASES) >= 30
