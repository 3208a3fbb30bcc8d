"""Spreadsheet cells in and out: the one rule that keeps an exported review file from running
formulas when a reviewer opens it, and undoes it when the file comes back; and the one way a
tab-separated input (gold labels, document metadata) is opened and its faults reported."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from senseindex.errors import SenseIndexError

# Spreadsheet formula injection (OWASP "CSV injection"): a cell starting with one of these is
# read as a formula by Excel, LibreOffice and Google Sheets. Exported files prefix such a cell
# with a single quote, which spreadsheets show as text; reading a file back strips it again.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell made safe to open in a spreadsheet (numbers stay numbers)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """The cell as it was before `neutralise` (for files read back)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


@contextmanager
def open_tsv(path: str | Path, what: str, dict_rows: bool = False) -> Iterator[Any]:
    """A UTF-8 TSV file's csv reader (a DictReader with `dict_rows`). A missing file, text that is
    not UTF-8 or a malformed line is one SenseIndexError naming the file (and line)."""
    path = Path(path)
    if not path.is_file():
        raise SenseIndexError(f"{path}: no such {what}")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t") if dict_rows else csv.reader(fh, delimiter="\t")
        try:
            yield reader
        except UnicodeDecodeError as exc:
            raise SenseIndexError(f"{path}: not UTF-8 text ({exc.reason})") from None
        except csv.Error as exc:
            raise SenseIndexError(f"{path}:{reader.line_num}: {exc}") from None
