"""Colours shared by the animations and the app's charts, chosen to stay apart for colour-blind
readers and in grayscale, and the simulation that checks it (pure numpy, no UI imports).

The state colours take their hues from Okabe & Ito's colour-blind-safe set ("Color Universal
Design", 2008) and are spaced in lightness (CIE L* about 100, 84, 72, 56, 44, 30) so that a
grayscale print keeps them apart too. `min_distance` simulates each view and returns the
smallest CIE76 colour difference between any two colours; tests/render/test_palette.py holds it
above `MIN_DISTANCE`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

BACKGROUND = "#ffffff"  # the canvas, and behind a revealed text token
INK = "#1b1b1b"  # token text, titles, the current block's outline
MASK = "#d4d4d4"  # a still-masked position
TEXT = "#0068a8"  # a revealed text token (charts); text revealed in the last step (animations)
END_OF_TURN = "#e69f00"
END_OF_TEXT = "#8b1a1a"  # the AfterEoT padding: dark red, the wall
EDIT = "#c0609a"  # a committed token replaced by token editing
REMASK = "#d55e00"  # a ring round a position masked again (a dVoting round): Okabe-Ito vermillion
STATE_COLORS = (MASK, TEXT, END_OF_TURN, END_OF_TEXT)  # plots' MASK, TEXT, END_OF_TURN, END_OF_TEXT
FILLS = (BACKGROUND, MASK, TEXT, END_OF_TURN, END_OF_TEXT, EDIT)  # every fill a reader must tell apart
# The token strip (the What-if fork's canvas) writes dark token text on each state's colour,
# so it takes light tints instead of the states' full colours: grey, blue, orange, red as in
# STATE_COLORS, in the states' order (`hexviz.render.states`).
TOKEN_BACKGROUNDS = ("#e6e6e6", "#dce8f5", "#fde0c5", "#f9d0d0")
WINNER = "#009e73"  # the vote's winning answer (Okabe-Ito bluish green)
MUTED = "#8c8c8c"  # secondary text: step counters, notes
# Line colours for charts with one line per expert (Okabe-Ito order, then two greys); lines
# also differ by dash, so the palette need not survive grayscale on its own.
SERIES = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442",
          "#000000", "#7f7f7f", "#bfbfbf")
MIN_DISTANCE = 10.0  # CIE76 delta E; about 2.3 is the just-noticeable difference

# Machado, Oliveira & Fernandes, "A Physiologically-based Model for Simulation of Color Vision
# Deficiency", IEEE TVCG 15(6), 2009: the severity-1.0 matrices, applied to linear RGB.
MACHADO_2009 = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
}
VIEWS = ("normal", "protanopia", "deuteranopia", "grayscale")
_SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                         [0.0193, 0.1192, 0.9505]])  # IEC 61966-2-1, D65
_D65 = np.array([0.95047, 1.0, 1.08883])


def rgb(color: str) -> tuple[int, int, int]:
    """'#rrggbb' -> (r, g, b) in 0..255."""
    if len(color) != 7 or color[0] != "#":
        raise ValueError(f"colours are written #rrggbb (got {color!r})")
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def linear(color: str) -> np.ndarray:
    """sRGB -> linear RGB in 0..1 (the sRGB transfer function)."""
    c = np.array(rgb(color)) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(lin: np.ndarray) -> np.ndarray:
    """Linear RGB -> CIELAB (D65); out-of-gamut simulated values are clipped first."""
    xyz = _SRGB_TO_XYZ @ np.clip(lin, 0, 1) / _D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def simulate(color: str, view: str) -> np.ndarray:
    """The colour as a reader with ``view`` sees it, in linear RGB."""
    lin = linear(color)
    if view == "normal":
        return lin
    if view == "grayscale":
        return np.full(3, _SRGB_TO_XYZ[1] @ lin)  # relative luminance Y, as a grey
    if view in MACHADO_2009:
        return MACHADO_2009[view] @ lin
    raise ValueError(f"unknown view {view!r}; choose one of {', '.join(VIEWS)}")


def distance(a: str, b: str, view: str = "normal") -> float:
    """CIE76 colour difference between ``a`` and ``b`` as ``view`` sees them."""
    return float(np.linalg.norm(lab(simulate(a, view)) - lab(simulate(b, view))))


def min_distance(colors: Sequence[str], view: str = "normal") -> tuple[float, str, str]:
    """The closest pair of ``colors`` under ``view``: (delta E, colour, colour)."""
    if len(colors) < 2:
        raise ValueError(f"need at least two colours (got {len(colors)})")
    return min((distance(a, b, view), a, b) for a, b in itertools.combinations(colors, 2))
