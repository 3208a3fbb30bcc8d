"""Occurrence vectors on disk: compact codes in runs sorted by lemma, memory-mapped for search.

Every default query is restricted to one lemma, so the vectors of a lemma are stored together
and only they are read. Layout of an index folder (file names carry a generation number; which
generations are live is recorded in SQLite, so switching to new files is one transaction):

* ``codec-G.faiss`` (+ ``codec-G.coarse.npy``): the trained codec (a FAISS standalone codec such
  as OPQ32,PQ32: 32 bytes per vector) and a coarse quantizer for any-word search. Until an
  index holds enough vectors to train one, codes are exact float16 vectors.
* ``tail-G.*``: the newest vectors, appended as chunks are committed (row j = occurrence id
  ``tail_first_id + j``): ``.codes``, ``.lemma`` (uint32 lemma id), ``.list`` (uint32 coarse list).
* ``seg-G.lemma.*`` and ``seg-G.list.*``: a segment, the same rows sorted twice, by (lemma, id)
  and by (coarse list, id): ``.codes``, ``.ids`` (uint32) and ``.keys.npy`` (key, start, count),
  so a lemma's vectors, or one coarse list's, are one contiguous block. Optional ``.exact``
  (float16 or float32, aligned with the lemma-sorted codes) keeps exact vectors for re-ranking.

Writers append to the tail and commit SQLite after the bytes are on disk: rows past the
committed count are cut on the next write. When the tail is full it is sorted into a segment;
segments of similar size are merged (streamed block by block, so memory stays flat). Removed
occurrences are filtered at search time and dropped by compaction. Readers map the files of
the generations they read from SQLite and never write.
"""

from __future__ import annotations

import heapq
import mmap
import os
import re
import threading
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from senseindex.errors import SenseIndexError
from senseindex.storage.checksums import Piece, Sums, crc, crc_file, verify, whole

if TYPE_CHECKING:
    import faiss

EXACT = "fp16"  # the code of an index whose codec is not trained yet: exact float16 vectors
ID_DTYPE = np.uint32
KEY_DTYPE = np.uint32
CHUNK_ROWS = 65_536  # rows per read/write when streaming
MAPPED_BUDGET = 128 << 20  # bytes of segment pages a reader scans before handing the mapped pages back
OPQ_ITERATIONS = 10  # FAISS's default of 50 takes many minutes on 2 cores for a 100k sample


