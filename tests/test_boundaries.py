"""Layering: the folders are the floors and imports go down only (the map in `hexviz/__init__.py`).

No import cycle and no arrow back up; nothing outside `hexviz.train` imports it; the render floor
and everything below decoding load without torch, gradio or plotly where they say so; the app
holds only modules that import gradio or serve them; no module is over 600 lines; every module
has its test file at the mirrored path (`hexviz/decode/engine.py` -> `tests/decode/test_engine.py`).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, known_run

PACKAGE = REPO / "hexviz"
# Modules whose tests live in another file: the loader as `hexviz.models`, the training
# package together.
TESTED_AS = {"hexviz.models.loader": "models/test_models.py",
             "hexviz.train.task": "train/test_train.py",
             "hexviz.train.loop": "train/test_train.py",
             "hexviz.train.tokenizer": "train/test_train.py"}
# The floors, lowest first, and what each may import of hexviz (a prefix admits its
# submodules). Everything a floor names lies below it, so no arrow points back up.
FLOORS = {
    "hexviz.paths": (),
    "hexviz.limits": (),
    "hexviz.tasks": (),
    "hexviz.models": ("hexviz.paths",),
    "hexviz.policy": ("hexviz.limits",),
    "hexviz.runs": ("hexviz.paths", "hexviz.limits", "hexviz.models.tokens", "hexviz.policy"),
    "hexviz.decode": ("hexviz.limits", "hexviz.tasks", "hexviz.models", "hexviz.policy",
                      "hexviz.runs"),
    "hexviz.eval": ("hexviz.limits", "hexviz.tasks", "hexviz.policy", "hexviz.runs",
                    "hexviz.decode"),
    # pure renderers: the eval's records and scores, never its decoding
    "hexviz.render": ("hexviz.paths", "hexviz.limits", "hexviz.tasks", "hexviz.policy",
                      "hexviz.runs", "hexviz.eval.records", "hexviz.eval.scoring"),
    # runs made elsewhere (a diffusers pipeline, the HEX authors' files) read into records
    "hexviz.imports": ("hexviz.limits", "hexviz.tasks", "hexviz.models.tokens", "hexviz.policy",
                       "hexviz.runs", "hexviz.eval.records", "hexviz.eval.scoring"),
    "hexviz.cli": ("hexviz.paths", "hexviz.limits", "hexviz.tasks", "hexviz.models",
                   "hexviz.policy", "hexviz.runs", "hexviz.decode", "hexviz.eval",
                   "hexviz.render", "hexviz.imports"),
    "hexviz.showcase": ("hexviz.paths", "hexviz.limits", "hexviz.tasks", "hexviz.models",
                        "hexviz.policy", "hexviz.runs", "hexviz.decode", "hexviz.eval",
                        "hexviz.render"),
    "hexviz.__main__": ("hexviz.cli",),
    "hexviz.app": ("hexviz.paths", "hexviz.limits", "hexviz.tasks", "hexviz.models",
                   "hexviz.policy", "hexviz.runs", "hexviz.decode", "hexviz.eval",
                   "hexviz.render"),
}
# App modules that serve the UI without importing gradio themselves.
APP_SERVICES = ("hexviz.app", "hexviz.app.tabs", "hexviz.app.runner", "hexviz.app.loading",
                "hexviz.app.zerogpu", "hexviz.app.serving")
MAX_LINES = 600


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


def floor_of(module: str) -> str | None:
    return next((f for f in FLOORS if within(module, f)), None)


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


def arrows_up(edges: dict[str, set[str]]) -> set[str]:
    """Every import that leaves its floor for one that floor may not import."""
    return {f"{m} -> {i}" for m, imported in edges.items() if (floor := floor_of(m))
            for i in imported if not within(i, floor)
            and not any(within(i, ok) for ok in FLOORS[floor])}


def test_no_import_cycle():
    assert cycle(graph()) is None
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]  # it can fail


def test_every_module_lies_on_a_floor():
    assert {m for m in graph() if floor_of(m) is None and not within(m, "hexviz.train")} == {
        "hexviz"}


def test_no_arrow_points_back_up():
    assert arrows_up(graph()) == set()
    # it can fail: the render floor reaching decoding, runs reaching the planner
    assert arrows_up({"hexviz.render.figures": {"hexviz.decode.engine"},
                      "hexviz.runs.record": {"hexviz.decode.plan"}}) == {
        "hexviz.render.figures -> hexviz.decode.engine",
        "hexviz.runs.record -> hexviz.decode.plan"}


def test_the_floors_go_one_way():
    """A floor may import only floors listed before it: the order is the map's."""
    order = list(FLOORS)
    for floor, allowed in FLOORS.items():
        for prefix in allowed:
            assert order.index(floor_of(prefix)) < order.index(floor), (floor, prefix)


