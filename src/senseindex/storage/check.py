"""`senseindex check`: verify every file of an index, and the facts that must agree between them.

Why a separate, complete pass: readers verify what they read (a block's CRC, a tail chunk's,
a codec file's) so a search never returns neighbours from damaged bytes, but they do not read
everything. `check` does, without writing anything (it opens SQLite read-only, takes no lock):

* ``index.db``: SQLite's own integrity and foreign-key checks, the manifest;
* every live vector file against the CRC-32 recorded when it was written (checksums.py), and
  every segment block against the CRC in its key table;
* the structure: key tables ordered and contiguous, sizes matching row counts, each segment's
  lemma-sorted and list-sorted runs holding the same ids;
* the counts that must agree between SQLite and the vector files: one stored vector row per live
  or removed occurrence, no row twice, each row filed under its occurrence's lemma; the
  lemma counts; the static sentence vectors' size; ``vocab_static.faiss``.

Each problem says whether `senseindex repair` can derive the damaged part again.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from senseindex.errors import SenseIndexError
from senseindex.storage import checksums
from senseindex.storage.store import (
    DB_NAME,
    FORMAT_VERSION,
    TAIL_MAX,
    Store,
    connect,
    resolve_index_path,
)
from senseindex.storage.vectors import (
    EXACT,
    KEY_DTYPE,
    SortedRun,
    VectorState,
    VectorStore,
    has_tier,
    split_spec,
)

MANIFEST_KEYS = ("model", "layer", "dimensions", "static_dimensions", "codec", "format_version", "index_id")
VOCAB_FILE = "vocab_static.faiss"


@dataclass
class Problem:
    file: str  # a file in the index folder ("index.db" for facts stored in SQLite)
    what: str
    derivable: bool  # repair can rebuild it (from the stored vectors, the text or the model)
    kind: str = "vectors"  # what repair rebuilds: vectors, lemma_counts, static, vocab (or sqlite: nothing)

    def __str__(self) -> str:
        return f"{self.file}: {self.what}"


@dataclass
class CheckReport:
    path: str
    problems: list[Problem] = field(default_factory=list)
    files_checked: int = 0
    bytes_checked: int = 0
    vector_rows: int = 0
    occurrences: int = 0
    unverified: list[str] = field(default_factory=list)  # no checksum recorded (written before checksums)
    leftovers: list[str] = field(default_factory=list)  # files of an interrupted write: the next writer deletes them
    notes: list[str] = field(default_factory=list)  # derived data out of date after an interruption (not damage)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, file: str, what: str, derivable: bool = True, kind: str = "vectors") -> None:
        self.problems.append(Problem(file, what, derivable, kind if derivable else "sqlite"))

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok, "problems": [asdict(p) for p in self.problems]}


def check_index(path: str | Path) -> CheckReport:
    """Verify an index completely (reads every byte of it; writes nothing)."""
    path = resolve_index_path(path)
    start = time.perf_counter()
    report = CheckReport(str(path))
    if not path.is_dir():
        raise SenseIndexError(f"{path}: no such index")
    if not Store.is_index(path):
        report.add(DB_NAME, "missing: the labels, text and occurrences live there; restore it from a backup "
                            "(the vector files alone cannot rebuild it)", derivable=False)
        return _done(report, start)
    try:
        db = connect(path, write=False)
        bad = [r[0] for r in db.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"]
        bad += [f"broken reference in {r[0]} row {r[1]}" for r in db.execute("PRAGMA foreign_key_check").fetchall()]
        manifest = dict(db.execute("select key, value from manifest").fetchall())
    except (sqlite3.DatabaseError, SenseIndexError) as exc:
        report.add(DB_NAME, f"unreadable SQLite database ({exc}); restore it from a backup", derivable=False)
        return _done(report, start)
    report.files_checked += 1
    report.bytes_checked += (path / DB_NAME).stat().st_size
    for b in bad[:20]:
        report.add(DB_NAME, f"SQLite integrity: {b}", derivable=False)
    if bad:
        return _done(report, start)
    missing = [k for k in MANIFEST_KEYS if not manifest.get(k)]
    if missing or manifest.get("format_version") != FORMAT_VERSION:
        report.add(DB_NAME, f"manifest incomplete or not format {FORMAT_VERSION} (missing: {', '.join(missing) or '-'}; "
                            f"format {manifest.get('format_version')!r})", derivable=False)
        return _done(report, start)
    try:
        _check_vectors(path, db, manifest, report)
        _check_sqlite_facts(path, db, manifest, report)
    except sqlite3.DatabaseError as exc:
        report.add(DB_NAME, f"unreadable SQLite database ({exc}); restore it from a backup", derivable=False)
    db.close()
    return _done(report, start)


def _done(report: CheckReport, start: float) -> CheckReport:
    report.seconds = round(time.perf_counter() - start, 3)
    return report


def live_names(state: VectorState, keep: bool, refine: bool = False) -> tuple[list[str], list[str], list[str]]:
    """(immutable files, tail files, optional files) a vector state refers to."""
    tail = [f"tail-{state.tail_gen:06d}{s}" for s in (".codes", ".lemma", ".list") + ((".exact",) if keep else ())]
    fixed, optional = [], []
    if state.codec_gen:
        fixed.append(f"codec-{state.codec_gen:06d}.faiss")
        optional.append(f"codec-{state.codec_gen:06d}.coarse.npy")
        if refine:
            fixed.append(f"codec-{state.codec_gen:06d}.refine.faiss")
    for g in state.segments:
        for kind in (".lemma", ".list"):
            suffixes = (".keys.npy", ".codes", ".ids") + ((".exact",) if keep and kind == ".lemma" else ())
            fixed += [f"seg-{g:06d}{kind}{s}" for s in suffixes]
    return fixed, tail, optional


def _check_vectors(path: Path, db, manifest: dict, report: CheckReport) -> None:
    state = VectorState.read(db)
    sums = checksums.load(db)
    keep = {"fp16": "float16", "fp32": "float32"}.get(manifest.get("keep_vectors", ""))
    dim = int(manifest["dimensions"])
    spec = manifest.get("codec", EXACT)
    refine = split_spec(spec)[1] is not None
    fixed, tail, optional = live_names(state, has_tier(spec, keep, state.codec_gen), refine)
    if state.codec_gen and spec.lower() == EXACT:
        fixed.remove(f"codec-{state.codec_gen:06d}.faiss")
        optional.append(f"codec-{state.codec_gen:06d}.faiss")
    damaged: set[str] = set()
    for name in fixed + optional:
        f = path / name
        if name in optional and not f.exists() and name not in sums:
            continue
        problem = checksums.verify(f, sums[name]) if name in sums else (None if f.is_file() else "missing")
        if name not in sums and f.is_file():
            report.unverified.append(name)
        _count(report, f)
        if problem:
            report.add(name, problem)
            damaged.add(name)

    # the codec: needed to size every code row
    try:
        vs = VectorStore(path, dim, spec, keep, state, int(manifest.get("tail_max", TAIL_MAX)), sums)
    except (SenseIndexError, RuntimeError, OSError, ValueError) as exc:
        if not damaged & {n for n in fixed + optional if n.startswith("codec-")}:
            report.add(f"codec-{state.codec_gen:06d}.faiss", f"unreadable ({_one_line(exc)})")
        report.add("(vectors)", "not verified further: the codec is damaged")
        return
    code_size = vs.codec.code_size
    tier = vs.tier
    widths = {".codes": code_size, ".lemma": 4, ".list": 4, ".exact": tier.row_bytes if tier is not None else 0}
    lemma_of, live, removed = _occurrence_lemmas(db)
    stored: list[np.ndarray] = []

    # the tail: committed rows, chunk checksums, lemma ids
    n_tail = state.tail_rows
    for name in tail:
        f = path / name
        need = n_tail * widths[name[name.index("."):]]
        if name in sums:
            problem = checksums.verify(f, sums[name], need)
        else:
            problem = "missing" if not f.is_file() else (
                f"truncated: {f.stat().st_size:,} bytes, {need:,} expected" if f.stat().st_size < need else None)
            if f.is_file() and need:
                report.unverified.append(name)
        _count(report, f)
        if problem:
            report.add(name, problem)
            damaged.add(name)
    if not damaged & set(tail) and n_tail:
        ids = np.arange(state.tail_first_id, state.next_id, dtype=np.int64)
        lem = np.fromfile(path / tail[1], dtype=KEY_DTYPE, count=n_tail).astype(np.int64)
        _lemmas_agree(report, tail[1], ids, lem, lemma_of)
        stored.append(ids)

    # segments: structure, block checksums, both runs holding the same ids
    for g in state.segments:
        names = [n for n in fixed if n.startswith(f"seg-{g:06d}")]
        if damaged & set(names):
            continue
        try:
            runs = (SortedRun(path / f"seg-{g:06d}.lemma", code_size, vs._tier_dtype),
                    SortedRun(path / f"seg-{g:06d}.list", code_size))
            ids_by = []
            for r, run in enumerate(runs):
                _key_table(run)
                if r == 1 and run.rows == 0 and vs.codec.nlist == 1:
                    continue  # no coarse lists: the list-sorted copy is empty by design
                ids, keys = _run_ids(run)
                ids_by.append(ids)
                if r == 0:
                    _lemmas_agree(report, f"seg-{g:06d}.lemma.keys.npy", ids, keys, lemma_of)
            if len(ids_by) == 2 and not np.array_equal(np.sort(ids_by[0]), np.sort(ids_by[1])):
                report.add(f"seg-{g:06d}.list.ids", "the list-sorted run does not hold the same rows as the lemma-sorted one")
            stored.append(ids_by[0])
        except (SenseIndexError, ValueError, OSError) as exc:
            report.add(f"seg-{g:06d}", _one_line(exc))
            damaged.add(f"seg-{g:06d}")
    if damaged:
        return  # the rows of damaged files are unknown: counting them would only repeat the damage
    all_ids = np.concatenate(stored) if stored else np.zeros(0, np.int64)
    report.vector_rows, report.occurrences = len(all_ids), len(live)
    uniq, counts = np.unique(all_ids, return_counts=True)
    if (counts > 1).any():
        report.add("(vectors)", f"{int((counts > 1).sum()):,} occurrence(s) stored twice, e.g. id {int(uniq[counts > 1][0])}")
    lost = np.setdiff1d(live, uniq)
    if len(lost):
        report.add("(vectors)", f"{len(lost):,} live occurrence(s) in {DB_NAME} have no stored vector, e.g. id {int(lost[0])}")
    extra = np.setdiff1d(uniq, np.union1d(live, removed))
    if len(extra):
        report.add("(vectors)", f"{len(extra):,} stored vector row(s) belong to no occurrence in {DB_NAME}, "
                                f"e.g. id {int(extra[0])}")
    for f in path.iterdir():
        if f.name.startswith(("tail-", "seg-", "codec-")) and f.name not in set(fixed + tail + optional):
            report.leftovers.append(f.name)


def _count(report: CheckReport, f: Path) -> None:
    if f.is_file():
        report.files_checked += 1
        report.bytes_checked += f.stat().st_size


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _occurrence_lemmas(db) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lemma id by occurrence id, live ids, removed ids)."""
    occ = np.array(db.execute("select id, lemma_id from occ").fetchall() or np.zeros((0, 2)), np.int64).reshape(-1, 2)
    rem = np.array(db.execute("select id, lemma_id from removed").fetchall() or np.zeros((0, 2)), np.int64).reshape(-1, 2)
    top = int(max(occ[:, 0].max(initial=0), rem[:, 0].max(initial=0)))
    lemma_of = np.full(top + 1, -1, np.int64)
    lemma_of[rem[:, 0]] = rem[:, 1]
    lemma_of[occ[:, 0]] = occ[:, 1]
    return lemma_of, np.sort(occ[:, 0]), np.sort(rem[:, 0])


