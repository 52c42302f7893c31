"""Dataset rows from .jsonl, .json, .csv and (with pyarrow) .parquet files."""

from __future__ import annotations

import importlib.util
import json

import pytest

from hexviz.tasks.rows import read_rows

HAS_PYARROW = importlib.util.find_spec("pyarrow") is not None


def test_jsonl_json_and_csv(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"q": 1}\n\n{"q": 2}\n')
    (tmp_path / "a.json").write_text(json.dumps([{"q": 1}, {"q": 2}]))
    (tmp_path / "a.csv").write_text("Puzzle,Solution\n0012,3412\n")
    assert read_rows(tmp_path / "a.jsonl") == [{"q": 1}, {"q": 2}]
    assert read_rows(tmp_path / "a.json") == [{"q": 1}, {"q": 2}]
    assert read_rows(tmp_path / "a.csv") == [{"Puzzle": "0012", "Solution": "3412"}]  # text kept


@pytest.mark.parametrize("name,content,message", [
    ("a.txt", "x", "expected one of .jsonl"),
    ("a.jsonl", '{"q": 1}\nnot json\n', "a.jsonl:2: expected a JSON object"),
    ("a.jsonl", "[1, 2]\n", "a.jsonl:1: expected a JSON object"),
    ("a.json", '{"q": 1}', "expected a JSON list of row objects"),
    ("a.json", "{", "is not JSON"),
])
def test_bad_files_are_named(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(ValueError, match=message):
        read_rows(tmp_path / name)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ValueError, match="cannot read"):
        read_rows(tmp_path / "none.jsonl")
    (tmp_path / "b.jsonl").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="not UTF-8"):
        read_rows(tmp_path / "b.jsonl")


@pytest.mark.skipif(HAS_PYARROW, reason="pyarrow is installed")
def test_parquet_without_pyarrow_says_what_to_install(tmp_path):
    (tmp_path / "test-00000.parquet").write_bytes(b"PAR1")
    with pytest.raises(ValueError, match="needs pyarrow, an optional dependency: pip install"):
        read_rows(tmp_path / "test-00000.parquet")


@pytest.mark.skipif(not HAS_PYARROW, reason="pyarrow is not installed")
def test_parquet_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    pq.write_table(pa.table({"question": ["q1"], "answer": ["#### 1"]}), tmp_path / "t.parquet")
    assert read_rows(tmp_path / "t.parquet") == [{"question": "q1", "answer": "#### 1"}]
