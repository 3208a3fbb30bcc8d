"""Document metadata: typed values per text, where they come from, and saved selections.

A *text* is the unit metadata describes: a file, or a document inside one (a `<text>` of a
vertical file, a `# newdoc` of CoNLL-U, a JSONL record's `doc`). Every sentence points to its
text (`sentences.text_id`); a text has its token count (`texts.tokens`, the denominator of
frequencies per million) and its fields in `meta` (one row per field). Values are stored typed:
a number as a number (so `year >= 1990` compares numbers), an ISO date (1994-07, 1994-07-21) as
text that sorts as a date, anything else as text. `meta_types` reads the type of each field off
its values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import sqlite_utils

from senseindex.errors import SenseIndexError
from senseindex.storage.db import utc_now
from senseindex.storage.where import BUILTIN, Selection, parse_where
from senseindex.text.cells import open_tsv

_INT = re.compile(r"^-?\d{1,15}$")
_FLOAT = re.compile(r"^-?\d+\.\d+$")
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?([T ][\d:.]+Z?)?$")
_FIELD = re.compile(r"^[A-Za-z_][\w.-]*$")
TEXT_KEYS = ("doc", "document", "id", "path", "file", "text")  # a sidecar's key column, by name


def typed(value: object) -> int | float | str:
    """A metadata value as stored: numbers as numbers, everything else as stripped text."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return value
    text = str(value).strip()
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text


def check_field(name: str, where: str) -> str:
    if not _FIELD.match(name) or name.lower() in ("and", "or", "not", "in") or name in BUILTIN:
        raise SenseIndexError(f"{where}: {name!r} cannot be a metadata field name (letters, digits, _ . -; "
                              f"not and/or/not/in/{'/'.join(BUILTIN)})")
    return name


def safe_field(name: str) -> str:
    """A corpus's attribute name as a field `--where` can name: other characters become `_`
    (`xml:lang` -> xml_lang), a name that is a keyword or built-in gets `meta_` before it."""
    name = re.sub(r"[^\w.-]", "_", str(name).strip()) or "field"
    if not re.match(r"[A-Za-z_]", name):
        name = "_" + name
    return f"meta_{name}" if name.lower() in ("and", "or", "not", "in") or name in BUILTIN else name


def meta_types(db: sqlite_utils.Database) -> dict[str, str]:
    """Field -> number, date or text, from the stored values (mixed values make text)."""
    if "meta" not in db.table_names():
        return {}
    kinds: dict[str, set[str]] = {}
    for name, kind, dated in db.execute(
            "select field, typeof(value), sum(value glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]*') = count(*) "
            "from meta group by field, typeof(value)"):
        kinds.setdefault(name, set()).add("number" if kind in ("integer", "real") else "date" if dated else "text")
    return {k: next(iter(v)) if len(v) == 1 else "text" for k, v in sorted(kinds.items())}


def field_summary(db: sqlite_utils.Database) -> list[dict]:
    """Each field: type, texts that have it, distinct values, smallest and largest value."""
    types = meta_types(db)
    out = []
    for name, n, distinct, lo, hi in db.execute(
            "select field, count(*), count(distinct value), min(value), max(value) from meta group by field "
            "order by field"):
        out.append({"field": name, "type": types.get(name, "text"), "texts": n, "values": distinct,
                    "min": lo, "max": hi})
    return out


def text_ids(db: sqlite_utils.Database, rows: Sequence[tuple]) -> list[int | None]:
    """The text of each sentence row (document id, ordinal, line, section, text, extra), created
    with its metadata when new, its word count raised by the row's; the caller's transaction.
    A row without `extra` (an upgrade, a benchmark) belongs to its document's plain text."""
    cache: dict[tuple, int] = {}
    added: dict[int, int] = {}
    out: list[int | None] = []
    for row in rows:
        doc, section = row[0], row[3]
        extra = row[5] if len(row) > 5 and row[5] else {}
        meta = extra.get("meta") or None
        key = (doc, section, json.dumps(meta, sort_keys=True) if meta else None)
        tid = cache.get(key)
        if tid is None:
            found = db.conn.execute("select id from texts where document_id = ? and section is ? and meta is ?",
                                    key).fetchone()
            if found:
                tid = found[0]
            else:
                tid = db.conn.execute("insert into texts (document_id, section, meta, tokens) values (?, ?, ?, 0)",
                                      key).lastrowid
                if meta:
                    db.conn.executemany("insert or replace into meta (text_id, field, value) values (?, ?, ?)",
                                        [(tid, check_field(k, f"metadata of {section or 'a document'}"), typed(v))
                                         for k, v in meta.items()])
            cache[key] = tid
        added[tid] = added.get(tid, 0) + int(extra.get("tokens", 0))
        out.append(tid)
    db.conn.executemany("update texts set tokens = tokens + ? where id = ?", [(n, t) for t, n in added.items() if n])
    return out


def read_sidecar(path: str | Path) -> tuple[str, list[str], list[tuple[int, str, dict]]]:
    """(key column, fields, rows of (line, key, values)) of a metadata TSV whose first column (or
    a column named doc/document/id/path/file/text) names a document; checked, nothing written."""
    rows = []
    with open_tsv(path, "metadata file") as reader:
        header = next(reader, None)
        if not header or len(header) < 2:
            raise SenseIndexError(f"{path}:1: a header of a document column and one or more fields, tab-separated")
        key_col = next((i for i, h in enumerate(header) if h.strip().lower() in TEXT_KEYS), 0)
        fields = [check_field(h.strip(), f"{path}:1") for i, h in enumerate(header) if i != key_col]
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise SenseIndexError(f"{path}:{reader.line_num}: {len(cells)} cells where the header has "
                                      f"{len(header)}")
            values = {h.strip(): c for i, (h, c) in enumerate(zip(header, cells, strict=True))
                      if i != key_col and c.strip()}
            rows.append((reader.line_num, cells[key_col].strip(), values))
    return header[key_col], fields, rows


