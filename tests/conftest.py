"""Shared fixtures: real packaged models loaded once per session, a demo index built once.

Two tiers: `pytest -m "not model"` runs every test that needs no real model (seconds);
plain `pytest` (what `make test` and CI run) runs everything. A test is in the model tier when it
uses a model fixture below or is marked `@pytest.mark.model` itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import DEMO, DEMO_GOLD, ROOT, SHARED
from senseindex.testing import HashEncoder, copy_index

MODEL_FIXTURES = {"mpnet_encoder", "minilm_encoder", "demo_index", "writable_demo", "semcor_index"}

# Never the user's ~/.cache: vectors and unpacked models go to a cache inside the checkout
# (git-ignored), kept between runs so the packaged model is unpacked once.
os.environ["SENSEINDEX_CACHE"] = str(ROOT / ".cache" / "tests")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """Indexes named without a path resolve inside a temporary home, never the repo's indexes/."""
    monkeypatch.setenv("SENSEINDEX_HOME", str(tmp_path_factory.getbasetemp() / "home"))


@pytest.fixture(scope="session")
def mpnet_encoder():
    from senseindex.encoding.encoder import load_encoder

    return load_encoder("mpnet")


@pytest.fixture(scope="session")
def minilm_encoder():
    from senseindex.encoding.encoder import load_encoder

    return load_encoder("minilm")


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory, mpnet_encoder) -> Path:
    """The demo corpus indexed with the default model and its gold labels (read-only: copy it to write)."""
    from senseindex import SenseIndex

    path = tmp_path_factory.mktemp("demo") / "demo"
    si = SenseIndex.open_or_create(path, encoder=mpnet_encoder)
    si.add([DEMO])
    si.import_gold(DEMO_GOLD)
    return path


@pytest.fixture
def writable_demo(demo_index, tmp_path) -> Path:
    return copy_index(demo_index, tmp_path / "demo")


@pytest.fixture
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent (benchmark data beside the repository)")
    return SHARED


@pytest.fixture
def hash_encoder():
    return HashEncoder()