def test_nothing_outside_training_imports_it():
    outside = [p for p in [*PACKAGE.rglob("*.py"), REPO / "app.py", *REPO.glob("bench/*.py")]
               if "train" not in p.relative_to(REPO).parts]
    offenders = {str(p.relative_to(REPO)) for p in outside
                 if any(i.startswith("hexviz.train") for i in hexviz_imports(p))}
    assert offenders == set()


def test_the_decode_loop_reads_no_answers():
    """The engine hands out tokens and what each step did; answers are read after it, once."""
    edges = graph()
    assert not {m for m in reachable(edges, "hexviz.decode.engine") if within(m, "hexviz.tasks")}
    assert "hexviz.tasks.answers" in reachable(edges, "hexviz.decode.assemble")


def test_the_app_holds_only_ui_modules_and_their_services():
    modules = [p for p in (PACKAGE / "app").rglob("*.py") if module_name(p) not in APP_SERVICES]
    assert len(modules) > 5
    assert {module_name(p) for p in modules
            if "gradio" not in {i.split(".")[0] for i in all_imports(p)}} == set()


def test_no_module_is_over_600_lines():
    long = {str(p.relative_to(REPO)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


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


def test_the_render_floor_imports_no_ui_library_or_torch():
    mods = imported_after("import hexviz.render.animate, hexviz.render.lesson, "
                          "hexviz.render.answers, hexviz.render.palette")
    assert "numpy" in mods  # the check itself works
    assert not {"gradio", "torch"} & mods


@pytest.mark.slow  # fresh interpreters; the quick tier keeps the render floor's and the replay's
def test_engine_side_imports_no_ui():
    mods = imported_after("import hexviz.decode.engine, hexviz.models, hexviz.cli, "
                          "hexviz.eval.batch")
    assert "torch" in mods  # the check itself works
    assert not {"gradio", "plotly"} & mods
    assert "gradio" not in imported_after("import hexviz.showcase")  # it renders: plotly is fine


@pytest.mark.slow
@pytest.mark.parametrize("module", ["hexviz.runs.record", "hexviz.runs.vote",
                                    "hexviz.runs.metrics", "hexviz.tasks.answers",
                                    "hexviz.policy.settings", "hexviz.policy.schedule",
                                    "hexviz.policy.rules", "hexviz.policy.samplers",
                                    "hexviz.decode.plan", "hexviz.decode.assemble",
                                    "hexviz.render.figures", "hexviz.app.ui",
                                    "hexviz.eval.report", "hexviz.eval.batch", "hexviz.models",
                                    "hexviz.cli", "hexviz.app.runner", "hexviz.limits"])
def test_ui_plot_and_data_modules_import_no_torch(module):
    assert "torch" not in imported_after(f"import {module}")


def test_replaying_a_run_needs_no_torch(tmp_path):
    from hexviz.runs import record

    path = record.save(known_run(), tmp_path / "run.json")
    statement = (f"from hexviz.runs import record; from hexviz.render import figures; "
                 f"run = record.load({str(path)!r}); figures.reveal_order(run); "
                 f"figures.scrubber(run); figures.unmasking_map(run, 0)")
    assert "torch" not in imported_after(statement)


def test_the_wheel_lists_every_package():
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    packages = {module_name(p) for p in PACKAGE.rglob("__init__.py")}
    assert packages - listed == set()
