"""An index on disk: SQLite metadata (sqlite-utils), compressed vector files, a write lock.

Reading never writes: `Store.open` connects read-only (a copy without write permission is
searchable too), applies no migration and takes no lock. Writing goes through `lock()`, which
takes the one-writer lock, upgrades the connection, applies pending migrations and cuts what
an interrupted writer left half-done. Readers running beside a writer see committed data only.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sqlite_utils
from filelock import FileLock, Timeout

from senseindex.errors import IndexLockedError, SenseIndexError
from senseindex.storage import checksums
from senseindex.storage.db import select_in
from senseindex.storage.metadata import text_ids
from senseindex.storage.migrations import migrate, pending
from senseindex.storage.vectors import (
    EXACT,
    Codec,
    SortedRun,
    VectorState,
    VectorStore,
    merge_blocks,
)
from senseindex.text.words import count_tokens

FORMAT_VERSION = "2"
DB_NAME = "index.db"
NEW_DB = "index.db.new"  # an index database being created (renamed to DB_NAME once complete)
INDEX_HOME = Path("indexes")
TRAIN_ROWS = 50_000  # vectors before the codec is trained (exact float16 until then)
TRAIN_SAMPLE = 100_000
TAIL_MAX = 1_000_000  # tail rows before they are sorted into a segment
COMPACT_DEAD = 0.2  # share of removed rows that triggers a compaction


@dataclass
class Chunk:
    """Rows to append in one transaction (what the indexer, an upgrade or a benchmark writes)."""

    sentences: list[tuple]  # (document id, ordinal, line, section, text[, extra: metadata, word count, layout])
    static: np.ndarray  # (sentences, static dims) mean GloVe vectors
    occurrences: list[tuple]  # (sentence index in the chunk, start, end, pos, lemma)
    vectors: np.ndarray  # (occurrences, dims), L2-normalised
    gold: list[tuple[int, str]] = field(default_factory=list)  # (occurrence index in the chunk, sense)
    vocab: Counter = field(default_factory=Counter)  # lower-cased word form -> occurrences
    documents: dict[int, tuple[int, bool]] = field(default_factory=dict)  # doc id -> (last ordinal, finished)
    in_glove: Callable[[str], bool] = lambda _word: False
    deps: list[tuple[int, str, str]] = field(default_factory=list)  # (occurrence index, relation, collocate lemma)


def _layout(row: tuple) -> str | None:
    """A sentence row's token layout as stored (JSON), from its optional sixth element."""
    extra = row[5] if len(row) > 5 and row[5] else {}
    return json.dumps(extra["layout"], ensure_ascii=False, separators=(",", ":")) if extra.get("layout") else None


def resolve_index_path(name: str | Path) -> Path:
    """A path, or a bare name looked up under ./indexes (so `search demo` finds indexes/demo)."""
    p = Path(name)
    if p.exists() or len(p.parts) > 1:
        return p
    home = Path(os.environ.get("SENSEINDEX_HOME", INDEX_HOME))
    return home / p if (home / p).exists() else p


def connect(path: Path, write: bool) -> sqlite_utils.Database:
    """A connection to an index database: read-write, or read-only (falling back to an immutable
    snapshot when the folder itself is not writable, as for a read-only copy)."""
    file = path / DB_NAME
    try:
        if write:
            db = sqlite_utils.Database(file)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
        else:
            try:
                conn = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
                conn.execute("select count(*) from sqlite_master").fetchone()
            except sqlite3.OperationalError:
                conn = sqlite3.connect(f"{file.resolve().as_uri()}?immutable=1", uri=True, check_same_thread=False)
            db = sqlite_utils.Database(conn)
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=10000")
    except sqlite3.DatabaseError as exc:
        raise SenseIndexError(f"{path}: not a senseindex index ({exc})") from None
    return db


