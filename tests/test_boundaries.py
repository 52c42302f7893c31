"""Layering: the folders are the layers and imports go one way. No import cycle; nothing outside
`hexviz.train` imports it; decoding, model, run and task code never reach the app; no top-level
module imports gradio or plotly; data and UI modules need no torch; every module has its test
file at the mirrored path (`hexviz/decode/engine.py` -> `tests/decode/test_engine.py`)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, known_run

PACKAGE = REPO / "hexviz"
# Modules whose tests live in another file: the loader as `hexviz.models`, the training
# package together, and the old import paths (thin re-exports) in one file.
TESTED_AS = {"hexviz.models.loader": "models/test_models.py",
             "hexviz.train.task": "train/test_train.py",
             "hexviz.train.loop": "train/test_train.py",
             "hexviz.train.tokenizer": "train/test_train.py",
             "hexviz.config": "test_public_paths.py", "hexviz.engine": "test_public_paths.py",
             "hexviz.trajectory": "test_public_paths.py"}
# What each layer may import of hexviz (a prefix admits its submodules); see DESIGN in README.
MAY_IMPORT = {
    "hexviz.tasks": ("hexviz.tasks",),
    "hexviz.models": ("hexviz.models", "hexviz.paths"),
    "hexviz.runs": ("hexviz.runs", "hexviz.decode.settings", "hexviz.decode.rules",
                    "hexviz.models.tokens", "hexviz.limits"),
    "hexviz.decode": ("hexviz.decode", "hexviz.models", "hexviz.runs", "hexviz.tasks",
                      "hexviz.limits"),
    "hexviz.evaluate": ("hexviz.decode", "hexviz.runs", "hexviz.tasks", "hexviz.limits"),
}
ENGINE_SIDE = ("hexviz.decode", "hexviz.models", "hexviz.runs", "hexviz.tasks", "hexviz.evaluate",
               "hexviz.cli")
# App modules with no UI library, torch or other app module behind them, which the CLI may use
# (`hexviz animate`); test_pure_app_modules_stay_pure holds them to that.
PURE_APP = ("hexviz.app", "hexviz.app.animate", "hexviz.app.palette")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_imports(path: Path) -> set[str]:
    """Modules that ``path`` imports anywhere (module level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def hexviz_imports(path: Path) -> set[str]:
    return {name for name in all_imports(path) if name.split(".")[0] == "hexviz"}


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    # `from hexviz import limits` names the root package too, which holds only a version
    return {name: {i for i in hexviz_imports(path) if i in files and i not in (name, "hexviz")}
            for name, path in files.items()}


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among the modules, ignoring a package's imports of its own modules."""
    def follow(node: str, path: list[str]) -> list[str] | None:
        for nxt in sorted(edges[node]):
            if within(node, nxt) or within(nxt, node):
                continue  # a package and its own submodules
            if nxt in path:
                return path[path.index(nxt):] + [nxt]
            if found := follow(nxt, path + [nxt]):
                return found
        return None

    return next((c for start in sorted(edges) if (c := follow(start, [start]))), None)


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def test_no_import_cycle():
    assert cycle(graph()) is None
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]  # it can fail


def test_nothing_outside_training_imports_it():
    outside = [p for p in [*PACKAGE.rglob("*.py"), REPO / "app.py", *REPO.glob("bench/*.py")]
               if "train" not in p.relative_to(REPO).parts]
    offenders = {str(p.relative_to(REPO)) for p in outside
                 if any(i.startswith("hexviz.train") for i in hexviz_imports(p))}
    assert offenders == set()


@pytest.mark.parametrize("layer", sorted(MAY_IMPORT))
def test_each_layer_imports_only_what_lies_below_it(layer):
    edges = graph()
    offenders = {f"{m} -> {i}" for m, imported in edges.items() if within(m, layer)
                 for i in imported if not any(within(i, ok) for ok in MAY_IMPORT[layer])}
    assert offenders == set()


@pytest.mark.parametrize("start", ENGINE_SIDE)
def test_engine_side_never_reaches_the_app(start):
    edges = graph()
    modules = [m for m in edges if within(m, start)]
    reached = set().union(*(reachable(edges, m) for m in modules))
    assert {m for m in reached if within(m, "hexviz.app") and m not in PURE_APP} == set()
    assert "hexviz.app.ui" in reachable(edges, "hexviz.app.runner") | reachable(
        edges, "hexviz.app.ui") | {"hexviz.app.ui"}  # the graph sees the app at all


def test_no_top_level_module_imports_gradio_or_plotly():
    top = sorted(PACKAGE.glob("*.py"))
    assert len(top) > 5
    offenders = {p.name: bad for p in top
                 if (bad := {i for i in all_imports(p) if i.split(".")[0] in ("gradio", "plotly")})}
    assert offenders == {}
    assert {"gradio"} <= {i.split(".")[0] for i in all_imports(PACKAGE / "app" / "ui.py")}


def mirrored_test(module: str) -> str:
    parts = module.split(".")[1:]
    return "/".join([*parts[:-1], f"test_{parts[-1]}.py"])


def test_every_module_has_its_mirrored_test_file():
    modules = [module_name(p) for p in PACKAGE.rglob("*.py")
               if p.stem not in ("__init__", "__main__")]
    missing = [m for m in modules
               if not (REPO / "tests" / TESTED_AS.get(m, mirrored_test(m))).exists()]
    assert missing == []
    assert mirrored_test("hexviz.decode.engine") == "decode/test_engine.py"


def imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True, timeout=120).stdout
    return {name.split(".")[0] for name in out.split()}


def test_pure_app_modules_stay_pure():
    edges = graph()
    for module in PURE_APP:
        assert {m for m in reachable(edges, module) if within(m, "hexviz.app")} <= set(PURE_APP)
    mods = imported_after("import hexviz.app.animate")
    assert "numpy" in mods  # the check itself works
    assert not {"gradio", "plotly", "torch"} & mods


def test_engine_imports_no_ui():
    mods = imported_after("import hexviz.decode.engine, hexviz.models, hexviz.cli, "
                          "hexviz.evaluate, hexviz.engine")
    assert "torch" in mods  # the check itself works
    assert not {"gradio", "plotly"} & mods


@pytest.mark.parametrize("module", ["hexviz.runs.record", "hexviz.runs.vote",
                                    "hexviz.runs.metrics", "hexviz.tasks.answers",
                                    "hexviz.decode.settings", "hexviz.decode.schedule",
                                    "hexviz.decode.rules", "hexviz.app.plots", "hexviz.app.ui",
                                    "hexviz.evaluate", "hexviz.models", "hexviz.cli",
                                    "hexviz.app.runner", "hexviz.config", "hexviz.trajectory"])
def test_ui_plot_and_data_modules_import_no_torch(module):
    assert "torch" not in imported_after(f"import {module}")


def test_replaying_a_run_needs_no_torch(tmp_path):
    from hexviz.runs import record

    path = record.save(known_run(), tmp_path / "run.json")
    statement = (f"from hexviz.runs import record; from hexviz.app import plots; "
                 f"plots.all_figures(record.load({str(path)!r}))")
    assert "torch" not in imported_after(statement)


def test_the_wheel_lists_every_package():
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    packages = {module_name(p) for p in PACKAGE.rglob("__init__.py")}
    assert packages - listed == set()
