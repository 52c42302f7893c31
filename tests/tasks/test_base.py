"""The task contract and the registry (`get_task`)."""

from __future__ import annotations

import pytest

from hexviz.tasks import PAPER_TASKS, TASK_NAMES, get_task
from hexviz.tasks.base import Problem, Task


def test_every_task_is_registered_by_its_name():
    assert TASK_NAMES == ("gsm8k", "math", "arcc", "truthfulqa", "countdown", "sudoku",
                          "tinygsm")
    assert all(get_task(name).name == name for name in TASK_NAMES)
    assert set(PAPER_TASKS) <= set(TASK_NAMES)
    with pytest.raises(ValueError, match="unknown task 'mmlu'; choose one of gsm8k"):
        get_task("mmlu")


def test_paper_tasks_use_the_reasoning_prefix_and_the_papers_length():
    for name in TASK_NAMES[:-1]:
        task = get_task(name)
        assert task.generation_prefix == "<reasoning>" and task.paper_gen_length == 256
        assert task.parse_raw_region and "{question}" in task.template()


class RawTokenizer:
    """A tokenizer double: decode shows what the parser is given."""

    chat_template = None

    def decode(self, ids, skip_special_tokens=True):
        return f"{ids} special={not skip_special_tokens}"

    def __call__(self, text):
        return {"input_ids": [len(text)]}


def test_paper_tasks_parse_the_raw_region_with_special_tokens():
    task = get_task("gsm8k")
    assert task.generation_text(RawTokenizer(), [1, 2], "cut") == "[1, 2] special=True"


def test_without_a_chat_template_the_prompt_is_the_message_and_prefix():
    task = get_task("arcc")
    problem = Problem("Q?", "A")
    assert task.prompt_text(RawTokenizer(), problem) == task.user_message(problem) + "<reasoning>"
    assert task.prompt_ids(RawTokenizer(), problem) == [len(task.prompt_text(RawTokenizer(),
                                                                             problem))]


def test_read_limit_and_empty_files(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"question": "q", "answer": "#### 1"}\n' * 3)
    assert len(get_task("gsm8k").read(path, limit=2)) == 2
    with pytest.raises(ValueError, match="limit must be at least 1"):
        get_task("gsm8k").read(path, limit=0)
    path.write_text("\n")
    with pytest.raises(ValueError, match="holds no problems"):
        get_task("gsm8k").read(path)


def test_a_row_in_another_format_is_named(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"problem": "q", "answer": "1"}\n')
    with pytest.raises(ValueError, match=r"row 1 is not a gsm8k row \(no 'question' field\); "
                                         r"expected \{\"question\""):
        get_task("gsm8k").read(path)


def test_contract_validation():
    with pytest.raises(ValueError, match="question must be text"):
        Problem(3, None)
    with pytest.raises(ValueError, match="a task name must be a plain word"):
        Task("two words", "", "", lambda r: r, lambda t: t, lambda a, g: True)
