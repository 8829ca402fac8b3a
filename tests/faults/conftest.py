"""The fault catalogue uses the fixtures of ``tests/lightning_mnist`` (tiny data sets, the local
mirror ``served``): they are loaded from there, not copied, so that both suites share one copy."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _load(relative: str, name: str):
    spec = importlib.util.spec_from_file_location(name, HERE.parent / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_shared = _load("lightning_mnist/conftest.py", "faults_shared_fixtures")
_data = _load("lightning_mnist/data/conftest.py", "faults_data_fixtures")

dead_url, helpers, make_tiny, mirror_server, tiny = (
    _shared.dead_url,
    _shared.helpers,
    _shared.make_tiny,
    _shared.mirror_server,
    _shared.tiny,
)
dest, served = _data.dest, _data.served


@pytest.fixture(scope="module")
def data_dir(helpers, tmp_path_factory) -> Path:
    """A tiny fake MNIST (200 train, 60 test images) for quick CLI runs."""
    data = tmp_path_factory.mktemp("tiny")
    helpers.write_tiny(data, n_train=200, n_test=60)
    return data
