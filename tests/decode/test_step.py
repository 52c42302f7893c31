"""What both decode loops share: the random stream of an expert's step, and equal rows
computed once."""

from __future__ import annotations

import torch

from hexviz.decode.step import add_gumbel_noise, shared_logits, step_generator, step_seed


def test_a_steps_noise_depends_on_seed_and_step_alone():
    assert step_seed(3, 7) == step_seed(3, 7) != step_seed(3, 8)
    a = torch.rand(4, generator=step_generator(3, 7))
    assert torch.equal(a, torch.rand(4, generator=step_generator(3, 7)))
    assert not torch.equal(a, torch.rand(4, generator=step_generator(4, 7)))


def test_gumbel_max_at_a_tiny_temperature_is_the_argmax():
    logits = torch.tensor([[0.0, 3.0, 1.0], [2.0, 0.0, -1.0]])
    noisy = add_gumbel_noise(logits, 1e-6, step_generator(0, 0))
    assert noisy.argmax(-1).tolist() == [1, 0]


def test_equal_rows_are_computed_once(random_lm):
    x = torch.tensor([[5, 6, 7, 8], [5, 6, 7, 8], [5, 6, 9, 8]])
    attention = torch.ones_like(x)
    logits, computed = shared_logits(random_lm, x, attention, 2)
    assert computed == 2 and torch.equal(logits[0], logits[1])
    assert torch.allclose(logits, random_lm.logits(x, attention, 2), atol=1e-5)
