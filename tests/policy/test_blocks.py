"""Block schedules: the ``--blocks`` grammar, presets, and AdaBlock's block length against the
published ``compute_block_length`` on hand-built rows (window edges, ties, thresholds)."""

from __future__ import annotations

import math

import pytest
import torch

from hexviz.policy.blocks import (
    ada_block_length,
    ada_fallback,
    ada_threshold,
    parse_block_specs,
    schedule_sizes,
)
from tests.decode import published_adablock

DELIMITER = 7
VOCAB = 10


@pytest.mark.parametrize("given,expected", [
    ("8,16,32", (8, 16, 32)),
    ("32, ada, 8+24+96, 8", (8, 32, "ada", "8+24+96")),
    (["grow", "ADA:0.50", 16], (16, "grow", "ada:0.5")),
    ("shrink,ada:1", ("shrink", "ada:1")),
])
def test_specs_parse_to_sizes_then_the_rest_in_order(given, expected):
    assert parse_block_specs(given) == expected


@pytest.mark.parametrize("given,message", [
    ("8,x", "block sizes must be integers"),
    ("8+0+120", "block sizes must be positive"),
    ("8+-8", "block sizes must be positive"),
    ("0", "block sizes must be positive"),
    ("fast", "the presets grow and shrink"),
    ("ada:0", r"T in \(0, 1\]"), ("ada:1.5", r"T in \(0, 1\]"), ("ada:x", r"T in \(0, 1\]"),
    ("ada,ada:0.3", "may appear once"), ("8+8,8+8", "may appear once"), ("", "at least one"),
])
def test_bad_specs_are_refused_in_one_line(given, message):
    with pytest.raises(ValueError, match=message) as err:
        parse_block_specs(given)
    assert "\n" not in str(err.value)


def test_presets_grow_and_shrink_over_the_answer():
    assert schedule_sizes("grow", 128) == (4, 4, 8, 16, 32, 64)
    assert schedule_sizes("shrink", 256) == (128, 64, 32, 16, 8, 8)
    with pytest.raises(ValueError, match="multiple of 32"):
        schedule_sizes("grow", 100)
    with pytest.raises(ValueError, match="sums to 120, not the answer length gen_length=128"):
        schedule_sizes("8+16+96", 128)


def test_ada_defaults_are_the_authors():
    assert ada_threshold("ada") == 0.3  # eval_adablock.sh DELIMITER_THRESHOLD
    assert ada_fallback(512) == 32  # INIT_BLOCK_LENGTH for GEN_LENGTH=512
    assert ada_fallback(128) == 8 and ada_fallback(8) == 1


def row(tokens: list[int], confidences: list[float]) -> torch.Tensor:
    """(1, L, V) logits whose argmax at each position is ``tokens[i]`` with probability
    ``confidences[i]`` (the rest spread evenly)."""
    logits = torch.empty(1, len(tokens), VOCAB, dtype=torch.float64)
    for i, (token, p) in enumerate(zip(tokens, confidences, strict=True)):
        rest = (1 - p) / (VOCAB - 1)
        logits[0, i] = math.log(rest)
        logits[0, i, token] = math.log(p)
    return logits


def ours(logits: torch.Tensor, start: int, fallback: int, threshold: float) -> int:
    probs = logits[0].softmax(-1)
    confidence, proposals = probs.max(-1)
    return ada_block_length(proposals, confidence, start, logits.shape[1], fallback,
                            [DELIMITER], threshold)


def published(logits: torch.Tensor, start: int, fallback: int, threshold: float) -> int:
    prompt = torch.zeros(1, 0, dtype=torch.long)
    return published_adablock.compute_block_length(
        logits, logits.argmax(-1), prompt, logits.shape[1], start, fallback,
        delimiter_ids=[DELIMITER], delimiter_threshold=threshold)


def case(length: int, delimiters: dict[int, float]) -> torch.Tensor:
    tokens = [DELIMITER if i in delimiters else 1 for i in range(length)]
    return row(tokens, [delimiters.get(i, 0.5) for i in range(length)])


CASES = {
    # (length, {position: delimiter probability}, start, fallback, threshold)
    "inside the window": (32, {5: 0.9}, 0, 4, 0.3),
    "the likeliest of several": (32, {2: 0.4, 6: 0.8, 7: 0.6}, 0, 4, 0.3),
    "below the threshold": (32, {3: 0.2}, 0, 6, 0.3),
    "just above the threshold": (32, {3: 0.30001}, 0, 6, 0.3),
    "a tie: the first": (32, {2: 0.75, 6: 0.75}, 0, 4, 0.3),
    "a tie after the start": (64, {20: 0.6, 30: 0.6, 33: 0.6}, 16, 8, 0.5),
    "the window's last position": (32, {7: 0.9}, 0, 4, 0.3),
    "just past the window": (32, {8: 0.9}, 0, 4, 0.3),
    "the window cut by the end": (32, {31: 0.9}, 28, 8, 0.3),
    "the fallback cut by the end": (32, {}, 29, 8, 0.3),
    "no threshold at all": (32, {2: 0.99}, 0, 4, math.inf),
}


@pytest.mark.parametrize("name", CASES)
def test_ada_block_length_equals_compute_block_length(name):
    length, delimiters, start, fallback, threshold = CASES[name]
    logits = case(length, delimiters)
    assert ours(logits, start, fallback, threshold) == published(logits, start, fallback,
                                                                threshold)


def test_the_cases_reach_every_branch():
    """Guards the table above: ties, the window's edge and the fallback all decide a case."""
    found = {name: published(case(c[0], c[1]), *c[2:]) for name, c in CASES.items()}
    assert found["a tie: the first"] == 3 and found["a tie after the start"] == 5
    assert found["the window's last position"] == 8 and found["just past the window"] == 4
    assert found["below the threshold"] == 6 and found["just above the threshold"] == 4
    assert found["the fallback cut by the end"] == 3 and found["the window cut by the end"] == 4
