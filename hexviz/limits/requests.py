"""Limits on a request: the prompt, the seeds, one decode's size, a live eval, and API fields
read as numbers. Each check raises `LimitError` with one line naming the problem and the
variable that raises the limit."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from typing import Any

from hexviz.limits.operator import LimitError, Limits, current


def as_int(value: Any, name: str) -> int:
    """An integer from an API field (int, integral float or digits), or one line saying why not."""
    try:
        number = float(value) if not isinstance(value, int) else value
        if isinstance(number, float) and not number.is_integer():
            raise ValueError
        return int(number)
    except (TypeError, ValueError, OverflowError):
        raise LimitError(f"{name} must be a whole number (got {value!r})") from None


def as_float(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise LimitError(f"{name} must be a number (got {value!r})") from None
    if not math.isfinite(number):
        raise LimitError(f"{name} must be a finite number (got {value!r})")
    return number


def check_prompt(text: str, limits: Limits | None = None) -> None:
    """Refuse an empty prompt, one too long to tokenize cheaply, or one with control characters."""
    limits = limits or current()
    if not text.strip():
        raise LimitError("the prompt is empty: type a question or pick an example")
    if len(text) > limits.max_prompt_chars:
        raise LimitError(f"the prompt has {len(text):,} characters; this app allows "
                         f"{limits.max_prompt_chars:,} (HEXVIZ_MAX_PROMPT_TOKENS)")
    bad = next((c for c in text if unicodedata.category(c) == "Cc" and c not in "\t\n\r"), None)
    if bad is not None:
        raise LimitError(f"the prompt contains the control character U+{ord(bad):04X}; "
                         "remove it")


def check_prompt_tokens(n_tokens: int, limits: Limits | None = None) -> None:
    limits = limits or current()
    if n_tokens > limits.max_prompt_tokens:
        raise LimitError(f"the prompt is {n_tokens} tokens; this app allows "
                         f"{limits.max_prompt_tokens} (HEXVIZ_MAX_PROMPT_TOKENS)")


def check_seeds(seeds: int, temperature: float, remasking: str = "low_confidence",
                limits: Limits | None = None) -> None:
    """Seeds only differ when something is random (sampling, or the random rule); otherwise
    they would be identical extra votes."""
    limits = limits or current()
    if seeds > 1 and temperature == 0 and remasking != "random":
        raise LimitError(f"seeds > 1 need temperature > 0 (or the random rule): at temperature 0 "
                         f"every seed decodes the same answer and would vote again "
                         f"(got seeds={seeds})")
    if seeds > limits.max_experts:
        raise LimitError(f"seeds must be at most {limits.max_experts} (got {seeds}; "
                         "HEXVIZ_MAX_EXPERTS)")


def most_gen_length(limits: Limits, max_length: int | None = None,
                    prompt_tokens: int = 0) -> int:
    """The longest answer region a request may ask for: the operator's limit, and what the
    model's context (``max_length`` positions; None: unknown) leaves after the prompt."""
    room = max_length - prompt_tokens if max_length else limits.max_gen_length
    return min(limits.max_gen_length, room)


def check_gen_length(gen_length: int, limits: Limits | None = None, max_length: int | None = None,
                     prompt_tokens: int = 0) -> None:
    """The answer region asked for against the most that fits (`most_gen_length`), stated once
    in the user's terms: what binds, the model's context after this prompt or the operator's
    variable."""
    limits = limits or current()
    if gen_length <= most_gen_length(limits, max_length, prompt_tokens):
        return
    if max_length and max_length - prompt_tokens <= limits.max_gen_length:
        check_context(prompt_tokens, gen_length, max_length)  # the context binds: it says so
    raise LimitError(f"gen_length must be at most {limits.max_gen_length} (got {gen_length}; "
                     "HEXVIZ_MAX_GEN_LENGTH)")


def growing_step_cap(mode: str, gen_length: int, initial_length: int, factor: int) -> int:
    """The most steps a growing canvas (`hexviz.policy.length`) may take: rho-EOS's own cap,
    ``gen_length`` steps; DAEDAL, which has none, grows its all-mask start by ``factor`` per
    step, then commits at least one token per step, and can have held at most ``gen_length +
    factor`` masks (insertions stop at the maximum, the last one cut there)."""
    if mode == "rho-eos":
        return gen_length
    growth = -(-max(gen_length - initial_length, 0) // factor) + 1
    return growth + gen_length + factor


def check_decode(gen_length: int, steps: int, rows: int, limits: Limits | None = None,
                 step_cap: int | None = None, steps_given: bool = True) -> None:
    """Bound one run's work (rows x steps forward rows of gen_length) before decoding;
    ``step_cap`` is the most steps a parallel sampler may take (gen_length), when above steps;
    ``steps_given`` False: the steps were derived from gen_length, so a refusal names that."""
    limits = limits or current()
    check_gen_length(gen_length, limits)
    if steps > limits.max_steps and not steps_given:
        raise LimitError(f"gen_length {gen_length} takes {steps} steps at this model's tokens per "
                         f"step, more than this app's {limits.max_steps} (HEXVIZ_MAX_STEPS); ask "
                         "for fewer steps or a shorter gen_length")
    if steps > limits.max_steps:
        raise LimitError(f"steps must be at most {limits.max_steps} (got {steps}; "
                         "HEXVIZ_MAX_STEPS)")
    if step_cap is not None and step_cap > limits.max_steps:
        raise LimitError(f"this decode may take up to {step_cap} steps, more than this app's "
                         f"{limits.max_steps} (HEXVIZ_MAX_STEPS); use a shorter gen_length, or "
                         "the fixed or bounded sampler at a fixed length")
    if rows > limits.max_experts:
        raise LimitError(f"{rows} experts (block sizes x seeds + baselines) is more than this "
                         f"app's {limits.max_experts} (HEXVIZ_MAX_EXPERTS); use fewer block "
                         "sizes or seeds")


def check_context(prompt_tokens: int, gen_length: int, max_length: int | None) -> None:
    """The prompt and the answer region must fit the model's context (``max_length`` positions;
    None: no limit); a refusal says how long an answer fits after this prompt."""
    if not max_length or prompt_tokens + gen_length <= max_length:
        return
    room = max_length - prompt_tokens
    if room < 1:
        raise LimitError(f"the prompt takes {prompt_tokens} of this model's {max_length} "
                         "positions and leaves none for an answer; shorten the prompt")
    raise LimitError(f"gen_length must be at most {room} for this model and prompt (got "
                     f"{gen_length}): the prompt takes {prompt_tokens} of the model's "
                     f"{max_length} positions")


def check_eval_problems(problems: int, limits: Limits | None = None) -> None:
    limits = limits or current()
    if not 1 <= problems <= limits.max_eval_problems:
        raise LimitError(f"problems must be from 1 to {limits.max_eval_problems} (got {problems}; "
                         "HEXVIZ_MAX_EVAL_PROBLEMS)")


# The prompt a menu leaves room for: a chat template around a few words, no shorter than the
# shortest prompt a model takes, so every value offered runs for some prompt (a longer one may
# still be refused, in `check_gen_length`'s words).
SHORT_PROMPT_TOKENS = 16


def gen_length_choices(candidates: Sequence[int], max_length: int | None,
                       limits: Limits | None = None) -> list[int]:
    """Menu entries that can run on a model with ``max_length`` positions (None: unknown) under
    this app's limits: `most_gen_length` after a short prompt."""
    most = most_gen_length(limits or current(), max_length, SHORT_PROMPT_TOKENS)
    return [g for g in candidates if g <= most]
