"""A checkpoint's decoding defaults, read from its hexviz.json without torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hexviz.models.meta import HEXVIZ_META, ModelDefaults, read_defaults


def test_defaults_come_from_the_file(tmp_path):
    (tmp_path / HEXVIZ_META).write_text('{"gen_length": 128, "steps": 64, "answer": "gsm8k"}')
    assert read_defaults(tmp_path) == ModelDefaults(128, 64, "gsm8k")
    (tmp_path / HEXVIZ_META).write_text('{"gen_length": 128, "steps": 64, "edit": 0.9}')
    assert read_defaults(tmp_path) == ModelDefaults(128, 64, "auto", 0.9)  # trained to edit
    (tmp_path / HEXVIZ_META).write_text('{"gen_length": 128, "steps": 64, "edit": 0.9, '
                                        '"edit_scope": "answer"}')
    assert read_defaults(tmp_path).edit_scope == "answer"


def test_a_folder_without_the_file_has_none(tmp_path):
    assert read_defaults(tmp_path) is None


@pytest.mark.parametrize("content,reason", [
    ("{not json", "damaged"),
    ('{"gen_length": 64}', "no 'steps' field"),
    ('{"gen_length": "long", "steps": 8}', "invalid literal"),
    ('{"gen_length": 32, "steps": 64}', "steps 64 for gen_length 32"),
    ('{"gen_length": 32, "steps": 0}', "steps 0 for gen_length 32"),
    ('{"gen_length": 32, "steps": 8, "edit": 1.5}', "edit 1.5: an editing threshold"),
    ('{"gen_length": 32, "steps": 8, "edit": "high"}', "could not convert"),
])
def test_a_damaged_file_says_what_is_wrong(tmp_path, content, reason):
    (tmp_path / HEXVIZ_META).write_text(content)
    with pytest.raises(ValueError, match=reason):
        read_defaults(tmp_path)


def test_reading_defaults_imports_no_torch():
    code = ("import sys; from hexviz.models.meta import read_defaults; "
            "from hexviz.paths import BUILTIN_DIR; read_defaults(BUILTIN_DIR); "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_card_figures_come_from_the_file(tmp_path):
    from hexviz.models.meta import read_card

    assert read_card(tmp_path) == {}  # no hexviz.json
    (tmp_path / HEXVIZ_META).write_text('{"gen_length": 8, "steps": 8, "card": {"problems": 5}}')
    assert read_card(tmp_path) == {"problems": 5}
    (tmp_path / HEXVIZ_META).write_text('["not", "a", "dict"]')
    assert read_card(tmp_path) == {}
