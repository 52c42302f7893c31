"""ZeroGPU: decoding runs under spaces.GPU where the package is present, in place elsewhere."""

from __future__ import annotations

import sys
import types

from hexviz.app import zerogpu
from hexviz.app.runner import LocalRunner


def test_zero_gpu_wraps_decoding_when_spaces_is_present(monkeypatch):
    calls = []
    fake = types.ModuleType("spaces")
    durations = []
    fake.GPU = lambda duration: (lambda fn: durations.append(duration) or (
        lambda request: calls.append(request) or fn(request)))
    monkeypatch.setitem(sys.modules, "spaces", fake)
    local = LocalRunner({"m": "unused"})
    local._decode = lambda request: iter(["snapshot", "run"])
    local._gpu_decode = zerogpu.zero_gpu(local._decode)
    assert list(local.run("request")) == ["snapshot", "run"] and calls == ["request"]
    assert set(durations) == {zerogpu.GPU_DURATION_S}  # the constructor wraps too
    monkeypatch.setitem(sys.modules, "spaces", None)  # import fails: no wrapping
    assert zerogpu.zero_gpu(local._decode) is None
