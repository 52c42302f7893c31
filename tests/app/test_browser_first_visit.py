"""A first visit in headless Chromium, at a laptop's 1366x768 and a phone's 390x844 (issue 45):
a run shows its progress where the visitor looks, every chart title fits its plot, a scrubber
plays and its cells' text fits its cell or is hidden, and a failed run keeps its reason on the
page.

Debian's /usr/bin/chromium through Playwright (no browser download). A slow fake runner
stands in for the model (three snapshots a second apart, or a failure when asked); the lesson
and the runs opened from it are the stored ones. $HEXVIZ_SHOTS keeps the screenshots.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hexviz.app import ui
from hexviz.render.lesson import CHAPTER_KEYS, SHORT_TITLES
from tests.app.test_browser_lesson import open_tab
from tests.conftest import CHROMIUM, CHROMIUM_FLAGS, FakeRunner, known_run, serving

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="Debian's chromium is not installed")]
VIEWPORTS = [(1366, 768), (390, 844)]
FAIL = "please fail"  # a question the slow runner refuses, as a broken model would
STATUS = "(document.querySelector('#status')?.innerText || '')"  # Explore's status line, or ''


class SlowRunner(FakeRunner):
    """The known run in three partial snapshots a second apart, then finished."""

    def run(self, request):
        self.requests.append(request)
        if request.prompt == FAIL:
            raise RuntimeError("CUDA out of memory")
        for step in (1, 2, 3):
            time.sleep(1.0)
            partial = known_run()
            partial.steps_done = step
            yield partial
        yield known_run()


@pytest.fixture(scope="module")
def app_url():
    with serving(ui.build_demo(SlowRunner())) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def visit(browser, app_url, tmp_path):
    """Open the app at a viewport; yields the page and a screenshot function."""
    pages = []
    shots = Path(os.environ.get("HEXVIZ_SHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)

    def open_page(width: int, height: int):
        page = browser.new_page(viewport={"width": width, "height": height})
        pages.append(page)
        page.goto(app_url)
        page.locator("#try-one_expert").wait_for(timeout=60_000)
        return page, lambda name: page.screenshot(
            path=str(shots / f"first-visit-{name}-{width}.png"))

    yield open_page
    for page in pages:
        page.close()


# --- what the checks measure in the page -------------------------------------------------------

CLIPPED_TITLES = """() => {
  const bad = [];
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    if (!gd.offsetParent) continue;  // in a hidden tab
    const plot = gd.getBoundingClientRect();
    const areas = [...gd.querySelectorAll('.nsewdrag')].map(r => r.getBoundingClientRect().top);
    for (const t of gd.querySelectorAll('.gtitle')) {
      const r = t.getBoundingClientRect();
      const inside = r.left >= plot.left - 1 && r.right <= plot.right + 1
        && r.top >= plot.top - 1;
      const above = !areas.length || r.bottom <= Math.min(...areas) + 2;  // not over the plot
      if (!inside || !above) bad.push(`${gd.closest('[id]')?.id}: ${t.textContent}`);
    }
  }
  return bad;
}"""

# Per heatmap label shown: is it wider than its cell (the least gap between labels of a row)?
CELL_TEXT = """(selector) => {
  const out = {shown: 0, hidden: 0, overflowing: []};
  for (const trace of document.querySelectorAll(selector + ' g.hm')) {
    const labels = [...trace.querySelectorAll('g.heatmap-label text')];
    const rows = new Map();
    for (const t of labels) {
      const y = t.getAttribute('y');
      rows.set(y, [...(rows.get(y) || []), parseFloat(t.getAttribute('x'))]);
    }
    let cell = Infinity;
    for (const xs of rows.values()) {
      xs.sort((a, b) => a - b);
      for (let i = 1; i < xs.length; i++) {
        if (xs[i] > xs[i - 1]) cell = Math.min(cell, xs[i] - xs[i - 1]);
      }
    }
    for (const t of labels) {
      if (getComputedStyle(t).visibility === 'hidden') { out.hidden++; continue; }
      out.shown++;
      if (t.getComputedTextLength() > cell - 1) out.overflowing.push(t.textContent);
    }
  }
  return out;
}"""

CONTROLS_OVERLAP = """(selector) => {
  const plot = document.querySelector(selector);
  const label = plot.querySelector('.slider-group > text.slider-label')  // "step N"
    .getBoundingClientRect();
  const meets = (a, b) => a.left < b.right && b.left < a.right
    && a.top < b.bottom && b.top < a.bottom;
  return [...plot.querySelectorAll('.updatemenu-button')]
    .filter(b => meets(b.getBoundingClientRect(), label)).length;
}"""


def no_clipped_titles(page, where: str) -> None:
    page.wait_for_timeout(600)  # let plotly finish drawing
    assert page.evaluate(CLIPPED_TITLES) == [], f"clipped chart titles in {where}"


def cell_text_fits(page, selector: str) -> dict:
    page.wait_for_timeout(600)  # the page hides what does not fit after each redraw
    counts = page.evaluate(CELL_TEXT, selector)
    assert counts["overflowing"] == [], f"cell text wider than its cell in {selector}"
    assert counts["shown"] + counts["hidden"] > 0, f"no cell text drawn in {selector}"
    return counts


# --- the checks ----------------------------------------------------------------------------------

@pytest.mark.parametrize("width,height", VIEWPORTS)
def test_a_run_shows_its_progress_where_the_visitor_looks(visit, width, height):
    page, shot = visit(width, height)
    open_tab(page, "Explore")
    page.locator("#run-button").click()
    page.wait_for_function(
        "(document.querySelector('#vote-plot .gtitle')?.textContent || '').includes('step')",
        timeout=30_000)
    title = page.locator("#vote-plot .gtitle").text_content()
    page.wait_for_timeout(800)  # the smooth scroll
    box = page.evaluate("document.querySelector('#vote-plot').getBoundingClientRect().toJSON()")
    shot("decoding")
    assert title.startswith("Decoding: step") and " of 4" in title
    assert "Decoding: step" in page.locator("#status").inner_text()
    assert 0 <= box["top"] and box["bottom"] <= height, "the vote panel is not in view"
    page.wait_for_function(f"{STATUS}.includes('HEX answer')", timeout=30_000)
    assert page.locator("#vote-plot .gtitle").text_content() == "Vote: 7"


@pytest.mark.parametrize("width,height", VIEWPORTS)
def test_no_chart_title_is_clipped(visit, width, height):
    page, shot = visit(width, height)
    for n, key in enumerate([*CHAPTER_KEYS, "scaling", "parallel"]):
        if n:
            open_tab(page, SHORT_TITLES[key])
        page.locator(f"#chapter-{key} .js-plotly-plot").first.wait_for()
        no_clipped_titles(page, f"lesson chapter {n + 1}")
    open_tab(page, SHORT_TITLES["wall"])
    page.locator("#try-wall").click()  # a stored run with a collapse: the longest titles
    page.wait_for_function(f"{STATUS}.includes('HEX answer')", timeout=60_000)
    no_clipped_titles(page, "Explore's summary")
    for tab in ("Reveal order", "Scrubber", "End-token pressure", "Unmasking map",
                "Tokens per step"):
        open_tab(page, tab)
        no_clipped_titles(page, f"Explore's {tab}")
    shot("unmasking-map")
    open_tab(page, "Compare")
    page.locator("#compare-button").click()
    page.locator("#compare-maps .js-plotly-plot").wait_for(timeout=60_000)
    no_clipped_titles(page, "Compare")


@pytest.mark.parametrize("width,height", VIEWPORTS)
def test_scrubber_text_fits_its_cell_or_is_hidden(visit, width, height):
    page, shot = visit(width, height)
    # Chapter 1's scrubber: one row, which Plotly's own text sizing gets wrong; play it.
    buttons = page.locator("#chapter-one_expert .updatemenu-button")
    buttons.first.click()  # play
    page.wait_for_timeout(2500)
    buttons.nth(1).click()  # pause
    step = page.locator("#chapter-one_expert .slider-group > text.slider-label").text_content()
    assert step != "step 0", "play did nothing (Gradio drops a figure's frames)"
    cell_text_fits(page, "#chapter-one_expert")
    chapter_scrubber = "#chapter-one_expert .js-plotly-plot:has(.slider-container)"
    assert page.evaluate(CONTROLS_OVERLAP, chapter_scrubber) == 0
    # Explore's scrubber at the last step of a stored run: every expert's tokens.
    page.locator("#try-one_expert").click()
    page.wait_for_function(f"{STATUS}.includes('HEX answer')", timeout=60_000)
    open_tab(page, "Scrubber")
    page.locator("#scrub-plot .js-plotly-plot").wait_for()
    counts = cell_text_fits(page, "#scrub-plot")
    assert page.evaluate(CONTROLS_OVERLAP, "#scrub-plot") == 0, "play buttons over 'step N'"
    page.locator("#scrub-plot").scroll_into_view_if_needed()
    shot("scrubber")
    print(f"{width}x{height}: scrubber cells with text shown {counts['shown']}, "
          f"hidden {counts['hidden']}")


def test_a_failed_run_keeps_its_reason_after_the_toast(visit):
    page, shot = visit(1366, 768)
    open_tab(page, "Explore")
    page.locator("#question textarea").fill(FAIL)
    page.locator("#run-button").click()
    page.wait_for_function(f"{STATUS}.includes('The run failed')", timeout=30_000)
    page.wait_for_function("!document.querySelector('.toast-body')", timeout=30_000)  # faded
    status = page.locator("#status").inner_text()
    shot("failed")
    assert "CUDA out of memory" in status
    for view in ("#status", "#vote-plot"):  # no bare "Error" badge left over the views
        assert page.locator(view).get_by_text("Error", exact=True).count() == 0
