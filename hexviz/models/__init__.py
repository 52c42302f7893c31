"""Models: ``hexviz.models.load(path_or_id)`` returns the engine's `DiffusionLM` wrapper.

Standard transformers code only: the built-in model in ``assets/``, any masked-LM checkpoint
that ``AutoModelForMaskedLM`` knows, and LLaDA (hexviz's own module, `hexviz.models.llada`) load
with no remote code. Remote code runs only when the operator opts in with
``trust_remote_code=True``. Importing this package does not import torch (a saved run's special
ids come from `hexviz.models.tokens`); the loader is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hexviz.models.meta import HEXVIZ_META, ModelDefaults, read_defaults
from hexviz.models.outline import ModelOutline
from hexviz.models.tokens import LLADA, SpecialTokens, chat_prompt_ids
from hexviz.paths import BUILTIN_DIR

if TYPE_CHECKING:
    from hexviz.models.loader import BUILTIN, ModelLoadError, load, load_outline
    from hexviz.models.wrapper import DiffusionLM

__all__ = ["BUILTIN", "BUILTIN_DIR", "HEXVIZ_META", "LLADA", "DiffusionLM", "ModelDefaults",
           "ModelLoadError", "ModelOutline", "SpecialTokens", "chat_prompt_ids", "load",
           "load_outline", "read_defaults"]

_LAZY = {"BUILTIN": "loader", "ModelLoadError": "loader", "load": "loader",
         "load_outline": "loader", "DiffusionLM": "wrapper"}


def __getattr__(name: str) -> Any:
    """The torch-backed names, imported when first asked for."""
    if name not in _LAZY:
        raise AttributeError(f"module 'hexviz.models' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"hexviz.models.{_LAZY[name]}"), name)
