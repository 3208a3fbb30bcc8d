"""Review files back in: read a filled-in review file, check every row, then store its labels.

A reviewer fills either

* ``label`` on a row: the sense of that one occurrence, or
* ``cluster_label`` on any row of a cluster (or a row with a ``cluster`` and no
  ``occurrence_id``, its sense in ``label``): the sense of every occurrence of that cluster
  in the file that has no ``label`` of its own.

Imported labels are stored with source "review" (they beat gold and predicted ones). Imports
are all or nothing: `plan_import` reads and checks the whole file and lists every problem
before `apply_import` writes anything.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from senseindex.errors import CorpusError, SenseIndexError
from senseindex.storage.db import CHUNK, placeholders, select_in
from senseindex.storage.labels import set_labels
from senseindex.text.cells import unneutralise
from senseindex.text.corpus import json_object
from senseindex.text.words import lemmatize

MAX_SHOWN = 15  # problems listed in the error message


def _key(name: str) -> str:
    return name.strip().strip("\ufeff").lower().replace(" ", "_").replace("-", "_")


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")  # spreadsheet programs on Windows


def read_review_file(path: str | Path) -> list[tuple[int, dict]]:
    """(line number, row) pairs from a CSV (any spreadsheet dialect) or JSONL review file."""
    path = Path(path)
    if not path.is_file():
        raise SenseIndexError(f"{path}: no such file")
    text = _decode(path.read_bytes())
    if path.suffix.lower() in (".jsonl", ".json"):
        return _jsonl_rows(path, text)
    return _csv_rows(path, text)


def _jsonl_rows(path: Path, text: str) -> list[tuple[int, dict]]:
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json_object(line, f"{path}:{n}")
        except CorpusError as exc:
            raise SenseIndexError(f"{exc}; nothing imported") from None
        rows.append((n, {_key(k): "" if v is None else str(v) for k, v in obj.items()}))
    return rows


def _csv_rows(path: Path, text: str) -> list[tuple[int, dict]]:
    first = text.split("\n", 1)[0]
    try:  # the header row decides: spreadsheets save with ',', ';' or tabs
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [_key(h) for h in next(reader)]
    except StopIteration:
        raise SenseIndexError(f"{path}: empty file") from None
    except csv.Error as exc:
        raise SenseIndexError(f"{path}:1: {exc}; nothing imported") from None
    rows = []
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((reader.line_num, dict(zip(header, map(unneutralise, cells), strict=False))))
    except csv.Error as exc:
        raise SenseIndexError(f"{path}:{reader.line_num}: {exc}; nothing imported") from None
    return rows


INT_RANGE = (-(2**63), 2**63 - 1)  # SQLite's integers: a number outside them can be no id


def _int(value: str) -> int | None:
    """A whole number, also as spreadsheets write it ('12.0'); None when empty. The ValueError's
    text says what is wrong with the value."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        f = float(value)
    except ValueError:
        raise ValueError(f"{value} is not a number") from None
    if not f.is_integer():
        raise ValueError(f"{value} is not a whole number")
    if not INT_RANGE[0] <= f <= INT_RANGE[1]:
        raise ValueError(f"{value} is out of range")
    return int(f)


