"""Helpers for tests of senseindex and of code built on it: a tiny deterministic encoder, a
writable copy of an index, and the CLI invoked in-process.

They live in the package (not in a conftest) so a subprocess started by a test, a benchmark
harness and a user's own test suite all import them the same way."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import numpy as np


class HashEncoder:
    """Tiny deterministic WordEncoder for tests of storage and plumbing (not of sense quality):
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


def copy_index(src: str | Path, dest: str | Path) -> Path:
    """A writable copy of an index (without its lock file), for a test that changes it."""
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".lock"))
    return Path(dest)


def index_sentences(path: str | Path, sentences: list[str], encoder=None) -> Path:
    """A small index at `path` of one .txt document holding these sentences, one per line
    (written beside the index as `<path>.txt`), encoded by `encoder` (default: HashEncoder)."""
    from senseindex import SenseIndex

    path = Path(path)
    src = path.with_suffix(".txt")
    src.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    SenseIndex.open_or_create(path, encoder=encoder or HashEncoder()).add([src])
    return path


def run_cli(*args: Any, ok: bool | None = None, input: str | None = None):
    """`senseindex ARGS...` in-process (Click's CliRunner); arguments may be paths or numbers.
    ok=True asserts exit 0, ok=False asserts a non-zero exit; the output is in the assertion."""
    from click.testing import CliRunner

    from senseindex.cli import cli

    result = CliRunner().invoke(cli, [str(a) for a in args], input=input)
    if ok is not None:
        assert (result.exit_code == 0) == ok, result.output
    return result
