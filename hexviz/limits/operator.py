"""The operator's limits: one frozen `Limits` read from ``HEXVIZ_*`` environment variables
(defaults are safe for a 2-vCPU CPU Space), and the error every check raises."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

MAX_TOKEN_ID = 2**31 - 1  # ids are int32-sized in every tokenizer hexviz knows


class LimitError(ValueError):
    """A request or file beyond what this app or its operator allows."""


class ShapeError(LimitError):
    """A file whose declared sizes or values contradict each other (damaged, not just big)."""


@dataclass(frozen=True)
class Limits:
    """What one request may cost. Each field is the env var ``HEXVIZ_<FIELD NAME UPPERCASE>``."""

    max_gen_length: int = 256  # answer region: LLaDA's 256 fits; 1024 took 635 s to replay
    max_steps: int = 256  # forward passes per run
    max_experts: int = 24  # decoded rows per run: block sizes x seeds + baselines
    max_prompt_tokens: int = 512  # formatted prompt; the chars bound below runs before tokenizing
    max_upload_mb: float = 16.0  # trajectory / results uploads, refused before parsing
    max_eval_problems: int = 100  # the Scaling tab's live eval
    max_eval_records: int = 10_000  # problems in an uploaded results file (curve cost ~ n * K^2)
    max_frames: int = 65  # step-scrubber frames; longer runs show evenly spaced steps
    max_cells: int = 200_000  # heatmap cells in one figure (frames x rows x positions)
    max_animation_frames: int = 200  # GIF / HTML animation frames; longer runs are sampled
    max_animation_pixels: int = 150_000_000  # GIF width x height x frames (~1 byte each in memory)
    export_max_mb: float = 256.0  # the export folder is pruned to this total...
    export_max_age_s: int = 3600  # ...and of anything older than this
    threads: int = 0  # torch threads; 0 = half the CPUs this process may use (at least 1)
    # GPU seconds one run may ask a ZeroGPU Space for, all its calls together: 120 is the daily
    # quota ZeroGPU's documentation gives a visitor who is not logged in.
    max_gpu_s: float = 120.0
    live_decodes: int = 4  # questions decoded at once, their forward passes shared; more wait
    max_wait_s: float = 60.0  # a new question is refused when those before it need longer

    @property
    def max_prompt_chars(self) -> int:
        return 16 * self.max_prompt_tokens  # bounds tokenizer work; no real token is longer

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)


def env_name(field: str) -> str:
    return f"HEXVIZ_{field.upper()}"


def from_env(environ: Mapping[str, str] | None = None) -> Limits:
    """Limits from ``HEXVIZ_*`` variables; a malformed value is an error, not a silent default."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Limits):
        raw = environ.get(env_name(f.name), "").strip()
        if not raw:
            continue
        kind = float if f.type == "float" else int
        try:
            value = kind(raw)
        except ValueError:
            raise LimitError(f"{env_name(f.name)} must be a number (got {raw!r})") from None
        lowest = 0 if f.name == "threads" else (1e-6 if kind is float else 1)
        if not math.isfinite(value) or value < lowest:
            raise LimitError(f"{env_name(f.name)} must be a positive number (got {raw!r})")
        values[f.name] = value
    return Limits(**values)


def current() -> Limits:
    return from_env()
