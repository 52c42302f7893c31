"""The sudoku task: prompt, answer patterns and cell scoring checked against the HEX code.

Expected values come from running ``parse_sudoku_answers`` and ``evaluate_sudoku_answers`` of
junos-ai-org/hex HEX/eval/HEX_run_by_given_json_samples.py (commit b714b9c61b8ab700261fed42cab5b2b8ff00a394) on puzzle
1030300120004300 (solution 1234341221434321).
"""

from __future__ import annotations

import json

import pytest

from hexviz.tasks import get_task
from hexviz.tasks.sudoku import cells
from tests.tasks.conftest import FIXTURES, check_paper_prompt

TASK = get_task("sudoku")
DATA = FIXTURES / "sudoku" / "4x4_test_sudoku.csv"
GOLD = json.dumps(["1030300120004300", "1234341221434321"])
# HEX/eval/sudoku.py SUDOKU_SYSTEM_PROMPT: a triple-quoted string that opens and closes with a
# line break
SYSTEM = ("\nPlease solve the following 4x4 Sudoku puzzle. The puzzle is provided as a "
          "16-character string reading left-to-right, top-to-bottom, where '0' represents empty "
          "cells.\n\nRules:\n- Fill empty cells with digits 1-4\n- Each row must contain digits "
          "1-4 exactly once\n- Each column must contain digits 1-4 exactly once\n- Each 2x2 box "
          "must contain digits 1-4 exactly once\n\nImportant: Your solution must be a COMPLETE "
          "16-character string with only the digits 1-4, representing your final solved grid.\n\n"
          "Respond in this exact format:\n<reasoning>\nYour step-by-step solving process\n"
          "</reasoning>\n<answer>\n[16-character solution string with no spaces or separators]\n"
          "</answer>\n")

# (generation, HEX's parsed solution, HEX's (right cells, empty cells))
CASES = [
    ('<reasoning>fill</reasoning>\n<answer>\n1234341221434321\n</answer><|eot_id|><|endoftext|><|endoftext|><|endoftext|>', '1234341221434321', (9, 9)),
    ('<answer>1234341221434321</answer>', '1234341221434321', (9, 9)),
    ('<answer>\n1234 3412 2143 4321\n</answer>', '1234341221434321', (9, 9)),
    ('<answer>\n1234\n3412\n2143\n4321\n</answer>', '1234341221434321', (9, 9)),
    ('<answer>```\n1234341221434321\n```</answer>', '1234341221434321', (9, 9)),
    ('<answer>The grid is ```1234 3412 2143 4321``` done</answer>', '1234341221434321', (9, 9)),
    ('<answer>1234341221434321<|eot_id|>', '1234341221434321', (9, 9)),
    ('<answer>1234341221434321<|endoftext|>', '1234341221434321', (9, 9)),
    ('<answer>123434122143432</answer>', '123434122143432', (8, 9)),
    ('<answer>12343412214343211</answer>', '12343412214343211', (9, 9)),
    ('<answer></answer>', '', (0, 9)),
    ('<answer>   </answer>1234341221434321', '1234341221434321', (9, 9)),
    ('</answer>\n1234341221434321<|eot_id|>', '1234341221434321', (9, 9)),
    ('no tags 1234341221434321 here', '1234341221434321', (9, 9)),
    ('digits 12343412214343210 too long', '', (0, 9)),
    ('', '', (0, 9)),
    ('<answer>[1234341221434321]</answer>', '[1234341221434321]', (0, 9)),
    ('<answer>1,2,3,4,3,4,1,2,2,1,4,3,4,3,2,1</answer>', '1,2,3,4,3,4,1,2,2,1,4,3,4,3,2,1', (2, 9)),
    ('<answer>abcd</answer>', 'abcd', (0, 9)),
    ('<answer>1234341221434321', '1234341221434321', (9, 9)),
    ('<reasoning>1111222233334444</reasoning><answer>1234341221434321</answer>', '1234341221434321', (9, 9)),
    ('<reasoning>try 1111222233334444</reasoning>', '1111222233334444', (1, 9)),
    ('<answer>\n\n</answer><|eot_id|>', '', (0, 9)),
    ('1234341221434321</answer>', '1234341221434321', (9, 9)),
    ('<answer>1234-3412-2143-4321</answer>', '1234-3412-2143-4321', (2, 9)),
    ('<answer>\n```\n1234\n3412\n2143\n4321\n```\n</answer>', '1234341221434321', (9, 9)),
    ('<answer>0000000000000000</answer>', '0000000000000000', (0, 9)),
    ('<answer>1234341221434321</answer><answer>4321214334121234</answer>', '1234341221434321', (9, 9)),
    ('<answer>1 2 3 4 3 4 1 2 2 1 4 3 4 3 2 1</answer>', '1234341221434321', (9, 9)),
    ('x<|eot_id|><answer>1234341221434321</answer>', '1234341221434321', (9, 9)),
    ('<answer><|eot_id|>1234341221434321</answer>', '1234341221434321', (9, 9)),
    ('<ANSWER>1234341221434321</ANSWER>', '1234341221434321', (9, 9)),
]


@pytest.mark.parametrize("generation,expected,scored", CASES)
def test_parser_and_cells_match_the_hex_code(generation, expected, scored):
    answer = TASK.parse(generation)
    assert answer == expected
    assert cells(answer, GOLD) == scored
    assert TASK.is_correct(answer, GOLD) is (scored[0] == scored[1])


def test_reads_the_csv_fixture():
    problems = TASK.read(DATA)
    assert problems[0].question == "Solve the following Sudoku puzzle: 1030300120004300\n"
    assert json.loads(problems[1].gold) == ["0000341221430000", "1234341221434321"]


def test_lladas_template_trims_the_leading_and_trailing_line_breaks(llada_tokenizer):
    text = TASK.prompt_text(llada_tokenizer, TASK.read(DATA)[0])
    assert "<|end_header_id|>\n\nPlease solve" in text
    assert "puzzle: 1030300120004300<|eot_id|>" in text


def test_prompt_is_the_system_prompt_then_the_question(builtin_tokenizer, llada_tokenizer):
    check_paper_prompt(TASK, DATA, SYSTEM, builtin_tokenizer, llada_tokenizer)


def test_enough_tricky_generations():
    assert len(CASES) >= 30
