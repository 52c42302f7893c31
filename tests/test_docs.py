"""The manual stays true: the Python API page's example runs, and every relative link of the
README and docs/ points at a file that exists."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)


@pytest.mark.slow
def test_the_python_api_example_runs():
    (example,) = code_blocks((REPO / "docs" / "python-api.md").read_text(), "python")
    out = subprocess.run([sys.executable, "-c", example], cwd=REPO, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    winner, answers = out.stdout.split(" ", 1)
    assert winner in answers  # the vote's winner is some expert's answer


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text())
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert local, "the page links to the rest of the manual"
    assert [link for link in local if not (page.parent / link).exists()] == []


def test_a_visitor_sees_one_question_first_everywhere():
    """The app opens on the README's question, and the CLI's and API's pages decode it too."""
    from hexviz.tasks.tinygsm import FIRST_QUESTION as DEFAULT_EXAMPLE

    def joined(name: str) -> str:  # Python strings split over lines, joined again
        return re.sub(r'"\s*\n\s*"', "", (REPO / name).read_text())

    assert f'Q="{DEFAULT_EXAMPLE}"' in joined("README.md")
    missing = [page for page in ("docs/cli.md", "docs/app.md", "docs/python-api.md")
               if DEFAULT_EXAMPLE not in joined(page)]
    assert missing == []


def test_the_growing_canvas_page_lists_every_setting_with_its_default():
    """docs/length.md's table: every `LengthConfig` setting, by its flag, with its default."""
    import dataclasses

    from hexviz.policy.length import LengthConfig, flag

    table = (REPO / "docs" / "length.md").read_text().split("## Settings", 1)[1]
    documented = dict(re.findall(r"^\| `(--[\w-]+)` \| (.+?) \|", table, re.MULTILINE))
    defaults = {flag("length" if f.name == "mode" else f.name): f.default
                for f in dataclasses.fields(LengthConfig)}
    assert documented == {name: f"`{value}`" if isinstance(value, str) else str(value)
                          for name, value in defaults.items()}


def documented_runs(pages: tuple[str, ...], flag: str) -> list:
    """The parsed arguments of each `hexviz run ... FLAG` line in the pages' bash blocks
    (parsed, not decoded: the CLI's tests decode)."""
    import shlex

    from hexviz.cli import build_parser

    commands = [line.split("#")[0].replace("$Q", "Q").replace("> run.json", "")
                for page in pages
                for block in code_blocks((REPO / page).read_text(), "bash")
                for line in block.splitlines()
                if line.startswith("hexviz run") and flag in line]
    return [build_parser().parse_args(shlex.split(command)[1:]) for command in commands]


def test_the_documented_growing_canvas_commands_parse():
    """Each `hexviz run ... --length` line of the README and docs/length.md is a valid command."""
    runs = documented_runs(("README.md", "docs/length.md"), "--length")
    assert len(runs) >= 4
    for args in runs:
        assert args.length in ("daedal", "rho-eos")


def test_the_documented_block_commands_parse():
    """Each `hexviz run ... --blocks` line of the README and docs/cli.md parses into experts."""
    runs = documented_runs(("README.md", "docs/cli.md"), "--blocks")
    assert runs
    for args in runs:
        assert args.blocks
