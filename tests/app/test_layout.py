"""The length controls follow the chosen model."""

from __future__ import annotations


import pytest

from hexviz.app import layout
from tests.conftest import FakeRunner, RunnerWithDefaults


@pytest.mark.parametrize("gen_length,blocks,expected", [
    (None, None, (128, 64, [4, 8, 16, 32, 64])),  # the model's own pair and the HEX set
    (256, None, (256, 128, [8, 16, 32, 64, 128])),  # its 2 tokens per step, scaled
    (128, [1, 64], (128, 128, [1, 64])),  # 128 blocks of 1: a step each
    (64, [8, 128], (64, 32, [8])),  # a ticked size that no longer divides is dropped
])
def test_length_controls_follow_the_model(gen_length, blocks, expected):
    c = layout.LengthControls.of(RunnerWithDefaults(), "fake model", gen_length, blocks)
    assert (c.gen_length, c.steps, c.experts) == expected
    assert c.gen_length in c.choices and set(c.experts) <= set(c.blocks)


def test_length_controls_fall_back_when_the_model_keeps_its_lengths_to_itself():
    c = layout.LengthControls.of(FakeRunner(), "fake model")
    assert (c.gen_length, c.steps) == layout.FALLBACK_LENGTHS
