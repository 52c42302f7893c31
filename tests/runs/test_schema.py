"""Schema name and version checks shared by run files and eval results files."""

from __future__ import annotations

import pytest

from hexviz.runs.schema import check_schema, missing_field


class Refused(ValueError):
    pass


@pytest.mark.parametrize("d,message", [
    ([], r'not a thing: expected an object with "schema": "x.y"'),
    ({"schema": "other"}, "not a thing"),
    ({"schema": "x.y", "schema_version": 2}, r"thing schema version 2 is not supported \(this "
                                             r"hexviz reads version 1\)"),
    ({"schema": "x.y"}, "thing schema version None"),
])
def test_wrong_schema_or_version_is_named(d, message):
    with pytest.raises(Refused, match=message):
        check_schema(d, "x.y", 1, "thing", Refused)


def test_the_right_schema_passes_through():
    d = {"schema": "x.y", "schema_version": 1, "a": 1}
    assert check_schema(d, "x.y", 1, "thing") is d


def test_missing_fields_in_words():
    assert missing_field(KeyError("steps")) == "missing field 'steps'"
    assert missing_field(TypeError("bad type")) == "bad type"
