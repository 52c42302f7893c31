"""The gsm8k task: the HEX protocol's prompt, parser and gold, checked against the HEX code.

Expected answers were computed by running ``gsm_extract_ans_from_generation`` from
junos-ai-org/hex HEX/eval/HEX_run_by_given_json_samples.py (commit b714b9c61b8ab700261fed42cab5b2b8ff00a394)
on each generation; the float it returns is written as its repr.
"""

from __future__ import annotations

import pytest

from hexviz.tasks import get_task
from hexviz.tasks.gsm8k import float_text, gold_answer, is_correct, parse
from tests.conftest import SHARED
from tests.tasks.conftest import FIXTURES, check_paper_prompt

TASK = get_task("gsm8k")
# HEX/eval/gsm8k.py GSM_SYSTEM_PROMPT, read from the source (the space after "{}." is theirs)
SYSTEM = ("You are a math expert. You will be given a question to solve. Solve it step by step. "
          "Wrap the final answer in a \\boxed{}. \nRespond in the following format:\n"
          "<reasoning>\nYour reasoning here\n</reasoning>\n<answer>\n\\boxed{...}\n</answer>")
QUESTION = "Tom has 5 apples. He buys 3 more. How many apples does Tom have now?"

# (generation, HEX's answer)
CASES = [
    ('<reasoning>\n16 - 3 - 4 = 9, 9 * 2 = 18\n</reasoning>\n<answer>\n\\boxed{18}\n</answer><|eot_id|><|endoftext|><|endoftext|><|endoftext|>', '18.0'),
    ('\\boxed{18}', '18.0'),
    ('\\boxed{ 18 }', '18.0'),
    ('\\boxed{18.50}', '18.5'),
    ('\\boxed{1,000}', '1.0'),
    ('\\boxed{$18}', '18.0'),
    ('\\boxed{18 dollars}', '18.0'),
    ('\\boxed{\\$18.00}', '18.0'),
    ('\\boxed{\\frac{1}{2}}', '1.0'),
    ('\\boxed{\\dfrac{3}{4}}', '3.0'),
    ('\\boxed{\\text{18 apples}}', '18.0'),
    ('\\boxed{-7}', '-7.0'),
    ('\\boxed{- 7}', '7.0'),
    ('\\boxed{}', None),
    ('\\boxed{...} then \\boxed{42}', '42.0'),
    ('\\boxed{....}', None),
    ('\\boxed{x} and \\boxed{5}', '5.0'),
    ('first \\boxed{3} then \\boxed{4}', '3.0'),
    ('\\boxed{{18}}', '18.0'),
    ('\\boxed{18', None),
    ('<answer>18</answer>', '18.0'),
    ('<answer>The answer is 18 dollars, not 20</answer>', '20.0'),
    ('<answer>\n\n</answer>', None),
    ('<answer>\\boxed{}</answer>', None),
    ('<answer>no number here</answer>', None),
    ('The answer is 18.', None),
    ('', None),
    ('\\boxed{1e3}', '1000.0'),
    ('\\boxed{inf}', 'inf'),
    ('\\boxed{1_000}', '1000.0'),
    ('\\boxed{3.}', '3.0'),
    ('\\boxed{.5}', '0.5'),
    ('\\boxed{12}\n<answer>99</answer>', '12.0'),
    ('\\boxed{\n18\n}', None),
    ('<answer>3 + 4 = 7</answer>', '7.0'),
    ('\\boxed{50\\%}', '50.0'),
    ('\\boxed{-0}', '0.0'),
    ('\\boxed{5 \\text{ cm}}', '5.0'),
    ('\\boxed{2/3}', '2.0'),
    ('\\boxed{x = 12}', '12.0'),
]


@pytest.mark.parametrize("generation,expected", CASES)
def test_parser_gives_the_hex_codes_answer(generation, expected):
    assert parse(generation) == expected


def test_enough_tricky_generations():
    assert len(CASES) >= 30


def test_answers_vote_like_floats():
    assert float_text(-0.0) == float_text(0.0) == "0.0"
    assert parse("\\boxed{18}") == parse("\\boxed{18.00}") == parse("<answer>18</answer>")


@pytest.mark.parametrize("solution,gold", [
    ("so 9 * 2 = 18\n#### 18", "18.0"), ("#### 1,000", "1000.0"), ("#### $5.50", "5.5"),
    ("#### -3", None),  # HEX's gold regex takes no sign: such problems are never right
    ("no final line", None), ("#### 7\n#### 8", "7.0"),
])
def test_gold_is_hexs_extract_answer_gsm8k(solution, gold):
    assert gold_answer(solution) == gold


def test_correct_compares_floats():
    assert is_correct("18.0", "18.0") and is_correct(parse("\\boxed{18.00}"), "18.0")
    assert not is_correct(None, "18.0") and not is_correct("18.0", None)
    assert not is_correct("nan", "nan")  # a float nan equals nothing, as in the HEX code


def test_prompt_is_the_system_prompt_then_the_question(builtin_tokenizer, llada_tokenizer):
    data = FIXTURES / "gsm8k" / "test.jsonl"
    check_paper_prompt(TASK, data, SYSTEM, builtin_tokenizer, llada_tokenizer)
    text = TASK.prompt_text(llada_tokenizer, TASK.read(data)[0])
    assert text.startswith("<|startoftext|><|start_header_id|>user<|end_header_id|>\n\nYou are")
    assert text.endswith("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n<reasoning>")


def test_prompt_ids_tokenize_the_prompt_text(builtin_tokenizer):
    problem = TASK.read(FIXTURES / "gsm8k" / "test.jsonl")[0]
    ids = TASK.prompt_ids(builtin_tokenizer, problem)
    assert ids == builtin_tokenizer(TASK.prompt_text(builtin_tokenizer, problem))["input_ids"]


def test_reads_the_fixture():
    problems = TASK.read(FIXTURES / "gsm8k" / "test.jsonl")
    assert [p.gold for p in problems] == ["1000.0", "5.0", None]
    assert problems[0].question.startswith("Ann has 1,200 stamps")


def test_reads_the_real_gsm8k_test_set():
    path = SHARED / "data" / "gsm8k" / "test.jsonl"
    if not path.exists():
        pytest.skip("../shared/data/gsm8k is not beside this checkout")
    problems = TASK.read(path)
    assert len(problems) == 1319
    assert problems[0].gold == "18.0" and problems[0].question.startswith("Janet’s ducks")
    assert sum(p.gold is None for p in problems) == 2  # "#### -10" and "#### -3"
    assert len(TASK.read(path, limit=2)) == 2
