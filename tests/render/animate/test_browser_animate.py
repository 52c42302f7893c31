"""The HTML animation in headless Chromium with the network blocked: it plays, pauses and
scrubs, and the scrubbed frame shows exactly the tokens revealed before its step; the lesson's
first chapter plays it inline. Debian's /usr/bin/chromium through Playwright (no download), at
1280x720. Screenshots go to a temporary folder, or to $HEXVIZ_SHOTS, for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from hexviz.paths import GALLERY
from hexviz.render import animate
from hexviz.render.animate import panels
from hexviz.runs import record
from tests.conftest import CHROMIUM, CHROMIUM_FLAGS, FakeRunner

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="Debian's chromium is not installed")]
STORED = GALLERY / "lesson-2-end-of-text-wall.json"


def blocked(context, allowed: str, requests: list[str]) -> None:
    """Every request but ``allowed`` (a URL prefix) is recorded and aborted."""
    def handle(route):
        url = route.request.url
        if url.startswith((allowed, "data:")) or url == "about:srcdoc":
            route.continue_()
        else:
            requests.append(url)
            route.abort()
    context.route("**/*", handle)


def shown_counts(page) -> list[int]:
    return page.evaluate("""() => [...document.querySelectorAll('.panel')].map(
        p => p.querySelectorAll('.c[data-state=shown]').length)""")


def test_html_plays_pauses_and_scrubs_offline(tmp_path):
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("HEXVIZ_SHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    run = record.load(STORED)
    settings = animate.AnimationSettings(layout="all")
    anim = animate.build(run, settings)
    path = tmp_path / "animation.html"
    path.write_text(animate.render_html(anim))
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        blocked(context, path.as_uri(), requests)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        # It plays on its own: the frame moves forward.
        page.wait_for_function("window.hexviz && window.hexviz.frame() >= 10", timeout=20_000)
        page.screenshot(path=str(shots / "animation-playing.png"))
        # Pause: the frame stays.
        page.locator("#play").click()
        held = page.evaluate("window.hexviz.frame()")
        page.wait_for_timeout(600)
        assert page.evaluate("window.hexviz.frame()") == held
        assert page.locator("#play").inner_text() == "Play"
        # Scrub to a frame: the DOM shows exactly the tokens with reveal_step < its step.
        for target in (0, 20, len(anim.frames) - 1):
            page.locator("#scrub").fill(str(target))
            assert page.evaluate("window.hexviz.frame()") == target
            clock = anim.frames[target].clock
            expected = [int(((t.reveal_step >= 0) & (t.reveal_step < clock)).sum())
                        for t in run.trajectories]
            assert shown_counts(page) == expected
            assert page.locator("#caption").inner_text() == anim.caption(anim.frames[target])
            if target == 20:
                page.screenshot(path=str(shots / "animation-scrubbed.png"))
                words = page.locator(".panel").first.locator(".c[data-state=shown]")
                texts = [w for w in words.all_inner_texts() if w.strip()]
                first = run.trajectories[0]
                want = [panels.display_text(first.tokens[q])
                        for q in np.flatnonzero((first.reveal_step >= 0)
                                                & (first.reveal_step < clock))
                        if first.token_ids[q] not in run.special.end_ids]
                assert texts == want
        assert "HEX answer" in page.locator("#vote").inner_text()
        page.screenshot(path=str(shots / "animation-final.png"))
        # Keyboard: left arrow steps back one frame.
        page.locator("body").press("ArrowLeft")
        assert page.evaluate("window.hexviz.frame()") == len(anim.frames) - 2
        browser.close()
    assert requests == [] and errors == []


def test_lesson_chapter_plays_the_animation_inline(launched, tmp_path):
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("HEXVIZ_SHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    url = launched(FakeRunner())
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        blocked(context, url.rstrip("/"), requests)
        page = context.new_page()
        page.goto(url)
        frame_el = page.locator("#animation-inline-one_expert iframe")
        frame_el.wait_for(timeout=60_000)
        inner = frame_el.content_frame
        inner.locator(".panel").first.wait_for(timeout=20_000)
        inner.locator(".c[data-state=shown]").first.wait_for(timeout=20_000)  # it plays
        page.locator("#animation-inline-one_expert").scroll_into_view_if_needed()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shots / "lesson-inline.png"))
        # Chapter 2 plays the comparison.
        page.get_by_role("tab", name="2 · The end-of-text wall").click()
        wall = page.locator("#animation-inline-wall iframe").content_frame
        assert wall.locator(".panel").count() == 2
        page.locator("#animation-inline-wall").scroll_into_view_if_needed()
        page.wait_for_timeout(2500)
        page.screenshot(path=str(shots / "lesson-inline-wall.png"))
        # The chapter's download button makes the GIF and the page.
        page.locator("#animate-wall").click()
        files = page.locator("#animation-wall")
        page.wait_for_function("(document.querySelector('#animation-wall')?.innerText || '')"
                               ".includes('.gif')", timeout=60_000)
        assert ".html" in files.inner_text()
        files.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "lesson-download.png"))
        browser.close()
    assert requests == []
