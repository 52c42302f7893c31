"""Limits on files read from elsewhere (uploaded runs and results): their size before reading,
then their declared shapes and values before any array is built."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hexviz.limits.operator import MAX_TOKEN_ID, LimitError, Limits, ShapeError, current
from hexviz.limits.requests import check_decode, growing_step_cap


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
    # Parallel samplers (hexviz.policy.samplers) may take up to gen_length steps; fixed and
    # bounded ones at most `steps`; a growing canvas (hexviz.policy.length) at most
    # `growing_step_cap`. A bound on shapes only, so the wider one is safe here.
    length = config.get("length") if isinstance(config.get("length"), dict) else {}
    grows = length.get("mode", "fixed") != "fixed"
    cap = (steps if config.get("sampler", "fixed") == "fixed"
           and not config.get("adaptive_blocks") else max(steps, gen_length))
    strategy = config.get("strategy") if isinstance(config.get("strategy"), dict) else {}
    one_expert = None  # the most steps of one expert, where less than the run's
    if strategy.get("name") == "dvoting":  # rounds in turn, each at most gen_length steps
        rounds = strategy.get("rounds")
        if not isinstance(rounds, int) or isinstance(rounds, bool) or not 2 <= rounds <= 26:
            raise ShapeError(f"strategy rounds must be an integer from 2 to 26 (got {rounds!r})")
        cap, one_expert = rounds * gen_length, gen_length
    if grows:
        initial, factor = length.get("initial_length"), length.get("expansion_factor")
        for name, value in (("initial_length", initial), ("expansion_factor", factor)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ShapeError(f"length {name} must be a positive integer (got {value!r})")
        cap = growing_step_cap(str(length["mode"]), gen_length, initial, factor)
    if done > cap:
        raise ShapeError(f"steps_done ({done}) is more than steps ({cap})")
    experts = d.get("experts")
    n = _length(experts, "experts")
    if n == 0:
        raise ShapeError("the run has no experts")
    expert_cap = one_expert or cap
    check_decode(gen_length, steps, n, limits, expert_cap if expert_cap > steps else None)
    for i, e in enumerate(experts):
        if not isinstance(e, dict):
            raise ShapeError(f"expert {i} must be an object")
        for key in ("token_ids", "tokens", "reveal_step", "reveal_conf"):
            n_entries = _length(e.get(key), f"expert {i} {key}")
            if n_entries > gen_length or (n_entries != gen_length and not grows):
                raise ShapeError(f"expert {i} {key} has {n_entries} entries; gen_length is "
                                 f"{gen_length}")
        check_event_columns(e.get("events"), i, cap * (gen_length + 2))
        for key in ("draft_ids", "draft_prob"):
            rows = e.get(key)
            if _length(rows, f"expert {i} {key}") > cap or any(
                    _length(r, f"expert {i} {key} row") != gen_length for r in rows):
                raise ShapeError(f"expert {i} {key} must be at most {cap} rows (steps) of "
                                 f"{gen_length} (gen_length)")


def check_event_columns(events: Any, expert: int, most: int) -> None:
    """An expert's event log (absent in files before it) holds at most ``most`` events: as
    many as its steps could make, each step touching each position at most once."""
    if events is None:
        return
    if not isinstance(events, dict):
        raise ShapeError(f"expert {expert} events must be an object of columns")
    for key in ("step", "kind", "position", "token", "old", "count", "prob"):
        if _length(events.get(key), f"expert {expert} events {key}") > most:
            raise ShapeError(f"expert {expert} events hold more than {most} entries")


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
