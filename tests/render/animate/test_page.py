"""Frames -> one offline HTML page: its data follows the frames, nothing is fetched, a token
cannot end the script, every placeholder of the player is filled."""

from __future__ import annotations

import json
import re

import numpy as np

from hexviz.render import animate
from tests.conftest import known_run
from tests.render.animate.conftest import expected_shown


def test_html_data_and_page_are_offline(stored):
    page = animate.html_page(stored, animate.AnimationSettings(layout="all"))
    data = json.loads(re.search(r'id="hexviz-data">(.*?)</script>', page, re.DOTALL).group(1))
    anim = animate.build(stored, animate.AnimationSettings(layout="all"))
    for p, t in zip(data["panels"], stored.trajectories, strict=True):
        for n, frame in enumerate(anim.frames):
            shown = np.array(p["appear"]) <= n
            np.testing.assert_array_equal(shown, expected_shown(t, min(frame.clock, 64)))
    assert len(data["durations"]) == len(anim.frames)
    # Nothing is fetched: no URL, no external script, style, image or font.
    assert not re.search(r"https?://|\bsrc=|<link|@import|url\(", page)
    assert len(page) < 2 * 2**20


def test_html_escapes_a_token_that_would_end_the_script():
    run = known_run()
    run.trajectories[0].tokens[0] = "</script><b>"
    page = animate.html_page(run, animate.AnimationSettings(layout="one", experts=("2",)))
    assert page.count("</script>") == 2  # the data block's and the player's, nothing else


def test_the_player_is_inlined_with_every_placeholder_filled(stored):
    page = animate.html_page(stored, animate.AnimationSettings(layout="one"))
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</body></html>\n")
    assert not re.search(r"__[A-Z_]+__", page)  # __PLAYER_JS__, __DATA__, the colours...
    assert "window.hexviz = {show: show" in page  # player.js itself


def test_the_inline_frame_takes_its_pages_height():
    frame = animate.iframe("<p>hi</p>", 300)
    assert "height:300px" in frame  # until the page has loaded
    assert 'onload="' in frame and "offsetHeight" in frame and "ResizeObserver" in frame


def test_a_growing_canvas_tells_the_player_when_each_slot_shows(grown):
    page = animate.html_page(grown, animate.AnimationSettings(layout="all"))
    data = json.loads(re.search(r'id="hexviz-data">(.*?)</script>', page, re.DOTALL).group(1))
    grows, cut = data["panels"]
    assert grows["length"][:5] == [2, 4, 6, 6, 6]  # the canvas at each frame
    assert grows["shows"][1] == [2, len(data["durations"])]  # inserted at step 1
    assert cut["shows"][4] == [1, 3] and [2, 4] in cut["cut"]  # shown cut at frame 2, then gone
    assert "cutkey" in page  # the player's legend adds "cut" when a panel has cuts
    fixed = animate.html_page(known_run(), animate.AnimationSettings(layout="all"))
    data = json.loads(re.search(r'id="hexviz-data">(.*?)</script>', fixed, re.DOTALL).group(1))
    assert not {"shows", "cut", "length"} & set(data["panels"][0])  # as before