class Store:
    def __init__(self, path: Path, db: sqlite_utils.Database, manifest: dict[str, str], writable: bool = False) -> None:
        self.path = path
        self.db = db
        self.manifest = manifest
        self.writable = writable
        self.dim = int(manifest["dimensions"])
        self.static_dim = int(manifest["static_dimensions"])
        self.vocab_faiss_path = path / "vocab_static.faiss"
        self._vocab_index = None
        self._vectors: VectorStore | None = None
        self._writing = writable  # holds the write lock (or is an upgrade): its vector state is authoritative

    # --- opening -----------------------------------------------------------------
    @staticmethod
    def is_index(path: Path) -> bool:
        return (Path(path) / DB_NAME).is_file()

    @classmethod
    def open(cls, path: str | Path) -> Store:
        """Open for reading (nothing is written); `lock()` makes it a writer."""
        path = resolve_index_path(path)
        if not path.exists():
            raise SenseIndexError(f"{path}: no such index (build one with: senseindex index SOURCE --index {path})")
        if not cls.is_index(path):
            raise SenseIndexError(f"{path}: not a senseindex index (no {DB_NAME})")
        db = connect(path, write=False)
        manifest = cls._manifest(path, db)
        version = manifest.get("format_version")
        if version == "1":
            raise SenseIndexError(f"{path}: index format 1 (an earlier senseindex); convert it once with: "
                                  f"senseindex upgrade {path}")
        if version != FORMAT_VERSION:
            raise SenseIndexError(f"{path}: index format {version!r}, this senseindex reads {FORMAT_VERSION!r}")
        return cls(path, db, manifest)

    @staticmethod
    def _manifest(path: Path, db: sqlite_utils.Database) -> dict[str, str]:
        try:
            return {k: v for k, v in db.execute("select key, value from manifest").fetchall()}
        except sqlite3.DatabaseError:
            raise SenseIndexError(f"{path}: not a senseindex index (unreadable manifest)") from None

    @classmethod
    def check_new(cls, path: str | Path) -> None:
        """A new index may go into a missing or empty folder, never over other files (the left-over
        of an interrupted creation does not count)."""
        path = Path(path)
        others = path.is_dir() and any(not f.name.startswith(NEW_DB) for f in path.iterdir())
        if path.exists() and (not path.is_dir() or others) and not cls.is_index(path):
            raise SenseIndexError(f"{path}: exists and is not a senseindex index; choose another --index")

    @classmethod
    def create(cls, path: str | Path, manifest: dict[str, str]) -> Store:
        """A new index, created whole or not at all: the database is built under another name and
        renamed once complete (a full disk or a kill midway left a folder that was neither an
        index nor empty, found by bench/faults.py diskfull)."""
        path = Path(path)
        cls.check_new(path)
        path.mkdir(parents=True, exist_ok=True)
        tmp = path / NEW_DB
        for f in path.glob(NEW_DB + "*"):
            f.unlink()
        try:
            db = sqlite_utils.Database(tmp)
            migrate(db)
            with db.conn:
                db.conn.executemany("insert or replace into manifest (key, value) values (?, ?)",
                                    [(k, str(v)) for k, v in {**manifest, "format_version": FORMAT_VERSION}.items()])
                VectorState().write(db)
            db.close()
            os.replace(tmp, path / DB_NAME)
        finally:
            for f in path.glob(NEW_DB + "*"):
                f.unlink()
        return cls.open(path)

    def close(self) -> None:
        """Close the database connection; the Store is not used afterwards. (A writer's work is
        committed within `lock`, so nothing is pending here.)"""
        self._vectors = None
        self._vocab_index = None
        self.db.conn.close()

    # --- writing -----------------------------------------------------------------
    @contextmanager
    def lock(self, verify: bool = True):
        """One writer at a time: a second writer (another process) fails at once with a clear message.

        The lock is an OS file lock (filelock), released when its holder dies, even by SIGKILL;
        the vector files are then cut back to what SQLite committed. A writer first verifies the
        tail it appends to (a damaged index is refused: run senseindex repair); `verify=False`
        is for the repair itself."""
        lock = FileLock(self.path / ".lock", timeout=0, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            raise IndexLockedError(f"{self.path}: another senseindex process is writing to this index") from None
        except OSError as exc:
            raise SenseIndexError(f"{self.path}: cannot write to this index ({exc.strerror})") from None
        try:
            if not self.writable:
                self.db = connect(self.path, write=True)
                self.writable = True
            if pending(self.db) and self.manifest.get("format_version") == FORMAT_VERSION:
                migrate(self.db)
            self.manifest = self._manifest(self.path, self.db)
            self._vectors = None
            self._writing = True
            if verify:
                self.vectors.repair()
                self.vectors.map_files()
                self.vectors.remove_stale_files()
            yield self
        finally:
            self._writing = False  # a reader again: another writer may change the files from now on
            self._vectors = None
            try:  # fold the WAL into index.db, so a copy of the folder is complete by itself
                if self.writable and not self.db.conn.in_transaction:
                    self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError:
                pass  # readers are busy: the next writer checkpoints
            lock.release()

    def commit_state(self, extra_sql: list[tuple[str, list]] | None = None) -> None:
        """Record the vector state, the checksums of the files written for it (forgetting those
        of files no longer live) and any extra statements, in one transaction."""
        vs = self.vectors
        with self.db.conn:
            vs.state.write(self.db)
            checksums.record(self.db, vs.take_written())
            checksums.forget(self.db, {f.name for f in vs.live_files()})
            for sql, params in extra_sql or []:
                self.db.conn.execute(sql, params)

    # --- reading -----------------------------------------------------------------
    @property
    def index_id(self) -> str:
        """A random identifier made when the index was created; review files carry it."""
        return self.manifest["index_id"]

    @property
    def vectors(self) -> VectorStore:
        """The vector files as of the latest commit (re-read, so a long-lived reader sees new data;
        a writer's own in-memory state is authoritative until it commits)."""
        if self._writing and self._vectors is not None:
            return self._vectors
        state = VectorState.read(self.db)
        vs = self._vectors
        for attempt in range(10):
            if vs is not None and vs.state == state:
                break
            try:
                state, sums = self._snapshot()
                fresh = VectorStore(self.path, self.dim, self.manifest.get("codec", EXACT), self.keep, state,
                                    int(self.manifest.get("tail_max", TAIL_MAX)), sums)
                if vs is not None:
                    fresh.tail_ok = vs.tail_ok  # (names carry the generation)
                if vs is not None and vs.state.codec_gen == state.codec_gen:
                    fresh._runs = {g: r for g, r in vs._runs.items() if g in state.segments}
                if not self._writing:
                    fresh.map_files()  # now, before a writer can delete them
            except (SenseIndexError, OSError):
                newer = VectorState.read(self.db)  # a writer switched files since the state was read
                if newer == state or attempt == 9:
                    raise
                state = newer
                continue
            self._vectors = vs = fresh
        return vs

    def _snapshot(self) -> tuple[VectorState, checksums.Sums]:
        """The vector state and the checksums of its files, read in one transaction."""
        conn = self.db.conn
        own = not conn.in_transaction
        if own:
            conn.execute("begin")
        try:
            return VectorState.read(self.db), checksums.load(self.db)
        finally:
            if own:
                conn.execute("commit")

    @property
    def keep(self) -> str | None:
        return {"fp16": "float16", "fp32": "float32"}.get(self.manifest.get("keep_vectors", ""))

    def max_id(self, table: str) -> int:
        """Highest id in use in a table (0 when empty)."""
        if table not in ("occurrences", "sentences", "documents", "vocab", "lemmas"):
            raise ValueError(f"no id column to read in {table!r}")
        table = "occ" if table == "occurrences" else table
        return int(self.db.execute(f"select coalesce(max(id), 0) from [{table}]").fetchone()[0])

    def count(self, table: str) -> int:
        """Rows in a table (occurrences: those not removed)."""
        table = {"occurrences": "occ"}.get(table, table)
        if table not in ("occ", "sentences", "documents", "vocab", "lemmas"):
            raise ValueError(f"cannot count {table!r}")
        return int(self.db.execute(f"select count(*) from [{table}]").fetchone()[0])

    def lemma_id(self, lemma: str) -> int | None:
        row = self.db.execute("select id from lemmas where lemma = ?", [lemma]).fetchone()
        return int(row[0]) if row else None

    def lemma_count(self, lemma: str) -> int:
        row = self.db.execute("select count from lemmas where lemma = ?", [lemma]).fetchone()
        return int(row[0]) if row else 0

    def form_tags(self, form: str, lemmas: Iterable[str], per_lemma: int = 2000) -> Counter:
        """(lemma, Penn tag) -> how many occurrences written `form` (case-folded) the indexer
        tagged so, among the first `per_lemma` occurrences of each of `lemmas` (a word form's
        possible lemmas: the occurrence table keeps lemma and offsets, not the form)."""
        found: Counter = Counter()
        want = form.casefold()
        for lemma in dict.fromkeys(lemmas):
            lid = self.lemma_id(lemma)
            if lid is None:
                continue
            rows = self.db.execute(
                "select o.pos, substr(s.text, o.start + 1, o.end - o.start) from occ o "
                "join sentences s on s.id = o.sentence_id where o.lemma_id = ? order by o.id limit ?",
                [lid, per_lemma])
            found.update((lemma, pos or "") for pos, word in rows if word.casefold() == want)
        return found

    def removed(self, lemma_id: int | None = None) -> set[int]:
        """Removed occurrence ids whose vectors are still on disk (all, or one lemma's)."""
        if lemma_id is None:
            return {r[0] for r in self.db.execute("select id from removed")}
        return {r[0] for r in self.db.execute("select id from removed where lemma_id = ?", [lemma_id])}

    def lemma_vectors(self, lemma: str) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of every live occurrence of a lemma, in id order."""
        lid = self.lemma_id(lemma)
        if lid is None:
            return np.zeros(0, np.int64), np.zeros((0, self.dim), np.float32)
        return self.vectors.lemma_vectors(lid, self.removed(lid))

    def search(self, q: np.ndarray, k: int, lemma_id: int | None = None, exclude: set[int] | None = None,
               rerank: int = 4) -> list[tuple[int, float]]:
        """VectorStore.search; an any-word search also re-scores its best `rerank` x k candidates
        (at least 100) on the faithful tier, as a same-lemma search does within its lemma."""
        vs = self.vectors
        if lemma_id is not None or vs.tier is None:
            return vs.search(q, k, lemma_id, exclude=exclude)
        found = vs.search(q, max(k * rerank, 100), None, exclude=exclude)
        if not found:
            return []
        ids = np.array([i for i, _ in found], np.int64)
        lemma_of = dict(select_in(self.db, "select id, lemma_id from occ where id in ({ids})", ids.tolist()))
        ids = np.array([i for i in ids if int(i) in lemma_of], np.int64)
        rows = vs.take(ids, np.array([lemma_of[int(i)] for i in ids], np.int64))
        scores = rows @ np.asarray(q, np.float32).ravel()
        order = np.lexsort((ids, -scores))[:k]
        return [(int(ids[i]), float(scores[i])) for i in order]

    def take(self, ids) -> np.ndarray:
        """Vectors of occurrence ids, in the order given."""
        ids = np.asarray(ids, dtype=np.int64)
        lemma_of = dict(select_in(self.db, "select id, lemma_id from occ where id in ({ids})", ids.tolist()))
        missing = [int(i) for i in ids if int(i) not in lemma_of]
        if missing:
            raise SenseIndexError(f"unknown occurrence id(s) {', '.join(map(str, missing[:10]))}")
        return self.vectors.take(ids, np.array([lemma_of[int(i)] for i in ids], dtype=np.int64))

    def static_vectors(self, sentence_ids) -> np.ndarray:
        """Static (mean GloVe) vectors of sentences, in the order given."""
        sentence_ids = [int(i) for i in sentence_ids]
        blobs = dict(select_in(self.db, "select id, static from sentences where id in ({ids})", sentence_ids))
        out = np.zeros((len(sentence_ids), self.static_dim), np.float32)
        for i, sid in enumerate(sentence_ids):
            if blobs.get(sid):
                out[i] = np.frombuffer(blobs[sid], dtype=np.float16)
        return out

    def vocab_index(self):
        """GloVe vectors of the corpus vocabulary (ids = vocab ids), read once; None if absent."""
        if self._vocab_index is None and self.vocab_faiss_path.exists():
            import faiss

            problem = checksums.verify_named(self.vocab_faiss_path, checksums.load(self.db))
            if problem:
                raise SenseIndexError(f"{self.vocab_faiss_path}: {problem} (run senseindex repair)")
            try:
                self._vocab_index = faiss.read_index(str(self.vocab_faiss_path))
            except RuntimeError:
                raise SenseIndexError(f"{self.vocab_faiss_path}: unreadable (run senseindex repair)") from None
        return self._vocab_index

    def size_on_disk(self) -> int:
        return sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())

    def append(self, chunk: Chunk) -> tuple[int, int]:
        """Write one chunk of sentences and occurrences: vectors first (durable), then every row
        in one SQLite transaction; returns the first (sentence, occurrence) id given. A crash in
        between leaves vector rows past the committed count, which the next writer cuts off."""
        db = self.db
        lemmas = sorted({o[4] for o in chunk.occurrences})
        with db.conn:  # lemma ids are needed before the vectors are written; unused ones are harmless
            db.conn.executemany("insert or ignore into lemmas (lemma, count) values (?, 0)", [(x,) for x in lemmas])
        lemma_id = dict(select_in(db, "select lemma, id from lemmas where lemma in ({ids})", lemmas))
        vs = self.vectors
        first_occ = vs.state.next_id
        first_sent = self.max_id("sentences") + 1
        if chunk.occurrences:
            vs.append(chunk.vectors, np.array([lemma_id[o[4]] for o in chunk.occurrences], np.int64))
        static = np.asarray(chunk.static, np.float16)
        with db.conn:
            texts = text_ids(db, chunk.sentences)
            db.conn.executemany(
                "insert into sentences (id, document_id, ordinal, line, section, text, static, text_id, layout) "
                "values (?,?,?,?,?,?,?,?,?)",
                [(first_sent + i, *row[:5], static[i].tobytes(), texts[i], _layout(row))
                 for i, row in enumerate(chunk.sentences)])
            if chunk.deps:
                db.conn.executemany("insert into deps (occurrence_id, rel, lemma) values (?, ?, ?)",
                                    [(first_occ + j, rel, lemma) for j, rel, lemma in chunk.deps])
            db.conn.executemany(
                "insert into occ (id, sentence_id, start, end, lemma_id, pos) values (?,?,?,?,?,?)",
                [(first_occ + j, first_sent + o[0], o[1], o[2], lemma_id[o[4]], o[3])
                 for j, o in enumerate(chunk.occurrences)])
            counts = Counter(o[4] for o in chunk.occurrences)
            db.conn.executemany("update lemmas set count = count + ? where id = ?",
                                [(c, lemma_id[lem]) for lem, c in counts.items()])
            db.conn.executemany(
                "insert into vocab (word, count, in_glove) values (?, ?, ?) "
                "on conflict(word) do update set count = count + excluded.count",
                [(w, c, int(chunk.in_glove(w))) for w, c in chunk.vocab.items()])
            if chunk.gold:
                from senseindex.storage.labels import set_labels

                set_labels(db, [(first_occ + j, sense) for j, sense in chunk.gold], "gold")
            tokens = Counter()
            for row in chunk.sentences:
                tokens[row[0]] += count_tokens(row[4])
            db.conn.executemany("update documents set tokens = coalesce(tokens, 0) + ? where id = ?",
                                [(n, doc_id) for doc_id, n in tokens.items()])
            for doc_id, (ordinal, last) in chunk.documents.items():
                db.conn.execute("update documents set sentences = ?, status = ? where id = ?",
                                (ordinal, "done" if last else "partial", doc_id))
            vs.state.next_id = first_occ + len(chunk.occurrences)
            vs.state.write(db)
            checksums.record(db, vs.take_written())
        return first_sent, first_occ

    # --- vector maintenance (writer) -------------------------------------------------------
    def maintain(self) -> None:
        """After a commit: train the codec once enough vectors exist, sort a full tail into a
        segment, merge segments of similar size, compact when many rows are removed."""
        vs = self.vectors
        spec = self.manifest.get("codec", EXACT)
        train_rows = int(self.manifest.get("train_rows", TRAIN_ROWS))
        if not vs.codec.trained and spec.lower() != EXACT and vs.state.next_id - 1 >= train_rows:
            self.train_codec()
            vs = self.vectors
        if vs.state.tail_rows >= vs.tail_max:
            self.flush_tail()
        dead = int(self.db.execute("select count(*) from removed").fetchone()[0])
        if dead and dead > COMPACT_DEAD * max(1, self.vectors.state.next_id - 1):
            self.compact()

    def switch(self, old: set, extra_sql: list[tuple[str, list]] | None = None) -> None:
        """Make new files live in one SQLite transaction, then delete the files no longer live."""
        self.commit_state(extra_sql)
        self._vectors = None
        live = self.vectors.live_files()
        for f in old - live:
            f.unlink(missing_ok=True)

    def flush_tail(self) -> None:
        """Sort the tail into a new segment, then merge the newest segments while they are of
        similar size (each merge at most doubles a segment, so every row is rewritten
        O(log n) times and memory stays bounded by the largest lemma)."""
        vs = self.vectors
        if vs.state.tail_rows == 0:
            return
        old = vs.live_files()
        gen, _ = vs.write_segment(vs.sorted_tail("lemma"), vs.sorted_tail("list"))
        vs.state.segments = (*vs.state.segments, gen)
        vs.new_tail()
        self.switch(old)
        while True:
            vs = self.vectors
            segs = vs.state.segments
            if len(segs) < 2:
                return
            a, b = vs.segment(segs[-2])[0], vs.segment(segs[-1])[0]
            if b.rows * 2 < a.rows:
                return
            self._merge(vs, list(segs[-2:]))

    def _merge(self, vs: VectorStore, gens: list[int], with_tail: bool = False, drop: set[int] | None = None,
               extra_sql: list[tuple[str, list]] | None = None) -> None:
        old = vs.live_files()
        runs = [vs.segment(g) for g in gens]
        lemma_src = [r[0].blocks() for r in runs] + ([vs.sorted_tail("lemma")] if with_tail else [])
        list_src = [r[1].blocks() for r in runs] + ([vs.sorted_tail("list")] if with_tail else [])
        gen, _ = vs.write_segment(merge_blocks(lemma_src, drop), merge_blocks(list_src, drop))
        keep = [g for g in vs.state.segments if g not in gens]
        vs.state.segments = (*keep, gen)
        if with_tail:
            vs.new_tail()
        self.switch(old, extra_sql)

    def compact(self) -> dict:
        """Rewrite every vector file into one segment without removed rows (crash-safe: new
        files are written first, then made live in one transaction)."""
        vs = self.vectors
        dead = self.removed()
        before = self.size_on_disk()
        rows = vs.state.tail_rows + sum(vs.segment(g)[0].rows for g in vs.state.segments)
        self._merge(vs, list(vs.state.segments), with_tail=True, drop=dead,
                    extra_sql=[("delete from removed", [])])
        return {"rows_before": rows, "removed_dropped": len(dead), "rows_after": rows - len(dead),
                "bytes_before": before, "bytes_after": self.size_on_disk()}

    def train_codec(self, sample_rows: int = TRAIN_SAMPLE, extra_sql: list[tuple[str, list]] | None = None) -> None:
        """Train the codec on a sample of the stored (exact) vectors, then re-encode every row
        (`extra_sql` commits with the switch to the new files)."""
        vs = self.vectors
        spec = self.manifest.get("codec", EXACT)
        ids, lemmas, vecs = self._all_rows(vs)
        rng = np.random.default_rng(0)
        pick = np.sort(rng.choice(len(ids), min(len(ids), sample_rows), replace=False))
        nlist = int(min(1024, max(1, len(pick) // 64)))
        codec = Codec.train(vecs[pick], spec, nlist)
        old = vs.live_files()
        gen = vs.new_gen()
        vs.note_written(codec.save(vs._base("codec", gen)))
        vs.state.codec_gen = gen
        vs.codec = codec
        lists = codec.lists(vecs)
        codes = codec.encode(vecs)
        exact = vs.tier.encode(vecs) if vs.tier is not None else None
        seg_gen, _ = vs.write_segment(_blocks(lemmas, ids, codes, exact), _blocks(lists, ids, codes, None))
        vs.state.segments = (seg_gen,)
        vs.new_tail()
        self.switch(old, extra_sql)

    def _all_rows(self, vs: VectorStore) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every stored row (ids, lemma ids, exact vectors): used only while the index is small."""
        ids, lemmas, vecs = [], [], []
        dead = self.removed()
        for g in vs.state.segments:
            for b in vs.segment(g)[0].blocks():
                ids.append(np.asarray(b.ids, np.int64))
                lemmas.append(np.full(len(b.ids), b.key, np.int64))
                vecs.append(vs.tier.decode(b.exact) if b.exact is not None else vs.codec.decode(b.codes))
        for b in vs.sorted_tail("lemma"):
            ids.append(np.asarray(b.ids, np.int64))
            lemmas.append(np.full(len(b.ids), b.key, np.int64))
            vecs.append(vs.tier.decode(b.exact) if b.exact is not None else vs.codec.decode(b.codes))
        if not ids:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, vs.dim), np.float32)
        ids_a, lem_a, vec_a = np.concatenate(ids), np.concatenate(lemmas), np.concatenate(vecs)
        alive = ~np.isin(ids_a, np.fromiter(dead, np.int64, len(dead))) if dead else np.ones(len(ids_a), bool)
        return ids_a[alive], lem_a[alive], vec_a[alive]


def _blocks(keys: np.ndarray, ids: np.ndarray, codes: np.ndarray, exact: np.ndarray | None):
    """Rows as blocks sorted by (key, id)."""
    from senseindex.storage.vectors import Block

    order = np.lexsort((ids, keys))
    bounds = np.flatnonzero(np.diff(keys[order])) + 1
    for rows in np.split(order, bounds) if len(order) else []:
        yield Block(int(keys[rows[0]]), codes[rows], ids[rows].astype(np.uint32),
                    exact[rows] if exact is not None else None)


__all__ = ["Store", "SortedRun", "resolve_index_path", "FORMAT_VERSION"]
