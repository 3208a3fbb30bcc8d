"""Spreadsheet cells in and out: the one rule that keeps an exported review file from running
formulas when a reviewer opens it, and undoes it when the file comes back."""

from __future__ import annotations

from typing import Any

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
