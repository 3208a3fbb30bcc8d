"""Rebuild tests/data/index-v1/, the format-1 index that test_storage.py upgrades.

This needs the FORMAT-1 code (the previous release), not this checkout's: run it with that
release's sources first on the path, e.g. from a worktree of it at /work/wt-v1:

    PYTHONPATH=/work/wt-v1/src .venv/bin/python tests/data/make_index_v1.py [/work/wt-v1]

The encoder is that release's test HashEncoder (tests/conftest.py of the same worktree; 16
dimensions). The index holds three small documents (two text files, one pre-tokenised JSONL file
with gold senses), gold labels from a TSV, and one review label imported from a review file.
Document paths are stored relative ("corpus/..."). Only the index files are kept: no lock, no
SQLite -wal/-shm (the database is checkpointed and closed first).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

import senseindex
from senseindex import SenseIndex
from senseindex.storage.store import FORMAT_VERSION

OUT = Path(__file__).resolve().parent / "index-v1"
KEEP = ("index.db", "occurrences.f32", "sentences_static.f32", "occurrences.faiss", "sentences_static.faiss",
        "vocab_static.faiss")

A = ["The bank raised its interest rates again.",
     "She opened a savings account at the bank.",
     "We sat on the grassy bank of the river.",
     "The mole dug a tunnel under the garden."]
B = ["The river bank was muddy after the flood.",
     "A small mole on her cheek worried the doctor.",
     "The bank approved the loan on Friday.",
     "Fish hid under the bank of the stream."]
C = [(["The", "mole", "ate", "worms", "in", "the", "dark", "soil"], [None, "animal", None, None, None, None, None, None]),
     (["One", "mole", "of", "carbon", "weighs", "twelve", "grams"], [None, "unit", None, None, None, None, None]),
     (["The", "bank", "lent", "money", "to", "the", "farmer"], [None, "finance", None, None, None, None, None])]
GOLD = [("a.txt", 1, "bank", "finance"), ("a.txt", 3, "bank", "river"), ("b.txt", 1, "bank", "river"),
        ("b.txt", 2, "mole", "skin")]


def main() -> None:
    if FORMAT_VERSION != "1":
        sys.exit(f"this needs the format-1 senseindex on PYTHONPATH (found format {FORMAT_VERSION} at "
                 f"{senseindex.__file__})")
    v1 = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(senseindex.__file__).resolve().parents[2]
    sys.path.insert(0, str(v1 / "tests"))
    from conftest import HashEncoder

    assert HashEncoder.dim == 16
    work = Path(tempfile.mkdtemp())
    try:
        corpus = work / "corpus"
        corpus.mkdir()
        (corpus / "a.txt").write_text("\n".join(A) + "\n", encoding="utf-8")
        (corpus / "b.txt").write_text("\n".join(B) + "\n", encoding="utf-8")
        (corpus / "c.jsonl").write_text("".join(json.dumps({"tokens": t, "sense": s}) + "\n" for t, s in C),
                                        encoding="utf-8")
        gold = work / "gold.tsv"
        gold.write_text("file\tline\tword\tsense\n" + "".join("\t".join(map(str, g)) + "\n" for g in GOLD))
        import os

        os.chdir(work)  # documents are stored with the relative paths given
        si = SenseIndex.open_or_create("idx", encoder=HashEncoder())
        report = si.add([Path("corpus")], gold="gold.tsv")
        assert report.gold_file and report.gold_file["labelled"] == len(GOLD), report.gold_file

        # one review label: export the clusters of "bank", fill one row's label, import it
        si.senses("bank", k=2, export="review.csv")
        rows = list(csv.DictReader(io.StringIO(Path("review.csv").read_text(encoding="utf-8-sig"))))
        row = next(r for r in rows if "grassy" in r["sentence"])
        row["label"] = "riverside"
        with open("review.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerow(row)
        assert si.import_review("review.csv")
        si.store.db.close()

        db = sqlite3.connect(work / "idx" / "index.db")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        db.execute("VACUUM")
        db.close()
        if OUT.exists():
            shutil.rmtree(OUT)
        OUT.mkdir(parents=True)
        for name in KEEP:
            shutil.copy2(work / "idx" / name, OUT / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {OUT}: " + ", ".join(f"{p.name} {p.stat().st_size:,} B" for p in sorted(OUT.iterdir())))


if __name__ == "__main__":
    main()
