"""Which hidden layer serves WordNet senses: a cheap check on a sample of SemCor's test lemmas.

    .venv/bin/python bench/dictionary_layers.py --index indexes/semcor --layers last,10,8,last4

Re-indexing SemCor once per layer does not fit this machine, so this re-encodes only what a sample
needs, once per layer: a seeded sample of polysemous test lemmas (about --senses senses; the same
sample `bench/eval_dictionary.py --test-senses` takes), every test occurrence of them, at most
--train training occurrences per lemma (spread evenly), and their glosses. Per layer it reports,
on the sample's polysemous instances: gloss only (token against the mean-pooled gloss), the k-NN
vote, per-key centroids of the capped training occurrences (gloss where a sense has none) and
their fusion. Training is capped, so the supervised figures sit below the full evaluation's; the
layers are compared with each other, on the same instances. Writes
bench/out/dictionary-layers.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from senseindex import SenseIndex
from senseindex.encoding.encoder import load_encoder
from senseindex.evaluation.dictionary import sample_groups, split
from senseindex.evaluation.semcor import gold_rows
from senseindex.senses.knn import knn_vote
from senseindex.senses.sense_vectors import encode_glosses, vote_shares
from senseindex.storage.db import select_in
from senseindex.storage.labels import label_keys
from senseindex.storage.vectors import l2_normalise
from senseindex.text.inventory import load_inventory
from senseindex.text.tagging import pos_class
from senseindex.text.wordnet import split_sense_keys

OUT = Path(__file__).resolve().parent / "out"


def occurrence_vectors(encoder, db, ids: list[int]) -> dict[int, np.ndarray]:
    """Each occurrence's vector, one forward pass per sentence for all its occurrences asked for."""
    rows = list(select_in(db, "select o.id, o.sentence_id, o.start, o.end, s.text from occ o join sentences s "
                              "on s.id = o.sentence_id where o.id in ({ids})", ids))
    by_sentence: dict[int, list] = defaultdict(list)
    text_of = {}
    for oid, sid, start, end, text in rows:
        by_sentence[sid].append((oid, start, end))
        text_of[sid] = text
    sids = sorted(by_sentence)
    vecs = encoder.word_vectors([text_of[s] for s in sids], [[(a, b) for _, a, b in by_sentence[s]] for s in sids])
    return {oid: v for s, rows_ in zip(sids, vecs, strict=True) for (oid, _, _), v in zip(by_sentence[s], rows_,
                                                                                       strict=True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="indexes/semcor")
    ap.add_argument("--layers", default="last,10,8,last4")
    ap.add_argument("--senses", type=int, default=1500)
    ap.add_argument("--train", type=int, default=30)
    ap.add_argument("--out", default=str(OUT / "dictionary-layers.json"))
    args = ap.parse_args()
    started = time.perf_counter()
    si = SenseIndex.open(args.index)
    inventory = load_inventory()
    rows = gold_rows(si.store)
    scored, train_docs = split([r[4] for r in rows], 0.1, False)
    keep = sample_groups({(r[1], pos_class(r[2])) for r in rows if r[4] in scored}, inventory, args.senses)
    test, train = defaultdict(list), defaultdict(list)
    for oid, lemma, pos, label, section in rows:
        group = (lemma, pos_class(pos))
        if group in keep:
            if section in scored:
                test[group].append(oid)
            elif section in train_docs:
                train[group].append((oid, label))
    for group, items in train.items():  # at most --train per lemma, spread evenly
        if len(items) > args.train:
            train[group] = [items[i] for i in np.linspace(0, len(items) - 1, args.train).astype(int)]
    gold = label_keys(si.store.db, [o for ids in test.values() for o in ids], "gold")
    need = [o for ids in test.values() for o in ids] + [o for items in train.values() for o, _ in items]
    results = {}
    for layer in args.layers.split(","):
        t0 = time.perf_counter()
        encoder = load_encoder(si.store.manifest["model"], layer=layer)
        vec = occurrence_vectors(encoder, si.store.db, need)
        right = defaultdict(int)
        total = 0
        for group, ids in test.items():
            senses = inventory.senses(*group)
            keys = [s.key for s in senses]
            G = l2_normalise(encode_glosses(encoder, senses)["mean"])
            X = np.stack([vec[o] for o in ids])
            known = train.get(group, [])
            labels = [lab for _, lab in known]
            sup = G.copy()
            for j, key in enumerate(keys):
                rows_ = [vec[o] for o, lab in known if key in split_sense_keys(lab)]
                if rows_:
                    sup[j] = l2_normalise(np.mean(rows_, axis=0, keepdims=True))[0]
            L = np.stack([vec[o] for o, _ in known]) if known else np.zeros((0, X.shape[1]), np.float32)
            for r, oid in enumerate(ids):
                g, s = G @ X[r], sup @ X[r]
                votes = vote_shares(knn_vote(L @ X[r], labels, 10)[2], keys) if known else np.zeros(len(keys))
                answers = {"gloss_only": int(np.argmax(g)), "supervised": int(np.argmax(s)),
                           "knn": int(np.argmax(votes)) if votes.any() else -1,
                           "fused": int(np.argmax(0.5 * g + 0.5 * s + 0.25 * votes))}
                for name, a in answers.items():
                    right[name] += a >= 0 and keys[a] in gold[oid]
                total += 1
        results[layer] = {name: round(100 * n / total, 2) for name, n in right.items()}
        results[layer]["seconds"] = round(time.perf_counter() - t0, 1)
        print(layer, json.dumps(results[layer]), flush=True)
    out = {"index": args.index, "model": si.store.manifest["model"], "lemmas": len(test),
           "instances": sum(len(v) for v in test.values()), "train_per_lemma": args.train,
           "train_occurrences": sum(len(v) for v in train.values()), "results": results,
           "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}; 2 cores shared with 4 other engineers",
           "command": f"python bench/dictionary_layers.py --index {args.index} --layers {args.layers} "
                      f"--senses {args.senses} --train {args.train}",
           "seconds": round(time.perf_counter() - started, 1)}
    Path(args.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
