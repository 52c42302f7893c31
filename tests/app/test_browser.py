"""End to end in headless Chromium: open the app, run an example, wait for the views.

Uses Debian's /usr/bin/chromium through Playwright (no browser download). The screenshot is
saved to out/screenshots/ for a person to look at.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from hexviz.app import ui
from hexviz.app.runner import LocalRunner
from tests.conftest import CHROMIUM, CHROMIUM_FLAGS as FLAGS, REPO, serving

SHOTS = REPO / "out" / "screenshots"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                       reason="Debian's chromium is not installed (.ci/run installs it)"),
]


@pytest.fixture(scope="module")
def app_url():
    runner = LocalRunner()
    loading = runner.preload()  # as app.py does
    demo = ui.build_demo(runner, examples=["Mia has 3 pens. She buys 4 more. "
                                                  "How many pens does Mia have now?"])
    with serving(demo) as url:
        yield url, loading


def test_run_an_example_in_the_browser(app_url):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        url, loading = app_url
        page.goto(url)
        page.get_by_role("tab", name="Explore", exact=True).click()  # the Lesson opens first
        page.get_by_text("Mia has 3 pens", exact=False).first.wait_for()
        loading.join(120)  # the figure below is timed with the model warm
        page.locator("#run-button").click()
        clicked = time.perf_counter()
        page.wait_for_selector("#reveal-plot .js-plotly-plot", timeout=120_000)
        first_figure_s = time.perf_counter() - clicked
        page.wait_for_selector("#vote-plot .js-plotly-plot", timeout=120_000)
        page.wait_for_function(
            "document.querySelector('#status').innerText.includes('voting experts')",
            timeout=120_000)
        status = page.locator("#status").inner_text()
        page.screenshot(path=str(SHOTS / "explore.png"), full_page=True)
        browser.close()
    # Printed, not asserted: the goal is <= 2 s (warm) on 2 CPU cores, and this
    # machine's speed varies with its load.
    print(f"first figure {first_figure_s:.2f} s after clicking Run (model warm); status: {status}")
    assert "forward passes" in status
