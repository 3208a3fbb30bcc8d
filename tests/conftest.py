"""Shared fixtures: real packaged models loaded once per session, a demo index built once.

Two tiers: `pytest -m "not model"` runs every test that needs no real model (well under 20 s);
plain `pytest` (what `make test` and CI run) runs everything. A test is in the model tier when it
uses a model fixture below or is marked `@pytest.mark.model` itself.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "corpora" / "demo"
DEMO_GOLD = ROOT / "corpora" / "demo.gold.tsv"
DEMO_QUERIES = ROOT / "corpora" / "demo.queries.tsv"
SHARED = Path(os.environ.get("SENSEINDEX_DATA") or ROOT.parent / "shared" / "data")
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


def copy_index(src: Path, dest: Path) -> Path:
    """A writable copy of a shared index (without its lock file)."""
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".lock"))
    return dest


@pytest.fixture
def writable_demo(demo_index, tmp_path) -> Path:
    return copy_index(demo_index, tmp_path / "demo")


@pytest.fixture
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent (benchmark data beside the repository)")
    return SHARED


class HashEncoder:
    """Tiny deterministic WordEncoder for unit tests of storage and plumbing (not of sense quality):
    a word's vector is its hashed identity plus a little of its neighbours'."""

    name = "test/hash-encoder"
    layer = "last"
    dim = 32
    precision = "fp32"
    max_length = 64

    def _word(self, w: str) -> np.ndarray:
        seed = int(hashlib.sha256(w.lower().encode()).hexdigest()[:8], 16)
        return np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)

    def word_vectors(self, texts, spans):
        out = []
        for text, sp in zip(texts, spans, strict=True):
            ctx = sum((self._word(w) for w in text.split()), np.zeros(self.dim, np.float32))
            ctx = ctx / max(1, len(text.split()))  # (once per text: a line of a megabyte stays linear)
            vecs = np.stack([self._word(text[s:e]) + 0.3 * ctx for s, e in sp]) if len(sp) else np.zeros((0, self.dim), np.float32)
            out.append((vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)).astype(np.float32))
        return out


@pytest.fixture
def hash_encoder():
    return HashEncoder()
