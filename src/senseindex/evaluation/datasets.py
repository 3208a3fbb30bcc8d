"""Readers for the annotated benchmark data (CoarseWSD-20, SemCor), with a vector cache so
that evaluation and sense induction encode each instance once.

The data is not shipped (its licences differ from ours): it is read from a data folder,
`--data-dir` or SENSEINDEX_DATA, else `../shared/data` beside the working directory or the
source checkout.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from senseindex.encoding.encoder import vector_identity
from senseindex.encoding.weights import cache_dir
from senseindex.errors import SenseIndexError

COARSEWSD_WORDS = ("apple arm bank bass bow chair club crane deck digit hood java mole pitcher pound seal "
                   "spring square trunk yard").split()
DATA_ENV = "SENSEINDEX_DATA"


def data_dir(explicit: str | Path | None = None) -> Path:
    """Where the benchmark data lives: the explicit folder, $SENSEINDEX_DATA, or ../shared/data
    (beside the current directory, then beside a source checkout); an error names all three."""
    if explicit:
        return Path(explicit)
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    candidates = [Path.cwd().parent / "shared" / "data", Path(__file__).resolve().parents[4] / "shared" / "data"]
    for c in candidates:
        if c.is_dir():
            return c
    raise SenseIndexError(f"benchmark data not found: give --data-dir, set {DATA_ENV}, or put it in "
                          f"{candidates[0]}")


@dataclass
class WsdSplit:
    word: str
    split: str
    texts: list[str]
    spans: list[tuple[int, int]]  # character span of the target in each text
    labels: list[str]  # sense names (classes_map values)


def read_coarsewsd(root: str | Path, word: str, split: str) -> WsdSplit:
    """One word's train or test split: space-tokenised sentences, target index, gold sense."""
    folder = Path(root) / word
    data, gold = folder / f"{split}.data.txt", folder / f"{split}.gold.txt"
    if not data.is_file() or not gold.is_file():
        raise SenseIndexError(f"{folder}: no {split}.data.txt/{split}.gold.txt (is this CoarseWSD-20?)")
    classes = json.loads((folder / "classes_map.txt").read_text())
    texts, spans, labels = [], [], []
    golds = gold.read_text().split()
    for n, (line, g) in enumerate(zip(data.read_text(encoding="utf-8").splitlines(), golds, strict=False), 1):
        idx_s, sent = line.split("\t", 1)
        tokens = sent.split(" ")
        i = int(idx_s)
        if not 0 <= i < len(tokens):
            raise SenseIndexError(f"{data}:{n}: token index {i} outside the sentence")
        start = sum(len(t) + 1 for t in tokens[:i])
        texts.append(" ".join(tokens))
        spans.append((start, start + len(tokens[i])))
        labels.append(classes[g])
    return WsdSplit(word, split, texts, spans, labels)


class CacheMiss(LookupError):
    """The vectors are not in the cache, and the encoder may not make them."""


class CacheOnly:
    """An encoder's cache identity without encoding: reads the vector cache, raises CacheMiss
    for anything not in it. `encoder` stays reachable for work that needs the model itself."""

    def __init__(self, encoder) -> None:
        self.encoder = encoder
        self.name, self.layer, self.precision, self.dim = encoder.name, encoder.layer, encoder.precision, encoder.dim
        self.runtime = getattr(encoder, "runtime", "torch")  # part of the cache key (vector_identity)

    def word_vectors(self, texts, spans):  # noqa: ARG002 (the WordEncoder protocol)
        raise CacheMiss("not cached")


def cache_path(stem: str, identity: list, suffix: str) -> Path:
    """A file under the vector cache named by a hash of everything the vectors depend on."""
    key = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:16]
    return cache_dir() / "vectors" / f"{stem}-{key}{suffix}"


def write_atomically(path: Path, write) -> None:
    """Write through a temporary file, so an interrupted run never leaves half a cache entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp" + path.suffix)
    write(tmp)
    tmp.replace(path)


def cached_target_vectors(encoder, data: WsdSplit, batch: int = 512) -> np.ndarray:
    """Target-word vectors for a split, cached under the senseindex cache by model, layer and content."""
    path = cache_path(f"{data.word}-{data.split}", [vector_identity(encoder), data.texts, data.spans], ".npy")
    if path.exists():
        return np.load(path, allow_pickle=False)
    out = []
    for lo in range(0, len(data.texts), batch):
        vecs = encoder.word_vectors(data.texts[lo:lo + batch], [[s] for s in data.spans[lo:lo + batch]])
        out.extend(v[0] for v in vecs)
    arr = np.stack(out).astype(np.float32) if out else np.zeros((0, encoder.dim), np.float32)
    write_atomically(path, lambda tmp: np.save(tmp, arr))
    return arr
