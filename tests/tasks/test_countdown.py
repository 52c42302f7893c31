"""The countdown task: prompt, expression parser and scoring checked against the HEX code.

Expected values come from running ``parse_countdown_answers`` and ``evaluate_countdown`` of
junos-ai-org/hex HEX/eval/HEX_run_by_given_json_samples.py (commit b714b9c61b8ab700261fed42cab5b2b8ff00a394) with
ground truth [[44, 19, 35], 98].
"""

from __future__ import annotations

import json

import pytest

from hexviz.tasks import get_task
from hexviz.tasks.countdown import evaluate
from tests.tasks.conftest import FIXTURES, check_paper_prompt

TASK = get_task("countdown")
DATA = FIXTURES / "countdown" / "countdown_cd3_test.jsonl"
GOLD = json.dumps([[44, 19, 35], 98])
# HEX/eval/countdown.py CTD_SYSTEM_PROMPT: "\\boxed" + "{}" + " tags ...", and no line break
# between the example and "Respond"
SYSTEM = ("Using only the provided numbers, create an arithmetic expression that evaluates to "
          "exactly the provided target number. You may use the operations +, -, *, and / as "
          "needed, but each number must be used exactly once. Think step-by-step. After "
          "reasoning, provide only your final expression inside \\boxed{} tags without "
          "including an equals sign or the target number. For example: \\boxed{a + b * c}"
          "Respond in the following format:\n<reasoning>\nYour reasoning here\n</reasoning>\n"
          "<answer>\n\\boxed{...}\n</answer>")

# (generation, HEX's parsed expression, HEX's evaluate_countdown)
CASES = [
    ('<reasoning>44 + 19 + 35 = 98</reasoning>\n<answer>\n\\boxed{44 + 19 + 35}\n</answer><|eot_id|><|endoftext|><|endoftext|>', '44 + 19 + 35', True),
    ('\\boxed{44 + 19 + 35}', '44 + 19 + 35', True),
    ('\\boxed{44+19+35 = 98}', '44+19+35 = 98', True),
    ('\\boxed{(44 + 19) + 35}', '(44 + 19) + 35', True),
    ('\\boxed{44 \\times 2 + 10}', '44 * 2 + 10', False),
    ('\\boxed{35 + 19 + 44}', '35 + 19 + 44', True),
    ('\\boxed{44 + 19}', '44 + 19', False),
    ('\\boxed{44 + 19 + 35 + 0}', '44 + 19 + 35 + 0', False),
    ('\\boxed{44 + 19 + 36}', '44 + 19 + 36', False),
    ('\\boxed{44 * 19 / 35}', '44 * 19 / 35', False),
    ('<answer>44 + 19 + 35</answer>', '<answer>44 + 19 + 35</answer>', False),
    ('44 + 19 + 35', '44 + 19 + 35', True),
    ('The expression is 44 + 19 + 35.', 'The expression is 44 + 19 + 35.', False),
    ('\\boxed{44 + 19 + 35', '\\boxed{44 + 19 + 35', False),
    ('\\boxed{}', '', False),
    ('\\boxed{44 \\cdot 1 + 19 + 35}', '44 * 1 + 19 + 35', False),
    ('\\boxed{98 - 0}', '98 - 0', False),
    ('\\boxed{(44 + 19 + 35)}', '(44 + 19 + 35)', True),
    ('\\boxed{44 + 19 + 35} \\boxed{1 + 2}', '1 + 2', False),
    ('\\boxed{44+19+35}<answer>1+2</answer>', '44+19+35', True),
    ('\\boxed{44 + (19 + 35)}', '44 + (19 + 35)', True),
    ('\\boxed{44 \\div 2 + 19 + 35}', '44 / 2 + 19 + 35', False),
    ('\\boxed 44 + 19 + 35$', '44 + 19 + 35', True),
    ('\\boxed{x + y + z}', 'x + y + z', False),
    ('', '', False),
    ('\\boxed{44 + 19 + 35 = 98 + 0}', '44 + 19 + 35 = 98 + 0', True),
    ('\\boxed{35 * 2 + 44 - 19}', '35 * 2 + 44 - 19', False),
    ('\\boxed{(35 - 19) * 44 / 0}', '(35 - 19) * 44 / 0', False),
    ('\\boxed{44 ** 1 + 19 + 35}', '44 ** 1 + 19 + 35', False),
    ('\\boxed{44 // 1 + 19 + 35}', '44 // 1 + 19 + 35', False),
    ('\\boxed{(44)(19)(35)}', '(44)(19)(35)', False),
    ('\\boxed{44 + 19 + 35.0}', '44 + 19 + 35.0', False),
]


@pytest.mark.parametrize("generation,expected,correct", CASES)
def test_parser_and_scoring_match_the_hex_code(generation, expected, correct):
    answer = TASK.parse(generation)
    assert answer == expected
    assert TASK.is_correct(answer, GOLD) is correct


@pytest.mark.parametrize("expression,value", [
    ("44 + 19 + 35", 98), ("(3 + 4) * 2", 14), ("81 / 9 / 3", 3.0), ("7 // 2", 3), ("2 ** 3", 8),
    ("-3 + 5", 2), ("1 / 0", float("inf")), ("(1)(2)", float("inf")), ("3 4", float("inf")),
    ("import os", float("inf")), ("9 ** 9 ** 9", float("inf")), ("", float("inf")),
])
def test_evaluate_is_arithmetic_only(expression, value):
    assert evaluate(expression) == value


def test_reads_the_fixture():
    problems = TASK.read(DATA)
    assert problems[0].question == "Numbers: [44, 19, 35]\nTarget: 98"
    assert json.loads(problems[1].gold) == [[2, 3, 4], 14]
    assert TASK.is_correct("(3 + 4) * 2", problems[1].gold)
    assert TASK.is_correct("81 - 9 * 3", problems[2].gold) is False
    assert TASK.is_correct("81 / (9 / 3)", problems[2].gold)


def test_prompt_is_the_system_prompt_then_the_question(builtin_tokenizer, llada_tokenizer):
    check_paper_prompt(TASK, DATA, SYSTEM, builtin_tokenizer, llada_tokenizer)


def test_enough_tricky_generations():
    assert len(CASES) >= 30
