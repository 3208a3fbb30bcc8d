"""`senseindex repair`: rebuild what can be derived; say plainly what cannot.

Why this split: everything in an index except `index.db` is derived. The vector files come from
the text (stored in SQLite) and the model; the codec from the vectors; `vocab_static.faiss`,
the static sentence vectors and the lemma counts from SQLite and GloVe. `index.db` holds what
cannot be derived: the text as indexed, the occurrences and their ids, and the labels (reviewed
labels are weeks of a person's work). So:

* damaged vector files: rows of the files that verify are kept as they are; the occurrences of
  damaged files are re-encoded from their sentences with the index's model; a damaged codec is
  trained again (every row is then re-encoded). Everything is written as one new segment beside
  the old files, switched in one transaction, like a compaction;
* damaged derived SQLite facts (lemma counts, static vectors) and `vocab_static.faiss` are
  recomputed;
* a damaged or missing `index.db` is never "repaired": repair refuses, changes nothing, and says
  to restore it from a backup. Labels are never dropped or rewritten by a repair.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from senseindex.errors import SenseIndexError
from senseindex.storage import checksums
from senseindex.storage.check import VOCAB_FILE, CheckReport, check_index, live_names
from senseindex.storage.db import select_in
from senseindex.storage.store import TRAIN_ROWS, TRAIN_SAMPLE, Store, _blocks
from senseindex.storage.vectors import (
    EXACT,
    KEY_DTYPE,
    Codec,
    Tier,
    VectorState,
    VectorStore,
    has_tier,
    split_spec,
)

BATCH = 256  # sentences per encoder call when re-encoding


def repair_index(path: Path, encoder: Callable[[], object], glove: Callable[[], object]) -> dict:
    """Repair an index in place (the encoder and GloVe are loaded only when needed)."""
    before = check_index(path)
    fatal = [p for p in before.problems if not p.derivable]
    if fatal:
        raise SenseIndexError(f"{path / fatal[0].file}: {fatal[0].what}; repair cannot derive it and changed nothing "
                              "(the text, occurrences and labels live in index.db: restore the index from a backup)")
    store = Store.open(path)
    kinds = {p.kind for p in before.problems}
    done: list[str] = []
    reencoded = kept = 0
    with store.lock(verify=False):
        if "vectors" in kinds:
            damaged = {p.file for p in before.problems if p.kind == "vectors"}
            kept, reencoded, retrained = rebuild_vectors(store, encoder, damaged)
            done.append(f"vector files rewritten as one segment: {kept:,} rows kept, {reencoded:,} re-encoded "
                        f"from their sentences" + (", codec trained again" if retrained else ""))
        if "lemma_counts" in kinds:
            with store.db.conn:
                store.db.conn.execute("update lemmas set count = (select count(*) from occ o where o.lemma_id = lemmas.id)")
            done.append("lemma counts recomputed from the occurrences")
        if "static" in kinds:
            done.append(f"{_static_vectors(store, glove()):,} static sentence vectors recomputed from the text")
        if "vocab" in kinds or any(n.startswith(VOCAB_FILE) for n in before.notes):
            from senseindex.indexer import save_vocab_index

            done.append(f"{VOCAB_FILE} rebuilt ({save_vocab_index(store, glove()):,} words)")
        if before.unverified and "vectors" not in kinds:
            done.append(f"checksums recorded for {len(before.unverified)} file(s) written before checksums existed")
            _adopt(store, before)
        store.vectors.remove_stale_files()
    after = check_index(path)
    return {"path": str(path), "problems_before": [str(p) for p in before.problems], "repaired": done,
            "rows_kept": kept, "rows_reencoded": reencoded, "ok": after.ok,
            "problems_after": [str(p) for p in after.problems]}


def rebuild_vectors(store: Store, encoder: Callable[[], object], damaged: set[str],
                    spec: str | None = None) -> tuple[int, int, bool]:
    """Rewrite every live occurrence's vector into one new segment: rows from files that verify
    as they are, the rest re-encoded from the text. Returns (kept, re-encoded, codec retrained).
    With `spec` (another codec), every row is re-encoded and the manifest names the new codec in
    the transaction that makes the new files live."""
    db, path = store.db, store.path
    state, sums = VectorState.read(db), checksums.load(db)
    keep, dim = store.keep, store.dim
    extra = []
    if spec is not None and spec != store.manifest.get("codec", EXACT):
        damaged = damaged | {f"codec-{state.codec_gen:06d}.faiss"}  # the old codes are of no use
        extra = [("insert or replace into manifest (key, value) values ('codec', ?)", [spec])]
        store.manifest["codec"] = spec
    spec = store.manifest.get("codec", EXACT)
    tail_max = int(store.manifest.get("tail_max", 1_000_000))
    try:
        old = VectorStore(path, dim, spec, keep, state, tail_max, sums)
    except (SenseIndexError, RuntimeError, OSError, ValueError):
        old = None
    if any(d.startswith("codec-") for d in damaged):
        old = None  # the codec is damaged: codes cannot be read, every row is re-encoded
    live = np.array([r[0] for r in db.execute("select id from occ order by id")], np.int64)
    rows = _healthy_rows(old, state, damaged) if old is not None else []
    ids = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, np.int64)
    first = np.unique(ids, return_index=True)[1] if len(ids) else np.zeros(0, np.int64)
    take = first[np.isin(ids[first], live)]  # one row per live id; removed occurrences are dropped
    parts = [np.concatenate([r[i] for r in rows])[take] if rows and (i < 4 or old.tier is not None) else None
             for i in range(5)]
    missing = np.setdiff1d(live, ids[take])

    new_vectors = _encode(db, encoder(), missing) if len(missing) else np.zeros((0, dim), np.float32)
    retrained = False
    codec = old.codec if old is not None else None
    if codec is None:
        trained = spec.lower() != EXACT and len(live) >= int(store.manifest.get("train_rows", TRAIN_ROWS))
        if trained:
            pick = np.sort(np.random.default_rng(0).choice(len(new_vectors), min(len(new_vectors), TRAIN_SAMPLE),
                                                           replace=False))
            codec = Codec.train(new_vectors[pick], spec, int(min(1024, max(1, len(pick) // 64))))
        else:
            codec = Codec(dim)
        retrained = trained
    tier = Tier(dim, keep) if keep else codec.refine  # the faithful tier the rebuilt files carry
    lemma_of = dict(select_in(db, "select id, lemma_id from occ where id in ({ids})", missing.tolist()))
    new = (missing, np.array([lemma_of[int(i)] for i in missing], np.int64), codec.encode(new_vectors),
           codec.lists(new_vectors).astype(np.int64), tier.encode(new_vectors) if tier is not None else None)
    if parts[0] is not None and len(parts[0]):
        all_ids, lemmas, codes, lists = (np.concatenate([a, b]) for a, b in zip(parts[:4], new[:4], strict=True))
        exact = np.concatenate([parts[4], new[4]]) if tier is not None else None
    else:
        all_ids, lemmas, codes, lists, exact = new

    top = max([state.gen] + [_gen(f.name) for f in path.iterdir() if f.name.startswith(("tail-", "seg-", "codec-"))])
    writer = VectorStore(path, dim, spec, keep, replace(state, gen=top, codec_gen=0, segments=()), tail_max, {})
    writer.codec = codec
    if old is None and (codec.trained or codec.coarse is not None):
        gen = writer.new_gen()
        writer.note_written(codec.save(writer._base("codec", gen)))
        writer.state.codec_gen = gen
    elif old is not None:
        writer.state.codec_gen = state.codec_gen
        writer.checksums = {n: p for n, p in sums.items() if n.startswith(f"codec-{state.codec_gen:06d}")}
    if len(all_ids):
        gen, _ = writer.write_segment(_blocks(lemmas, all_ids, codes, exact), _blocks(lists, all_ids, codes, None))
        writer.state.segments = (gen,)
    writer.new_tail()
    files = {f for f in path.iterdir() if f.name.startswith(("tail-", "seg-", "codec-"))}
    store._vectors = writer
    store.switch(files, [("delete from removed", []), *extra])
    return len(all_ids) - len(missing), len(missing), retrained


def _gen(name: str) -> int:
    try:
        return int(name.split("-", 1)[1][:6])
    except ValueError:
        return 0


def _healthy_rows(vs: VectorStore, state: VectorState, damaged: set[str]) -> list[tuple]:
    """(ids, lemma ids, codes, lists, exact) of every segment and tail that verifies."""
    out = []
    for g in state.segments:
        if any(d.startswith(f"seg-{g:06d}") for d in damaged):
            continue
        try:
            by_lemma, by_list = vs.segment(g)
            blocks = list(by_lemma.blocks())
            list_of = {}
            for b in by_list.blocks():
                list_of.update(dict.fromkeys(np.asarray(b.ids, np.int64).tolist(), b.key))
        except (SenseIndexError, OSError, ValueError):
            continue
        if not blocks:
            continue
        ids = np.concatenate([np.asarray(b.ids, np.int64) for b in blocks])
        out.append((ids, np.concatenate([np.full(len(b.ids), b.key, np.int64) for b in blocks]),
                    np.concatenate([np.asarray(b.codes) for b in blocks]),
                    np.array([list_of.get(int(i), 0) for i in ids], np.int64),
                    np.concatenate([np.asarray(b.exact) for b in blocks]) if vs.tier is not None else None))
    if state.tail_rows and not any(d.startswith(f"tail-{state.tail_gen:06d}") for d in damaged):
        try:
            ids = np.arange(state.tail_first_id, state.next_id, dtype=np.int64)
            out.append((ids, np.asarray(vs._tail(".lemma", KEY_DTYPE), np.int64), np.asarray(vs.tail_codes()),
                        np.asarray(vs._tail(".list", KEY_DTYPE), np.int64),
                        np.asarray(vs.tail_exact()) if vs.tier is not None else None))
        except (SenseIndexError, OSError, ValueError):
            pass
    return out


def _encode(db, encoder, ids: np.ndarray) -> np.ndarray:
    """Vectors of occurrences, re-encoded from their sentences (every word of a sentence, as the
    indexer encoded it, so that subwords are shared out between words the same way)."""
    want = set(ids.tolist())
    sent_ids = sorted({r[0] for r in select_in(db, "select sentence_id from occ where id in ({ids})", list(want))})
    spans: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for oid, sid, s, e in select_in(db, "select id, sentence_id, start, end from occ where sentence_id in ({ids})",
                                    sent_ids):
        spans[sid].append((s, e, oid))
    text = dict(select_in(db, "select id, text from sentences where id in ({ids})", sent_ids))
    got: dict[int, np.ndarray] = {}
    for lo in range(0, len(sent_ids), BATCH):
        batch = sent_ids[lo : lo + BATCH]
        for sid in batch:
            spans[sid].sort()
        vecs = encoder.word_vectors([text[s] for s in batch], [[(a, b) for a, b, _ in spans[s]] for s in batch])
        for sid, v in zip(batch, vecs, strict=True):
            for (_, _, oid), row in zip(spans[sid], v, strict=True):
                if oid in want:
                    got[oid] = row
    return np.stack([got[int(i)] for i in ids]).astype(np.float32)


def _static_vectors(store: Store, glove) -> int:
    """Static sentence vectors recomputed where their size is wrong (mean GloVe of the indexed words)."""
    db = store.db
    size = 2 * store.static_dim
    bad = [r[0] for r in db.execute("select id from sentences where static is not null and length(static) != ?", [size])]
    rows = []
    for sid in bad:
        text = db.execute("select text from sentences where id = ?", [sid]).fetchone()[0]
        words = [text[s:e] for s, e in db.execute("select start, end from occ where sentence_id = ?", [sid])]
        rows.append((np.asarray(glove.mean_vector(words), np.float16).tobytes(), sid))
    with db.conn:
        db.conn.executemany("update sentences set static = ? where id = ?", rows)
    return len(rows)


def _adopt(store: Store, report: CheckReport) -> None:
    """Record checksums of files written before checksums existed (they passed every structural check)."""
    state = VectorState.read(store.db)
    spec = store.manifest.get("codec", EXACT)
    fixed, tail, optional = live_names(state, has_tier(spec, store.keep, state.codec_gen), split_spec(spec)[1] is not None)
    tier = store.vectors.tier
    widths = {".codes": store.vectors.codec.code_size, ".lemma": 4, ".list": 4,
              ".exact": tier.row_bytes if tier is not None else 0}
    sums: checksums.Sums = {}
    for name in report.unverified:
        f = store.path / name
        if name in tail:
            size = state.tail_rows * widths[name[name.index("."):]]
            sums[name] = [checksums.Piece(0, size, checksums.crc_file(f, 0, size))] if size else []
        elif name in fixed or name in optional or name == VOCAB_FILE:
            sums[name] = [checksums.whole(f)]
    with store.db.conn:
        checksums.record(store.db, {k: v for k, v in sums.items() if v})

