"""Rehearsal (not a test): start hexviz the way a Hugging Face Gradio Space starts it.

    python bench/space_rehearsal.py [--variants plain,spaces] [--port 7860] [--work DIR] [--keep]

Run it from a clean clone (``git clone <checkout> /tmp/hexviz-clone``) with a Python that has
Playwright and gradio_client (the test extras). For each variant it:

1. checks the README's front matter (`front_matter_problems`) and stops on a problem;
2. builds a fresh venv the way a Gradio Space builds its image: ``pip install -r
   requirements.txt``, then the front matter's ``gradio==<sdk_version>``; the ``spaces`` variant
   adds the ``spaces`` package, as ZeroGPU hardware does. Nothing is installed from the
   checkout: the app runs from the repository root, as on a Space;
3. runs ``python app.py`` from the repository root with the variables a Space sets (SPACE_ID,
   SYSTEM=spaces, GRADIO_SERVER_NAME=0.0.0.0, port 7860), its log in the work folder;
4. opens the page in headless Chromium (Debian's /usr/bin/chromium, never a downloaded one),
   clicks Run on the Explore tab, records every status line the page shows while decoding, and
   takes a screenshot (out/screenshots/space-<variant>.png);
5. calls ``/run`` through gradio_client;
6. reads the log: no traceback; the ``spaces`` variant (no GPU here, no ZeroGPU) must say once
   that it falls back to decoding in-process, the plain one never.

It prints the times of each variant (install, start until the page answers, first figure after
clicking Run, whole run, API call) and exits 1 if a check failed, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("HEXVIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
PROMPT = ("Mia has 12 marbles. She gives 3 to Ben. She buys 5 more. "
          "Then she gets 2 times as many. How many marbles does Mia have now?")
SPACE_ID = "hexviz-rehearsal/hexviz"
# The app's one line when `spaces` is installed but ZeroGPU is not active (hexviz.app.zerogpu).
FALLBACK_PREFIX = "hexviz: ZeroGPU is not active"
# Hardware flavors the Spaces configuration reference accepts for suggested_hardware.
HARDWARE = {"cpu-basic", "cpu-upgrade", "t4-small", "t4-medium", "l4x1", "l4x4", "a10g-small",
            "a10g-large", "a10g-largex2", "a10g-largex4", "a100-large", "v5e-1x1", "v5e-2x2",
            "v5e-2x4"}
SNAPSHOT = re.compile(r"Decoding… step (\d+/\d+)")  # a partial run's status line
DURATION = re.compile(r"^\d+(s|m|h)$")  # startup_duration_timeout: "30m", "1h"
VARIANTS = {"plain": [], "spaces": ["spaces"]}
# Gradio starts a hot-reload watcher when SYSTEM=spaces. Without the `spaces` package that
# thread dies with this error; with it, `spaces`' reload server leaves event loops whose
# finalizers complain. A minimal gr.Blocks app logs the same: Gradio's and spaces', not hexviz's.
GRADIO_WITHOUT_SPACES = ("RuntimeError: `spaces` package is required to run hot-reloading in "
                         "Spaces")
RELOADER_LOOP = ("Exception ignored in: <function BaseEventLoop.__del__",
                 "ValueError: Invalid file descriptor: -1")
KNOWN = {"plain": {("", GRADIO_WITHOUT_SPACES)}, "spaces": {RELOADER_LOOP}}


# --- the front matter ---------------------------------------------------------------------------

def front_matter(readme_text: str) -> dict:
    """The YAML block between the README's first two ``---`` lines (a Space's configuration)."""
    import yaml

    lines = readme_text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ValueError("README.md does not start with a --- front matter block")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise ValueError("README.md's front matter block has no closing ---")
    meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    if not isinstance(meta, dict):
        raise ValueError("README.md's front matter is not a mapping")  # noqa: TRY004  one line
    return meta


def requirement_specifier(requirements_text: str, name: str):
    """The version specifier that ``requirements_text`` gives package ``name``; None if absent."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    for line in requirements_text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            req = Requirement(line)
            if canonicalize_name(req.name) == canonicalize_name(name):
                return req.specifier
    return None


