"""Layering: the engine never imports UI libraries; UI, plots and data code need no torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


def imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True, timeout=120).stdout
    return {name.split(".")[0] for name in out.split()}


def test_engine_imports_no_ui():
    mods = imported_after("import hexviz.engine, hexviz.models, hexviz.cli")
    assert "torch" in mods  # the check itself works
    assert not {"gradio", "plotly"} & mods


@pytest.mark.parametrize("module", ["hexviz.trajectory", "hexviz.vote", "hexviz.answers",
                                    "hexviz.config", "hexviz.schedule", "hexviz.plots",
                                    "hexviz.ui", "hexviz.evaluate"])
def test_ui_plot_and_data_modules_import_no_torch(module):
    assert "torch" not in imported_after(f"import {module}")


def test_replaying_a_run_needs_no_torch(tmp_path):
    from hexviz import trajectory
    from tests.conftest import known_run

    path = trajectory.save(known_run(), tmp_path / "run.json")
    statement = (f"from hexviz import trajectory, plots; "
                 f"plots.all_figures(trajectory.load({str(path)!r}))")
    assert "torch" not in imported_after(statement)
