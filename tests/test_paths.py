"""Shipped files are found from the package, in a checkout and in an installed wheel."""

from __future__ import annotations

import json

from hexviz import paths


def test_shipped_files_exist():
    assert (paths.BUILTIN_DIR / "model.safetensors").is_file()
    assert (paths.BUILTIN_DIR / "hexviz.json").is_file()
    assert paths.TEST_SET.read_text().count("\n") >= 500
    assert all(isinstance(q, str) and q for q in json.loads(paths.EXAMPLES.read_text()))
    assert all(p.is_file() for p in paths.STORED_EVALS)


def test_an_installed_copy_is_preferred(tmp_path, monkeypatch):
    package = tmp_path / "hexviz"
    (package / "_assets").mkdir(parents=True)
    monkeypatch.setattr(paths, "_PACKAGE", package)
    assert paths._assets() == package / "_assets"
    (package / "_assets").rmdir()
    assert paths._assets() == tmp_path / "assets"  # a checkout: assets/ beside the package
