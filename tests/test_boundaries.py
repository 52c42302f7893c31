"""Layering: imports go one way (no cycles; nothing outside `hexviz.train` imports it; eval code
imports no CLI code); the engine never imports UI libraries; UI, plots and data code need no
torch; every module has its mirrored test file."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, known_run

PACKAGE = REPO / "hexviz"
# Modules tested together in one file: the training package, and the loader as `hexviz.models`.
TESTED_AS = {"hexviz.models.loader": "models", "hexviz.train.task": "train",
             "hexviz.train.loop": "train", "hexviz.train.tokenizer": "train"}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def hexviz_imports(path: Path) -> set[str]:
    """hexviz modules that ``path`` imports anywhere (module level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {name for name in found if name.split(".")[0] == "hexviz"}


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {i for i in hexviz_imports(path) if i in files and i != name}
            for name, path in files.items()}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among the modules, ignoring a package's imports of its own modules."""
    def follow(node: str, path: list[str]) -> list[str] | None:
        for nxt in sorted(edges[node]):
            if node.startswith(nxt + ".") or nxt.startswith(node + "."):
                continue  # a package and its own submodules
            if nxt in path:
                return path[path.index(nxt):] + [nxt]
            if found := follow(nxt, path + [nxt]):
                return found
        return None

    return next((c for start in sorted(edges) if (c := follow(start, [start]))), None)


def test_no_import_cycle():
    assert cycle(graph()) is None
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]  # it can fail


def test_nothing_outside_training_imports_it():
    outside = [p for p in [*PACKAGE.rglob("*.py"), REPO / "app.py", *REPO.glob("bench/*.py")]
               if "train" not in p.relative_to(REPO).parts]
    offenders = {str(p.relative_to(REPO)) for p in outside
                 if any(i.startswith("hexviz.train") for i in hexviz_imports(p))}
    assert offenders == set()


@pytest.mark.parametrize("module,forbidden", [
    ("hexviz.evaluate", "hexviz.cli"), ("hexviz.evaluate", "hexviz.ui"),
    ("hexviz.runner", "hexviz.ui"), ("hexviz.engine", "hexviz.runner"),
])
def test_lower_layers_do_not_import_higher_ones(module, forbidden):
    assert forbidden not in graph()[module]


def test_every_module_has_its_mirrored_test_file():
    tests = {p.stem.removeprefix("test_") for p in (REPO / "tests").glob("test_*.py")}
    modules = [module_name(p) for p in PACKAGE.rglob("*.py")
               if p.stem not in ("__init__", "__main__")]
    missing = [m for m in modules if TESTED_AS.get(m, m.rsplit(".", 1)[-1]) not in tests]
    assert missing == []


def imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True, timeout=120).stdout
    return {name.split(".")[0] for name in out.split()}


def test_engine_imports_no_ui():
    mods = imported_after("import hexviz.engine, hexviz.models, hexviz.cli, hexviz.runner")
    assert "torch" in mods  # the check itself works
    assert not {"gradio", "plotly"} & mods


@pytest.mark.parametrize("module", ["hexviz.trajectory", "hexviz.vote", "hexviz.answers",
                                    "hexviz.config", "hexviz.schedule", "hexviz.plots",
                                    "hexviz.ui", "hexviz.evaluate", "hexviz.models",
                                    "hexviz.cli", "hexviz.runner"])
def test_ui_plot_and_data_modules_import_no_torch(module):
    assert "torch" not in imported_after(f"import {module}")


def test_replaying_a_run_needs_no_torch(tmp_path):
    from hexviz import trajectory

    path = trajectory.save(known_run(), tmp_path / "run.json")
    statement = (f"from hexviz import trajectory, plots; "
                 f"plots.all_figures(trajectory.load({str(path)!r}))")
    assert "torch" not in imported_after(statement)
