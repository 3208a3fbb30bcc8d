"""How often a query word tagged from the index (`tagging.indexed_tag`) gets the tagger's answer.

    .venv/bin/python bench/query_tag_rule.py INDEX [--out bench/out/query_tag_rule.json]

Every indexed occurrence of INDEX is taken in turn as a query with that word marked: the rule
sees how the index tagged the same form in every *other* occurrence (leave-one-out) and either
answers (lemma, Penn tag) or leaves the word to the tagger. The occurrence's own tag is what the
tagger gave it in its sentence, so agreement is measured against the tagger in context. Reported
for the rule's settings and a few others, over occurrences (a query is as likely to name a
frequent word as its frequency says).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from senseindex.senses.search import _plain_form  # noqa: E402
from senseindex.storage.store import Store  # noqa: E402
from senseindex.text import tagging  # noqa: E402
from senseindex.text.tagging import form_lemmas, indexed_tag, pos_class  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("index")
    ap.add_argument("--out")
    ap.add_argument("--note", default="", help="What the index's tags are (the tagger's, or a corpus's own gold tags).")
    args = ap.parse_args()
    started = time.perf_counter()
    store = Store.open(args.index)
    rows = store.db.execute("select l.lemma, o.pos, substr(s.text, o.start + 1, o.end - o.start), o.start "
                            "from occ o join lemmas l on l.id = o.lemma_id join sentences s on s.id = o.sentence_id")
    by_form: dict[str, Counter] = defaultdict(Counter)
    occurrences = []
    for lemma, pos, word, start in rows:
        by_form[word.casefold()][lemma, pos or ""] += 1
        occurrences.append((word, start, lemma, pos or ""))
    settings = [(tagging.INDEXED_MIN, tagging.INDEXED_SHARE), (1, 0.0), (3, 0.8), (3, 0.95), (5, 0.9), (3, 1.0)]
    result: dict = {"date": date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                    "command": "bench/query_tag_rule.py " + " ".join(sys.argv[1:]), "index": args.index, "note": args.note,
                    "occurrences": len(occurrences), "forms": len(by_form), "settings": []}
    candidates: dict[str, set[str]] = {}
    for min_n, share in settings:
        tagging.INDEXED_MIN, tagging.INDEXED_SHARE = min_n, share
        answered = same = same_class = same_lemma = plain = 0
        for word, start, lemma, pos in occurrences:
            if " " in word or not _plain_form(word, start):
                continue
            plain += 1
            key = word.casefold()
            if key not in candidates:
                candidates[key] = set(form_lemmas(word))
            counts = Counter({k: v for k, v in by_form[key].items() if k[0] in candidates[key]})
            counts[lemma, pos] -= 1  # leave this occurrence out
            counts = +counts
            tag = indexed_tag(word, counts)
            if tag is None:
                continue
            answered += 1
            same += (tag.lemma, tag.pos) == (lemma, pos)
            same_lemma += tag.lemma == lemma
            same_class += tag.lemma == lemma and pos_class(tag.pos) == pos_class(pos)
        result["settings"].append({
            "min_occurrences": min_n, "min_share": share, "plain_single_words": plain,
            "answered_share": round(answered / max(plain, 1), 4),
            "same_lemma_and_tag": round(same / max(answered, 1), 4),
            "same_lemma_and_class": round(same_class / max(answered, 1), 4),
            "same_lemma": round(same_lemma / max(answered, 1), 4)})
        print(json.dumps(result["settings"][-1]), flush=True)
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
