"""Where hexviz's shipped files are: the built-in model, its test set, the app's examples and
the stored eval runs and trajectories.

In a checkout they sit in ``assets/`` beside the package; an installed wheel carries the same
files as ``hexviz/_assets`` (see ``pyproject.toml``), so this works from any directory.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _assets() -> Path:
    installed = _PACKAGE / "_assets"
    return installed if installed.is_dir() else _PACKAGE.parent / "assets"


ASSETS = _assets()
BUILTIN_DIR = ASSETS / "tinygsm-dllm"  # the built-in model (weights, tokenizer, hexviz.json)
TEST_SET = ASSETS / "tinygsm" / "test.jsonl"  # its held-out test set, GSM8K format
EXAMPLES = ASSETS / "examples.json"  # the app's example questions (experts disagree on them)
STORED_EVALS = (BUILTIN_DIR / "eval-500.json", BUILTIN_DIR / "eval-seeds.json")  # card's runs
GALLERY = ASSETS / "gallery"  # stored runs: the lesson's (`hexviz.showcase build`) and more
STORED_RUNS = tuple(sorted(GALLERY.glob("*.json")))  # what the app replays (`app.serving`)
README_ANIMATION = ASSETS / "unmasking.gif"  # the README's opening GIF (`hexviz.showcase build`)
SCALING_LAB = ASSETS / "scaling-lab.json"  # strategies at equal compute (bench/scaling_bench.py)
