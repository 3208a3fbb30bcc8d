"""SemCor labelling with and without part of speech: gold tags, the tagger's tags, none.

`senseindex eval semcor` votes among the training occurrences of the held-out occurrence's
lemma and part of speech, the part of speech being SemCor's gold tag. A user's query has no gold
tag: `label` tags it. This runs the same evaluation three ways on one index:

- gold: SemCor's tags (what `eval semcor` reports);
- tagger: each held-out sentence tagged by `tagging.tag_spans`, as a query is (the training
  side keeps its gold tags, as an index of pre-tokenised SemCor does);
- none: `--any-pos`, every labelled occurrence of the lemma votes.

Usage: python bench/eval_semcor_pos.py [--index indexes/semcor] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict

from senseindex import SenseIndex
from senseindex.evaluation.semcor import heldout_documents
from senseindex.text.tagging import pos_class, tag_spans


def tagger_tags(si: SenseIndex, holdout: float) -> tuple[dict[int, str], dict]:
    """The tagger's tag of every gold-labelled held-out occurrence, and how it agrees with gold."""
    db = si.store.db
    rows = db.execute("select o.id, o.start, o.end, o.pos, s.id, s.text, s.section from labels l "
                      "join occurrences o on o.id = l.occurrence_id join sentences s on s.id = o.sentence_id "
                      "where l.source = 'gold' and s.section is not null").fetchall()
    test = set(heldout_documents([r[6] for r in rows], holdout))
    by_sentence: dict[int, list[tuple]] = defaultdict(list)
    texts: dict[int, str] = {}
    for oid, start, end, pos, sid, text, section in rows:
        if section in test:
            by_sentence[sid].append((oid, start, end, pos))
            texts[sid] = text
    sids = sorted(by_sentence)
    started = time.perf_counter()
    tags = tag_spans([texts[s] for s in sids], [[(a, b) for _, a, b, _ in by_sentence[s]] for s in sids])
    seconds = time.perf_counter() - started
    out, right = {}, 0
    for sid, sent_tags in zip(sids, tags, strict=True):
        for (oid, _, _, gold), tag in zip(by_sentence[sid], sent_tags, strict=True):
            out[oid] = tag.pos
            right += pos_class(tag.pos) == pos_class(gold)
    return out, {"occurrences": len(out), "class_agreement": round(100 * right / len(out), 2),
                 "sentences": len(sids), "seconds": round(seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", default="indexes/semcor")
    ap.add_argument("--holdout", type=float, default=0.1)
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    si = SenseIndex.open(args.index)
    tags, tagging = tagger_tags(si, args.holdout)
    runs = {"gold part of speech": si.evaluate_semcor(args.holdout, args.k),
            "tagger's part of speech": si.evaluate_semcor(args.holdout, args.k, test_tags=tags),
            "any part of speech": si.evaluate_semcor(args.holdout, args.k, any_pos=True)}
    if not args.markdown:
        print(json.dumps({"tagging": tagging, **{name: {p: r[p] for p in ("all", "nouns", "verbs")}
                                                 for name, r in runs.items()}}, indent=2))
        return
    print("| part of speech of the held-out occurrence | all k-NN | nouns k-NN | verbs k-NN | all MFS | "
          "coverage (all) | back-off answers: WordNet, one sense (right) | WordNet first of several (right) | "
          "lemma's MFS (right) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in runs.items():
        print(f"| {name} | {r['all']['knn_accuracy']:.2f} | {r['nouns']['knn_accuracy']:.2f} | "
              f"{r['verbs']['knn_accuracy']:.2f} | {r['all']['mfs_accuracy']:.2f} | {r['all']['coverage']:.1f}% | "
              + " | ".join(f"{b['answers']:,} ({b['right']:,})" for b in r["all"]["backoff"].values()) + " |")
    print(f"\nTagger against gold class on the {tagging['occurrences']:,} held-out gold occurrences: "
          f"{tagging['class_agreement']:.2f}% ({tagging['sentences']:,} sentences tagged in {tagging['seconds']} s).")


if __name__ == "__main__":
    main()