def apply_sidecar(db: sqlite_utils.Database, rows: list[tuple[int, str, dict]]) -> dict:
    """Set metadata of the texts each row names, in one transaction: a row's key is a document id
    (`doc`) or the end of a file path (whole components); a path names all the texts of its file."""
    texts = db.execute("select t.id, t.section, d.path from texts t join documents d on d.id = t.document_id"
                       ).fetchall()
    by_section: dict[str, list[int]] = {}
    for tid, section, _ in texts:
        if section is not None:
            by_section.setdefault(section, []).append(tid)
    writes, unmatched = [], []
    for line, key, values in rows:
        found = by_section.get(key)
        if not found:
            parts = Path(key).parts
            found = [tid for tid, _, p in texts if parts and Path(p).parts[-len(parts):] == parts]
        if not found:
            unmatched.append(f"line {line}: {key}")
            continue
        writes.extend((tid, k, typed(v)) for tid in found for k, v in values.items())
    with db.conn:
        db.conn.executemany("insert or replace into meta (text_id, field, value) values (?, ?, ?)", writes)
    return {"rows": len(rows), "values_set": len(writes), "unmatched": len(unmatched),
            "unmatched_keys": unmatched[:20]}


# --- saved selections ---------------------------------------------------------------------
def saved_expression(db: sqlite_utils.Database, name: str) -> str | None:
    if "subcorpora" not in db.table_names():
        return None
    row = db.execute("select expr from subcorpora where name = ?", [name]).fetchone()
    return row[0] if row else None


def selection(db: sqlite_utils.Database, expr: str | None) -> Selection | None:
    """A `--where` expression (or @subcorpus) checked against this index's fields; None for none."""
    if expr is None or not expr.strip():
        return None
    return parse_where(expr, meta_types(db), lambda name: saved_expression(db, name))


def selection_counts(db: sqlite_utils.Database, sel: Selection | None) -> dict:
    """Sentences, occurrences and words a selection holds (the whole index for None)."""
    cond, params = (sel.sql, sel.params) if sel else ("1", [])
    n_sent = db.execute(f"select count(*) from sentences s where {cond}", params).fetchone()[0]
    n_occ = db.execute(f"select count(*) from occ o join sentences s on s.id = o.sentence_id where {cond}",
                       params).fetchone()[0]
    tokens = db.execute(f"select coalesce(sum(t.tokens), 0) from texts t where t.id in "
                        f"(select s.text_id from sentences s where {cond})", params).fetchone()[0]
    return {"sentences": n_sent, "occurrences": n_occ, "tokens": tokens}


def save_subcorpus(db: sqlite_utils.Database, name: str, expr: str) -> dict:
    """Check and save a named selection (the caller holds the write lock); replaces one of that name."""
    check_field(name, "subcorpus name")
    sel = selection(db, expr)
    if sel is None:
        raise SenseIndexError("a subcorpus needs a --where expression")
    if f"@{name}" in expr.replace(" ", ""):
        raise SenseIndexError(f"subcorpus {name!r} cannot refer to itself")
    with db.conn:
        db.conn.execute("insert or replace into subcorpora (name, expr, created) values (?, ?, ?)",
                        [name, expr, utc_now()])
    return {"name": name, "where": expr, **selection_counts(db, sel)}


def list_subcorpora(db: sqlite_utils.Database) -> list[dict]:
    out = []
    for name, expr, created in db.execute("select name, expr, created from subcorpora order by name").fetchall():
        out.append({"name": name, "where": expr, "created": created, **selection_counts(db, selection(db, expr))})
    return out


def delete_subcorpus(db: sqlite_utils.Database, name: str) -> bool:
    with db.conn:
        return db.conn.execute("delete from subcorpora where name = ?", [name]).rowcount > 0


def metadata_of(db: sqlite_utils.Database, text_ids_: Iterable[int]) -> dict[int, dict]:
    """text id -> {field: value} (for showing metadata as columns and writing it back out)."""
    from senseindex.storage.db import select_in

    out: dict[int, dict] = {}
    for tid, name, value in select_in(db, "select text_id, field, value from meta where text_id in ({ids})",
                                      sorted(set(text_ids_))):
        out.setdefault(tid, {})[name] = value
    return out


def with_metadata(db: sqlite_utils.Database, rows: list[dict], fields: Sequence[str], key: str = "occurrence_id"
                  ) -> list[dict]:
    """Rows (each with an occurrence id under `key`) with metadata fields added as columns (None
    where a text has no value): metadata shown beside labels and hits."""
    from senseindex.storage.db import select_in

    types = meta_types(db)
    unknown = [f for f in fields if f not in types]
    if unknown:
        raise SenseIndexError(f"no metadata field {', '.join(map(repr, unknown))} (fields: {', '.join(types) or 'none'})")
    text_of = dict(select_in(db, "select o.id, s.text_id from occ o join sentences s on s.id = o.sentence_id "
                                 "where o.id in ({ids})", sorted({r[key] for r in rows})))
    meta = metadata_of(db, [t for t in text_of.values() if t is not None])
    return [{**r, **{f: meta.get(text_of.get(r[key]), {}).get(f) for f in fields}} for r in rows]
