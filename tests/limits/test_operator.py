"""The operator's limits read from HEXVIZ_* variables, and malformed ones refused."""

from __future__ import annotations

import pytest

from hexviz import limits


@pytest.mark.parametrize("env,message", [
    ({"HEXVIZ_MAX_STEPS": "lots"}, "HEXVIZ_MAX_STEPS must be a number (got 'lots')"),
    ({"HEXVIZ_MAX_EXPERTS": "0"}, "HEXVIZ_MAX_EXPERTS must be a positive number"),
    ({"HEXVIZ_MAX_UPLOAD_MB": "nan"}, "HEXVIZ_MAX_UPLOAD_MB must be a positive number"),
])
def test_malformed_limits_are_refused(env, message):
    with pytest.raises(limits.LimitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        limits.from_env(env)


def test_limits_read_from_the_environment():
    lim = limits.from_env({"HEXVIZ_MAX_GEN_LENGTH": "1024", "HEXVIZ_MAX_UPLOAD_MB": "2.5",
                           "HEXVIZ_THREADS": "3"})
    assert (lim.max_gen_length, lim.max_upload_bytes, limits.torch_threads(lim)) == (
        1024, int(2.5 * 2**20), 3)
    assert limits.torch_threads(limits.Limits()) == max(1, limits.available_cpus() // 2)
