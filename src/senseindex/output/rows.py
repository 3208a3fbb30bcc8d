"""Rows out: one writer for CSV, TSV, JSON and newline-delimited JSON, to a file or a string.

The CLI's shared output options (--json, --nl, --csv, --tsv) and every export file (review
files, label exports) go through here, so quoting, encoding and column order are the same
everywhere. CSV files get a UTF-8 byte-order mark so spreadsheet programs read non-ASCII text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from senseindex.errors import SenseIndexError
from senseindex.text.cells import neutralise

FORMATS = ("json", "nl", "csv", "tsv")
BY_EXTENSION = {".csv": "csv", ".tsv": "tsv", ".jsonl": "nl", ".ndjson": "nl", ".json": "json"}


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def _columns(rows: Sequence[dict], columns: Sequence[str] | None) -> list[str]:
    if columns:
        return list(columns)
    seen: dict[str, None] = {}
    for r in rows:
        seen.update(dict.fromkeys(r))
    return list(seen)


def _cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def write_rows(fh, rows: Iterable[dict], fmt: str, columns: Sequence[str] | None = None,
               safe: bool = False) -> int:
    """Write rows to an open text stream in one of FORMATS; returns the number of rows. `safe`
    neutralises formula-like CSV/TSV cells (export files, which people open in spreadsheets)."""
    rows = list(rows)
    if fmt == "json":
        fh.write(to_json(rows) + "\n")
    elif fmt == "nl":
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
    elif fmt in ("csv", "tsv"):
        cols = _columns(rows, columns)
        if cols:
            writer = csv.DictWriter(fh, fieldnames=cols, delimiter="," if fmt == "csv" else "\t",
                                    lineterminator="\n", extrasaction="ignore")
            writer.writeheader()
            cell = (lambda v: neutralise(_cell(v))) if safe else _cell
            writer.writerows({k: cell(v) for k, v in r.items()} for r in rows)
    else:
        raise ValueError(f"unknown row format {fmt!r}")
    return len(rows)


def rows_text(rows: Iterable[dict], fmt: str, columns: Sequence[str] | None = None) -> str:
    buf = io.StringIO()
    write_rows(buf, rows, fmt, columns)
    return buf.getvalue()


def check_extension(path: str | Path, allowed: Sequence[str], what: str) -> str:
    """The lower-case extension of an output file, or one clear error listing the allowed ones.
    Called before any slow work, so a typo in a file name costs nothing."""
    ext = Path(path).suffix.lower()
    if ext not in allowed:
        raise SenseIndexError(f"{path}: {what} to {', '.join(allowed)} (by extension)")
    return ext


def format_for(path: str | Path, allowed: Sequence[str] = FORMATS) -> str:
    """The row format a file name asks for (.csv, .tsv, .jsonl, .json), or a clear error."""
    fmt = BY_EXTENSION.get(Path(path).suffix.lower())
    if fmt not in allowed:
        exts = sorted(e for e, f in BY_EXTENSION.items() if f in allowed)
        raise SenseIndexError(f"{path}: write {', '.join(exts)} (chosen by extension)")
    return fmt


def write_file(path: str | Path, rows: Iterable[dict], columns: Sequence[str] | None = None,
               fmt: str | None = None) -> int:
    """Write rows to a file through a temporary name, so a failed export leaves no half file."""
    path = Path(path)
    fmt = fmt or format_for(path)
    tmp = path.with_name(path.name + ".tmp")
    encoding = "utf-8-sig" if fmt in ("csv", "tsv") else "utf-8"
    with open(tmp, "w", encoding=encoding, newline="") as fh:
        n = write_rows(fh, rows, fmt, columns, safe=True)
    tmp.replace(path)
    return n
