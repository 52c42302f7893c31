"""The shared palette stays distinguishable when simulated for deuteranopia, protanopia and
grayscale; the simulation itself is checked on colours with known behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from hexviz.render import palette


@pytest.mark.parametrize("view", palette.VIEWS)
@pytest.mark.parametrize("colors", [palette.FILLS, palette.STATE_COLORS],
                         ids=["animation fills", "chart states"])
def test_palette_stays_apart_in_every_view(colors, view):
    distance, a, b = palette.min_distance(colors, view)
    assert distance >= palette.MIN_DISTANCE, f"{a} and {b} are {distance:.1f} apart ({view})"


def test_the_check_catches_a_palette_that_is_not_safe():
    # Red and green: far apart to most readers, nearly one colour with deuteranopia.
    red, green = "#d62728", "#2ca02c"
    assert palette.distance(red, green, "normal") > 50
    assert palette.distance(red, green, "deuteranopia") < palette.MIN_DISTANCE
    # Two hues of one lightness collapse in grayscale.
    assert palette.distance("#e69f00", "#56b4e9", "grayscale") < 2


def test_machado_matrices_keep_white_and_match_the_paper():
    for matrix in palette.MACHADO_2009.values():
        np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=2e-3)  # greys stay grey
    # Severity 1.0 rows from Machado et al. 2009, Table (protanopia row 1, deuteranopia row 1).
    np.testing.assert_allclose(palette.MACHADO_2009["protanopia"][0],
                               [0.152286, 1.052583, -0.204868])
    np.testing.assert_allclose(palette.MACHADO_2009["deuteranopia"][0],
                               [0.367322, 0.860646, -0.227968])
    white = palette.simulate("#ffffff", "protanopia")
    np.testing.assert_allclose(white, 1.0, atol=2e-3)


def test_grayscale_is_relative_luminance():
    grey = palette.simulate("#00ff00", "grayscale")
    np.testing.assert_allclose(grey, 0.7152, atol=1e-4)  # Rec. 709 green weight
    assert palette.distance("#777777", "#777777", "grayscale") == 0


def test_lab_of_known_colours():
    np.testing.assert_allclose(palette.lab(palette.linear("#ffffff")), [100, 0, 0], atol=0.05)
    np.testing.assert_allclose(palette.lab(palette.linear("#000000")), [0, 0, 0], atol=1e-6)
    # sRGB red is L* 53.2, a* 80.1, b* 67.2 (CIE 1976, D65)
    np.testing.assert_allclose(palette.lab(palette.linear("#ff0000")), [53.24, 80.09, 67.20],
                               atol=0.1)


def test_bad_colours_and_views_are_refused():
    with pytest.raises(ValueError, match=r"\(got 'red'\)"):
        palette.rgb("red")
    with pytest.raises(ValueError, match="unknown view"):
        palette.simulate("#ffffff", "tritanopia?")
    with pytest.raises(ValueError, match="at least two"):
        palette.min_distance(["#ffffff"])
