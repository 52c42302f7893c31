"""The task contract: a dataset's rows, the prompt built around them, the answer parser.

One `Task` per benchmark (`hexviz.tasks.get_task`). The HEX paper's tasks reproduce the authors'
protocol (junos-ai-org/hex, HEX/eval/, commit b714b9c): the user turn is the task's system prompt,
a blank line and the question; the chat template's generation prompt is followed by the
generation prefix ``<reasoning>``; the answer is parsed from the whole answer region decoded with
its special tokens (their ``tokenizer.batch_decode(..., skip_special_tokens=False)``).

No torch here: tokenizers are duck-typed (``apply_chat_template``, ``__call__``, ``decode``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hexviz.tasks.rows import read_rows

# How the HEX tasks' system prompts end (HEX/eval/*.py), word for word
RESPONSE_FORMAT = ("Respond in the following format:\n<reasoning>\nYour reasoning here\n"
                   "</reasoning>\n<answer>\n\\boxed{...}\n</answer>")
REASONING_PREFIX = "<reasoning>"  # HEX/eval/gsm8k.py create_prompt, add_reasoning=True


@dataclass(frozen=True)
class Problem:
    """One row of a dataset, ready for the prompt."""

    question: str  # as formatted for the prompt (options as lettered lines, ...)
    gold: str | None  # the reference answer as the task's `is_correct` reads it; None: unusable

    def __post_init__(self) -> None:
        if not isinstance(self.question, str):
            raise ValueError(f"question must be text (got {type(self.question).__name__})")


@dataclass(frozen=True)
class Task:
    """A benchmark's protocol: how rows become prompts and generations become answers."""

    name: str
    description: str  # one line for the CLI and the app
    system_prompt: str  # "" for a task whose user turn is the bare question
    row_to_problem: Callable[[Mapping[str, Any]], Problem]
    parser: Callable[[str], str | None]
    checker: Callable[[str | None, str | None], bool]
    generation_prefix: str = REASONING_PREFIX
    # True: parse the whole answer region decoded with special tokens (the HEX code's text);
    # False: parse the answer up to its first end token (the built-in model's format).
    parse_raw_region: bool = True
    # True: prompt ids are ``tokenizer(prompt_text)`` as in the HEX code; False: the chat
    # template tokenized directly (as `hexviz.models.tokens.chat_prompt_ids`, how the built-in
    # model was trained).
    tokenize_prompt_text: bool = True
    # HEX/eval/HEX.py's settings for a 256-token answer; None: keep the model's own defaults.
    paper_gen_length: int | None = 256
    row_format: str = ""  # the public format's fields, for error messages and the docs

    def __post_init__(self) -> None:
        if not self.name or not self.name.isidentifier():
            raise ValueError(f"a task name must be a plain word (got {self.name!r})")

    # --- data ---------------------------------------------------------------------------------

    def read(self, path: str | Path, limit: int | None = None) -> list[Problem]:
        """The problems in ``path`` (.jsonl, .json, .csv or .parquet in the public row format)."""
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be at least 1 (got {limit})")
        problems = []
        for number, row in enumerate(read_rows(path), 1):
            try:
                problems.append(self.row_to_problem(row))
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                reason = f"no {err} field" if isinstance(err, KeyError) else str(err)
                raise ValueError(f"{path}: row {number} is not a {self.name} row ({reason}); "
                                 f"expected {self.row_format}") from None
            if limit is not None and len(problems) == limit:
                break
        if not problems:
            raise ValueError(f"{path} holds no problems")
        return problems

    # --- prompt ---------------------------------------------------------------------------------

    def user_message(self, problem: Problem) -> str:
        """The user turn: the system prompt, a blank line, the question (HEX create_prompt)."""
        if not self.system_prompt:
            return problem.question
        return self.system_prompt + "\n\n" + problem.question

    def prompt_text(self, tokenizer, problem: Problem) -> str:
        """The whole prompt as text: chat template with the generation prompt, then the prefix."""
        messages = [{"role": "user", "content": self.user_message(problem)}]
        if getattr(tokenizer, "chat_template", None) is None:
            return messages[0]["content"] + self.generation_prefix
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return text + self.generation_prefix

    def prompt_ids(self, tokenizer, problem: Problem) -> list[int]:
        """Prompt token ids as the HEX code makes them: ``tokenizer(prompt_text)`` (their
        collate_fn), special tokens added the way the tokenizer adds them by default."""
        if not self.tokenize_prompt_text:
            return _chat_template_ids(tokenizer, self.user_message(problem))
        return [int(i) for i in tokenizer(self.prompt_text(tokenizer, problem))["input_ids"]]

    def template(self) -> str:
        """The user turn with a placeholder question, for showing the protocol."""
        return self.user_message(Problem("{question}", None))

    # --- answers --------------------------------------------------------------------------------

    def generation_text(self, tokenizer, token_ids: Sequence[int], text: str) -> str:
        """The text the parser reads: the raw answer region, or the answer before its end."""
        if not self.parse_raw_region:
            return text
        return tokenizer.decode([int(i) for i in token_ids], skip_special_tokens=False)

    def parse(self, text: str) -> str | None:
        """The final answer of a generation as the paper parsed it, or None."""
        return self.parser(text)

    def is_correct(self, answer: str | None, gold: str | None) -> bool:
        return bool(self.checker(answer, gold))


def _chat_template_ids(tokenizer, text: str) -> list[int]:
    """One user turn tokenized by the chat template itself, else the plain text's ids."""
    if getattr(tokenizer, "chat_template", None):
        ids = tokenizer.apply_chat_template([{"role": "user", "content": text}],
                                            add_generation_prompt=True, tokenize=True,
                                            return_dict=False)
        return [int(i) for i in ids]
    return [int(i) for i in tokenizer(text)["input_ids"]]
