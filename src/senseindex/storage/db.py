"""SQLite helpers every module shares: IN-list queries in chunks, the occurrence join, timestamps.

SQLite caps the number of bound parameters per statement (999 on older builds), so every query
over a list of ids goes through `select_in`, which splits the list and binds each chunk.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

CHUNK = 900  # ids per statement, safely below SQLite's smallest parameter limit

# Occurrences (o) with their sentence (s) and document (d): every query that shows an occurrence
# in context selects its columns from this join.
OCCURRENCE_JOIN = ("from occurrences o join sentences s on s.id = o.sentence_id "
                   "join documents d on d.id = s.document_id ")
# One row per occurrence with its sentence and document, in the column order `search.Hit` expects.
OCCURRENCE_SELECT = "select o.id, s.id, o.start, o.end, o.word, o.lemma, s.text, s.line, d.path " + OCCURRENCE_JOIN


def utc_now() -> str:
    """The one timestamp format stored in an index: UTC, ISO 8601, seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def change_stamp(db: Any) -> tuple:
    """Something that differs whenever this database has changed since the last call could see:
    SQLite's `data_version` (bumped by commits of every other connection, in any process) and this
    connection's own `total_changes`. Costs microseconds, where a query over a large table that
    would prove nothing changed costs tens of milliseconds. Holds the connection, so that its id
    is not reused while a caller keeps the stamp."""
    conn = getattr(db, "conn", db)
    return (conn, conn.execute("pragma data_version").fetchone()[0], conn.total_changes)


def placeholders(n: int) -> str:
    return ",".join("?" * n)


def select_in(db: Any, sql: str, ids: Iterable[Any], before: Sequence[Any] = (), after: Sequence[Any] = (),
              chunk: int = CHUNK) -> Iterator[tuple]:
    """Rows of `sql` for every id, where `sql` holds one `{ids}` slot for the IN list.

    `before`/`after` are parameters bound before and after the list. Rows come chunk by chunk,
    so an ORDER BY holds within a chunk only; callers that need one order sort themselves."""
    ids = list(ids)
    for lo in range(0, len(ids), chunk):
        part = ids[lo : lo + chunk]
        yield from db.execute(sql.format(ids=placeholders(len(part))), [*before, *part, *after]).fetchall()


def occurrences_by_id(db: Any, ids: Iterable[int]) -> dict[int, tuple]:
    """OCCURRENCE_SELECT rows keyed by occurrence id."""
    return {r[0]: r for r in select_in(db, OCCURRENCE_SELECT + "where o.id in ({ids})", [int(i) for i in ids])}
