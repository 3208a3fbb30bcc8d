"""Numbered schema migrations, applied in order and recorded in the _migrations table."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from senseindex.storage.db import utc_now

MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = []


def migration(fn: Callable[[sqlite_utils.Database], None]) -> Callable[[sqlite_utils.Database], None]:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


@migration
def m001_initial(db: sqlite_utils.Database) -> None:
    db["manifest"].create({"key": str, "value": str}, pk="key")
    db["documents"].create(
        {"id": int, "path": str, "sha256": str, "format": str, "status": str, "sentences": int, "added": str},
        pk="id",
    )
    db["documents"].create_index(["sha256"])
    db["sentences"].create(
        {"id": int, "document_id": int, "ordinal": int, "line": int, "section": str, "text": str},
        pk="id",
        foreign_keys=[("document_id", "documents", "id")],
    )
    db["sentences"].create_index(["document_id", "ordinal"], unique=True)
    db["occurrences"].create(
        {"id": int, "sentence_id": int, "start": int, "end": int, "word": str, "lemma": str, "pos": str},
        pk="id",
        foreign_keys=[("sentence_id", "sentences", "id")],
    )
    db["occurrences"].create_index(["lemma"])
    db["occurrences"].create_index(["sentence_id"])
    db["vocab"].create({"id": int, "word": str, "count": int, "in_glove": int}, pk="id")
    db["vocab"].create_index(["word"], unique=True)


@migration
def m002_labels(db: sqlite_utils.Database) -> None:
    db["labels"].create(
        {"occurrence_id": int, "source": str, "label": str, "confidence": float, "updated": str},
        pk=("occurrence_id", "source"),
        foreign_keys=[("occurrence_id", "occurrences", "id")],
    )
    db["labels"].create_index(["label"])


def pending(db: sqlite_utils.Database) -> list[str]:
    """Names of the migrations a database has not had yet (reading only)."""
    done = {r[0] for r in db.execute("select name from _migrations")} if "_migrations" in db.table_names() else set()
    return [name for name, _ in MIGRATIONS if name not in done]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations, each in one transaction; return the names applied.

    Foreign keys are checked after each migration rather than during it, so a migration may
    rebuild a table that others refer to (SQLite's recommended table-rebuild procedure)."""
    if "_migrations" not in db.table_names():
        db["_migrations"].create({"name": str, "applied": str}, pk="name")
    todo = set(pending(db))
    applied = []
    db.execute("PRAGMA foreign_keys=OFF")
    try:
        for name, fn in MIGRATIONS:
            if name not in todo:
                continue
            if db.conn.in_transaction:
                db.conn.commit()
            db.conn.execute("BEGIN IMMEDIATE")  # DDL too: the whole migration or nothing
            try:
                fn(db)
                bad = db.execute("PRAGMA foreign_key_check").fetchall()
                if bad:
                    raise RuntimeError(f"migration {name} left {len(bad)} broken reference(s)")
                db.conn.execute("insert into _migrations (name, applied) values (?, ?)", [name, utc_now()])
                db.conn.commit()
            except BaseException:
                db.conn.rollback()
                raise
            applied.append(name)
    finally:
        db.execute("PRAGMA foreign_keys=ON")
    return applied


@migration
def m004_index_id(db: sqlite_utils.Database) -> None:
    """A random identifier per index, carried by review files so a file from another index is refused."""
    import uuid

    db["manifest"].insert({"key": "index_id", "value": uuid.uuid4().hex}, replace=True)


@migration
def m005_compact_storage(db: sqlite_utils.Database) -> None:
    """Format 2: lemmas as ids (table `lemmas`), occurrences in a compact table `occ` (the word is
    read from the sentence text by its offsets) behind a view `occurrences` with the old columns,
    static sentence vectors as float16 blobs in `sentences`, vector-file state, tombstones for
    removed occurrences, and orphaned labels. Runs on a new index, or in `senseindex upgrade`."""
    ex = db.conn.execute
    ex("create table lemmas (id integer primary key, lemma text not null unique, count integer not null default 0)")
    ex("insert into lemmas (lemma, count) select lemma, count(*) from occurrences group by lemma order by lemma")
    ex("create table occ (id integer primary key, sentence_id integer not null references sentences(id), "
       "start integer not null, end integer not null, lemma_id integer not null references lemmas(id), pos text)")
    ex("insert into occ (id, sentence_id, start, end, lemma_id, pos) select o.id, o.sentence_id, o.start, o.end, "
       "l.id, o.pos from occurrences o join lemmas l on l.lemma = o.lemma order by o.id")
    ex("create table labels_new (occurrence_id integer not null references occ(id), source text not null, "
       "label text not null, confidence float, updated text, primary key (occurrence_id, source))")
    ex("insert into labels_new select occurrence_id, source, label, confidence, updated from labels")
    ex("drop table labels")
    ex("alter table labels_new rename to labels")
    ex("create index idx_labels_label on labels (label)")
    ex("drop table occurrences")
    ex("create index idx_occ_lemma on occ (lemma_id)")
    ex("create view occurrences as select o.id as id, o.sentence_id as sentence_id, o.start as start, "
       "o.end as end, substr(s.text, o.start + 1, o.end - o.start) as word, l.lemma as lemma, o.pos as pos, "
       "o.lemma_id as lemma_id from occ o join lemmas l on l.id = o.lemma_id join sentences s on s.id = o.sentence_id")
    ex("alter table sentences add column static blob")
    ex("create index idx_documents_path on documents (path)")
    ex("create table vector_state (key text primary key, value text not null)")
    ex("create table removed (id integer primary key, lemma_id integer not null)")
    ex("create index idx_removed_lemma on removed (lemma_id)")
    ex("create table labels_orphaned (id integer primary key, occurrence_id integer, source text, label text, "
       "confidence float, updated text, document text, line integer, sentence text, word text, start integer, "
       "end integer, orphaned text, reason text)")


