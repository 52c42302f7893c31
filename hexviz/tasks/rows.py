"""Dataset rows from the files benchmarks are published in: .jsonl, .json, .csv, .parquet.

Rows come out as plain dicts, so every task reads every format. Parquet needs pyarrow, an
optional dependency: without it a .parquet file is refused with a message saying what to install.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FORMATS = (".jsonl", ".json", ".csv", ".parquet")


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Every row of ``path`` as a dict; ValueError naming the file (and line) when unreadable."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot read {path}: expected one of {', '.join(FORMATS)} "
                         f"(got {suffix or 'no extension'})")
    try:
        if suffix == ".parquet":
            return _parquet_rows(path)
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ValueError(f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"cannot read {path}: it is not UTF-8 text") from None
    if suffix == ".jsonl":
        return list(_jsonl_rows(path, text))
    if suffix == ".json":
        return _json_rows(path, text)
    return list(csv.DictReader(io.StringIO(text)))


def _jsonl_rows(path: Path, text: str) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise ValueError(f"{path}:{number}: expected a JSON object (one per line)") from None
        if not isinstance(row, dict):
            raise ValueError(f"{path}:{number}: expected a JSON object (one per line)")
        yield row


def _json_rows(path: Path, text: str) -> list[dict[str, Any]]:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not JSON: {err}") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError(f"{path}: expected a JSON list of row objects")
    return rows


def _parquet_rows(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError(f"reading {path.name} needs pyarrow, an optional dependency: "
                         "pip install pyarrow (or convert the file to .jsonl)") from None
    try:
        return pq.read_table(path).to_pylist()
    except Exception as err:  # noqa: BLE001  pyarrow raises its own error types
        raise ValueError(f"cannot read {path}: {err}".splitlines()[0]) from None
