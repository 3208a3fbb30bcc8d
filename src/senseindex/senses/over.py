"""Senses over metadata: how the share of each sense of a word changes by year, decade or genre.

For one lemma, each occurrence gets a sense (the label in effect, or its sense cluster) and a bin
(its document's value of a metadata field, numbers optionally grouped `bin` wide: 10 makes
decades). Per bin and sense: the count, the share of the bin's occurrences with a sense and its
Wilson score interval (95% by default: honest with small counts and shares near 0 or 1, where the
normal interval leaves [0, 1]), and the frequency per million words of the bin (words as the
indexer counts them, `texts.tokens`: words and numbers, punctuation left out, as frequencies count).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field

from senseindex.errors import SenseIndexError
from senseindex.storage.labels import effective_labels
from senseindex.storage.metadata import meta_types

NO_VALUE = "(none)"


def wilson(x: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion x/n ((0, 0) for n = 0)."""
    if n == 0:
        return 0.0, 0.0
    p = x / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z / den * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class OverReport:
    lemma: str
    by: str
    bin: float | None
    of: str  # label or cluster
    where: str | None
    bins: list[dict]  # per bin: bin, occurrences, with_sense, tokens, per_million
    senses: list[str]
    rows: list[dict] = field(default_factory=list)  # per bin and sense
    members: dict[tuple[str, str], list[int]] = field(default_factory=dict, repr=False)  # (bin, sense) -> ids

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "members"}


def _bin_of(value, width: float | None):
    """A metadata value's bin: numbers (and a date's year) floored to `width`."""
    if value is None:
        return NO_VALUE
    if width:
        if isinstance(value, str) and len(value) >= 4 and value[:4].isdigit():
            value = int(value[:4])
        if isinstance(value, (int, float)):
            low = math.floor(value / width) * width
            return int(low) if float(low).is_integer() else low
        raise SenseIndexError(f"--bin needs a number or date field; {value!r} is neither")
    return value


def _bin_label(b, width: float | None) -> str:
    if b == NO_VALUE or not width:
        return str(b)
    high = b + width - (1 if isinstance(b, int) and float(width).is_integer() else 0)
    return f"{b}-{int(high) if float(high).is_integer() else high}"


def senses_over(store, lemma: str, by: str, width: float | None = None, of: str = "auto", where=None,
                senses_of: dict[int, str] | None = None, z: float = 1.96) -> OverReport:
    """The table described in the module's docstring. `senses_of` (occurrence id -> cluster
    name) is given for `of="cluster"`; `of="auto"` is the label when any occurrence has one."""
    types = meta_types(store.db)
    if by not in types:
        raise SenseIndexError(f"no metadata field {by!r} (fields: {', '.join(types) or 'none'})")
    if width is not None and width <= 0:
        raise SenseIndexError("--bin must be above 0")
    cond, params = (f" and {where.sql}", list(where.params)) if where is not None else ("", [])
    occ = store.db.execute("select o.id, s.text_id from occ o join lemmas l on l.id = o.lemma_id join sentences s on "
                           f"s.id = o.sentence_id where l.lemma = ?{cond} order by o.id", [lemma, *params]).fetchall()
    if not occ:
        raise SenseIndexError(f"no occurrence of {lemma!r}" + (f" where {where.expr}" if where else ""))
    if of == "auto":
        of = "cluster" if senses_of is not None else "label"
    if of == "label":
        labels = effective_labels(store.db, lemma=lemma)
        sense = {oid: labels[oid][0] for oid, _ in occ if oid in labels}
        if not sense:
            raise SenseIndexError(f"no occurrence of {lemma!r} has a label; use --of cluster")
    else:
        sense = dict(senses_of or {})
    value_of = dict(store.db.execute(
        "select m.text_id, m.value from meta m where m.field = ? and m.text_id in (select distinct s.text_id from "
        f"sentences s where 1{cond})", [by, *params]).fetchall())
    tokens: Counter = Counter()
    for tid, n in store.db.execute(f"select t.id, t.tokens from texts t where t.id in (select distinct s.text_id from "
                                   f"sentences s where 1{cond})", params):
        tokens[_bin_of(value_of.get(tid), width)] += n
    counts: dict = {}
    occurrences: Counter = Counter()
    members: dict[tuple[str, str], list[int]] = {}
    for oid, tid in occ:
        b = _bin_of(value_of.get(tid), width)
        occurrences[b] += 1
        if oid in sense:
            counts.setdefault(b, Counter())[sense[oid]] += 1
            members.setdefault((_bin_label(b, width), sense[oid]), []).append(oid)
    order = sorted(occurrences, key=lambda b: (b == NO_VALUE, isinstance(b, str), b if b != NO_VALUE else 0))
    names = sorted({s for c in counts.values() for s in c}, key=lambda s: (-sum(c[s] for c in counts.values()), s))
    bins, rows = [], []
    for b in order:
        c = counts.get(b, Counter())
        n = sum(c.values())
        words = tokens.get(b, 0)
        label = _bin_label(b, width)
        bins.append({"bin": label, "value": b, "occurrences": occurrences[b], "with_sense": n, "tokens": words,
                     "per_million": round(occurrences[b] / words * 1e6, 2) if words else None})
        for s in names:
            lo, hi = wilson(c[s], n, z)
            rows.append({"lemma": lemma, "bin": label, "value": b, "sense": s, "count": c[s], "bin_occurrences": n,
                         "share": round(c[s] / n, 4) if n else None, "ci_low": round(lo, 4), "ci_high": round(hi, 4),
                         "tokens": words, "per_million": round(c[s] / words * 1e6, 2) if words else None})
    return OverReport(lemma, by, width, of, where.expr if where is not None else None, bins, names, rows, members)
