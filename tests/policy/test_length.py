"""Growing-canvas settings and one row's decisions, against the published helpers of rho-EOS."""

from __future__ import annotations

import pytest
import torch

from hexviz.policy import length
from hexviz.policy.length import LengthConfig, fitted_to
from tests.decode import published_rho_eos


def test_defaults_are_the_authors():
    c = LengthConfig("daedal")
    assert (c.initial_length, c.expansion_factor, c.high_conf_threshold, c.low_conf_threshold,
            c.eos_confidence_threshold, c.expand_eos_confidence_threshold,
            c.eos_check_tokens) == (64, 8, 0.9, 0.1, 0.5, 0.9, 32)
    r = LengthConfig("rho-eos")
    assert (r.low_density_threshold, r.high_density_threshold, r.scheduler,
            r.max_adjust_steps) == (0.4, 0.6, "exp", 64)
    assert not LengthConfig().grows and r.grows


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "grow"}, "unknown length mode 'grow'"),
    ({"expansion_factor": 0}, "--expansion-factor must be a positive integer"),
    ({"initial_length": True}, "--initial-length must be a positive integer"),
    ({"high_conf_threshold": 1.0}, "strictly between 0 and 1"),
    ({"low_density_threshold": 0.7}, "must not be above --high-density-threshold"),
    ({"scheduler": "power"}, "unknown scheduler 'power'"),
])
def test_bad_settings_say_which_flag(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LengthConfig(**{"mode": "daedal", **kwargs})


def test_json_round_trip_and_unknown_keys():
    c = LengthConfig("rho-eos", initial_length=16, scheduler="linear")
    assert LengthConfig.from_json(c.to_json()) == c
    assert LengthConfig.from_json(None) == LengthConfig()
    with pytest.raises(ValueError, match="unknown length setting 'speed'"):
        LengthConfig.from_json({"mode": "daedal", "speed": 2})


def test_the_start_must_fit_the_maximum():
    LengthConfig("daedal", initial_length=64).check(64)
    with pytest.raises(ValueError, match="--initial-length \\(65\\) must not be above"):
        LengthConfig("daedal", initial_length=65).check(64)


def test_fitting_keeps_what_fits_and_what_the_user_gave():
    authors = LengthConfig("daedal")
    assert fitted_to(authors, 128) == (authors, [])
    small, notes = fitted_to(authors, 64)
    assert (small.initial_length, small.eos_check_tokens) == (64 // 4, 32)
    assert len(notes) == 1 and "--initial-length 16" in notes[0]
    tiny, notes = fitted_to(authors, 32, given={"initial_length"})
    assert tiny.initial_length == 64 and tiny.eos_check_tokens == 8 and len(notes) == 1
    assert fitted_to(LengthConfig(), 16) == (LengthConfig(), [])


def test_step_caps():
    assert LengthConfig("rho-eos").step_cap(128) == 128
    assert LengthConfig("daedal").step_cap(128) == 9 + 128 + 8


@pytest.mark.parametrize("scheduler", ["const", "linear", "exp"])
def test_density_action_equals_the_published_factor_function(scheduler):
    config = LengthConfig("rho-eos", scheduler=scheduler)
    densities = torch.tensor([0.0, 0.05, 0.15, 0.29, 0.3, 0.39999, 0.4, 0.5, 0.6, 0.61, 0.75,
                              0.95, 1.0])
    k, action = published_rho_eos.E_factor_func(densities, 8, scheduler, 0.4, 0.6)
    ours = [length.density_action(d.reshape(1), config) for d in densities]
    sign = {0: 0, 1: -1, 2: 1}
    assert [c for c, _ in ours] == k.tolist()
    assert [a for _, a in ours] == [sign[a] for a in action.tolist()]


def test_tail_confidence_equals_the_published_scan():
    torch.manual_seed(0)
    logits = torch.randn(1, 40, 12) * 3
    logits[0, 25:, 4] += 4  # an end-heavy tail
    prompt = 7  # the published scan runs over positions prompt .. total - 1
    padded = torch.cat([torch.zeros(1, prompt, 12), logits], dim=1)
    published, _ = published_rho_eos._calculate_eos_confidence(
        padded, torch.tensor([prompt + 40]), prompt, 4, 16)
    probs = torch.softmax(logits[0], -1)
    ours = length.tail_eos_confidence(logits[0].argmax(-1), probs[:, 4], 4, 16)
    assert ours == pytest.approx(float(published[0]), abs=1e-7)
    assert ours > 0


def test_fill_takes_the_sure_masks_else_the_surest_real_token():
    mask = 9
    pred = torch.tensor([1, 2, mask, 3, 4])
    eligible = torch.tensor([True, True, True, True, False])
    logits = torch.zeros(5, 10)
    sure = length.positions_to_fill(pred.clone(), torch.tensor([0.95, 0.5, 0.99, 0.91, 0.99]),
                                    logits, eligible, 0.9, mask)
    assert sure.tolist() == [True, False, False, True, False]  # [MASK] and ineligible left
    unsure = length.positions_to_fill(pred.clone(), torch.tensor([0.2, 0.5, 0.7, 0.3, 0.99]),
                                      logits, eligible, 0.9, mask)
    assert unsure.tolist() == [False, True, False, False, False]  # the surest real token


def test_fill_when_every_argmax_is_the_mask_takes_the_likeliest_other_token():
    mask = 0
    logits = torch.full((3, 4), -5.0)
    logits[:, mask] = 9.0
    logits[1, 2] = 3.0  # position 1 is likelier to be token 2 than anything else is elsewhere
    pred = torch.tensor([mask, mask, mask])
    fill = length.positions_to_fill(pred, torch.tensor([0.9, 0.9, 0.9]), logits,
                                    torch.tensor([True, True, True]), 0.95, mask)
    assert fill.tolist() == [False, True, False] and pred[1] == 2


def test_expansion_picks_the_least_sure_unfilled_mask_below_the_threshold():
    conf = torch.tensor([0.05, 0.02, 0.5, 0.01])
    eligible = torch.tensor([True, True, True, False])
    fill = torch.tensor([False, False, True, False])
    assert length.position_to_expand(conf, eligible, fill, 0.1) == 1
    assert length.position_to_expand(conf, eligible, fill, 0.01) is None


def test_the_papers_density_equals_the_published_unused_helper():
    torch.manual_seed(1)
    logits = torch.randn(1, 30, 12)
    logits[0, 18:, 4] += 3
    masked = torch.rand(1, 30) < 0.6
    published, _, _, _ = published_rho_eos._calculate_eos_density(logits, masked, 4)
    ours = length.masked_eos_density(logits[0].argmax(-1), masked[0], 4)
    assert ours == pytest.approx(float(published[0])) and 0 < ours < 1
    assert length.masked_eos_density(logits[0].argmax(-1), torch.zeros(30, dtype=torch.bool),
                                     4) == 0.0


def test_the_density_signal_is_rho_eos_only():
    LengthConfig("rho-eos", eos_signal="density")
    with pytest.raises(ValueError, match="add --length rho-eos"):
        LengthConfig("daedal", eos_signal="density")
    with pytest.raises(ValueError, match="unknown end-of-text signal 'mean'"):
        LengthConfig("rho-eos", eos_signal="mean")
