"""The old import paths that the README and scripts use still name the same objects."""

import pytest

from hexviz import config, engine, trajectory
from hexviz.decode import engine as decode_engine
from hexviz.decode import settings
from hexviz.runs import record


@pytest.mark.parametrize("old,new", [(config, settings), (engine, decode_engine),
                                     (trajectory, record)])
def test_old_path_re_exports_the_new_module(old, new):
    assert old.__all__
    for name in old.__all__:
        assert getattr(old, name) is getattr(new, name), name


def test_the_readme_example_names_resolve():
    assert callable(engine.decode) and callable(engine.decode_many)
    assert config.DecodeConfig is settings.DecodeConfig and callable(config.hex_experts)
    assert trajectory.save is record.save and trajectory.load is record.load
