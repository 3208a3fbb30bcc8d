"""Removing and replacing documents, without losing a reviewed label silently.

A removed document's sentences and occurrences leave SQLite at once; their vectors stay on disk
as tombstones (table `removed`, filtered at search time) until compaction rewrites the vector
files. Labels on them are either carried to a new version of the same document (same sentence
text, same offsets) or kept in `labels_orphaned`, with the sentence and the reason.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from senseindex.errors import SenseIndexError
from senseindex.storage.db import select_in, utc_now


def find_documents(db, selectors: list[str]) -> list[tuple[int, str]]:
    """(id, path) of the documents named: a stored path, or its last components (`a.txt`,
    `dir1/a.txt`). An unknown or ambiguous name is an error naming it; nothing is removed."""
    docs = [(r[0], r[1]) for r in db.execute("select id, path from documents order by id")]
    out, problems = [], []
    for sel in selectors:
        parts = Path(sel).parts
        exact = [(d, p) for d, p in docs if p == sel]
        matches = exact or [(d, p) for d, p in docs if parts and Path(p).parts[-len(parts):] == parts]
        if not matches:
            problems.append(f"no document {sel!r}")
        elif len({p for _, p in matches}) > 1:
            problems.append(f"{sel!r} names {len(matches)} documents ({', '.join(sorted({p for _, p in matches})[:3])}); "
                            "give more of the path")
        else:
            out.extend(m for m in matches if m not in out)
    if problems:
        raise SenseIndexError("; ".join(problems) + "; nothing removed")
    return out


def remove_document(db, doc_id: int, reason: str = "document removed", orphan: set[int] | None = None) -> dict:
    """Delete one document's rows in one transaction (the caller holds the write lock); its
    occurrence ids become tombstones and the labels on them go to `labels_orphaned` (only those
    of the `orphan` occurrences, when given: the others were carried to a new version)."""
    path = db.execute("select path from documents where id = ?", [doc_id]).fetchone()[0]
    occ = db.execute("select o.id, o.lemma_id from occ o join sentences s on s.id = o.sentence_id "
                     "where s.document_id = ?", [doc_id]).fetchall()
    ids = [r[0] for r in occ]
    with db.conn:
        orphaned = _orphan_labels(db, ids if orphan is None else sorted(orphan), reason)
        db.conn.executemany("insert or ignore into removed (id, lemma_id) values (?, ?)", occ)
        db.conn.executemany("update lemmas set count = count - ? where id = ?",
                            [(c, lid) for lid, c in Counter(r[1] for r in occ).items()])
        words = Counter(w.lower() for (w,) in select_in(
            db, "select substr(s.text, o.start + 1, o.end - o.start) from occ o join sentences s on s.id = o.sentence_id "
                "where o.id in ({ids})", ids))
        db.conn.executemany("update vocab set count = count - ? where word = ?", [(c, w) for w, c in words.items()])
        db.conn.execute("delete from vocab where count <= 0")
        for lo in range(0, len(ids), 900):
            part = ids[lo : lo + 900]
            marks = ",".join("?" * len(part))
            db.conn.execute(f"delete from labels where occurrence_id in ({marks})", part)
            db.conn.execute(f"delete from label_keys where occurrence_id in ({marks})", part)
            db.conn.execute(f"delete from occ where id in ({marks})", part)
            db.conn.execute(f"delete from deps where occurrence_id in ({marks})", part)
        n_sent = db.conn.execute("delete from sentences where document_id = ?", [doc_id]).rowcount
        db.conn.execute("delete from meta where text_id in (select id from texts where document_id = ?)", [doc_id])
        db.conn.execute("delete from texts where document_id = ?", [doc_id])
        db.conn.execute("delete from documents where id = ?", [doc_id])
    return {"document": path, "sentences": n_sent, "occurrences": len(ids), "labels_orphaned": orphaned}


def _orphan_labels(db, ids: list[int], reason: str) -> int:
    """Copy the labels of these occurrences, with their sentence, into labels_orphaned."""
    rows = list(select_in(db, "select l.occurrence_id, l.source, l.label, l.confidence, l.updated, d.path, s.line, "
                              "s.text, substr(s.text, o.start + 1, o.end - o.start), o.start, o.end "
                              "from labels l join occ o on o.id = l.occurrence_id join sentences s on s.id = o.sentence_id "
                              "join documents d on d.id = s.document_id where l.occurrence_id in ({ids})", ids))
    stamp = utc_now()
    db.conn.executemany(
        "insert into labels_orphaned (occurrence_id, source, label, confidence, updated, document, line, sentence, "
        "word, start, end, orphaned, reason) values (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [(*r, stamp, reason) for r in rows])
    return len(rows)


def carry_labels(db, old_doc: int, new_doc: int) -> dict:
    """Copy labels from a document's old version to its new one where the sentence text and the
    word's offsets are unchanged; returns how many were carried and how many could not be."""
    old = db.execute("select l.occurrence_id, l.source, l.label, l.confidence, l.updated, s.text, o.start, o.end "
                     "from labels l join occ o on o.id = l.occurrence_id join sentences s on s.id = o.sentence_id "
                     "where s.document_id = ? order by s.ordinal, o.id", [old_doc]).fetchall()
    new = {}
    for oid, text, start, end in db.execute(
            "select o.id, s.text, o.start, o.end from occ o join sentences s on s.id = o.sentence_id "
            "where s.document_id = ? order by s.ordinal, o.id", [new_doc]):
        new.setdefault((text, start, end), []).append(oid)
    used: Counter = Counter()
    carried, lost = [], []
    for oid, source, label, conf, updated, text, start, end in old:
        key = (text, start, end)
        targets = new.get(key, [])
        n = used[(key, source)]  # the same sentence twice in a file: k-th to k-th
        if n < len(targets):
            carried.append((targets[n], source, label, conf, updated))
            used[(key, source)] += 1
        else:
            lost.append(oid)
    with db.conn:
        db.conn.executemany(
            "insert into labels (occurrence_id, source, label, confidence, updated) values (?,?,?,?,?) "
            "on conflict(occurrence_id, source) do nothing", carried)
    return {"carried": len(carried), "not_carried": len(lost), "lost_ids": set(lost)}


def replace_document(db, old_doc: int, new_doc: int) -> dict:
    """The new version of a document is indexed: carry its labels over, then remove the old one."""
    carry = carry_labels(db, old_doc, new_doc)
    removed = remove_document(db, old_doc, "sentence changed in a new version of the document", carry["lost_ids"])
    return {"document": removed["document"], "labels_carried": carry["carried"],
            "labels_orphaned": removed["labels_orphaned"], "occurrences_removed": removed["occurrences"]}