@dataclass
class ImportPlan:
    """What a review file asks for, once every row has been read and checked."""

    path: Path
    rows: int
    own: dict[int, str] = field(default_factory=dict)  # occurrence -> its own label
    cluster_of: dict[int, tuple[str, int] | None] = field(default_factory=dict)  # occurrence -> (word, cluster)
    word_of: dict[int, str] = field(default_factory=dict)
    cluster_labels: dict[tuple[str, int], str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    clear: list[int] = field(default_factory=list)  # occurrences whose review label goes (rows only, never files)

    def wanted(self) -> tuple[dict[int, str], int]:
        """Label per occurrence (a row's own label wins over its cluster's) and how many came via clusters."""
        wanted = dict(self.own)
        via_cluster = 0
        for oid, key in self.cluster_of.items():
            if oid not in wanted and key is not None and key in self.cluster_labels:
                wanted[oid] = self.cluster_labels[key]
                via_cluster += 1
        return wanted, via_cluster


def plan_import(store, path: str | Path) -> ImportPlan:
    """Read and check a review file against the index; raise with every problem, write nothing."""
    path = Path(path)
    rows = read_review_file(path)
    if not rows:
        raise SenseIndexError(f"{path}: no rows")
    _check_columns(path, rows)
    return _check_plan(store, str(path), rows, "line")


def _check_plan(store, name: str, rows: list[tuple[int, dict]], unit: str, clear: Sequence[int] = ()) -> ImportPlan:
    """Every row (and every occurrence to clear) checked against the index; raise with every problem."""
    mine = store.index_id
    foreign = sorted({r.get("index_id", "").strip() for _, r in rows} - {mine, ""})
    if foreign:
        raise SenseIndexError(f"{name} was exported from another index (index id {', '.join(foreign)}; "
                              f"{store.path} is {mine}); nothing imported")
    plan = ImportPlan(Path(name), len(rows), clear=sorted(set(clear)))
    for line, r in rows:
        _read_row(plan, f"{unit} {line}", r)
    _assign_wordless_cluster_rows(plan)
    if rows and not plan.word_of and not any(r.get("index_id", "").strip() == mine for _, r in rows):
        plan.problems.append(f"no row carries this index's index_id ({mine})")
    _check_occurrences(store, plan)
    _check_cleared(store, plan)
    if plan.problems:
        p = plan.problems
        shown = "; ".join(p[:MAX_SHOWN]) + (f"; and {len(p) - MAX_SHOWN} more" if len(p) > MAX_SHOWN else "")
        raise SenseIndexError(f"{name}: {len(p)} problem(s), nothing imported: {shown}")
    return plan


def plan_rows(store, rows: Sequence[dict], clear: Iterable[int] = (), name: str = "review rows") -> ImportPlan:
    """Check review rows given in memory (the web workbench's edits) exactly as a review file's rows
    are checked: same columns, same rules, every problem listed, nothing written. `clear` names
    occurrences whose review label is to be removed (an undo back to no review label)."""
    try:
        clear = [int(i) for i in clear]
    except (TypeError, ValueError, OverflowError):
        raise SenseIndexError(f"{name}: occurrence ids to clear must be numbers; nothing imported") from None
    if any(not INT_RANGE[0] <= i <= INT_RANGE[1] for i in clear):
        raise SenseIndexError(f"{name}: an occurrence id to clear is out of range; nothing imported")
    numbered = [(n, {_key(str(k)): "" if v is None else str(v) for k, v in r.items()}) for n, r in enumerate(rows, 1)]
    if not numbered and not clear:
        raise SenseIndexError(f"{name}: no rows")
    if numbered:
        _check_columns(Path(name), numbered)
    return _check_plan(store, name, numbered, "row", clear)


def apply_import(store, plan: ImportPlan) -> dict:
    """Store a checked plan's labels in one transaction; the caller holds the write lock."""
    return _apply(store, plan)[0]


def apply_rows(store, plan: ImportPlan) -> dict:
    """apply_import for a plan_rows plan: labels set and review labels cleared in one transaction.
    The result adds `cleared` and `before`: each touched occurrence's review label before this
    write (None: it had none), which is what an undo writes back."""
    result, before = _apply(store, plan)
    return {**result, "cleared": sum(1 for oid in plan.clear if before.get(oid) is not None),
            "before": {oid: before.get(oid) for oid in sorted({*plan.wanted()[0], *plan.clear})}}


def _apply(store, plan: ImportPlan) -> tuple[dict, dict[int, str]]:
    wanted, via_cluster = plan.wanted()
    before = dict(select_in(store.db, "select occurrence_id, label from labels where source = 'review' "
                                      "and occurrence_id in ({ids})", [*wanted, *plan.clear]))
    changed = [(oid, lab) for oid, lab in sorted(wanted.items()) if before.get(oid) != lab]
    cleared = [oid for oid in plan.clear if oid in before]
    with store.db.conn:
        set_labels(store.db, changed, "review")
        for lo in range(0, len(cleared), CHUNK):
            part = cleared[lo : lo + CHUNK]
            store.db.conn.execute(f"delete from labels where source = 'review' and occurrence_id in "
                                  f"({placeholders(len(part))})", part)
    result = {"file": str(plan.path), "rows": plan.rows, "labelled": len(wanted), "from_cluster_labels": via_cluster,
              "changed": len(changed), "unchanged": len(wanted) - len(changed),
              "unlabelled": len(plan.cluster_of) - len(wanted)}
    return result, before


def _check_columns(path: Path, rows: list[tuple[int, dict]]) -> None:
    columns = set().union(*(r.keys() for _, r in rows))
    missing = [c for c in ("index_id", "occurrence_id") if c not in columns]
    if not ({"label", "cluster_label"} & columns):
        missing.append("label or cluster_label")
    if missing:
        raise SenseIndexError(f"{path}: missing column(s) {', '.join(missing)} (export one with: senseindex senses "
                              "INDEX WORD --export FILE.csv); nothing imported")


def _read_row(plan: ImportPlan, where: str, r: dict) -> None:
    """One row into the plan: an occurrence's own label, its cluster, or a whole-cluster label."""
    try:
        oid = _int(r.get("occurrence_id", ""))
    except ValueError as exc:
        plan.problems.append(f"{where}: occurrence_id {exc}")
        return
    if oid is not None and not r.get("index_id", "").strip():  # a whole-cluster row may omit it
        plan.problems.append(f"{where}: no index_id")
        return
    try:
        cluster = _int(r.get("cluster", ""))
    except ValueError as exc:
        plan.problems.append(f"{where}: cluster {exc}")
        return
    word = lemmatize(r.get("word", "").strip()) if r.get("word", "").strip() else ""
    label, clabel = r.get("label", "").strip(), r.get("cluster_label", "").strip()
    if oid is None:
        if cluster is None or not (label or clabel):
            plan.problems.append(f"{where}: no occurrence_id (a whole-cluster row needs cluster and label)")
            return
        if clabel and label and clabel != label:
            plan.problems.append(f"{where}: label and cluster_label differ on a whole-cluster row")
            return
        clabel = clabel or label
    else:
        if (oid in plan.own or oid in plan.cluster_of) and plan.own.get(oid, "") != label:
            plan.problems.append(f"{where}: occurrence {oid} appears twice with different labels")
            return
        plan.cluster_of[oid] = (word, cluster) if cluster is not None else None
        plan.word_of[oid] = word
        if label:
            plan.own[oid] = label
    if clabel:
        if cluster is None:
            plan.problems.append(f"{where}: cluster_label without a cluster number")
            return
        _set_cluster_label(plan, (word, cluster), clabel, where + ": ")


def _set_cluster_label(plan: ImportPlan, key: tuple[str, int], label: str, where: str = "") -> None:
    if plan.cluster_labels.setdefault(key, label) != label:
        plan.problems.append(f"{where}cluster {key[1]} is labelled both {plan.cluster_labels[key]!r} and {label!r}")


def _assign_wordless_cluster_rows(plan: ImportPlan) -> None:
    """A whole-cluster row without `word` belongs to the file's one word; with several it is ambiguous."""
    words = {w for w in plan.word_of.values() if w}
    for word, cluster in [key for key in plan.cluster_labels if not key[0]]:
        if len(words) == 1:
            _set_cluster_label(plan, (next(iter(words)), cluster), plan.cluster_labels[(word, cluster)])
        elif len(words) > 1:
            plan.problems.append(f"a whole-cluster row for cluster {cluster} needs `word`: the file holds several words")


def _check_occurrences(store, plan: ImportPlan) -> None:
    """Every occurrence id exists in this index and is the word the row says."""
    known = dict(select_in(store.db, "select id, lemma from occurrences where id in ({ids})", list(plan.word_of)))
    unknown = sorted(i for i in plan.word_of if i not in known)
    if unknown:
        shown = ", ".join(map(str, unknown[:20])) + (f" and {len(unknown) - 20} more" if len(unknown) > 20 else "")
        plan.problems.append(f"unknown occurrence id(s) {shown}")
    for oid, word in plan.word_of.items():
        if oid in known and word and known[oid] != word:
            plan.problems.append(f"occurrence {oid} is {known[oid]!r}, not {word!r}")


def _check_cleared(store, plan: ImportPlan) -> None:
    """Occurrences to clear exist, and none is also given a label in the same write."""
    if not plan.clear:
        return
    known = {r[0] for r in select_in(store.db, "select id from occurrences where id in ({ids})", plan.clear)}
    unknown = [i for i in plan.clear if i not in known]
    if unknown:
        shown = ", ".join(map(str, unknown[:20])) + (f" and {len(unknown) - 20} more" if len(unknown) > 20 else "")
        plan.problems.append(f"unknown occurrence id(s) to clear {shown}")
    both = sorted(set(plan.clear) & set(plan.wanted()[0]))
    if both:
        plan.problems.append(f"occurrence(s) {', '.join(map(str, both[:20]))} both labelled and cleared")
