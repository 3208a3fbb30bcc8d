"""Sense labels on occurrences: one table, one row per (occurrence, source)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from .errors import SenseIndexError

SOURCES = ("review", "gold", "predicted")  # precedence: a reviewer's word beats everything
_RANK = "case source when 'review' then 0 when 'gold' then 1 else 2 end"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def set_labels(db: sqlite_utils.Database, rows: Iterable[tuple[int, str]], source: str, confidence: float | None = None) -> int:
    """Upsert labels for occurrence ids; the caller owns the transaction."""
    if source not in SOURCES:
        raise SenseIndexError(f"unknown label source {source!r} (use {', '.join(SOURCES)})")
    stamp = now()
    data = [(int(oid), str(label), source, confidence, stamp) for oid, label in rows]
    db.conn.executemany(
        "insert into labels (occurrence_id, label, source, confidence, updated) values (?, ?, ?, ?, ?) "
        "on conflict(occurrence_id, source) do update set label = excluded.label, "
        "confidence = excluded.confidence, updated = excluded.updated",
        data,
    )
    return len(data)


def labels_for(db: sqlite_utils.Database, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """Effective label and its source per occurrence id (review > gold > predicted)."""
    ids = [int(i) for i in ids]
    out: dict[int, tuple[str, str]] = {}
    for lo in range(0, len(ids), 900):
        part = ids[lo : lo + 900]
        sql = (
            f"select occurrence_id, label, source from labels where occurrence_id in ({','.join('?' * len(part))}) "
            f"order by occurrence_id, {_RANK}"
        )
        for oid, label, source in db.execute(sql, part).fetchall():
            out.setdefault(oid, (label, source))
    return out


def import_gold_tsv(db: sqlite_utils.Database, path: str | Path) -> dict[str, int]:
    """Gold senses from a TSV of `file, line, word, sense` (the demo's format) onto matching occurrences."""
    path = Path(path)
    if not path.is_file():
        raise SenseIndexError(f"{path}: no such labels file")
    docs = [(r["id"], Path(r["path"])) for r in db["documents"].rows]
    rows, missing = [], []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        need = {"file", "line", "word", "sense"}
        if not reader.fieldnames or not need <= set(reader.fieldnames):
            raise SenseIndexError(f"{path}:1: header must hold file, line, word, sense")
        for row in reader:
            try:
                line = int(row["line"])
            except (TypeError, ValueError):
                raise SenseIndexError(f"{path}:{reader.line_num}: line must be a number") from None
            file_parts = Path(row["file"]).parts
            doc_ids = [d for d, p in docs if p.parts[-len(file_parts) :] == file_parts]
            found = []
            if doc_ids:
                found = db.execute(
                    f"select o.id from occurrences o join sentences s on s.id = o.sentence_id "
                    f"where s.document_id in ({','.join('?' * len(doc_ids))}) and s.line = ? and o.lemma = ?",
                    [*doc_ids, line, row["word"].lower()],
                ).fetchall()
            if not found:
                missing.append(f"{row['file']}:{line} {row['word']}")
            rows.extend((oid, row["sense"]) for (oid,) in found)
    with db.conn:
        set_labels(db, rows, "gold")
    return {"labelled": len(rows), "unmatched": len(missing)}
