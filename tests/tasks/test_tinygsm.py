"""The tinygsm task: the built-in model's format, unchanged from before tasks existed."""

from __future__ import annotations

import pytest

from hexviz.models.tokens import chat_prompt_ids
from hexviz.paths import TEST_SET
from hexviz.tasks import get_task

TASK = get_task("tinygsm")


def test_reads_the_builtin_test_set_with_normalised_golds():
    problems = TASK.read(TEST_SET, limit=5)
    assert len(problems) == 5
    assert problems[0].question.startswith("Nora has 6 stickers") and problems[0].gold == "24"


def test_prompt_is_the_bare_question_in_the_chat_template(builtin_tokenizer):
    problem = TASK.read(TEST_SET, limit=1)[0]
    assert TASK.user_message(problem) == problem.question and TASK.generation_prefix == ""
    assert TASK.prompt_ids(builtin_tokenizer, problem) == chat_prompt_ids(builtin_tokenizer,
                                                                         problem.question)
    assert TASK.paper_gen_length is None  # the model's own settings


@pytest.mark.parametrize("text,answer", [
    ("so 3 + 4 = 7\n#### 7", "7"), ("#### 1,200.0", "1200"), ("#### 1\n#### 2", "2"),
    ("the answer is 7", None),
])
def test_parser_is_the_builtin_models(text, answer):
    assert TASK.parse(text) == answer
    assert TASK.generation_text(None, [], text) == text  # parses the answer, not the raw region


def test_correct_is_equality_of_normalised_answers():
    assert TASK.is_correct("7", "7") and not TASK.is_correct(None, "7")


def test_a_row_without_a_final_line_is_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "q", "answer": "no final line"}\n')
    with pytest.raises(ValueError, match="no final '#### N' line"):
        TASK.read(path)


def test_the_first_question_fits_the_builtin_model_with_its_answer(builtin_tokenizer):
    """The question every front door shows first runs at the built-in model's own lengths."""
    from hexviz import models
    from hexviz.tasks.tinygsm import FIRST_QUESTION

    prompt = chat_prompt_ids(builtin_tokenizer, FIRST_QUESTION)
    gen_length = models.read_defaults(models.BUILTIN_DIR).gen_length
    assert len(prompt) + gen_length <= models.load_outline().max_length
