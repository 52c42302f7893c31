"""The teaching views in headless Chromium: walk the lesson, open a gallery run, fork, compare.

Debian's /usr/bin/chromium through Playwright (no browser download), at a laptop's 1366x768 and
a phone's 390x844. Screenshots go to a temporary folder, or to $HEXVIZ_SHOTS when it is set,
for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hexviz.app import ui
from hexviz.render.lesson import CHAPTER_KEYS
from hexviz.app.runner import LocalRunner
from tests.conftest import CHROMIUM, CHROMIUM_FLAGS as FLAGS, serving

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="Debian's chromium is not installed")]
VIEWPORTS = [(1366, 768), (390, 844)]


@pytest.fixture(scope="module")
def app_url():
    with serving(ui.build_demo(LocalRunner())) as url:
        yield url


def text_of(page, selector: str) -> str:
    return page.locator(selector).inner_text()


def wait_text(page, selector: str, needle: str, timeout: int = 120_000) -> None:
    page.wait_for_function(
        f"(document.querySelector('{selector}')?.innerText || '').includes('{needle}')",
        timeout=timeout)


@pytest.mark.parametrize("width,height", VIEWPORTS)
def test_lesson_gallery_fork_and_compare(app_url, tmp_path, width, height):
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("HEXVIZ_SHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)

    def shot(name: str) -> None:
        page.wait_for_timeout(800)  # let plotly finish drawing
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(app_url)
        # The lesson is the first tab, open at once: stored runs, no decoding.
        page.locator("#try-one_expert").wait_for(timeout=60_000)
        for n, key in enumerate(CHAPTER_KEYS):
            page.locator(f"#chapter-{key} .js-plotly-plot").first.wait_for()
            shot(f"lesson-{n + 1}")
            page.locator(f"#next-{key}").click()
        page.locator("#chapter-scaling .js-plotly-plot").first.wait_for()
        shot("lesson-5")
        # Try it yourself: chapter 1's run fills Explore, with its settings.
        open_tab(page, "1 · One expert")
        page.locator("#try-one_expert").click()
        wait_text(page, "#status", "voting experts")
        page.locator("#reveal-plot .js-plotly-plot").wait_for()
        shot("explore")
        # A gallery run replays in every view.
        open_tab(page, "Gallery")
        page.locator("#gallery-open").click()
        wait_text(page, "#status", "voting experts")
        status = text_of(page, "#status")
        # What-if fork from the default expert and step, unchanged: identical continuation.
        open_tab(page, "What-if fork")
        page.locator("#fork-button").click()
        wait_text(page, "#fork-summary", "Fork after")
        same = text_of(page, "#fork-summary")
        # Force the first masked position to the model's second candidate.
        canvas = text_of(page, "#fork-canvas")
        page.locator("#fork-position textarea, #fork-position input").first.fill(
            str(first_masked(page)))
        page.locator("#fork-candidates").click()
        page.wait_for_function("document.querySelector('#fork-token input')?.value", timeout=60_000)
        page.locator("#fork-token input").click()
        page.get_by_role("option").nth(1).click()
        page.locator("#fork-button").click()
        wait_text(page, "#fork-summary", "forced to")
        page.locator("#fork-reveal .js-plotly-plot").wait_for()
        forced = text_of(page, "#fork-summary")
        shot("fork")
        # Compare two experts of the current run.
        open_tab(page, "Compare")
        page.locator("#compare-button").click()
        page.locator("#compare-maps .js-plotly-plot").wait_for(timeout=60_000)
        shot("compare")
        browser.close()
    print(f"{width}x{height}: {status} | {same} | {forced} | screenshots in {shots}")
    assert "identical to the original" in same
    assert "forced to" in forced and "still masked" in canvas


def open_tab(page, name: str) -> None:
    """Click a tab, through the tab bar's "More tabs" menu where a narrow window hides it."""
    from playwright.sync_api import TimeoutError as Timeout

    def clicked(locator) -> bool:
        try:
            locator.click(timeout=2_000)
            return True
        except Timeout:  # the tab bar redrew (a tab moved to or from "More tabs") meanwhile
            return False

    for _ in range(40):  # the tab bar may still be drawing after a tab switch
        tab = page.get_by_role("tab", name=name, exact=True)
        if tab.count() and tab.first.is_visible() and clicked(tab.first):
            return
        for more in page.get_by_label("More tabs").all():
            if more.is_visible() and clicked(more):
                item = page.locator(".overflow-dropdown:not(.hide) button", has_text=name)
                if item.count() and item.first.is_visible() and clicked(item.first):
                    return
                clicked(more)
        page.wait_for_timeout(500)
    raise AssertionError(f"no tab named {name!r}")


def first_masked(page) -> int:
    """The first masked position shown on the fork canvas (its cells carry their number)."""
    return page.evaluate(
        "[...document.querySelectorAll('#fork-canvas span[title]')]"
        ".findIndex(s => s.innerText.endsWith('·'))")
