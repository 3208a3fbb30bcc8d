"""`senseindex upgrade`: convert a format-1 index (float32 vector log + FAISS files) in place,
or move a format-2 index to another codec (`recode`).

Format 1, no re-encoding: the float32 log holds every committed vector. The schema is migrated
(one transaction), the codec trained on a sample of the log, every vector encoded into the new
files, and only then is the index marked format 2 and the old files deleted. Interrupted, it
leaves a format-1 index whose log is intact: running it again starts the vector part afresh.

Another codec (format 2): the new codec is trained on, and every row encoded from, the vectors
the index can give back faithfully: kept exact vectors, a two-tier codec's refine tier, or
codes not yet trained (exact float16). An index of codes alone (PQ64, the default before
issue 28) cannot give them back (decoded, PQ64 keeps a mean cosine of 0.75): its vectors are
re-encoded from the text with the index's model when asked (--reencode), else it is refused.
Either way the new files and the manifest's codec go live in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from senseindex.errors import IndexLockedError, SenseIndexError
from senseindex.storage.migrations import migrate
from senseindex.storage.store import FORMAT_VERSION, TRAIN_ROWS, TRAIN_SAMPLE, Store, connect
from senseindex.storage.vectors import EXACT, Codec, VectorState, check_codec

PREVIOUS_DEFAULTS = ("PQ64",)  # codecs without a faithful tier that `upgrade` moves to the default
OLD_FILES = ("occurrences.f32", "occurrences.faiss", "sentences_static.f32", "sentences_static.faiss")
CHUNK = 65_536


def upgrade(path: Path, codec: str | None, progress: Callable[[int, int], None] | None = None,
            default_codec: str = "PQ64", reencode: bool = False, encoder: Callable[[], object] | None = None) -> dict:
    """Convert the index at `path` to this format; for an index already in it, move it to
    `codec` (or, without one, from a previous default codec to `default_codec`): see `recode`.

    `codec` must suit the index's dimensions (checked before anything is written); without one,
    the default codec, or exact float16 vectors when the default cannot split the dimensions."""
    if not Store.is_index(path):
        raise SenseIndexError(f"{path}: not a senseindex index (no index.db)")
    manifest = Store._manifest(path, connect(path, write=False))
    if manifest.get("format_version") == FORMAT_VERSION:
        current = manifest.get("codec", EXACT)
        if codec is None and current in PREVIOUS_DEFAULTS and not manifest.get("keep_vectors"):
            codec = default_codec
        if codec is not None and codec != current:
            return recode(path, codec, reencode, encoder)
    lock = FileLock(path / ".lock", timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise IndexLockedError(f"{path}: another senseindex process is writing to this index") from None
    try:
        db = connect(path, write=True)
        manifest = dict(db.execute("select key, value from manifest").fetchall())
        version = manifest.get("format_version")
        if version == FORMAT_VERSION:  # the schema migrations it lacks (e.g. m014's token counts), nothing else
            return {"path": str(path), "upgraded": False, "format_version": version, "migrations": migrate(db)}
        if version != "1":
            raise SenseIndexError(f"{path}: index format {version!r}; this senseindex upgrades format 1 only")
        dim, sdim = int(manifest["dimensions"]), int(manifest["static_dimensions"])
        if codec is None:
            try:
                check_codec(dim, default_codec)
                codec = default_codec
            except SenseIndexError:
                codec = EXACT
        check_codec(dim, codec)
        log, static_log = path / "occurrences.f32", path / "sentences_static.f32"
        if "occ" in db.table_names():
            n_occ = db.execute("select coalesce(max(id), 0) from occ").fetchone()[0]
        else:
            n_occ = db.execute("select coalesce(max(id), 0) from occurrences").fetchone()[0]
        n_sent = db.execute("select coalesce(max(id), 0) from sentences").fetchone()[0]
        for file, rows, width in ((log, n_occ, dim), (static_log, n_sent, sdim)):
            have = file.stat().st_size // (4 * width) if file.exists() else 0
            if have < rows:
                raise SenseIndexError(f"{file}: holds {have:,} vectors for {rows:,} committed rows; this index "
                                      "cannot be upgraded without re-indexing its sources")
        migrate(db)  # m005 (and any earlier one missing): one transaction each
        settings = {"codec": codec, "keep_vectors": "", "precision": manifest.get("precision", "unknown (format 1)"),
                    "vector_format": manifest.get("vector_format", "1"), "upgraded_from": "1"}
        with db.conn:
            db.conn.execute("delete from vector_state")
            VectorState().write(db)
            db.conn.executemany("insert or replace into manifest (key, value) values (?, ?)", list(settings.items()))
        store = Store(path, db, {**manifest, **settings}, writable=True)
        vs = store.vectors
        vs.repair()
        vs.remove_stale_files()
        _static_blobs(db, static_log, n_sent, sdim)
        vectors = np.memmap(log, dtype=np.float32, mode="r", shape=(n_occ, dim)) if n_occ else None
        if vectors is not None and codec.lower() != EXACT and n_occ >= int(manifest.get("train_rows", TRAIN_ROWS)):
            pick = np.sort(np.random.default_rng(0).choice(n_occ, min(n_occ, TRAIN_SAMPLE), replace=False))
            trained = Codec.train(np.asarray(vectors[pick]), codec, int(min(1024, max(1, len(pick) // 64))))
            gen = vs.new_gen()
            vs.note_written(trained.save(vs._base("codec", gen)))
            vs.state.codec_gen, vs.codec = gen, trained
            store.commit_state()
            vs = store.vectors
        ids_lemmas = db.execute("select id, lemma_id from occ order by id")
        done = 0
        while done < n_occ:
            rows = ids_lemmas.fetchmany(CHUNK)
            if not rows:
                break
            ids = np.array([r[0] for r in rows], np.int64)
            if ids[0] != done + 1 or ids[-1] != done + len(ids):
                raise SenseIndexError(f"{path}: occurrence ids are not dense around {done + 1}; cannot upgrade")
            vs = store.vectors
            vs.append(np.asarray(vectors[ids - 1]), np.array([r[1] for r in rows], np.int64))
            vs.state.next_id = int(ids[-1]) + 1
            store.commit_state()
            done += len(ids)
            if progress:
                progress(done, n_occ)
            if store.vectors.state.tail_rows >= store.vectors.tail_max:
                store.flush_tail()
        store.flush_tail()
        with db.conn:
            db.conn.execute("insert or replace into manifest (key, value) values ('format_version', ?)", [FORMAT_VERSION])
        for name in OLD_FILES:
            (path / name).unlink(missing_ok=True)
        return {"path": str(path), "upgraded": True, "format_version": FORMAT_VERSION, "occurrences": n_occ,
                "sentences": n_sent, "codec": codec, "codec_trained": store.vectors.codec.trained}
    finally:
        lock.release()


def _static_blobs(db, static_log: Path, n_sent: int, sdim: int) -> None:
    """Sentence static vectors from the float32 log into float16 blobs, in chunks."""
    if not n_sent:
        return
    data = np.memmap(static_log, dtype=np.float32, mode="r", shape=(n_sent, sdim))
    ids = [r[0] for r in db.execute("select id from sentences order by id")]
    for lo in range(0, len(ids), CHUNK):
        part = ids[lo : lo + CHUNK]
        with db.conn:
            db.conn.executemany("update sentences set static = ? where id = ?",
                                [(np.asarray(data[i - 1], np.float16).tobytes(), i) for i in part])


def recode(path: Path, codec: str, reencode: bool = False, encoder: Callable[[], object] | None = None) -> dict:
    """Move a format-2 index to another codec without re-encoding where its stored vectors are
    faithful (kept exact, a refine tier, or untrained exact codes); else re-encode them from the
    text (`reencode`, with `encoder` giving the index's model) or refuse, changing nothing."""
    from senseindex.storage.repair import rebuild_vectors

    store = Store.open(path)
    check_codec(store.dim, codec)
    with store.lock():
        old, vs = store.manifest.get("codec", EXACT), store.vectors
        source = (f"kept exact {store.keep} vectors" if store.keep else f"its {vs.tier.name} refine tier"
                  if vs.tier is not None else "its exact float16 codes (codec not trained yet)"
                  if not vs.codec.trained else None)
        rows = store.count("occurrences")
        if source is None and not reencode:
            raise SenseIndexError(
                f"{path}: stores {old} codes only, which cannot give the exact vectors back (decoded, PQ64 keeps a "
                f"mean cosine of 0.75); {codec} needs them re-encoded from the text: senseindex upgrade {path} "
                f"--codec '{codec}' --reencode (about as long as indexing the sources again); nothing was changed")
        if source is None:
            if encoder is None:
                raise SenseIndexError(f"{path}: re-encoding needs the index's model")
            rebuild_vectors(store, encoder, set(), spec=codec)
            source = "vectors re-encoded from the text"
        else:
            store.manifest["codec"] = codec
            store.vectors.spec = codec
            sql = [("insert or replace into manifest (key, value) values ('codec', ?)", [codec])]
            if vs.codec.trained or rows >= int(store.manifest.get("train_rows", TRAIN_ROWS)):
                store.train_codec(extra_sql=sql)
            else:  # still exact codes: the codec is trained once enough rows exist
                with store.db.conn:
                    for q, params in sql:
                        store.db.conn.execute(q, params)
        trained = store.vectors.codec.trained
    return {"path": str(path), "upgraded": True, "format_version": FORMAT_VERSION, "occurrences": rows,
            "codec": codec, "previous_codec": old, "from": source, "codec_trained": trained}