def l2_normalise(a: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero): cosine becomes a dot product."""
    a = np.asarray(a, dtype=np.float32)
    if a.ndim == 1:
        return (a / max(float(np.linalg.norm(a)), 1e-12)).astype(np.float32)
    return (a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def check_codec(dim: int, codec: str) -> None:
    """Fail before anything is written when FAISS does not know the codec string."""
    import faiss

    if codec.lower() in (EXACT, "flat"):
        return
    for part in (p for p in split_spec(codec) if p):
        try:
            index = faiss.index_factory(dim, part, faiss.METRIC_INNER_PRODUCT)
        except RuntimeError:
            raise SenseIndexError(f"codec {codec!r} not understood for {dim}-dimension vectors "
                                  "(try PQ32,Refine(SQ4), PQ64, OPQ32,PQ32, SQ8 or fp16)") from None
        if not isinstance(_flat_codes(index), faiss.IndexFlatCodes):
            raise SenseIndexError(f"codec {codec!r} is not a standalone vector codec "
                                  "(try PQ32,Refine(SQ4), OPQ32,PQ32, PQ32 or SQ8)")


REFINE = re.compile(r"^(.+),\s*Refine\((.+)\)$", re.IGNORECASE)


def split_spec(spec: str) -> tuple[str, str | None]:
    """(search codec, faithful tier codec or None) of a codec string: "PQ32,Refine(SQ4)" is PQ32
    codes, scanned by every search, plus SQ4 codes of the same vectors, read only where a
    feature needs vectors close to exact (clusters, centroids, re-ranking)."""
    m = REFINE.match(spec.strip())
    return (m.group(1).strip(), m.group(2).strip()) if m else (spec, None)


def has_tier(spec: str, keep: str | None, codec_gen: int) -> bool:
    """Whether the live files include a faithful tier (.exact): kept exact vectors, or the refine
    codes of a trained two-tier codec (until it is trained, the codes themselves are exact)."""
    return bool(keep) or (bool(codec_gen) and split_spec(spec)[1] is not None)


def _flat_codes(index: faiss.Index) -> faiss.Index:
    import faiss

    index = faiss.downcast_index(index)
    return faiss.downcast_index(index.index) if isinstance(index, faiss.IndexPreTransform) else index


def write_faiss(index: faiss.Index, path: Path) -> None:
    """faiss.write_index, read back: on a full disk FAISS may raise a bare RuntimeError, or only
    print a close error and leave a short file (both found by bench/faults.py diskfull)."""
    import faiss

    try:
        faiss.write_index(index, str(path))
        faiss.read_index(str(path))
    except RuntimeError as exc:
        Path(path).unlink(missing_ok=True)
        raise SenseIndexError(f"{path}: could not be written (is the disk full? {str(exc).splitlines()[0][:100]}); "
                              "the index keeps its last committed state") from None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the faithful tier ----------------------------------------------------------------------
class Tier:
    """Second copy of each vector beside the lemma-sorted codes, close to exact: what clustering,
    centroids, explain and re-ranking read. Exact float16/float32 (--keep-vectors), or the codes
    of a trained scalar quantiser (the Refine part of a two-tier codec: SQ4 is 384 bytes for 768
    dimensions, mean cosine 0.99 to the exact vector; docs/benchmarks/28-codec.md)."""

    def __init__(self, dim: int, name: str, index: faiss.Index | None = None) -> None:
        self.dim, self.name, self._index = dim, name, index
        self.dtype = np.dtype(np.uint8) if index is not None else np.dtype(name)
        self.width = index.sa_code_size() if index is not None else dim  # items per row

    @property
    def row_bytes(self) -> int:
        return self.width * self.dtype.itemsize

    def encode(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, self.dim)
        return self._index.sa_encode(x) if self._index is not None else x.astype(self.dtype)

    def decode(self, rows: np.ndarray) -> np.ndarray:
        """float32 vectors (a quantised tier re-normalised to unit length, like Codec.decode)."""
        if self._index is None:
            return np.asarray(rows, dtype=np.float32)
        rows = np.ascontiguousarray(rows, dtype=np.uint8).reshape(-1, self.width)
        return l2_normalise(self._index.sa_decode(rows)) if len(rows) else np.zeros((0, self.dim), np.float32)


def _optimise_ranges(sq: faiss.IndexScalarQuantizer, sample: np.ndarray) -> None:
    """Per-dimension ranges of a trained 4-bit quantiser that minimise the error (FAISS RS_optim)
    instead of min-max: SQ4 keeps a mean cosine of 0.995, not 0.992, and CoarseWSD-20 clusters
    on it match exact ones (bench/codec_fidelity.py, docs/benchmarks/28-codec.md). RS_optim
    gives NaN for some dimensions of some samples: those keep their min-max range."""
    import faiss

    optim = faiss.IndexScalarQuantizer(sq.d, sq.sq.qtype, sq.metric_type)
    optim.sq.rangestat = faiss.ScalarQuantizer.RS_optim
    optim.train(sample)
    have = faiss.vector_to_array(sq.sq.trained)
    better = faiss.vector_to_array(optim.sq.trained)
    if have.shape != better.shape:
        return
    d = sq.d
    ok = np.isfinite(better[:d]) & np.isfinite(better[d:]) & (better[d:] > 0)
    have[:d][ok], have[d:][ok] = better[:d][ok], better[d:][ok]
    faiss.copy_array_to_vector(have, sq.sq.trained)


# --- the codec ----------------------------------------------------------------------------
class Codec:
    """Vectors to fixed-size codes and back, inner-product scores of a query against codes,
    and the coarse lists used to narrow an any-word search."""

    def __init__(self, dim: int, spec: str = EXACT, index: faiss.Index | None = None,
                 coarse: np.ndarray | None = None, refine: faiss.Index | None = None) -> None:
        self.dim = dim
        self.spec = spec
        self._index = index
        self.refine = Tier(dim, split_spec(spec)[1] or "", refine) if refine is not None else None
        self.coarse = coarse  # (nlist, dim) centroids, None: one list
        self.nlist = 1 if coarse is None else len(coarse)
        self.code_size = 2 * dim if index is None else index.sa_code_size()
        self._lock = threading.Lock()  # the FAISS template is filled per search
        self._coarse_index = None
        self._pq_scan = None  # (transforms, ProductQuantizer) or False, found on first search

    @property
    def trained(self) -> bool:
        return self._index is not None

    @classmethod
    def train(cls, sample: np.ndarray, spec: str, nlist: int, seed: int = 0) -> Codec:
        """Train `spec` (a FAISS factory string) and `nlist` coarse centroids on a sample."""
        import faiss

        sample = np.ascontiguousarray(sample, dtype=np.float32)
        dim = sample.shape[1]
        search_spec, refine_spec = split_spec(spec)
        refine = None
        if refine_spec:
            refine = faiss.index_factory(dim, refine_spec, faiss.METRIC_INNER_PRODUCT)
            if not refine.is_trained:
                refine.train(sample)
            if isinstance(refine, faiss.IndexScalarQuantizer) and refine.sq.qtype == faiss.ScalarQuantizer.QT_4bit:
                _optimise_ranges(refine, sample)
        if spec.lower() == EXACT:
            index = None
        else:
            index = faiss.index_factory(dim, "Flat" if search_spec.lower() == "flat" else search_spec,
                                        faiss.METRIC_INNER_PRODUCT)
            inner = _flat_codes(index)
            if hasattr(inner, "do_polysemous_training"):  # only for Hamming search, which is never used:
                inner.do_polysemous_training = False  # it costs ~2.5 s per sub-quantizer whatever the sample
            if isinstance(index, faiss.IndexPreTransform):
                for i in range(index.chain.size()):
                    vt = faiss.downcast_VectorTransform(index.chain.at(i))
                    if isinstance(vt, faiss.OPQMatrix):
                        vt.niter = OPQ_ITERATIONS
            if not index.is_trained:
                index.train(sample)
        coarse = None
        if nlist > 1:
            km = faiss.Kmeans(dim, nlist, niter=10, seed=seed, spherical=True, verbose=False)
            km.train(sample)
            coarse = km.centroids.astype(np.float32)
        return cls(dim, spec, index, coarse, refine)

    def save(self, base: Path) -> list[Path]:

        written = []
        if self._index is not None:
            inner = _flat_codes(self._index)
            inner.codes.clear()
            inner.ntotal = self._index.ntotal = 0
            write_faiss(self._index, Path(str(base) + ".faiss"))
            written.append(Path(str(base) + ".faiss"))
        if self.refine is not None:
            write_faiss(self.refine._index, Path(str(base) + ".refine.faiss"))
            written.append(Path(str(base) + ".refine.faiss"))
        if self.coarse is not None:
            np.save(str(base) + ".coarse.npy", self.coarse, allow_pickle=False)
            written.append(Path(str(base) + ".coarse.npy"))
        return written

    @classmethod
    def load(cls, base: Path, dim: int, spec: str) -> Codec:
        import faiss

        index = None
        path = Path(str(base) + ".faiss")
        if spec.lower() != EXACT:
            if not path.is_file():
                raise SenseIndexError(f"{path}: the trained codec is missing (run senseindex check)")
            try:
                index = faiss.read_index(str(path))
            except RuntimeError as exc:
                raise SenseIndexError(f"{path}: unreadable codec ({str(exc).splitlines()[0][:120]}; damaged: run "
                                      "senseindex check)") from None
        refine = None
        if index is not None and split_spec(spec)[1]:
            refine_path = Path(str(base) + ".refine.faiss")
            try:
                refine = faiss.read_index(str(refine_path))
            except RuntimeError as exc:
                raise SenseIndexError(f"{refine_path}: missing or unreadable refine codec ({str(exc).splitlines()[0][:120]}"
                                      "; damaged: run senseindex check)") from None
        coarse_path = Path(str(base) + ".coarse.npy")
        try:  # never a pickle: an object array is refused, not loaded
            coarse = np.load(coarse_path, allow_pickle=False) if coarse_path.is_file() else None
        except (ValueError, OSError) as exc:
            raise SenseIndexError(f"{coarse_path}: unreadable ({exc}; damaged: run senseindex check)") from None
        if coarse is not None and (coarse.dtype != np.float32 or coarse.ndim != 2 or coarse.shape[1] != dim):
            raise SenseIndexError(f"{coarse_path}: not {dim}-dimension float32 centroids (damaged: run senseindex check)")
        return cls(dim, spec, index, coarse, refine)

    def encode(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, self.dim)
        if self._index is None:
            return x.astype(np.float16).view(np.uint8).reshape(len(x), self.code_size)
        return self._index.sa_encode(x)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        codes = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1, self.code_size)
        if self._index is None:
            return codes.view(np.float16).astype(np.float32).reshape(len(codes), self.dim)
        if len(codes) == 0:
            return np.zeros((0, self.dim), np.float32)
        # back to unit length: a reconstruction's norm is quantisation noise, and cosines with
        # re-normalised reconstructions label senses measurably better (BENCHMARKS.md)
        return l2_normalise(self._index.sa_decode(codes))

    def faithful(self, x: np.ndarray) -> np.ndarray:
        """What a reader of stored vectors (clusters, centroids, k-NN votes) gets back for x: the
        refine tier's reconstruction when the codec has one, else the decoded search code."""
        if self.refine is not None:
            return self.refine.decode(self.refine.encode(x))
        return self.decode(self.encode(x))

    def lists(self, x: np.ndarray) -> np.ndarray:
        """The coarse list of each vector (all 0 without a coarse quantizer)."""
        x = np.asarray(x, dtype=np.float32).reshape(-1, self.dim)
        if self.coarse is None or len(x) == 0:
            return np.zeros(len(x), KEY_DTYPE)
        return self.probe(x, 1)[:, 0].astype(KEY_DTYPE)

    def probe(self, q: np.ndarray, nprobe: int) -> np.ndarray:
        """The `nprobe` coarse lists nearest each query row."""
        import faiss

        q = np.ascontiguousarray(q, dtype=np.float32).reshape(-1, self.dim)
        if self.coarse is None:
            return np.zeros((len(q), 1), np.int64)
        if self._coarse_index is None:
            index = faiss.IndexFlatIP(self.dim)
            index.add(self.coarse)
            self._coarse_index = index
        _, lists = self._coarse_index.search(q, min(nprobe, self.nlist))
        return lists

    def _pq(self):
        """(transforms, ProductQuantizer) when the codec is a PQ scored by inner product (after
        optional linear transforms such as OPQ), else None: such codes are scanned where they
        lie, exactly as IndexPQ.search scans its own copy (ProductQuantizer.search_ip)."""
        if self._pq_scan is None:
            import faiss

            self._pq_scan = False
            index = faiss.downcast_index(self._index) if self._index is not None else None
            chain = []
            if isinstance(index, faiss.IndexPreTransform):
                chain = [faiss.downcast_VectorTransform(index.chain.at(i)) for i in range(index.chain.size())]
                index = faiss.downcast_index(index.index)
            if (isinstance(index, faiss.IndexPQ) and index.metric_type == faiss.METRIC_INNER_PRODUCT
                    and index.search_type == faiss.IndexPQ.ST_PQ):
                self._pq_scan = (chain, index.pq)
        return self._pq_scan or None

    def top_parts(self, q: np.ndarray, parts: list[np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(scores, part, position) of the k best codes over several arrays of codes, best first
        (ties: lower part, then lower position). A PQ codec scans each array in place: a
        memory-mapped block is neither concatenated nor copied into FAISS."""
        pq = self._pq()
        sizes = np.array([len(p) for p in parts], np.int64)
        if pq is None or not len(parts):
            offsets = np.concatenate([[0], np.cumsum(sizes)])
            codes = parts[0] if len(parts) == 1 else (
                np.concatenate(parts) if parts else np.zeros((0, self.code_size), np.uint8))
            scores, pos = self.top(q, codes, k)
            part = np.searchsorted(offsets, pos, side="right") - 1
            return scores, part, pos - offsets[part]
        import faiss

        chain, quantizer = pq
        x = np.ascontiguousarray(q, dtype=np.float32).reshape(1, self.dim)
        for transform in chain:
            x = np.ascontiguousarray(transform.apply(x), dtype=np.float32)
        scores, part, pos = [], [], []
        for j, codes in enumerate(parts):
            n = len(codes)
            kk = min(k, n)
            if kk <= 0:
                continue
            codes = np.ascontiguousarray(codes, dtype=np.uint8)  # a slice of a mapped run: no copy
            dist, label = np.empty((1, kk), np.float32), np.empty((1, kk), np.int64)
            heap = faiss.float_minheap_array_t()
            heap.nh, heap.k, heap.val, heap.ids = 1, kk, faiss.swig_ptr(dist), faiss.swig_ptr(label)
            quantizer.search_ip(faiss.swig_ptr(x), 1, faiss.swig_ptr(codes), n, heap, True)
            keep = label[0] >= 0
            scores.append(dist[0][keep])
            pos.append(label[0][keep])
            part.append(np.full(int(keep.sum()), j, np.int64))
        if not scores:
            return np.zeros(0, np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64)
        s, p, i = np.concatenate(scores), np.concatenate(part), np.concatenate(pos)
        order = np.lexsort((i, p, -s))[:k]
        return s[order], p[order], i[order]

    def top(self, q: np.ndarray, codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, positions) of the k codes with the highest inner product with q, best first."""
        n = len(codes)
        k = min(k, n)
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        if self._pq() is not None:
            scores, _, pos = self.top_parts(q, [codes], k)
            return scores, pos
        q = np.ascontiguousarray(q, dtype=np.float32).reshape(1, self.dim)
        if self._index is None:
            scores = self.decode(codes) @ q[0]
            pos = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
            pos = pos[np.argsort(-scores[pos], kind="stable")]
            return scores[pos].astype(np.float32), pos
        import faiss

        with self._lock:
            inner = _flat_codes(self._index)
            faiss.copy_array_to_vector(np.ascontiguousarray(codes, dtype=np.uint8).ravel(), inner.codes)
            inner.ntotal = self._index.ntotal = n
            try:
                scores, pos = self._index.search(q, k)
            finally:
                inner.codes.clear()
                inner.ntotal = self._index.ntotal = 0
        keep = pos[0] >= 0
        return scores[0][keep], pos[0][keep]


# --- sorted runs ----------------------------------------------------------------------------
class Rows:
    """Some rows of a mapped array, gathered only when read: a search re-scores a hundred of a
    lemma's tail rows on the faithful tier and must not copy the other 100,000 (384 bytes each)."""

    def __init__(self, arr: np.ndarray, rows: np.ndarray) -> None:
        self.arr, self.rows = arr, rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i) -> np.ndarray:
        return np.asarray(self.arr[self.rows[i]])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = np.asarray(self.arr[self.rows])
        return out.astype(dtype) if dtype is not None else out


@dataclass
class Block:
    key: int
    codes: np.ndarray
    ids: np.ndarray
    exact: np.ndarray | None = None


class SortedRun:
    """Rows (code, id[, exact vector]) sorted by (key, id), with a key table for block look-up."""

    def __init__(self, base: Path, code_size: int, exact_dtype: str | None = None) -> None:
        self.base = Path(base)
        self.code_size = code_size
        self.exact_dtype = exact_dtype
        try:
            self._table = table = np.load(str(base) + ".keys.npy", mmap_mode="r", allow_pickle=False)
            if table.ndim != 2 or table.shape[0] < 3:
                raise ValueError(f"shape {table.shape}")
        except (OSError, ValueError) as exc:
            raise SenseIndexError(f"{base}.keys.npy: unreadable key table ({exc}; damaged: run senseindex check)") from None
        self.keys, self.starts, self.counts = table[0], table[1], table[2]
        # CRC-32 per block of .codes, .ids (and .exact): what a search reads is verified first
        self._crcs = table[3:] if table.shape[0] > 3 else None
        self._ok: set[int] = set()  # blocks verified by this reader
        self.rows = int(self.counts.sum()) if len(self.counts) else 0
        self._codes = self._map(".codes", np.uint8, (self.rows, code_size))
        self._ids = self._map(".ids", ID_DTYPE, (self.rows,))
        self._exact = None
        if exact_dtype:
            self._exact = self._map(".exact", np.dtype(exact_dtype), None)

    def _map(self, suffix: str, dtype, shape):
        path = Path(str(self.base) + suffix)
        expected = self.rows * (self.code_size if suffix == ".codes" else np.dtype(dtype).itemsize)
        if suffix == ".exact":
            expected = path.stat().st_size if path.exists() else -1
            if self.rows and expected % self.rows:
                raise SenseIndexError(f"{path}: size does not match {self.rows:,} rows (damaged; run senseindex check)")
            shape = (self.rows, expected // max(self.rows, 1) // np.dtype(dtype).itemsize)
        if not path.is_file() or path.stat().st_size != expected:
            raise SenseIndexError(f"{path}: missing or of the wrong size (damaged; run senseindex check)")
        if self.rows == 0:
            return np.zeros(shape, dtype)
        return np.memmap(path, dtype=dtype, mode="r", shape=shape)

    def block(self, key: int) -> Block:
        i = int(np.searchsorted(self.keys, key))
        if i >= len(self.keys) or int(self.keys[i]) != key:
            return Block(key, np.zeros((0, self.code_size), np.uint8), np.zeros(0, ID_DTYPE), None)
        s, c = int(self.starts[i]), int(self.counts[i])
        exact = self._exact[s : s + c] if self._exact is not None else None
        block = Block(key, self._codes[s : s + c], self._ids[s : s + c], exact)
        if self._crcs is not None and i not in self._ok:
            self._verify(i, [block.codes, block.ids] + ([exact] if exact is not None else []))
            self._ok.add(i)
            mm = getattr(self._exact, "_mmap", None)  # the check read the block's faithful tier whole
            if exact is not None and mm is not None and hasattr(mm, "madvise"):  # (384 B a row); a search
                mm.madvise(mmap.MADV_DONTNEED)  # reads ~100 rows of it: hand the pages back
        return block

    def _verify(self, i: int, parts: list, values: list[int] | None = None) -> None:
        """Refuse a block whose bytes do not match the CRCs written with it."""
        for j, (suffix, part) in enumerate(zip((".codes", ".ids", ".exact"), parts, strict=False)):
            if j + 3 >= len(self._table):
                break
            got = values[j] if values is not None else crc(np.ascontiguousarray(part))
            if got != int(self._crcs[j][i]):
                raise SenseIndexError(f"{self.base}{suffix}: checksum mismatch in the block of key {int(self.keys[i])} "
                                      "(damaged; run senseindex check)")

    def verify_all(self) -> None:
        """Verify every block (an any-word search without coarse lists reads them all)."""
        if self._crcs is not None and len(self._ok) < len(self.keys):
            for key in np.asarray(self.keys):
                self.block(int(key))

    def blocks(self, rows: int = CHUNK_ROWS) -> Iterator[Block]:
        """Every block in key order (for merging), read from the files about `rows` rows at a time
        (plain reads: nothing stays mapped, so a merge's memory does not grow with the run). A key
        with more rows comes as several blocks of that key, ids ascending."""
        if self.rows == 0:
            return
        keys, starts, counts = (np.asarray(a, np.int64) for a in (self.keys, self.starts, self.counts))
        fds = [os.open(p, os.O_RDONLY) for p in self.files()[1:]]  # .codes, .ids (, .exact)
        check = self._crcs is not None  # a merge must not copy damaged rows into a fresh, valid-looking run
        try:
            i = 0
            while i < len(keys):
                if counts[i] > rows:  # one large key, in pieces
                    values = [0, 0, 0]
                    for lo in range(0, int(counts[i]), rows):
                        piece = self._read(fds, int(starts[i]) + lo, min(rows, int(counts[i]) - lo))
                        values = [crc(p, v) if p is not None else v for p, v in zip(piece, values, strict=True)]
                        if lo + rows >= int(counts[i]) and check:
                            self._verify(i, list(piece), values)
                        yield Block(int(keys[i]), *piece)
                    i += 1
                    continue
                j, total = i + 1, int(counts[i])
                while j < len(keys) and total + counts[j] <= rows:  # whole keys, one read
                    total += int(counts[j])
                    j += 1
                codes, ids, exact = self._read(fds, int(starts[i]), total)
                for m in range(i, j):
                    a, b = int(starts[m] - starts[i]), int(starts[m] - starts[i] + counts[m])
                    block = Block(int(keys[m]), codes[a:b], ids[a:b], exact[a:b] if exact is not None else None)
                    if check:
                        self._verify(m, [block.codes, block.ids] + ([block.exact] if exact is not None else []))
                    yield block
                i = j
        finally:
            for fd in fds:
                os.close(fd)

    def _read(self, fds: list[int], start: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Rows [start, start + n) of the codes, ids (and exact vectors), by pread."""
        out = []
        for fd, arr in zip(fds, (self._codes, self._ids, self._exact), strict=False):
            width = arr.itemsize * (arr.shape[1] if arr.ndim == 2 else 1)
            buf = bytearray(n * width)
            view, done = memoryview(buf), 0
            while done < len(buf):
                got = os.preadv(fd, [view[done:]], start * width + done)
                if got <= 0:
                    raise SenseIndexError(f"{self.base}: shorter than its key table (damaged; run senseindex check)")
                done += got
            out.append(np.frombuffer(buf, arr.dtype).reshape((n, *arr.shape[1:])))
        return out[0], out[1], out[2] if len(out) > 2 else None

    def release(self) -> None:
        """Hand this run's mapped pages back (MADV_DONTNEED): they stay in the OS page cache, so a
        later read is a minor fault, not a disk read, but they no longer count in this process's RSS."""
        for arr in (self._table, self._codes, self._ids, self._exact):
            mm = getattr(arr, "_mmap", None)
            if mm is not None and hasattr(mm, "madvise"):
                mm.madvise(mmap.MADV_DONTNEED)

    def files(self) -> list[Path]:
        sfx = [".keys.npy", ".codes", ".ids"] + ([".exact"] if self.exact_dtype else [])
        return [Path(str(self.base) + s) for s in sfx]

    @staticmethod
    def write(base: Path, blocks: Iterable[Block], exact_dtype: str | None = None,
              sums: Sums | None = None) -> int:
        """Stream blocks (in key order; one key may come as several blocks, ids ascending) to a
        new run; files are fsynced. The key table also holds a CRC-32 per block and file; each
        file's whole CRC goes into `sums` (committed with the run). Returns the row count."""
        base = Path(base)
        keys, starts, counts = array("q"), array("q"), array("q")
        n, last_id = 0, -1
        suffixes = (".codes", ".ids") + ((".exact",) if exact_dtype else ())
        handles = {s: open(str(base) + s, "wb") for s in suffixes}  # noqa: SIM115 (closed in the finally below)
        block_crc = {s: array("q") for s in handles}
        file_crc = dict.fromkeys(handles, 0)
        try:
            for b in blocks:
                if len(b.ids) == 0:
                    continue
                same = bool(keys) and b.key == keys[-1]
                if keys and (b.key < keys[-1] or (same and int(b.ids[0]) <= last_id)):
                    raise ValueError("blocks must come in increasing key order (and ids within a key)")
                data = {".codes": np.ascontiguousarray(b.codes, dtype=np.uint8).tobytes(),
                        ".ids": np.ascontiguousarray(b.ids, dtype=ID_DTYPE).tobytes()}
                if exact_dtype:
                    data[".exact"] = np.ascontiguousarray(b.exact, dtype=exact_dtype).tobytes()
                for suffix, raw in data.items():
                    handles[suffix].write(raw)
                    file_crc[suffix] = crc(raw, file_crc[suffix])
                    if same:
                        block_crc[suffix][-1] = crc(raw, block_crc[suffix][-1])
                    else:
                        block_crc[suffix].append(crc(raw))
                if same:
                    counts[-1] += len(b.ids)
                else:
                    keys.append(b.key)
                    starts.append(n)
                    counts.append(len(b.ids))
                n += len(b.ids)
                last_id = int(b.ids[-1])
        finally:
            for fh in handles.values():
                fh.flush()
                os.fsync(fh.fileno())
                fh.close()
        table = np.array([keys, starts, counts, *block_crc.values()], dtype=np.int64).reshape(3 + len(handles), -1)
        with open(str(base) + ".keys.npy", "wb") as fh:
            np.save(fh, table, allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        if sums is not None:
            for suffix, value in file_crc.items():
                path = Path(str(base) + suffix)
                sums[path.name] = [Piece(0, path.stat().st_size, value)]
            keys_file = Path(str(base) + ".keys.npy")
            sums[keys_file.name] = [whole(keys_file)]
        return n


def merge_blocks(sources: list[Iterator[Block]], drop: set[int] | None = None) -> Iterator[Block]:
    """Block streams (each in key order, ids ascending within a key) merged by key, minus `drop`
    ids. The sources come in id order (segments oldest first, then the tail: each holds a later
    range of ids), so a key's rows are passed on source by source, block by block, already in
    id order: one block per source is in memory, however many rows a key has."""
    iters = list(sources)
    dropped = np.fromiter(drop, np.int64, len(drop)) if drop else None
    heap = []
    for i, it in enumerate(iters):
        b = next(it, None)
        if b is not None:
            heap.append((b.key, i, b))
    heapq.heapify(heap)
    last = (-1, -1)  # (key, id) of the last row passed on
    while heap:
        key, i, b = heapq.heappop(heap)  # ties on key: the earlier source first
        nxt = next(iters[i], None)
        if nxt is not None:
            heapq.heappush(heap, (nxt.key, i, nxt))
        if dropped is not None and len(b.ids):
            keep = ~np.isin(np.asarray(b.ids, np.int64), dropped)
            if not keep.all():
                b = Block(key, np.asarray(b.codes)[keep], np.asarray(b.ids)[keep],
                          np.asarray(b.exact)[keep] if b.exact is not None else None)
        if not len(b.ids):
            continue
        if last[0] == key and int(b.ids[0]) <= last[1]:
            raise ValueError(f"merge: sources are not in id order (key {key})")
        last = (key, int(b.ids[-1]))
        yield b


def _join(key: int, parts: list[Block], drop: np.ndarray | None) -> Block:
    codes = np.concatenate([np.asarray(p.codes) for p in parts])
    ids = np.concatenate([np.asarray(p.ids) for p in parts])
    exact = np.concatenate([np.asarray(p.exact) for p in parts]) if parts[0].exact is not None else None
    order = np.argsort(ids, kind="stable")
    if drop is not None and len(drop):
        order = order[~np.isin(ids[order], drop)]
    return Block(key, codes[order], ids[order], exact[order] if exact is not None else None)


# --- the store ----------------------------------------------------------------------------
@dataclass
class VectorState:
    """What SQLite records about the live vector files (one row per key in `vector_state`)."""

    gen: int = 1  # last generation number handed out (the first tail is generation 1)
    codec_gen: int = 0  # 0: not trained (exact float16 codes)
    tail_gen: int = 1
    tail_first_id: int = 1
    next_id: int = 1  # next occurrence id; tail rows committed = next_id - tail_first_id
    segments: tuple[int, ...] = ()  # live segment generations, oldest first

    @classmethod
    def read(cls, db) -> VectorState:
        rows = dict(db.execute("select key, value from vector_state").fetchall())
        segs = tuple(int(x) for x in str(rows.get("segments", "")).split(",") if x)
        return cls(int(rows.get("gen", 1)), int(rows.get("codec_gen", 0)), int(rows.get("tail_gen", 1)),
                   int(rows.get("tail_first_id", 1)), int(rows.get("next_id", 1)), segs)

    def write(self, db) -> None:
        """Record the state; the caller owns the transaction."""
        values = {"gen": self.gen, "codec_gen": self.codec_gen, "tail_gen": self.tail_gen,
                  "tail_first_id": self.tail_first_id, "next_id": self.next_id,
                  "segments": ",".join(map(str, self.segments))}
        db.conn.executemany("insert into vector_state (key, value) values (?, ?) on conflict(key) do update set "
                            "value = excluded.value", [(k, str(v)) for k, v in values.items()])

    @property
    def tail_rows(self) -> int:
        return self.next_id - self.tail_first_id


class VectorStore:
    """The occurrence vectors of one index: append (writer), search and read (anyone)."""

    def __init__(self, path: Path, dim: int, spec: str, keep: str | None, state: VectorState,
                 tail_max: int = 1_000_000, checksums: Sums | None = None) -> None:
        self.path = Path(path)
        self.dim = dim
        self.spec = spec  # the codec asked for (trained once enough rows exist)
        self.keep = keep or None  # kept exact vectors: None, "float16" or "float32"
        self.state = state
        self.tail_max = tail_max
        self.checksums: Sums = checksums if checksums is not None else {}  # as committed (+ this writer's)
        self.written: Sums = {}  # checksums of what this writer wrote, for its next commit
        self.tail_ok: dict[str, int] = {}  # tail file name -> leading bytes verified
        if state.codec_gen:
            base = self._base("codec", state.codec_gen)
            for suffix in (".faiss", ".coarse.npy", ".refine.faiss"):
                self.verify_file(Path(str(base) + suffix))
        self.codec = Codec.load(self._base("codec", state.codec_gen), dim, spec) if state.codec_gen else Codec(dim)
        self._runs: dict[int, tuple[SortedRun, SortedRun]] = {}
        self._scanned = 0  # bytes of blocks scanned since the mapped pages were last released
        self._tail_maps: dict[str, tuple[tuple[int, int], np.ndarray]] = {}  # suffix -> ((gen, rows), map)

    @property
    def tier(self) -> Tier | None:
        """The faithful tier (.exact files): kept exact vectors, else the refine codes of a trained
        two-tier codec, else None (codes only; before training the codes themselves are exact)."""
        if self.keep:
            if getattr(self, "_kept", None) is None:
                self._kept = Tier(self.dim, self.keep)
            return self._kept
        return self.codec.refine

    def tiers(self) -> list[dict]:
        """What each stored copy of a vector costs and what reads it (for `info`)."""
        c = self.codec
        search = {"tier": "search", "codec": split_spec(self.spec)[0] if c.trained else "fp16 (exact until trained)",
                  "bytes_per_vector": c.code_size, "copies": 2 if c.nlist > 1 else 1,
                  "read_by": "every search: a lemma's block is scanned whole; any-word search scans the nearest "
                             "coarse lists (a second, list-sorted copy)"}
        tier = self.tier
        if tier is not None:
            faithful = {"tier": "faithful", "codec": tier.name, "bytes_per_vector": tier.row_bytes, "copies": 1,
                        "read_by": "senses, review clusters, centroids, explain, k-NN labels, plots; re-scoring "
                                   "every search's best candidates (4 x k, at least 100)"}
        elif not c.trained:
            faithful = {"tier": "faithful", "codec": "the search codes (exact float16 until trained)",
                        "bytes_per_vector": 0, "copies": 0, "read_by": "everything that reads vectors"}
        else:
            faithful = {"tier": "faithful", "codec": None, "bytes_per_vector": 0, "copies": 0,
                        "read_by": "none: clusters and k-NN read decoded search codes (PQ64: mean cosine 0.75 to the "
                                   "exact vector); see senseindex upgrade --codec"}
        return [search, faithful]

    @property
    def _tier_dtype(self) -> str | None:
        return self.tier.dtype.name if self.tier is not None else None

    # --- names ------------------------------------------------------------------------
    def _base(self, kind: str, gen: int) -> Path:
        return self.path / f"{kind}-{gen:06d}"

    def _tail_file(self, suffix: str, gen: int | None = None) -> Path:
        return Path(str(self._base("tail", self.state.tail_gen if gen is None else gen)) + suffix)

    def live_files(self) -> set[Path]:
        s = self.state
        out = {self._tail_file(x) for x in (".codes", ".lemma", ".list") + ((".exact",) if self.tier else ())}
        if s.codec_gen:
            out |= {Path(str(self._base("codec", s.codec_gen)) + x) for x in (".faiss", ".coarse.npy")
                    + ((".refine.faiss",) if self.codec.refine is not None else ())}
        for g in s.segments:
            for run in self.segment(g):
                out |= set(run.files())
        return out

    # --- checksums ----------------------------------------------------------------------
    def verify_file(self, path: Path) -> None:
        """Refuse an immutable file whose bytes differ from those recorded (unrecorded: not checked)."""
        pieces = self.checksums.get(path.name)
        if pieces:
            problem = verify(path, pieces)
            if problem:
                raise SenseIndexError(f"{path}: {problem} (run senseindex check)")

    def note_written(self, paths: Iterable[Path]) -> None:
        """Checksum immutable files this writer made; committed with the next state."""
        for p in paths:
            self.written[p.name] = self.checksums[p.name] = [whole(p)]

    def take_written(self) -> Sums:
        out, self.written = self.written, {}
        return out

    def _verify_tail(self, path: Path, arr: np.ndarray) -> None:
        """Verify the committed bytes of a tail file not yet verified, chunk by chunk, on the
        mapped bytes a search will read (a tail made before checksums existed is not checked)."""
        pieces = self.checksums.get(path.name)
        raw = arr.reshape(-1).view(np.uint8) if arr.size else np.zeros(0, np.uint8)
        at = self.tail_ok.get(path.name, 0)
        if not pieces or at >= raw.size:
            return
        for p in pieces:
            if p.offset + p.size <= at:
                continue
            if p.offset + p.size > raw.size:
                break
            if p.offset != at:
                raise SenseIndexError(f"{path}: no checksum for bytes {at:,} to {p.offset:,} (run senseindex check)")
            if crc(raw[p.offset : p.offset + p.size]) != p.crc:
                raise SenseIndexError(f"{path}: checksum mismatch in bytes {p.offset:,} to {p.offset + p.size:,} "
                                      "(damaged; run senseindex check)")
            at = p.offset + p.size
        if at != raw.size:
            raise SenseIndexError(f"{path}: no checksum for bytes {at:,} to {raw.size:,} (run senseindex check)")
        self.tail_ok[path.name] = at
        mm = getattr(arr, "_mmap", None)  # verifying read every page: hand them back (the faithful tier's
        if mm is not None and hasattr(mm, "madvise"):  # tail is 384 MB a million rows, read a few rows at a time)
            mm.madvise(mmap.MADV_DONTNEED)

    # --- reading ----------------------------------------------------------------------
    def segment(self, gen: int) -> tuple[SortedRun, SortedRun]:
        if gen not in self._runs:
            base = self._base("seg", gen)
            for kind in (".lemma", ".list"):
                self.verify_file(Path(str(base) + kind + ".keys.npy"))
            self._runs[gen] = (SortedRun(Path(str(base) + ".lemma"), self.codec.code_size, self._tier_dtype),
                               SortedRun(Path(str(base) + ".list"), self.codec.code_size))
        return self._runs[gen]

    def _tail(self, suffix: str, dtype, width: int | None = None) -> np.ndarray:
        n = self.state.tail_rows
        key = (self.state.tail_gen, n)
        cached = self._tail_maps.get(suffix)
        if cached is not None and cached[0] == key:  # a map stays readable after a writer deletes the file
            return cached[1]
        shape = (n, width) if width else (n,)
        path = self._tail_file(suffix)
        need = n * (width or 1) * np.dtype(dtype).itemsize
        if n == 0:
            return np.zeros(shape, dtype)
        if not path.is_file() or path.stat().st_size < need:
            raise SenseIndexError(f"{path}: shorter than the {n:,} committed rows (damaged; run senseindex check)")
        arr = np.memmap(path, dtype=dtype, mode="r", shape=shape)
        self._verify_tail(path, arr)
        self._tail_maps[suffix] = (key, arr)
        return arr

    def map_files(self) -> None:
        """Map every file of this state now. A reader does this as it reads the state, so a writer
        that switches to new files and deletes these ones later cannot pull them from under it."""
        for g in self.state.segments:
            self.segment(g)
        self.tail_codes()
        self.tail_exact()
        self._tail(".lemma", KEY_DTYPE)
        self._tail(".list", KEY_DTYPE)

    def tail_codes(self) -> np.ndarray:
        return self._tail(".codes", np.uint8, self.codec.code_size)

    def tail_exact(self) -> np.ndarray | None:
        tier = self.tier
        return self._tail(".exact", tier.dtype, tier.width) if tier is not None else None

    def lemma_parts(self, lemma_id: int) -> list[Block]:
        """The stored vectors of one lemma where they lie: one block per segment (mapped, not
        copied), then the lemma's tail rows; each part in id order, parts in id order."""
        parts = [self.segment(g)[0].block(lemma_id) for g in self.state.segments]
        lemmas = self._tail(".lemma", KEY_DTYPE)
        rows = np.flatnonzero(np.asarray(lemmas) == lemma_id)
        if len(rows):
            exact = self.tail_exact()
            parts.append(Block(lemma_id, self.tail_codes()[rows], (rows + self.state.tail_first_id).astype(ID_DTYPE),
                               Rows(exact, rows) if exact is not None else None))
        return [p for p in parts if len(p.ids)]

    def lemma_block(self, lemma_id: int) -> Block:
        """Every stored (not yet compacted away) vector of one lemma, in id order, in memory."""
        parts = self.lemma_parts(lemma_id)
        if not parts:
            return Block(lemma_id, np.zeros((0, self.codec.code_size), np.uint8), np.zeros(0, ID_DTYPE), None)
        return _join(lemma_id, parts, None)

    def _list_parts(self, q: np.ndarray, nprobe: int) -> list[Block]:
        """Candidates of an any-word search where they lie: the rows of the `nprobe` coarse lists
        nearest the query (per segment and list, then the tail's), or everything without lists."""
        if self.codec.nlist == 1:  # no coarse lists: every stored vector is a candidate
            for g in self.state.segments:
                self.segment(g)[0].verify_all()
            parts = [Block(-1, r._codes, r._ids) for r in (self.segment(g)[0] for g in self.state.segments)]
            parts.append(Block(-1, self.tail_codes(), (np.arange(self.state.tail_rows) + self.state.tail_first_id
                                                       ).astype(ID_DTYPE)))
            return [p for p in parts if len(p.ids)]
        lists = [int(x) for x in self.codec.probe(q, nprobe)[0]]
        parts = []
        for g in self.state.segments:
            run = self.segment(g)[1]
            parts += [run.block(lst) for lst in lists]
        tail_lists = np.asarray(self._tail(".list", KEY_DTYPE))
        if len(tail_lists):
            wanted = np.zeros(self.codec.nlist + 1, bool)  # a table look-up: faster than np.isin
            wanted[lists] = True
            rows = np.flatnonzero(wanted[np.minimum(tail_lists, self.codec.nlist)])
            if len(rows):
                parts.append(Block(-1, self.tail_codes()[rows], (rows + self.state.tail_first_id).astype(ID_DTYPE)))
        return [p for p in parts if len(p.ids)]

    def search(self, q: np.ndarray, k: int, lemma_id: int | None = None, exclude: set[int] | None = None,
               nprobe: int = 32, rerank: int = 4) -> list[tuple[int, float]]:
        """(occurrence id, score) of the k best matches, best first (equal scores: lower id first):
        within one lemma (a scan over all its codes, block by block where they lie: nothing is
        concatenated or copied), or over every occurrence (`lemma_id` None: the coarse lists
        nearest the query). With a faithful tier, the best `rerank` x k by code (at least 100;
        removed rows left out first) are re-scored on it."""
        exclude = exclude or set()
        parts = self.lemma_parts(lemma_id) if lemma_id is not None else self._list_parts(q, nprobe)
        exact = self.tier is not None and bool(parts) and all(p.exact is not None for p in parts)
        shortlist = max(k * rerank, 100) if exact else k
        total = sum(len(p.ids) for p in parts)
        dropped = np.fromiter(exclude, np.int64, len(exclude)) if exclude else None
        n = shortlist + min(len(exclude), shortlist)  # a heap of every tombstone made scans slow
        while True:
            scores, part, pos = self.codec.top_parts(q, [p.codes for p in parts], n)
            ids = np.zeros(len(pos), np.int64)
            for j in np.unique(part):
                at = np.flatnonzero(part == j)
                ids[at] = np.asarray(parts[j].ids)[pos[at]]
            if dropped is None:
                break
            keep = ~np.isin(ids, dropped)  # removed rows (tombstones) are dropped before re-scoring
            if keep.sum() >= shortlist or n >= total or n >= shortlist + len(exclude):
                ids, scores, part, pos = ids[keep], scores[keep], part[keep], pos[keep]
                break
            n *= 4
        if exact:  # the best `shortlist` by code (best first), re-scored on the faithful tier
            ids, part, pos = ids[:shortlist], part[:shortlist], pos[:shortlist]
            qf = np.asarray(q, np.float32).ravel()
            scores = np.zeros(len(pos), np.float32)
            for j in np.unique(part):
                at = np.flatnonzero(part == j)
                scores[at] = self.tier.decode(parts[j].exact[pos[at]]) @ qf
        order = np.lexsort((ids, -scores))[:k]
        out = [(int(ids[i]), float(scores[i])) for i in order]
        self._scanned += sum(p.codes.nbytes + p.ids.nbytes for p in parts)
        if self._scanned > MAPPED_BUDGET:
            self.release_pages()
        return out[:k]

    def release_pages(self) -> None:
        """Hand the mapped pages of every open segment back to the page cache, so that a
        long-lived reader's RSS stays bounded (by about MAPPED_BUDGET plus the largest block it
        scans) instead of growing towards the size of the index. The pages stay cached: the
        next read of them is a minor fault, not a disk read."""
        for runs in self._runs.values():
            for run in runs:
                run.release()
        self._scanned = 0

    def lemma_vectors(self, lemma_id: int, exclude: set[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of a lemma, in id order: exact when kept, else decoded from the codes."""
        b = self.lemma_block(lemma_id)
        keep = np.ones(len(b.ids), bool)
        if exclude:
            keep = ~np.isin(b.ids, np.fromiter(exclude, np.int64, len(exclude)))
        ids = np.asarray(b.ids)[keep].astype(np.int64)
        if b.exact is not None:
            return ids, self.tier.decode(b.exact[keep])
        return ids, self.codec.decode(np.asarray(b.codes)[keep])

    def take(self, ids: np.ndarray, lemma_ids: np.ndarray) -> np.ndarray:
        """Vectors of occurrence ids (their lemma ids alongside), in the order given: the faithful
        tier when there is one, else the decoded codes. Only the rows asked for are decoded: tail
        rows by position, segment rows by id within their lemma's block (a k-NN vote or a re-rank
        touching a lemma of a million occurrences decodes its few rows, not the lemma)."""
        ids = np.asarray(ids, dtype=np.int64)
        lemma_ids = np.asarray(lemma_ids, dtype=np.int64)
        out = np.zeros((len(ids), self.dim), np.float32)
        found = np.zeros(len(ids), bool)
        tier = self.tier

        def put(where: np.ndarray, rows: np.ndarray) -> None:
            out[where] = tier.decode(rows) if tier is not None else self.codec.decode(rows)
            found[where] = True

        first = self.state.tail_first_id
        in_tail = (ids >= first) & (ids < self.state.next_id)
        if in_tail.any():
            src = self.tail_exact() if tier is not None else self.tail_codes()
            put(np.flatnonzero(in_tail), np.asarray(src[ids[in_tail] - first]))
        for lemma in np.unique(lemma_ids[~in_tail]):
            where = np.flatnonzero(~in_tail & (lemma_ids == lemma))
            for g in self.state.segments:
                b = self.segment(g)[0].block(int(lemma))
                if not len(b.ids):
                    continue
                have = np.asarray(b.ids, np.int64)
                pos = np.minimum(np.searchsorted(have, ids[where]), len(have) - 1)
                hit = have[pos] == ids[where]
                if hit.any():
                    put(where[hit], np.asarray((b.exact if tier is not None else b.codes)[pos[hit]]))
        if not found.all():
            raise SenseIndexError(f"occurrence {int(ids[~found][0])} has no stored vector")
        return out

    # --- writing (the caller holds the write lock) -------------------------------------------
    def append(self, vectors: np.ndarray, lemma_ids: np.ndarray) -> None:
        """Add rows for the next ids to the tail, durably; SQLite commits the new next_id after."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        parts = {".codes": self.codec.encode(vectors), ".lemma": np.asarray(lemma_ids, KEY_DTYPE),
                 ".list": self.codec.lists(vectors)}
        if self.tier is not None:
            parts[".exact"] = self.tier.encode(vectors)
        for suffix, arr in parts.items():
            path = self._tail_file(suffix)
            raw = np.ascontiguousarray(arr).tobytes()
            with open(path, "ab") as fh:
                offset = fh.tell()
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            pieces = self.checksums.setdefault(path.name, [])
            end = pieces[-1].offset + pieces[-1].size if pieces else 0
            new = [Piece(end, offset - end, crc_file(path, end, offset - end))] if offset > end else []
            new.append(Piece(offset, len(raw), crc(raw)))  # (a prefix written before checksums is adopted)
            pieces += new
            self.written.setdefault(path.name, []).extend(new)

    def repair(self) -> None:
        """Cut tail rows an interrupted writer appended but never committed; make missing tail files."""
        n = self.state.tail_rows
        widths = {".codes": self.codec.code_size, ".lemma": 4, ".list": 4}
        if self.tier is not None:
            widths[".exact"] = self.tier.row_bytes
        for suffix, width in widths.items():
            path = self._tail_file(suffix)
            if not path.exists():
                if n:
                    raise SenseIndexError(f"{path}: missing, with {n:,} committed rows (run senseindex check)")
                path.touch()
            elif path.stat().st_size > n * width:
                with open(path, "r+b") as fh:
                    fh.truncate(n * width)

    def remove_stale_files(self) -> list[Path]:
        """Delete vector files no live generation refers to (left by an interrupted rewrite)."""
        live = self.live_files()
        gone = []
        for f in self.path.iterdir():
            if f.name.startswith(("tail-", "seg-", "codec-")) and f not in live:
                f.unlink()
                gone.append(f)
        return gone

    def new_gen(self) -> int:
        self.state.gen += 1
        return self.state.gen

    def sorted_tail(self, key: str) -> Iterator[Block]:
        """The committed tail as blocks sorted by lemma ('lemma') or coarse list ('list')."""
        keys = np.asarray(self._tail("." + key, KEY_DTYPE))
        order = np.argsort(keys, kind="stable")  # stable: ids ascending within a key
        codes, exact = self.tail_codes(), self.tail_exact() if key == "lemma" else None
        bounds = np.flatnonzero(np.diff(keys[order])) + 1
        for rows in np.split(order, bounds) if len(order) else []:
            rows = np.sort(rows)
            yield Block(int(keys[rows[0]]), np.asarray(codes[rows]), (rows + self.state.tail_first_id).astype(ID_DTYPE),
                        np.asarray(exact[rows]) if exact is not None else None)

    def write_segment(self, lemma_blocks: Iterable[Block], list_blocks: Iterable[Block]) -> tuple[int, int]:
        """A new segment from block streams; returns (generation, rows). Not live until recorded."""
        gen = self.new_gen()
        base = self._base("seg", gen)
        n = SortedRun.write(Path(str(base) + ".lemma"), lemma_blocks, self._tier_dtype,
                          self.written)
        # without a coarse quantizer (exact codes, small index) an any-word search reads everything
        # anyway: the list-sorted copy would only double the size, so it stays empty
        m = SortedRun.write(Path(str(base) + ".list"), list_blocks if self.codec.nlist > 1 else iter(()),
                            None, self.written)
        self.checksums.update(self.written)
        if self.codec.nlist > 1 and n != m:
            raise RuntimeError(f"segment {gen}: {n} rows by lemma but {m} by list")
        return gen, n

    def new_tail(self) -> None:
        """Start an empty tail after the committed rows (not live until the state is recorded)."""
        self.state.tail_gen = self.new_gen()
        self.state.tail_first_id = self.state.next_id
        for suffix in (".codes", ".lemma", ".list") + ((".exact",) if self.tier else ()):
            self._tail_file(suffix).touch()
