"""Operator limits: how much work one request may ask for, checked before any work is done.

One frozen `Limits` is read from ``HEXVIZ_*`` environment variables (defaults are safe for a
2-vCPU CPU Space); the Run button, the API, uploads, the Scaling tab, the CLI and eval all call
the pure checks below, which raise `LimitError` (a ValueError) with one line naming the problem
and the variable that raises the limit. Also here: the torch thread count, subsampling of drawn
steps, and the bounded export folder. No torch or numpy at import.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
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


# --- requests -----------------------------------------------------------------------------------

def as_int(value: Any, name: str) -> int:
    """An integer from an API field (int, integral float or digits), or one line saying why not."""
    try:
        number = float(value) if not isinstance(value, int) else value
        if isinstance(number, float) and not number.is_integer():
            raise ValueError
        return int(number)
    except (TypeError, ValueError, OverflowError):
        raise LimitError(f"{name} must be a whole number (got {value!r})") from None


def as_float(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise LimitError(f"{name} must be a number (got {value!r})") from None
    if not math.isfinite(number):
        raise LimitError(f"{name} must be a finite number (got {value!r})")
    return number


def check_prompt(text: str, limits: Limits | None = None) -> None:
    """Refuse an empty prompt, one too long to tokenize cheaply, or one with control characters."""
    limits = limits or current()
    if not text.strip():
        raise LimitError("the prompt is empty: type a question or pick an example")
    if len(text) > limits.max_prompt_chars:
        raise LimitError(f"the prompt has {len(text):,} characters; this app allows "
                         f"{limits.max_prompt_chars:,} (HEXVIZ_MAX_PROMPT_TOKENS)")
    bad = next((c for c in text if unicodedata.category(c) == "Cc" and c not in "\t\n\r"), None)
    if bad is not None:
        raise LimitError(f"the prompt contains the control character U+{ord(bad):04X}; "
                         "remove it")


def check_prompt_tokens(n_tokens: int, limits: Limits | None = None) -> None:
    limits = limits or current()
    if n_tokens > limits.max_prompt_tokens:
        raise LimitError(f"the prompt is {n_tokens} tokens; this app allows "
                         f"{limits.max_prompt_tokens} (HEXVIZ_MAX_PROMPT_TOKENS)")


def check_seeds(seeds: int, temperature: float, remasking: str = "low_confidence",
                limits: Limits | None = None) -> None:
    """Seeds only differ when something is random (sampling, or the random rule); otherwise
    they would be identical extra votes."""
    limits = limits or current()
    if seeds > 1 and temperature == 0 and remasking != "random":
        raise LimitError(f"seeds > 1 need temperature > 0 (or the random rule): at temperature 0 "
                         f"every seed decodes the same answer and would vote again "
                         f"(got seeds={seeds})")
    if seeds > limits.max_experts:
        raise LimitError(f"seeds must be at most {limits.max_experts} (got {seeds}; "
                         "HEXVIZ_MAX_EXPERTS)")


def check_decode(gen_length: int, steps: int, rows: int, limits: Limits | None = None,
                 step_cap: int | None = None) -> None:
    """Bound one run's work (rows x steps forward rows of gen_length) before decoding;
    ``step_cap`` is the most steps a parallel sampler may take (gen_length), when above steps."""
    limits = limits or current()
    if gen_length > limits.max_gen_length:
        raise LimitError(f"gen_length must be at most {limits.max_gen_length} (got {gen_length}; "
                         "HEXVIZ_MAX_GEN_LENGTH)")
    if steps > limits.max_steps:
        raise LimitError(f"steps must be at most {limits.max_steps} (got {steps}; "
                         "HEXVIZ_MAX_STEPS)")
    if step_cap is not None and step_cap > limits.max_steps:
        raise LimitError(f"this sampler may take up to gen_length = {step_cap} steps, more than "
                         f"this app's {limits.max_steps} (HEXVIZ_MAX_STEPS); use a shorter "
                         "gen_length or the fixed or bounded sampler")
    if rows > limits.max_experts:
        raise LimitError(f"{rows} experts (block sizes x seeds + baselines) is more than this "
                         f"app's {limits.max_experts} (HEXVIZ_MAX_EXPERTS); use fewer block "
                         "sizes or seeds")


def check_eval_problems(problems: int, limits: Limits | None = None) -> None:
    limits = limits or current()
    if not 1 <= problems <= limits.max_eval_problems:
        raise LimitError(f"problems must be from 1 to {limits.max_eval_problems} (got {problems}; "
                         "HEXVIZ_MAX_EVAL_PROBLEMS)")


def gen_length_choices(candidates: Sequence[int], model_max: int | None,
                       limits: Limits | None = None) -> list[int]:
    """Menu entries this model and this app allow (room is left for a short prompt)."""
    limits = limits or current()
    room = model_max - 16 if model_max else limits.max_gen_length
    return [g for g in candidates if g <= min(room, limits.max_gen_length)]


# --- uploaded files -----------------------------------------------------------------------------

def check_file_size(path: str | Path, limits: Limits | None = None) -> None:
    """Refuse a file over the upload limit before reading it."""
    limits = limits or current()
    size = Path(path).stat().st_size
    if size > limits.max_upload_bytes:
        raise LimitError(f"the file is {size / 2**20:.3g} MB; this app reads files up to "
                         f"{limits.max_upload_mb:g} MB (HEXVIZ_MAX_UPLOAD_MB)")


def refuse_constant(name: str) -> Any:
    """``json.loads(parse_constant=...)``: NaN and Infinity are not JSON; refuse them."""
    raise ShapeError(f"the file contains {name}, which JSON does not allow")


def _length(value: Any, name: str) -> int:
    if not isinstance(value, list):
        raise ShapeError(f"{name} must be a list (got {type(value).__name__})")
    return len(value)


def check_run_shape(d: Mapping[str, Any], limits: Limits | None = None) -> None:
    """Declared sizes of an uploaded run against the limits and each other, before any array is
    built: gen_length, steps, 0 <= steps_done <= steps, expert count, every array's length."""
    limits = limits or current()
    config = d.get("config")
    if not isinstance(config, dict):
        raise ShapeError("missing field 'config'")
    gen_length, steps, done = config.get("gen_length"), config.get("steps"), d.get("steps_done")
    for name, value in (("gen_length", gen_length), ("steps", steps), ("steps_done", done)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ShapeError(f"{name} must be a non-negative integer (got {value!r})")
    # Parallel samplers (hexviz.decode.samplers) may take up to gen_length steps; fixed and
    # bounded ones at most `steps`. A bound on shapes only, so the wider one is safe here.
    cap = steps if config.get("sampler", "fixed") == "fixed" else max(steps, gen_length)
    if done > cap:
        raise ShapeError(f"steps_done ({done}) is more than steps ({cap})")
    experts = d.get("experts")
    n = _length(experts, "experts")
    if n == 0:
        raise ShapeError("the run has no experts")
    check_decode(gen_length, steps, n, limits, cap if cap > steps else None)
    for i, e in enumerate(experts):
        if not isinstance(e, dict):
            raise ShapeError(f"expert {i} must be an object")
        for key in ("token_ids", "tokens", "reveal_step", "reveal_conf"):
            if _length(e.get(key), f"expert {i} {key}") != gen_length:
                raise ShapeError(f"expert {i} {key} has {len(e[key])} entries; gen_length is "
                                 f"{gen_length}")
        for key in ("draft_ids", "draft_prob"):
            rows = e.get(key)
            if _length(rows, f"expert {i} {key}") > cap or any(
                    _length(r, f"expert {i} {key} row") != gen_length for r in rows):
                raise ShapeError(f"expert {i} {key} must be at most {cap} rows (steps) of "
                                 f"{gen_length} (gen_length)")


def top_token_id(d: Mapping[str, Any]) -> int:
    """Largest id a run file may hold: below its recorded ``vocab_size``, else int32."""
    size = d.get("vocab_size")
    if size is None:
        return MAX_TOKEN_ID  # files written before vocab_size was recorded
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_TOKEN_ID + 1:
        raise ShapeError(f"vocab_size must be a positive integer (got {size!r})")
    return size - 1


def int_array(values: Any, name: str, low: int, high: int = MAX_TOKEN_ID):
    """An int64 array whose every entry is a whole number in [low, high], or LimitError."""
    import numpy as np

    try:
        floats = np.asarray(values, dtype=np.float64)  # 10**30 fits here; int64 would overflow
    except (TypeError, ValueError, OverflowError):
        raise ShapeError(f"{name} must hold numbers only") from None
    if floats.size and not (np.isfinite(floats).all() and (floats == np.round(floats)).all()):
        raise ShapeError(f"{name} must hold whole numbers")
    if floats.size and (floats.min() < low or floats.max() > high):
        bad = floats[(floats < low) | (floats > high)][0]
        raise ShapeError(f"{name} holds {bad:g}, outside {low}..{high}")
    return floats.astype(np.int64)


def prob_array(values: Any, name: str):
    """A float32 array of probabilities in [0, 1], null as nan (not yet revealed)."""
    import numpy as np

    try:
        arr = np.asarray(values, dtype=np.float64)  # None -> nan
    except (TypeError, ValueError, OverflowError):
        raise ShapeError(f"{name} must hold numbers or null only") from None
    present = arr[~np.isnan(arr)]
    if present.size and (present.min() < 0 or present.max() > 1):
        raise ShapeError(f"{name} must hold probabilities from 0 to 1")
    return arr.astype(np.float32)


def check_eval_file(experts: int, records: int, limits: Limits | None = None) -> None:
    limits = limits or current()
    if experts > limits.max_experts or records > limits.max_eval_records:
        raise LimitError(f"the results file has {experts} experts and {records} problems; this app "
                         f"plots up to {limits.max_experts} experts (HEXVIZ_MAX_EXPERTS) and "
                         f"{limits.max_eval_records} problems (HEXVIZ_MAX_EVAL_RECORDS)")


# --- drawing ------------------------------------------------------------------------------------

def sample_steps(last: int, cells_per_frame: int, max_frames: int, max_cells: int) -> list[int]:
    """Steps 0..last to draw: all of them when they fit, else evenly spaced with both ends."""
    budget = max(2, min(max_frames, max_cells // max(cells_per_frame, 1)))
    if last + 1 <= budget:
        return list(range(last + 1))
    return sorted({round(i * last / (budget - 1)) for i in range(budget)})


# --- threads ------------------------------------------------------------------------------------

def available_cpus() -> int:
    """CPUs this process may use: affinity, and a cgroup v2 quota (a Space reports the host's)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus or 1, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus or 1)


def torch_threads(limits: Limits | None = None) -> int:
    """Half the usable CPUs: a busy neighbour on a shared core stalls every thread of a
    spinning OpenMP team (measured 48-56 s vs 2.75 s for one decode on 2 cores)."""
    limits = limits or current()
    return int(limits.threads) or max(1, available_cpus() // 2)


def set_torch_threads(limits: Limits | None = None) -> int:
    """Apply `torch_threads`, unless only OMP_NUM_THREADS was set (e.g. by accelerate launch)."""
    import torch

    limits = limits or current()
    if not limits.threads and os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    n = torch_threads(limits)
    torch.set_num_threads(n)
    return n


# --- memory -------------------------------------------------------------------------------------

def release_memory() -> None:
    """Hand freed heap back to the OS after a request: glibc keeps it in its arenas otherwise
    (after the largest built-in run, 55 of 89 MB came back; bench/README.md)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


# --- exports ------------------------------------------------------------------------------------

def export_root() -> Path:
    """One folder for every download: inside Gradio's cache, so Gradio serves it without copying."""
    if os.environ.get("HEXVIZ_EXPORT_DIR"):
        return Path(os.environ["HEXVIZ_EXPORT_DIR"])
    base = os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio"
    return Path(base) / "hexviz-exports"


def prune_exports(folder: Path, limits: Limits | None = None, now: float | None = None,
                  keep: set[Path] | None = None) -> None:
    """Delete exported files older than the age limit, then the oldest until the folder is
    under the size limit; ``keep`` (what was just written) always stays."""
    limits = limits or current()
    now = time.time() if now is None else now
    keep = keep or set()
    files = sorted((f for f in folder.iterdir() if f.is_file()), key=lambda f: f.stat().st_mtime)
    total = sum(f.stat().st_size for f in files)
    for f in files:
        if f in keep:
            continue
        size, age = f.stat().st_size, now - f.stat().st_mtime
        if age > limits.export_max_age_s or total > limits.export_max_mb * 2**20:
            f.unlink(missing_ok=True)
            total -= size


def export_folder() -> Path:
    folder = export_root()
    folder.mkdir(parents=True, exist_ok=True)
    return folder