def _lemmas_agree(report: CheckReport, file: str, ids: np.ndarray, lemmas: np.ndarray, lemma_of: np.ndarray) -> None:
    known = ids < len(lemma_of)
    wrong = ~known
    wrong[known] = lemma_of[ids[known]] != lemmas[known]
    wrong &= known  # rows of no occurrence are counted once, below
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        report.add(file, f"{int(wrong.sum()):,} row(s) filed under the wrong lemma, e.g. occurrence {int(ids[i])}")


def _key_table(run: SortedRun) -> None:
    keys, starts, counts = (np.asarray(a, np.int64) for a in (run.keys, run.starts, run.counts))
    if len(keys) and ((np.diff(keys) <= 0).any() or (counts <= 0).any()
                      or not np.array_equal(starts, np.concatenate([[0], np.cumsum(counts)[:-1]]))):
        raise SenseIndexError(f"{run.base}.keys.npy: key table out of order (damaged)")


def _run_ids(run: SortedRun) -> tuple[np.ndarray, np.ndarray]:
    """(ids, key of each row) of a run, every block's CRC verified as it is read."""
    ids, keys = [], []
    last_key, last_id = -1, -1
    for b in run.blocks():
        bid = np.asarray(b.ids, np.int64)
        if len(bid) and ((np.diff(bid) <= 0).any() or (b.key == last_key and bid[0] <= last_id)):
            raise SenseIndexError(f"{run.base}.ids: ids out of order within key {b.key} (damaged)")
        last_key, last_id = b.key, int(bid[-1]) if len(bid) else last_id
        ids.append(bid)
        keys.append(np.full(len(bid), b.key, np.int64))
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(ids), np.concatenate(keys)