def requires_python(pyproject_text: str) -> str | None:
    match = re.search(r'^requires-python\s*=\s*"([^"]+)"', pyproject_text, re.MULTILINE)
    return match.group(1) if match else None


def front_matter_problems(meta: dict, repo: Path) -> list[str]:
    """What would keep ``repo`` from building and starting as a Gradio Space, one line each."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion, Version

    problems = []
    if meta.get("sdk") != "gradio":
        problems.append(f"sdk must be gradio (got {meta.get('sdk')!r})")
    app_file = meta.get("app_file")
    if not app_file:
        problems.append("app_file is missing")
    elif not (repo / str(app_file)).is_file():
        problems.append(f"app_file {app_file} does not exist")
    version = meta.get("sdk_version")
    spec = requirement_specifier((repo / "requirements.txt").read_text(), "gradio")
    if version is None:
        problems.append("sdk_version is missing: a Space would install a Gradio of its choosing")
    elif spec is None:
        problems.append("requirements.txt does not name gradio")
    else:
        try:
            if Version(str(version)) not in spec:
                problems.append(f"sdk_version {version} is outside requirements.txt's gradio "
                                f"range ({spec})")
        except InvalidVersion:
            problems.append(f"sdk_version must be a version number (got {version!r})")
    python = meta.get("python_version")
    wanted = requires_python((repo / "pyproject.toml").read_text())
    if python is None:
        problems.append("python_version is missing (a Space would pick its default)")
    elif wanted and Version(str(python)) not in SpecifierSet(wanted):
        problems.append(f"python_version {python} is outside pyproject's requires-python "
                        f"({wanted})")
    hardware = meta.get("suggested_hardware")
    if hardware is not None and hardware not in HARDWARE:
        problems.append(f"suggested_hardware {hardware!r} is not a Spaces hardware flavor")
    timeout = meta.get("startup_duration_timeout")
    if timeout is not None and not DURATION.match(str(timeout)):
        problems.append(f"startup_duration_timeout must read like 30m or 1h (got {timeout!r})")
    models = meta.get("models", [])
    if not isinstance(models, list) or not all(re.fullmatch(r"[\w.-]+/[\w.-]+", str(m))
                                               for m in models):
        problems.append(f"models must be a list of hub ids owner/name (got {models!r})")
    return problems


# --- one variant --------------------------------------------------------------------------------

@dataclass
class Result:
    variant: str
    install_s: dict[str, float] = field(default_factory=dict)
    start_s: float = float("nan")  # python app.py until the page answers
    page_s: float = float("nan")  # opening the page until the Explore tab shows
    first_figure_s: float = float("nan")  # clicking Run until the first drawn figure
    run_s: float = float("nan")  # clicking Run until the finished run's status
    api_s: float = float("nan")
    snapshots: list[str] = field(default_factory=list)  # "n/N" of each partial status seen
    final_status: str = ""
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def timed(command: list[str], **kwargs) -> float:
    tic = time.perf_counter()
    subprocess.run(command, check=True, **kwargs)
    return time.perf_counter() - tic


def build_venv(venv: Path, repo: Path, sdk_version: str, extra: list[str],
               log: Path) -> dict[str, float]:
    """A Space's build: requirements.txt first, then the SDK's Gradio (and ``extra``)."""
    with log.open("a") as out:
        times = {"venv": timed([sys.executable, "-m", "venv", str(venv)], stdout=out,
                               stderr=subprocess.STDOUT)}
        pip = [str(venv / "bin" / "pip"), "install", "--no-cache-dir", "--progress-bar", "off"]
        times["requirements"] = timed([*pip, "-r", str(repo / "requirements.txt")], cwd=repo,
                                      stdout=out, stderr=subprocess.STDOUT)
        times["gradio"] = timed([*pip, f"gradio=={sdk_version}", *extra], cwd=repo, stdout=out,
                                stderr=subprocess.STDOUT)
    return times


def space_env(port: int, scratch: Path) -> dict[str, str]:
    """The variables a Space sets, on a clean copy of this process's environment."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HEXVIZ_", "GRADIO_", "SPACES_", "VIRTUAL_ENV", "PYTHON"))}
    env.update({"SPACE_ID": SPACE_ID, "SYSTEM": "spaces", "GRADIO_SERVER_NAME": "0.0.0.0",
                "GRADIO_SERVER_PORT": str(port), "GRADIO_TEMP_DIR": str(scratch / "gradio"),
                "HF_HOME": str(scratch / "hf"), "PYTHONUNBUFFERED": "1"})
    return env


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with status {proc.returncode} before answering")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"the app did not answer at {url} within {timeout:.0f} s")


