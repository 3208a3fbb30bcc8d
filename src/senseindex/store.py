"""An index on disk: SQLite metadata (sqlite-utils), vector logs and their FAISS indexes, a lock."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils
from filelock import FileLock, Timeout

from .errors import IndexLockedError, SenseIndexError
from .migrations import migrate
from .vectors import FaissView, VectorLog

FORMAT_VERSION = "1"
DB_NAME = "index.db"
INDEX_HOME = Path("indexes")


def resolve_index_path(name: str | Path) -> Path:
    """A path, or a bare name looked up under ./indexes (so `search demo` finds indexes/demo)."""
    p = Path(name)
    if p.exists() or len(p.parts) > 1:
        return p
    home = Path(os.environ.get("SENSEINDEX_HOME", INDEX_HOME))
    return home / p if (home / p).exists() else p


class Store:
    def __init__(self, path: Path, db: sqlite_utils.Database, manifest: dict[str, str]) -> None:
        self.path = path
        self.db = db
        self.manifest = manifest
        dim = int(manifest["dimensions"])
        sdim = int(manifest["static_dimensions"])
        codec = manifest.get("codec", "Flat")
        self.occ_log = VectorLog(path / "occurrences.f32", dim)
        self.occ_faiss = FaissView(self.occ_log, path / "occurrences.faiss", codec)
        self.static_log = VectorLog(path / "sentences_static.f32", sdim)
        self.static_faiss = FaissView(self.static_log, path / "sentences_static.faiss", "Flat")
        self.vocab_faiss_path = path / "vocab_static.faiss"
        self._vocab_index = None

    # --- opening -----------------------------------------------------------------
    @staticmethod
    def is_index(path: Path) -> bool:
        return (Path(path) / DB_NAME).is_file()

    @classmethod
    def open(cls, path: str | Path) -> Store:
        path = resolve_index_path(path)
        if not path.exists():
            raise SenseIndexError(f"{path}: no such index (build one with: senseindex index SOURCE --index {path})")
        if not cls.is_index(path):
            raise SenseIndexError(f"{path}: not a senseindex index (no {DB_NAME})")
        db = cls._connect(path)
        try:
            manifest = {r["key"]: r["value"] for r in db["manifest"].rows}
        except Exception:
            raise SenseIndexError(f"{path}: not a senseindex index (unreadable manifest)") from None
        if manifest.get("format_version") != FORMAT_VERSION:
            raise SenseIndexError(
                f"{path}: index format {manifest.get('format_version')!r}, this senseindex reads {FORMAT_VERSION!r}"
            )
        return cls(path, db, manifest)

    @classmethod
    def check_new(cls, path: str | Path) -> None:
        """A new index may go into a missing or empty folder, never over other files."""
        path = Path(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())) and not cls.is_index(path):
            raise SenseIndexError(f"{path}: exists and is not a senseindex index; choose another --index")

    @classmethod
    def create(cls, path: str | Path, manifest: dict[str, str]) -> Store:
        path = Path(path)
        cls.check_new(path)
        path.mkdir(parents=True, exist_ok=True)
        db = cls._connect(path)
        with db.conn:
            db["manifest"].insert_all(
                [{"key": k, "value": str(v)} for k, v in {**manifest, "format_version": FORMAT_VERSION}.items()],
                replace=True,
            )
        return cls.open(path)

    @staticmethod
    def _connect(path: Path) -> sqlite_utils.Database:
        try:
            db = sqlite_utils.Database(path / DB_NAME)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            migrate(db)
        except Exception as exc:
            if isinstance(exc, SenseIndexError):
                raise
            raise SenseIndexError(f"{path}: not a senseindex index ({exc})") from None
        return db

    # --- writing -----------------------------------------------------------------
    @contextmanager
    def lock(self):
        """One writer at a time: a second writer (another process) fails at once with a clear message.

        The lock is an OS file lock (filelock), so it is released when the holder dies, even by
        SIGKILL; the vector logs are then cut back to what SQLite committed."""
        lock = FileLock(self.path / ".lock", timeout=0, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            raise IndexLockedError(f"{self.path}: another senseindex process is writing to this index") from None
        try:
            self.repair()
            yield self
        finally:
            lock.release()

    def repair(self) -> None:
        """Cut vector rows that an interrupted run appended but never committed."""
        self.occ_log.truncate(self.max_id("occurrences"))
        self.static_log.truncate(self.max_id("sentences"))

    def save_faiss(self) -> None:
        self.occ_faiss.index(self.max_id("occurrences"), save=True)
        self.static_faiss.index(self.max_id("sentences"), save=True)

    # --- reading -----------------------------------------------------------------
    @property
    def index_id(self) -> str:
        """A random identifier made when the index was created; review files carry it."""
        return self.manifest["index_id"]

    def max_id(self, table: str) -> int:
        """Highest committed id of a table: row max_id-1 is the last committed row of its vector log."""
        if table not in ("occurrences", "sentences", "documents", "vocab"):
            raise ValueError(f"no id column to read in {table!r}")
        return int(self.db.execute(f"select coalesce(max(id), 0) from [{table}]").fetchone()[0])

    def lemma_count(self, lemma: str) -> int:
        return int(self.db.execute("select count(*) from occurrences where lemma = ?", [lemma]).fetchone()[0])

    def occurrence_index(self):
        return self.occ_faiss.index(self.max_id("occurrences"))

    def sentence_index(self):
        return self.static_faiss.index(self.max_id("sentences"))

    def vocab_index(self):
        """GloVe vectors of the corpus vocabulary (ids = vocab ids), read once; None if absent."""
        if self._vocab_index is None and self.vocab_faiss_path.exists():
            import faiss

            self._vocab_index = faiss.read_index(str(self.vocab_faiss_path))
        return self._vocab_index

    def size_on_disk(self) -> int:
        return sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())
