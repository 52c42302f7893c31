"""Text that fits: titles wrapped between words to a phone's width, read back as one line; the
browser script that hides cell text wider than its cell."""

from __future__ import annotations

import pytest

from hexviz.render.textfit import (FIT_CELL_TEXT_JS, SUBTITLE_CHARS, TITLE_CHARS,
                                   fit_cell_text_script, plain_title, wrap_title)

LONG = "Reveal order: step at which each token was unmasked (white: block edges)"


def line_texts(title: str) -> list[str]:
    return [plain_title(line) for line in title.split("<br>")]


def test_a_long_title_is_wrapped_between_words_to_the_width():
    wrapped = wrap_title(LONG)
    assert wrapped != LONG and "<br>" in wrapped
    assert all(len(line) <= TITLE_CHARS for line in line_texts(wrapped))
    assert plain_title(wrapped) == LONG  # every word kept, in order


def test_subtitle_lines_wrap_wider_and_each_stays_a_subtitle():
    notes = "solid: masked positions drafting an end token · dotted: revealed end tokens"
    wrapped = wrap_title(f"End-token pressure<br><sup>{notes}</sup>")
    head, *subs = wrapped.split("<br>")
    assert head == "End-token pressure" and len(subs) == 2
    assert all(s.startswith("<sup>") and s.endswith("</sup>") for s in subs)
    assert all(TITLE_CHARS < len(plain_title(s)) <= SUBTITLE_CHARS for s in subs[:1])
    assert plain_title(wrapped) == f"End-token pressure {notes}"


@pytest.mark.parametrize("title", ["Vote: 7", "", "Reveal order<br><sup>short</sup>"])
def test_a_title_that_fits_is_left_as_it_is(title):
    assert wrap_title(title) == title


def test_a_word_longer_than_a_line_is_not_cut():
    word = "x" * (TITLE_CHARS + 5)
    assert wrap_title(f"a {word} b").split("<br>") == ["a", word, "b"]


def test_the_cell_text_script_hides_what_is_wider_than_its_cell():
    script = fit_cell_text_script()
    assert script.startswith("<script>") and FIT_CELL_TEXT_JS in script
    # hides by visibility (still measurable), after every redraw and on resize
    assert "visibility" in FIT_CELL_TEXT_JS and "MutationObserver" in FIT_CELL_TEXT_JS
    assert "resize" in FIT_CELL_TEXT_JS and "getComputedTextLength" in FIT_CELL_TEXT_JS
