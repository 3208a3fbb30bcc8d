"""Vector storage: an append-only float32 log (durable truth) and a FAISS index derived from it.

Row i of a log belongs to SQLite id i+1. Rows past the committed count (a crash between the
append and the SQLite commit) are cut off on the next write, and the FAISS file is caught up
from the log when it is behind, so an interrupted run never leaves the two out of step.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import SenseIndexError

if TYPE_CHECKING:
    import faiss


def l2_normalise(a: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero): cosine becomes a dot product."""
    a = np.asarray(a, dtype=np.float32)
    if a.ndim == 1:
        return (a / max(float(np.linalg.norm(a)), 1e-12)).astype(np.float32)
    return (a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)).astype(np.float32)


class VectorLog:
    def __init__(self, path: Path, dim: int) -> None:
        self.path = Path(path)
        self.dim = dim
        self.row_bytes = dim * 4

    def rows(self) -> int:
        return self.path.stat().st_size // self.row_bytes if self.path.exists() else 0

    def append(self, vectors: np.ndarray) -> None:
        arr = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        with open(self.path, "ab") as fh:
            fh.write(arr.tobytes())
            fh.flush()
            os.fsync(fh.fileno())

    def truncate(self, rows: int) -> None:
        if self.path.exists() and self.rows() > rows:
            with open(self.path, "r+b") as fh:
                fh.truncate(rows * self.row_bytes)

    def array(self, rows: int | None = None) -> np.ndarray:
        """Memory-mapped view of the first `rows` rows (never read into Python lists)."""
        n = self.rows() if rows is None else min(rows, self.rows())
        if n == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.memmap(self.path, dtype=np.float32, mode="r", shape=(n, self.dim))

    def take(self, ids: np.ndarray) -> np.ndarray:
        """Vectors for SQLite ids (1-based)."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self.array()[ids - 1], dtype=np.float32)


def min_training_rows(codec: str) -> int:
    """Rows a codec needs before it is trained (PQ k-means wants ~39 points per centroid)."""
    c = codec.lower()
    return 0 if c == "flat" else 1_000 if c.startswith("sq") else 10_000


def new_faiss(dim: int, codec: str, training: np.ndarray | None = None) -> faiss.Index:
    """IDMap2 over an inner-product index; codecs other than Flat are trained on a sample.
    Until there are enough rows to train, the index stays Flat (exact), then it is rebuilt."""
    import faiss

    if codec.lower() == "flat" or training is None or len(training) < min_training_rows(codec):
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    try:
        index = faiss.index_factory(dim, f"IDMap2,{codec}", faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as exc:
        raise SenseIndexError(f"FAISS codec {codec!r} not understood: {str(exc).splitlines()[-1]}") from None
    if not index.is_trained:
        index.train(np.ascontiguousarray(training, dtype=np.float32))
    return index


def check_codec(dim: int, codec: str) -> None:
    """Fail before anything is written when FAISS does not know the codec string."""
    import faiss

    if codec.lower() != "flat":
        try:
            faiss.index_factory(dim, f"IDMap2,{codec}", faiss.METRIC_INNER_PRODUCT)
        except RuntimeError:
            raise SenseIndexError(f"FAISS codec {codec!r} not understood (try Flat, SQ8, PQ32, OPQ32,PQ32)") from None


def is_flat(index: faiss.Index) -> bool:
    import faiss

    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
    return isinstance(inner, faiss.IndexFlat)


class FaissView:
    """The FAISS index over a VectorLog, kept in step with the committed row count."""

    def __init__(self, log: VectorLog, path: Path, codec: str = "Flat") -> None:
        self.log = log
        self.path = Path(path)
        self.codec = codec
        self._index: faiss.Index | None = None

    def index(self, committed: int, save: bool = False) -> faiss.Index:
        import faiss

        if self._index is None and self.path.exists():
            self._index = faiss.read_index(str(self.path))
        idx = self._index
        wants_codec = self.codec.lower() != "flat" and committed >= min_training_rows(self.codec)
        if idx is not None and wants_codec and is_flat(idx):
            idx = None  # enough rows now: train the codec and rebuild from the log
        if idx is not None and idx.ntotal > committed:
            idx.remove_ids(faiss.IDSelectorRange(committed + 1, 1 << 62))
        if idx is None or idx.ntotal < committed:
            data = self.log.array(committed)
            if idx is None:
                sample = None
                if wants_codec:
                    pick = np.random.default_rng(0).choice(committed, min(committed, 100_000), replace=False)
                    sample = np.asarray(data[np.sort(pick)])
                idx = new_faiss(self.log.dim, self.codec, sample)
            for lo in range(idx.ntotal, committed, 65536):
                hi = min(committed, lo + 65536)
                idx.add_with_ids(np.ascontiguousarray(data[lo:hi]), np.arange(lo + 1, hi + 1, dtype=np.int64))
            self._index = idx
            if save:
                self.save()
        return idx

    def save(self) -> None:
        import faiss

        if self._index is None:
            return
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        faiss.write_index(self._index, str(tmp))
        os.replace(tmp, self.path)

    def reset(self) -> None:
        self._index = None
        if self.path.exists():
            self.path.unlink()