@migration
def m006_checksums(db: sqlite_utils.Database) -> None:
    """CRC-32 of every vector file as written (one row per immutable file, one per appended tail
    chunk), committed with the state that makes the bytes live: what `senseindex check` and every
    reader verify (see checksums.py)."""
    db.conn.execute("create table checksums (file text not null, offset integer not null, bytes integer not null, "
                    "crc32 integer not null, primary key (file, offset))")


@migration
def m007_label_keys(db: sqlite_utils.Database) -> None:
    """Several gold senses per occurrence (SemCor's "year%1:28:02::;1:28:01::"): `labels.label`
    keeps the first key, `label_keys` every key of such a label, so a prediction can be counted
    right when it matches any and no label is a string that matches none."""
    from senseindex.text.wordnet import split_sense_keys

    ex = db.conn.execute
    ex("create table label_keys (occurrence_id integer not null, source text not null, key text not null, "
       "primary key (occurrence_id, source, key))")
    rows = ex("select occurrence_id, source, label from labels where label like '%;%'").fetchall()
    for oid, source, label in rows:
        keys = split_sense_keys(label)
        if len(keys) > 1:
            ex("update labels set label = ? where occurrence_id = ? and source = ?", [keys[0], oid, source])
            db.conn.executemany("insert or ignore into label_keys values (?, ?, ?)", [(oid, source, k) for k in keys])


@migration
def m008_review_skips(db: sqlite_utils.Database) -> None:
    """Occurrences a person answered "skip" in `senseindex review`, so they are not asked again.
    No foreign key: a skip on a removed occurrence is simply never matched again."""
    db.conn.execute("create table review_skips (occurrence_id integer primary key, updated text)")


@migration
def m009_occ_sentence_index(db: sqlite_utils.Database) -> None:
    """An index on occ(sentence_id). `occ.sentence_id` references `sentences`, so every deleted
    sentence made SQLite scan the whole occ table for children (removing a 300-sentence document
    from 300k occurrences: 5.2 s without it, 3.5 ms with it), and finding a document's occurrences
    scanned it too. Every other foreign key already leads its table's primary key or an index."""
    db.conn.execute("create index if not exists idx_occ_sentence on occ (sentence_id)")


@migration
def m011_corpus_metadata(db: sqlite_utils.Database) -> None:
    """Corpus in, corpus out (issue 24):
    - `texts`: the documents metadata describes (a file, or a `<text>`/`# newdoc`/JSONL `doc` in
      one) with their word counts; `sentences.text_id` points to one;
    - `meta`: typed values, one row per text and field (no declared type: numbers stay numbers);
    - `subcorpora`: named, saved `--where` selections;
    - `sentences.layout`: the corpus's own token lines (CoNLL-U, VRT, TEI tokens), written back by
      export-corpus;
    - `deps`: dependency relations of occurrences from `index --parse` (word sketch by sense).
    Sentences indexed before get a text per (document, section), without a word count."""
    ex = db.conn.execute
    ex("create table texts (id integer primary key, document_id integer not null references documents(id), "
       "section text, meta text, tokens integer not null default 0)")
    ex("create index idx_texts_document on texts (document_id)")
    ex("create table meta (text_id integer not null references texts(id), field text not null, value, "
       "primary key (text_id, field))")
    ex("create index idx_meta_field_value on meta (field, value)")
    ex("create table subcorpora (name text primary key, expr text not null, created text)")
    ex("alter table sentences add column text_id integer references texts(id)")
    ex("alter table sentences add column layout text")
    ex("insert into texts (document_id, section) select distinct document_id, section from sentences")
    ex("update sentences set text_id = (select t.id from texts t where t.document_id = sentences.document_id "
       "and t.section is sentences.section)")
    ex("create index idx_sentences_text on sentences (text_id)")
    ex("create table deps (occurrence_id integer not null, rel text not null, lemma text not null)")
    ex("create index idx_deps_occ on deps (occurrence_id)")
    ex("create index idx_deps_rel_lemma on deps (rel, lemma)")


@migration
def m014_token_counts(db: sqlite_utils.Database) -> None:
    """Token counts per document (`documents.tokens`), for corpus size and frequency per million.
    New text is counted as it is indexed; an existing index gets its counts from its stored
    sentence text here, by the same rule (text.words.TOKEN_RE: words and numbers, punctuation
    excluded), so an upgraded index and a re-indexed one give the same figures."""
    from senseindex.text.words import count_tokens

    ex = db.conn.execute
    ex("alter table documents add column tokens integer")
    totals: dict[int, int] = {}
    for doc_id, text in ex("select document_id, text from sentences"):
        totals[doc_id] = totals.get(doc_id, 0) + count_tokens(text)
    db.conn.executemany("update documents set tokens = ? where id = ?", [(n, d) for d, n in totals.items()])
    ex("update documents set tokens = 0 where tokens is null")