def _check_sqlite_facts(path: Path, db, manifest: dict, report: CheckReport) -> None:
    """Facts stored twice in SQLite, or derived from it, that must agree (all derivable)."""
    wrong = db.execute("select count(*) from lemmas l where count != (select count(*) from occ o where o.lemma_id = l.id)"
                       ).fetchone()[0]
    if wrong:
        report.add(DB_NAME, f"{wrong:,} lemma count(s) disagree with the occurrences", kind="lemma_counts")
    size = 2 * int(manifest["static_dimensions"])
    bad = db.execute("select count(*) from sentences where static is not null and length(static) != ?", [size]).fetchone()[0]
    if bad:
        report.add(DB_NAME, f"{bad:,} static sentence vector(s) of the wrong size", kind="static")
    f = path / VOCAB_FILE
    if not f.exists():
        if db.execute("select count(*) from vocab where in_glove = 1").fetchone()[0]:
            report.notes.append(f"{VOCAB_FILE}: missing (static nearest words are unavailable until the next "
                                "index run or senseindex repair rebuilds it)")
        return
    _count(report, f)
    sums = checksums.load(db)
    problem = checksums.verify_named(f, sums)
    if problem:
        report.add(VOCAB_FILE, problem, kind="vocab")
        return
    if VOCAB_FILE not in sums and VOCAB_FILE + checksums.NEXT not in sums:
        report.unverified.append(VOCAB_FILE)
    try:
        import faiss

        n = faiss.read_index(str(f)).ntotal
    except RuntimeError as exc:
        report.add(VOCAB_FILE, f"unreadable ({_one_line(exc)})", kind="vocab")
        return
    want = db.execute("select count(*) from vocab where in_glove = 1").fetchone()[0]
    if n != want:  # an index run writes it last: one interrupted leaves it behind the vocabulary
        report.notes.append(f"{VOCAB_FILE}: holds {n:,} words, {DB_NAME} lists {want:,} (out of date; rebuilt by "
                            "the next index run or senseindex repair)")
