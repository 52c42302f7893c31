"""The app's models: enabled by the operator, loaded once, defaults read without loading,
a background preload that reports its state."""

from __future__ import annotations

import threading

import pytest

from hexviz import models
from hexviz.app import loading
from hexviz.app.loading import BUILTIN_LABEL, ModelShelf


def test_operator_models_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(loading.EXTRA_MODELS_ENV, " a/b , ,/local/c")
    assert loading.operator_models() == {BUILTIN_LABEL: "builtin", "a/b": "a/b",
                                         "/local/c": "/local/c"}


def test_models_load_once_and_unknown_labels_are_refused(monkeypatch, random_lm):
    loads = []
    monkeypatch.setattr(models, "load", lambda name, **kw: loads.append(name) or random_lm)
    shelf = ModelShelf({"m": "some/model"})
    assert shelf.get("m") is shelf.get("m") is random_lm
    assert loads == ["some/model"]
    with pytest.raises(ValueError, match="unknown model 'x'; this app offers m"):
        shelf.get("x")


def test_model_defaults_are_read_without_loading(tmp_path, random_model_dir):
    import shutil

    shutil.copytree(random_model_dir, tmp_path / "m")
    shelf = ModelShelf({"builtin": "builtin", "m": str(tmp_path / "m"), "hub": "org/model"})
    assert shelf.defaults("builtin") == models.read_defaults(models.BUILTIN_DIR)
    assert shelf.defaults("m") is None and shelf.defaults("hub") is None  # known once loaded
    (tmp_path / "m" / models.HEXVIZ_META).write_text('{"gen_length": 32, "steps": 16}')
    assert (shelf.defaults("m").gen_length, shelf.defaults("m").steps) == (32, 16)
    (tmp_path / "m" / models.HEXVIZ_META).write_text("{damaged")
    assert shelf.defaults("m") is None  # the Run reports the damage
    assert not shelf.cache  # nothing was loaded


def test_an_outline_is_read_without_the_weights_and_once(monkeypatch, random_lm):
    outlines = []
    monkeypatch.setattr(models, "load", lambda name, **kw: pytest.fail("weights loaded"))
    monkeypatch.setattr(models, "load_outline",
                        lambda name, **kw: outlines.append(name) or "outline")
    shelf = ModelShelf({"m": "some/model"})
    assert shelf.outline("m") == shelf.outline("m") == "outline" and outlines == ["some/model"]
    shelf.cache["m"] = random_lm
    assert shelf.outline("m") is random_lm  # once loaded, the model itself
    with pytest.raises(ValueError, match="unknown model 'x'"):
        shelf.outline("x")


def test_preload_reports_loading_until_warm_returns_even_when_it_fails():
    shelf, release = ModelShelf({"m": "unused"}), threading.Event()

    def warm(label):
        assert release.wait(30)
        raise RuntimeError("broken model")  # the request that needs it reports this

    thread = shelf.preload("m", warm)
    assert shelf.is_loading("m") and thread.daemon
    release.set()
    thread.join(30)
    assert not shelf.is_loading("m") and not thread.is_alive()