# Records every text #status shows, so that snapshots drawn before the run ends are seen even
# when they pass quickly.
WATCH_STATUS = """() => {
  window.__statuses = [];
  const node = document.querySelector('#status');
  new MutationObserver(() => window.__statuses.push(node.innerText))
      .observe(node, {subtree: true, childList: true, characterData: true});
}"""


def drive_browser(url: str, result: Result, shot: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            tic = time.perf_counter()
            page.goto(url)
            page.get_by_role("tab", name="Explore", exact=True).click()  # the Lesson opens first
            page.locator("#run-button").wait_for()
            result.page_s = time.perf_counter() - tic
            page.evaluate(WATCH_STATUS)
            page.locator("#run-button").click()
            clicked = time.perf_counter()
            page.wait_for_selector("#reveal-plot .js-plotly-plot", timeout=300_000)
            result.first_figure_s = time.perf_counter() - clicked
            page.wait_for_function(
                "document.querySelector('#status').innerText.includes('voting experts')",
                timeout=300_000)
            result.run_s = time.perf_counter() - clicked
            seen = page.evaluate("window.__statuses")
            steps = (SNAPSHOT.search(s) for s in seen)
            result.snapshots = list(dict.fromkeys(m.group(1) for m in steps if m))
            result.final_status = page.locator("#status").inner_text().strip()
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()


def call_api(url: str, result: Result) -> None:
    from gradio_client import Client

    tic = time.perf_counter()
    run = Client(url, verbose=False).predict(prompt=PROMPT, api_name="/run")
    result.api_s = time.perf_counter() - tic
    if not run.get("experts") or "vote" not in run:
        result.failures.append(f"/run returned no run: {str(run)[:200]}")


def tracebacks(text: str) -> list[tuple[str, str]]:
    """(the "Exception ignored in" line before it, or "", the exception) of each traceback."""
    found, inside, ignored = [], False, ""
    for line in text.splitlines():
        if line.startswith("Traceback"):
            inside = True
        elif inside and line and not line[0].isspace():
            found.append((ignored, line.strip()))
            inside, ignored = False, ""
        elif line.startswith("Exception ignored in:"):
            ignored = next((k for k, _ in KNOWN["spaces"] if line.startswith(k)), line.strip())
    return found


def read_log(text: str, variant: str, result: Result) -> None:
    known = [t for t in tracebacks(text) if t in KNOWN[variant]]
    for context, error in tracebacks(text):
        if (context, error) not in KNOWN[variant]:
            result.failures.append(f"the app's log holds a traceback: {error}")
    for context, error in dict.fromkeys(known):
        result.notes.append(f"Gradio's Spaces reloader logged {known.count((context, error))} x "
                            f"{error} (a minimal Gradio app logs it too; hexviz is unaffected)")
    said = sum(line.startswith(FALLBACK_PREFIX) for line in text.splitlines())
    expected = 1 if variant == "spaces" else 0
    if said != expected:
        result.failures.append(f"the log says '{FALLBACK_PREFIX}' {said} times (expected "
                               f"{expected})")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def rehearse(variant: str, repo: Path, meta: dict, work: Path, port: int,
             start_timeout: float) -> Result:
    result = Result(variant)
    scratch = work / variant
    scratch.mkdir(parents=True)
    log = scratch / "build.log"
    try:
        result.install_s = build_venv(scratch / "venv", repo, str(meta["sdk_version"]),
                                      VARIANTS[variant], log)
    except subprocess.CalledProcessError as err:
        result.failures.append(f"the build failed ({' '.join(err.cmd[:4])} ...); see {log}")
        return result
    app_log = scratch / "app.log"
    with app_log.open("w") as out:
        tic = time.perf_counter()
        proc = subprocess.Popen([str(scratch / "venv" / "bin" / "python"), str(meta["app_file"])],
                                cwd=repo, env=space_env(port, scratch), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, proc, start_timeout)
        result.start_s = time.perf_counter() - tic
        drive_browser(url, result, REPO / "out" / "screenshots" / f"space-{variant}.png")
        call_api(url, result)
    except Exception as err:  # noqa: BLE001  reported as a failed check, the app is stopped
        result.failures.append(f"{type(err).__name__}: {str(err).splitlines()[0][:300]}")
    finally:
        stop(proc)
    read_log(app_log.read_text(errors="replace"), variant, result)
    if result.final_status and not result.snapshots:
        result.failures.append("the page showed no snapshot before the run ended")
    if result.final_status and "voting experts" not in result.final_status:
        result.failures.append(f"the run did not finish: {result.final_status!r}")
    return result


def report(result: Result) -> None:
    installs = ", ".join(f"{k} {v:.1f} s" for k, v in result.install_s.items())
    print(f"[{result.variant}] install {sum(result.install_s.values()):.1f} s ({installs})")
    print(f"[{result.variant}] start {result.start_s:.1f} s (python app.py until the page "
          f"answers); page {result.page_s:.1f} s")
    print(f"[{result.variant}] first figure {result.first_figure_s:.2f} s after clicking Run; "
          f"whole run {result.run_s:.2f} s; {len(result.snapshots)} snapshots seen before the "
          f"end ({', '.join(result.snapshots[:8])}{' ...' if len(result.snapshots) > 8 else ''})")
    print(f"[{result.variant}] /run through gradio_client {result.api_s:.2f} s; final status: "
          f"{result.final_status}")
    for note in result.notes:
        print(f"[{result.variant}] note: {note}")
    for failure in result.failures:
        print(f"[{result.variant}] FAIL: {failure}")


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="plain,spaces",
                        help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--port", type=int, default=7860, help="a Space serves on 7860")
    parser.add_argument("--work", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the venvs and logs")
    parser.add_argument("--start-timeout", type=float, default=300.0)
    args = parser.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    bad = [v for v in variants if v not in VARIANTS]
    if bad or not variants:
        parser.exit(2, f"error: unknown variant {', '.join(bad) or '(none)'}; choose from "
                       f"{', '.join(VARIANTS)}\n")
    if not port_is_free(args.port):
        parser.exit(2, f"error: port {args.port} is in use; stop what serves it or pass --port\n")
    if not Path(CHROMIUM).exists():
        parser.exit(2, f"error: no Chromium at {CHROMIUM} (apt-get install chromium)\n")
    try:
        meta = front_matter((REPO / "README.md").read_text())
    except ValueError as err:
        parser.exit(2, f"error: {err}\n")
    problems = front_matter_problems(meta, REPO)
    if problems:
        parser.exit(2, "".join(f"error: front matter: {p}\n" for p in problems))
    wanted = str(meta["python_version"])
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if not (here == wanted or wanted.startswith(here + ".")):
        print(f"note: this rehearsal runs Python {here}; the Space runs python_version {wanted}")
    work = args.work or Path(tempfile.mkdtemp(prefix="hexviz-space-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"rehearsing {REPO} (gradio {meta['sdk_version']}, Python {here}) in {work}",
          flush=True)
    results = []
    try:
        for variant in variants:
            results.append(rehearse(variant, REPO, meta, work, args.port, args.start_timeout))
            report(results[-1])
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    failed = [r.variant for r in results if r.failures]
    print("rehearsal " + (f"FAILED: {', '.join(failed)}" if failed else "passed"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
