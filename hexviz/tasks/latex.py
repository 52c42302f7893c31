"""``\\boxed{}`` extraction and MATH answer equivalence, behaving exactly as the HEX code does.

The paper's numbers depend on these rules, quirks included, so they are reproduced rather than
improved (HEX/eval/parser_helper.py and HEX_run_by_given_json_samples.py, commit b714b9c, which
follow the MATH benchmark's own ``is_equiv``). Quirks worth knowing:

- ``last_boxed`` returns the whole text when it holds no ``\\boxed``/``\\fbox``, so a MATH-style
  parse of an unboxed generation is the generation itself;
- a ``\\fbox{x}`` keeps its wrapper (only ``\\boxed{`` is unwrapped);
- when any ``"\\boxed "`` (with a space) occurs, the text after the last one, up to a ``$``, wins;
- normalisation that cannot proceed (``a/b`` with non-integers, ``\\frac`` or ``\\sqrt`` at the
  very end, two ``\\text{ `` units) falls back to comparing the raw strings.
"""

from __future__ import annotations

import re

_ANSWER_TAGS = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


class Unnormalizable(ValueError):
    """A MATH answer the normaliser cannot rewrite; equivalence then compares raw strings."""


def last_boxed(text: str) -> str | None:
    """The last ``\\boxed{...}`` (or ``\\fbox{...}``) with balanced braces, wrapper included;
    the whole text when there is none; None when its braces never close."""
    if "\\boxed " in text:
        return "\\boxed " + text.split("\\boxed ")[-1].split("$")[0]
    start = text.rfind("\\boxed")
    if start < 0:
        start = text.rfind("\\fbox")
        if start < 0:
            return text
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
    return None


def unbox(boxed: str | None) -> str:
    """The inside of ``\\boxed{x}`` or ``\\boxed x``; anything else unchanged. Unnormalizable
    for None (unclosed braces) and for a ``"\\boxed "`` text that does not start with it."""
    if boxed is None:
        raise Unnormalizable("no closed \\boxed{}")
    if "\\boxed " in boxed:
        if not boxed.startswith("\\boxed "):
            raise Unnormalizable("\\boxed with a space inside another answer")
        return boxed[len("\\boxed "):]
    if boxed.startswith("\\boxed{") and boxed.endswith("}"):
        return boxed[len("\\boxed{"):-1]
    return boxed


def answer_tags(text: str) -> str | None:
    """The stripped content of the first ``<answer>...</answer>``, or None."""
    match = _ANSWER_TAGS.search(text)
    return match.group(1).strip() if match else None


def parse_boxed_answer(text: str) -> str | None:
    """The HEX parser for MATH, ARC-C and TruthfulQA (``parse_math_answers``): the last box's
    content; when that is empty or missing, the first ``<answer>`` tag's content."""
    try:
        answer: str | None = unbox(last_boxed(text))
    except Unnormalizable:
        answer = None
    if not answer:
        tagged = answer_tags(text)
        if tagged is not None:
            answer = tagged
    return answer


# --- MATH normalisation (the MATH benchmark's strip_string, as HEX ships it) ------------------

def _fix_fracs(s: str) -> str:
    """``\\frac12`` -> ``\\frac{1}{2}``, ``\\frac1{b}`` -> ``\\frac{1}{b}``."""
    head, *rest = s.split("\\frac")
    out = head
    for part in rest:
        out += "\\frac"
        if not part:
            raise Unnormalizable("\\frac at the end")
        if part[0] == "{":
            out += part
        elif len(part) < 2:
            return s
        elif part[1] != "{":
            out += "{" + part[0] + "}{" + part[1] + "}" + part[2:]
        else:
            out += "{" + part[0] + "}" + part[1:]
    return out


def _fix_sqrt(s: str) -> str:
    """``\\sqrt3`` -> ``\\sqrt{3}``."""
    if "\\sqrt" not in s:
        return s
    head, *rest = s.split("\\sqrt")
    out = head
    for part in rest:
        if not part:
            raise Unnormalizable("\\sqrt at the end")
        out += "\\sqrt" + part if part[0] == "{" else "\\sqrt{" + part[0] + "}" + part[1:]
    return out


def _fix_a_slash_b(s: str) -> str:
    """``3/4`` -> ``\\frac{3}{4}`` for plain integers written plainly."""
    parts = s.split("/")
    if len(parts) != 2:
        return s
    try:
        a, b = int(parts[0]), int(parts[1])
    except ValueError:
        raise Unnormalizable("a/b with non-integers") from None
    return f"\\frac{{{a}}}{{{b}}}" if s == f"{a}/{b}" else s


def _remove_right_units(s: str) -> str:
    if "\\text{ " not in s:
        return s
    parts = s.split("\\text{ ")
    if len(parts) != 2:
        raise Unnormalizable("several \\text{ units")
    return parts[0]


def normalize_math(s: str) -> str:
    """The canonical form two equivalent MATH answers share; Unnormalizable when stuck."""
    s = s.replace("\n", "").replace("\\!", "").replace("\\\\", "\\")
    s = s.replace("tfrac", "frac").replace("dfrac", "frac")
    s = s.replace("\\left", "").replace("\\right", "")
    s = s.replace("^{\\circ}", "").replace("^\\circ", "")
    s = s.replace("\\$", "")
    s = _remove_right_units(s)
    s = s.replace("\\%", "")
    s = s.replace(" .", " 0.").replace("{.", "{0.")
    if not s:
        return s
    if s[0] == ".":
        s = "0" + s
    sides = s.split("=")
    if len(sides) == 2 and len(sides[0]) <= 2:  # "x = 3" -> "3"
        s = sides[1]
    s = _fix_sqrt(s).replace(" ", "")
    s = _fix_fracs(s)
    if s == "0.5":
        s = "\\frac{1}{2}"
    return _fix_a_slash_b(s)


def math_equal(answer: str | None, gold: str | None) -> bool:
    """HEX's ``is_equiv`` on two strings: equal after normalisation (raw equality when either
    cannot be normalised); two Nones are equal, one None is not."""
    if answer is None or gold is None:
        return answer is None and gold is None
    try:
        return normalize_math(answer) == normalize_math(gold)
    except Unnormalizable:
        return answer == gold
