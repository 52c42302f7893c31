"""The arcc task (ARC-Challenge): options as lettered lines, HEX's MATH-style parser.

Expected values come from running ``parse_math_answers`` and ``is_equiv`` of
junos-ai-org/hex HEX/eval/ (commit b714b9c61b8ab700261fed42cab5b2b8ff00a394) (HEX.py parses ARC-C with the MATH parser) on each pair.
"""

from __future__ import annotations

import pytest

from hexviz.tasks import get_task
from tests.tasks.conftest import FIXTURES, check_paper_prompt

TASK = get_task("arcc")
DATA = FIXTURES / "arc_challenge" / "test.jsonl"
# HEX/eval/arcc.py ARC_C_SYSTEM_PROMPT
SYSTEM = ("You are a science and reasoning expert. You will be given a multiple-choice question "
          "with options labeled A, B, C, D (and sometimes E).\nThink step by step, but output "
          "only ONE final choice.\nWrap ONLY the final choice letter in a \\boxed{}.\n\n"
          "Respond in the following format:\n<reasoning>\nYour reasoning here\n</reasoning>\n"
          "<answer>\n\\boxed{...}\n</answer>")

# (generation, HEX's parsed answer, gold, HEX's is_equiv)
CASES = [
    ('<reasoning>Plants need light.</reasoning>\n<answer>\n\\boxed{B}\n</answer><|eot_id|><|endoftext|><|endoftext|><|endoftext|><|endoftext|>', 'B', 'B', True),
    ('\\boxed{B}', 'B', 'B', True),
    ('\\boxed{ B }', ' B ', 'B', True),
    ('\\boxed{b}', 'b', 'B', False),
    ('\\boxed{(B)}', '(B)', 'B', False),
    ('\\boxed{B.}', 'B.', 'B', False),
    ('\\boxed{B. photosynthesis}', 'B. photosynthesis', 'B', False),
    ('\\boxed{\\text{B}}', '\\text{B}', 'B', False),
    ('\\boxed{A} no wait \\boxed{C}', 'C', 'B', False),
    ('<answer>C</answer>', '<answer>C</answer>', 'C', False),
    ('<answer>\nC\n</answer><|eot_id|>', '<answer>\nC\n</answer><|eot_id|>', 'C', False),
    ('The answer is C.', 'The answer is C.', 'C', False),
    ('Option (D) is right.', 'Option (D) is right.', 'C', False),
    ('\\boxed{}', '', 'A', False),
    ('\\boxed{}<answer>A</answer>', 'A', 'A', True),
    ('\\boxed{E}', 'E', 'E', True),
    ('\\boxed{1}', '1', '1', True),
    ('\\fbox{A}', '\\fbox{A}', 'A', False),
    ('\\boxed A$', 'A', 'A', True),
    ('\\boxed{A', None, 'A', False),
    ('\\boxed{A}}', 'A', 'A', True),
    ('\\boxed{{A}}', '{A}', 'A', False),
    ('**B**', '**B**', 'B', False),
    ('\\boxed{B} \\boxed{}', '', 'B', False),
    ('I choose B', 'I choose B', 'B', False),
    ('', '', '', True),
    ('\\boxed{AB}', 'AB', 'A', False),
    ('\\boxed{A or B}', 'A or B', 'A', False),
    ('\\boxed{\\textbf{C}}', '\\textbf{C}', 'C', False),
    ('<answer>\\boxed{D}</answer>', 'D', 'D', True),
    ('\\boxed{C}\n</answer>', 'C', 'C', True),
    ('\\boxed{$C$}', '$C$', 'C', False),
]


@pytest.mark.parametrize("generation,expected,gold,equivalent", CASES)
def test_parser_and_equivalence_match_the_hex_code(generation, expected, gold, equivalent):
    answer = TASK.parse(generation)
    assert answer == expected
    assert TASK.is_correct(answer, gold) is equivalent


def test_question_lists_the_options_as_lettered_lines():
    problems = TASK.read(DATA)
    assert problems[0].question == (
        "Which process do plants use to make their own food?\n\nOptions:\nA. respiration\n"
        "B. photosynthesis\nC. digestion\nD. evaporation\n\nChoose ONE letter.")
    assert problems[0].gold == "B"
    # numeric labels stay numeric, stems and options are stripped, five options stay five
    assert "\n1. friction\n2. magnetism\n3. gravity\n4. tension\n" in problems[1].question
    assert problems[1].question.startswith("A student drops a ball. Which force pulls the ball "
                                           "toward the ground?\n\nOptions:")
    assert problems[1].gold == "3"
    assert problems[2].question.splitlines()[-3] == "E. uranium" and problems[2].gold == "D"


def test_a_row_without_choices_is_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "q", "choices": {"text": [], "label": []}, "answerKey": "A"}\n')
    with pytest.raises(ValueError, match="row 1 is not a arcc row"):
        TASK.read(path)


def test_prompt_is_the_system_prompt_then_the_question(builtin_tokenizer, llada_tokenizer):
    check_paper_prompt(TASK, DATA, SYSTEM, builtin_tokenizer, llada_tokenizer)


def test_enough_tricky_generations():
    assert len(CASES) >= 30
