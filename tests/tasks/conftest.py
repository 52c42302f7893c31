"""Tokenizers for the prompt tests: the built-in model's, and the same one wearing
LLaDA-8B-Instruct's chat template (Llama-3 headers after <|startoftext|>, content trimmed),
so prompts are checked against both templates without downloading LLaDA."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import AutoTokenizer

from hexviz.paths import BUILTIN_DIR

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# GSAI-ML/LLaDA-8B-Instruct tokenizer_config.json "chat_template" (bos_token <|startoftext|>)
LLADA_CHAT_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim"
    " + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
    "{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")


@pytest.fixture(scope="session")
def builtin_tokenizer():
    return AutoTokenizer.from_pretrained(BUILTIN_DIR)


@pytest.fixture(scope="session")
def llada_tokenizer():
    tokenizer = AutoTokenizer.from_pretrained(BUILTIN_DIR)
    tokenizer.chat_template = LLADA_CHAT_TEMPLATE
    tokenizer.bos_token = "<|startoftext|>"
    return tokenizer


def builtin_prompt(user: str) -> str:
    """The built-in template (assets/tinygsm-dllm/chat_template.jinja) around one user turn."""
    return "<|user|>" + user + "<|eot_id|><|assistant|>"


def llada_prompt(user: str) -> str:
    return ("<|startoftext|><|start_header_id|>user<|end_header_id|>\n\n" + user.strip()
            + "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")


def check_paper_prompt(task, data: Path, system: str, builtin_tokenizer, llada_tokenizer) -> None:
    """The HEX protocol on ``data``'s first problem: the user turn is ``system``, a blank line and
    the question, and "<reasoning>" follows the generation prompt, in both chat templates."""
    problem = task.read(data)[0]
    user = system + "\n\n" + problem.question
    assert task.user_message(problem) == user
    assert task.generation_prefix == "<reasoning>"
    assert task.prompt_text(builtin_tokenizer, problem) == builtin_prompt(user) + "<reasoning>"
    assert task.prompt_text(llada_tokenizer, problem) == llada_prompt(user) + "<reasoning>"
