"""A checkpoint's decoding defaults, from the ``hexviz.json`` beside its weights.

Torch-free, so the app can set its controls for a model before loading it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

HEXVIZ_META = "hexviz.json"  # written beside the built-in checkpoint by `hexviz.train`


@dataclass(frozen=True)
class ModelDefaults:
    """Decoding defaults that suit a model (its training length, its answer style)."""

    gen_length: int = 256
    steps: int = 256
    answer_format: str = "auto"
    edit: float | None = None  # token editing threshold for models trained to edit; None: none
    edit_scope: str = "block"  # which committed tokens it edits (checked by the decode's
    # settings: `hexviz.policy.samplers.EDIT_SCOPES`)


def read_defaults(folder: str | Path) -> ModelDefaults | None:
    """The defaults in ``folder``'s hexviz.json; None when there is none (a hub id, a plain
    checkpoint); ValueError saying what is wrong when the file is damaged."""
    meta = Path(folder) / HEXVIZ_META
    if not meta.is_file():
        return None
    try:
        d = json.loads(meta.read_text())
        edit = None if d.get("edit") is None else float(d["edit"])
        defaults = ModelDefaults(int(d["gen_length"]), int(d["steps"]), d.get("answer", "auto"),
                                 edit, str(d.get("edit_scope", "block")))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        reason = f"no {err} field" if isinstance(err, KeyError) else str(err)
        raise ValueError(f"its {HEXVIZ_META} is damaged ({reason}); it needs \"gen_length\" "
                         f"and \"steps\"") from None
    if not 1 <= defaults.steps <= defaults.gen_length:
        raise ValueError(f"its {HEXVIZ_META} is damaged (steps {defaults.steps} for "
                         f"gen_length {defaults.gen_length})")
    if defaults.edit is not None and not 0 < defaults.edit <= 1:
        raise ValueError(f"its {HEXVIZ_META} is damaged (edit {defaults.edit:g}: an editing "
                         "threshold is in (0, 1])")
    return defaults


def read_card(folder: str | Path) -> dict:
    """The model card's headline figures stored in hexviz.json ({} when there are none)."""
    try:
        card = json.loads((Path(folder) / HEXVIZ_META).read_text()).get("card")
    except (OSError, ValueError, AttributeError):
        return {}
    return card if isinstance(card, dict) else {}
