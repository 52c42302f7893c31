"""The Gallery's listing: a row per stored run, why a bad file cannot replay, how to fill an
empty folder."""

from __future__ import annotations

from hexviz.render.gallery import gallery_markdown
from hexviz.runs import gallery, record
from tests.conftest import known_run


def test_the_listing_explains_bad_files(tmp_path):
    record.save(known_run(), tmp_path / "good.json")
    (tmp_path / "bad.json").write_text('{"schema": "x"}')
    bad, good = gallery.list_entries(tmp_path)
    markdown = gallery_markdown([bad, good])
    assert "⚠ cannot replay" in markdown and "| good.json | Q |" in markdown


def test_an_empty_listing_says_how_to_fill_it():
    assert "python -m hexviz.showcase build" in gallery_markdown([])
