"""Growing canvases in headless Chromium: a DAEDAL run and a rho-EOS run of the built-in model,
uploaded to Explore, fill every chart and make an animation that plays, with no console error;
the lesson's seventh chapter plays its three canvases inline.

Debian's /usr/bin/chromium through Playwright (no browser download). Screenshots go to
out/screenshots/ (length-*.png) for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hexviz.app import ui, views
from hexviz.runs import record
from tests.app.test_browser_first_visit import cell_text_fits, no_clipped_titles
from tests.app.test_browser_lesson import VIEWPORTS, open_tab, wait_text
from tests.conftest import CHROMIUM, CHROMIUM_FLAGS as FLAGS, REPO, FakeRunner, serving

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="Debian's chromium is not installed")]
SHOTS = REPO / "out" / "screenshots"
QUESTION = ("Mia has 12 marbles. She gives 3 to Ben. She buys 5 more. Then she gets 2 times as "
            "many. How many marbles does Mia have now?")


@pytest.fixture(scope="module")
def growing_runs(builtin, tmp_path_factory) -> dict[str, Path]:
    """The question decoded by the HEX experts on each growing canvas, saved as uploads."""
    from hexviz.decode.assemble import decode
    from hexviz.policy.length import LengthConfig, fitted_to
    from hexviz.policy.settings import DecodeConfig, hex_experts

    folder = tmp_path_factory.mktemp("growing")
    paths = {}
    for mode in ("daedal", "rho-eos"):
        length, _ = fitted_to(LengthConfig(mode), 128)
        run = decode(builtin, builtin.format_prompt(QUESTION), hex_experts(128),
                     DecodeConfig(128, 64, length=length), question=QUESTION)
        assert any(t.resized for t in run.trajectories), mode  # the canvas did change
        paths[mode] = record.save(run, folder / f"{mode}.json")
    return paths


@pytest.fixture(scope="module")
def app_url():
    with serving(ui.build_demo(FakeRunner())) as url:
        yield url


def watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def heatmaps_drawn(page, selector: str) -> int:
    return page.evaluate(f"document.querySelectorAll('{selector} .hm, {selector} .heatmaplayer "
                         f"image').length")


@pytest.mark.parametrize("mode", ["daedal", "rho-eos"])
def test_a_growing_run_fills_every_view_and_animates(app_url, growing_runs, mode):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        errors = watch_errors(page)
        page.goto(app_url)
        open_tab(page, "Explore")
        page.get_by_text("Replay a trajectory JSON").click()  # the upload's accordion
        page.locator("input[type=file][accept*='.json']").first.set_input_files(
            str(growing_runs[mode]))
        wait_text(page, "#status", "voting experts")
        for chart in views.CHARTS.values():
            if not chart.in_summary:
                open_tab(page, chart.tab_title)
            plot = f"#{chart.elem_id}"
            page.locator(f"{plot} .js-plotly-plot").wait_for(timeout=60_000)
            page.wait_for_timeout(600)  # let plotly finish drawing
            assert page.evaluate(f"document.querySelector('{plot} .js-plotly-plot').data"
                                 f".length") > 0, chart.name
            no_clipped_titles(page, f"{mode}'s {chart.tab_title}")
            page.locator(plot).screenshot(path=str(SHOTS / f"length-{mode}-{chart.name}.png"))
        # the scrubber plays to its end and keeps its heatmap (the cut marks play along)
        open_tab(page, "Scrubber")
        cell_text_fits(page, "#scrub-plot")
        page.locator("#scrub-plot").get_by_text("▶ play").click()
        page.wait_for_timeout(4000)
        assert heatmaps_drawn(page, "#scrub-plot") > 0
        page.locator("#scrub-plot").screenshot(path=str(SHOTS / f"length-{mode}-played.png"))
        # the run's animation: its offline page plays here too
        open_tab(page, "Downloads")
        page.locator("#animate-explore").click()
        link = page.locator("#animation-explore a[href$='.html']").first
        link.wait_for(timeout=120_000)
        html = page.request.get(link.get_attribute("href")).text()  # served as a download
        player = browser.new_page(viewport={"width": 1280, "height": 720})
        player_errors = watch_errors(player)
        player.set_content(html)
        player.wait_for_function("window.hexviz && window.hexviz.frames > 2")
        player.evaluate("window.hexviz.setPlaying(false)")
        frames = player.evaluate("window.hexviz.frames")
        for n in (frames // 3, frames - 1):
            player.evaluate(f"window.hexviz.show({n})")
            player.screenshot(path=str(SHOTS / f"length-{mode}-animation-{n}.png"),
                              full_page=True)
        page.screenshot(path=str(SHOTS / f"length-{mode}-explore.png"), full_page=True)
        browser.close()
    assert not errors and not player_errors, errors + player_errors


@pytest.mark.parametrize("width,height", VIEWPORTS)
def test_the_lesson_plays_two_cures_for_the_wall(app_url, width, height):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        errors = watch_errors(page)
        page.goto(app_url)
        open_tab(page, "7 · Two cures for the wall")
        page.locator("#chapter-growing .js-plotly-plot").first.wait_for(timeout=60_000)
        no_clipped_titles(page, "lesson chapter 7")
        frame = page.frame_locator("#animation-inline-growing iframe")
        frame.locator(".panel").nth(2).wait_for()
        assert frame.locator(".panel").count() == 3  # whole-answer, HEX, growing canvas
        page.wait_for_timeout(1500)
        page.locator("#chapter-growing").screenshot(
            path=str(SHOTS / f"length-lesson-7-{width}.png"))
        browser.close()
    assert not errors, errors
