"""The README's front matter: a Gradio Space configuration that builds and starts hexviz.

A Space installs requirements.txt and then the Gradio that ``sdk_version`` names, and runs
``app_file``; the checks live in bench/space_rehearsal.py, which refuses to rehearse a front
matter they reject.
"""

from __future__ import annotations

import importlib.util
import sys

import gradio
import pytest

from hexviz.models.loader import LLADA_IDS
from tests.conftest import REPO

spec = importlib.util.spec_from_file_location("space_rehearsal",
                                              REPO / "bench" / "space_rehearsal.py")
rehearsal = importlib.util.module_from_spec(spec)
sys.modules["space_rehearsal"] = rehearsal  # dataclasses look the module up while it loads
spec.loader.exec_module(rehearsal)

META = rehearsal.front_matter((REPO / "README.md").read_text())


def test_the_front_matter_builds_and_starts_a_gradio_space():
    assert rehearsal.front_matter_problems(META, REPO) == []


def test_sdk_version_is_the_gradio_the_app_is_tested_with():
    assert str(META["sdk_version"]) == gradio.__version__


def test_the_space_names_its_hardware_and_the_checkpoints_it_can_load():
    assert META["suggested_hardware"] == "cpu-basic"  # the built-in model needs no GPU
    assert META["models"] and set(META["models"]) <= LLADA_IDS  # loaded without remote code
    assert META.get("license") and META.get("tags")


@pytest.mark.parametrize("change,problem", [
    ({"sdk_version": None}, "sdk_version is missing"),
    ({"sdk_version": "5.49.1"}, "sdk_version 5.49.1 is outside requirements.txt's gradio range"),
    ({"sdk_version": "7.0.0"}, "sdk_version 7.0.0 is outside"),
    ({"app_file": "nowhere.py"}, "app_file nowhere.py does not exist"),
    ({"app_file": None}, "app_file is missing"),
    ({"sdk": "docker"}, "sdk must be gradio"),
    ({"python_version": "3.9"}, "python_version 3.9 is outside pyproject's requires-python"),
    ({"suggested_hardware": "gpu-huge"}, "suggested_hardware 'gpu-huge' is not a Spaces"),
    ({"startup_duration_timeout": "soon"}, "startup_duration_timeout must read like 30m"),
    ({"models": ["not an id"]}, "models must be a list of hub ids"),
])
def test_a_front_matter_that_would_not_build_is_refused(change, problem):
    meta = {**META, **change}
    meta = {k: v for k, v in meta.items() if v is not None}
    assert any(p.startswith(problem) for p in rehearsal.front_matter_problems(meta, REPO))


def test_requirements_without_gradio_are_a_problem(tmp_path):
    for name in ("README.md", "pyproject.toml", "app.py"):
        (tmp_path / name).write_text((REPO / name).read_text())
    (tmp_path / "requirements.txt").write_text("torch==2.13.0  # gradio is not here\n")
    assert "requirements.txt does not name gradio" in rehearsal.front_matter_problems(
        META, tmp_path)


@pytest.mark.parametrize("text,message", [
    ("# hexviz\n", "does not start with a --- front matter block"),
    ("---\ntitle: x\n", "has no closing ---"),
])
def test_a_readme_without_front_matter_is_refused(text, message):
    with pytest.raises(ValueError, match=message):
        rehearsal.front_matter(text)


def test_requirement_specifier_reads_names_as_pip_does():
    text = "# comment\n-e .\nGradio>=6.0,<7  # the UI\ntorch==2.13.0\n"
    assert str(rehearsal.requirement_specifier(text, "gradio")) == "<7,>=6.0"
    assert rehearsal.requirement_specifier(text, "plotly") is None


GRADIO_TRACEBACK = ("Exception in thread Thread-4:\nTraceback (most recent call last):\n"
                    '  File "gradio/utils.py", line 323, in watchfn_spaces\n'
                    f"{rehearsal.GRADIO_WITHOUT_SPACES}\n* Running on local URL\n")


@pytest.mark.parametrize("variant,log,failures", [
    ("plain", GRADIO_TRACEBACK, []),  # Gradio's reloader without `spaces`: a note
    ("spaces", GRADIO_TRACEBACK + f"{rehearsal.FALLBACK_PREFIX} (...)\n",
     ["the app's log holds a traceback: RuntimeError"]),
    ("spaces", "* Running\n", ["the log says 'hexviz: ZeroGPU is not active' 0 times"]),
    ("spaces", f"{rehearsal.FALLBACK_PREFIX} (a)\n{rehearsal.FALLBACK_PREFIX} (b)\n",
     ["the log says 'hexviz: ZeroGPU is not active' 2 times"]),
    ("plain", "Traceback (most recent call last):\n  x\nValueError: boom\n",
     ["the app's log holds a traceback: ValueError: boom"]),
    ("spaces", f"{rehearsal.FALLBACK_PREFIX} (...)\n" + 2 * (
        f"{rehearsal.RELOADER_LOOP[0]} at 0x7f>\nTraceback (most recent call last):\n  x\n"
        f"{rehearsal.RELOADER_LOOP[1]}\n"), []),  # spaces' reload server: a note
])
def test_the_rehearsal_reads_the_apps_log(variant, log, failures):
    result = rehearsal.Result(variant)
    rehearsal.read_log(log, variant, result)
    assert len(result.failures) == len(failures)
    assert all(f.startswith(p) for f, p in zip(result.failures, failures, strict=True))
    assert bool(result.notes) == (not failures)  # what is known is noted, not hidden


def test_the_rehearsal_looks_for_the_apps_own_fallback_line():
    from hexviz.app.zerogpu import FALLBACK_MESSAGE

    assert FALLBACK_MESSAGE.startswith(rehearsal.FALLBACK_PREFIX)
