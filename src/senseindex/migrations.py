"""Numbered schema migrations, applied in order and recorded in the _migrations table."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from .db import utc_now

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


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations; return the names applied."""
    if "_migrations" not in db.table_names():
        db["_migrations"].create({"name": str, "applied": str}, pk="name")
    done = {r["name"] for r in db["_migrations"].rows}
    applied = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        with db.conn:
            fn(db)
            db["_migrations"].insert({"name": name, "applied": utc_now()})
        applied.append(name)
    return applied


@migration
def m004_index_id(db: sqlite_utils.Database) -> None:
    """A random identifier per index, carried by review files so a file from another index is refused."""
    import uuid

    db["manifest"].insert({"key": "index_id", "value": uuid.uuid4().hex}, replace=True)
