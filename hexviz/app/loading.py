"""The app's models: the ones the operator enabled, loaded on first use and kept, one load at a
time; their lengths and defaults read from disk without loading; a background preload."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

from hexviz.models.meta import ModelDefaults, read_defaults
from hexviz.paths import BUILTIN_DIR

BUILTIN_LABEL = "built-in tinygsm dLLM (CPU)"
EXTRA_MODELS_ENV = "HEXVIZ_MODELS"  # comma-separated ids/paths the operator enables
TRUST_REMOTE_CODE_ENV = "HEXVIZ_TRUST_REMOTE_CODE"


def operator_models() -> dict[str, str]:
    """Picker label -> model id: the built-in model, plus what ``HEXVIZ_MODELS`` enables."""
    extra = [m.strip() for m in os.environ.get(EXTRA_MODELS_ENV, "").split(",") if m.strip()]
    return {BUILTIN_LABEL: "builtin", **{m: m for m in extra}}


class ModelShelf:
    """Models by picker label. ``cache`` holds the loaded ones (label -> `DiffusionLM`)."""

    def __init__(self, models: dict[str, str] | None = None,
                 trust_remote_code: bool | None = None) -> None:
        self.models = models or operator_models()
        if trust_remote_code is None:  # only the operator opts in, never a typed model id
            trust_remote_code = os.environ.get(TRUST_REMOTE_CODE_ENV) == "1"
        self.trust_remote_code = trust_remote_code
        self.cache: dict[str, object] = {}
        self._lock = threading.Lock()
        self._loading: set[str] = set()
        self._outlines: dict[str, object] = {}  # label -> `ModelOutline`, read before weights
        self._outline_lock = threading.Lock()  # apart from the load's: no wait on the weights

    def labels(self) -> list[str]:
        return list(self.models)

    def get(self, label: str):
        """The loaded model; the first call loads it, and a second caller waits for that load."""
        from hexviz import models

        if label not in self.models:
            raise ValueError(f"unknown model {label!r}; this app offers {', '.join(self.models)}")
        with self._lock:  # one load per model, even when two users ask at once
            if label not in self.cache:
                self.cache[label] = models.load(self.models[label],
                                                trust_remote_code=self.trust_remote_code)
            return self.cache[label]

    def outline(self, label: str):
        """What planning ``label``'s requests needs, without waiting for its weights: the
        loaded model once there is one, else its tokenizer, context and defaults
        (`hexviz.models.ModelOutline`, read once in milliseconds)."""
        from hexviz import models

        if label in self.cache:
            return self.cache[label]
        if label not in self.models:
            raise ValueError(f"unknown model {label!r}; this app offers {', '.join(self.models)}")
        with self._outline_lock:
            if label not in self._outlines:
                self._outlines[label] = models.load_outline(
                    self.models[label], trust_remote_code=self.trust_remote_code)
            return self._outlines[label]

    def folder(self, label: str) -> Path:
        """Where ``label``'s files would be on disk (a hub id names no folder that exists)."""
        name = self.models.get(label)
        return BUILTIN_DIR if name == "builtin" else Path(str(name))

    def max_length(self, label: str) -> int | None:
        """Prompt + answer tokens the model allows, read from its config without loading it."""
        if label in self.cache:
            return self.cache[label].max_length
        try:
            d = json.loads((self.folder(label) / "config.json").read_text())
        except (OSError, ValueError):
            return None  # a hub id: unknown until loaded; the engine still checks
        return d.get("max_position_embeddings") or d.get("max_sequence_length")

    def defaults(self, label: str) -> ModelDefaults | None:
        """The model's decoding defaults, read without loading it; None when they are unknown
        until it loads (a hub id) or its hexviz.json is damaged (the Run then says so)."""
        if label in self.cache:
            return self.cache[label].defaults
        try:
            return read_defaults(self.folder(label))
        except (OSError, ValueError):
            return None

    def preload(self, label: str, warm: Callable[[str], None]) -> threading.Thread:
        """Run ``warm(label)`` (load the model, decode a step) in a background thread; a request
        that arrives meanwhile waits on the load lock, and `is_loading` says so."""
        self._loading.add(label)

        def work() -> None:
            try:
                warm(label)
            except Exception:  # noqa: BLE001 - the request that needs this model reports it
                pass
            finally:
                self._loading.discard(label)

        thread = threading.Thread(target=work, daemon=True, name=f"hexviz-preload-{label}")
        thread.start()
        return thread

    def is_loading(self, label: str) -> bool:
        return label in self._loading
