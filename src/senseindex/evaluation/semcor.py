"""SemCor: label the gold occurrences of held-out documents from the rest of an index."""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from senseindex.errors import SenseIndexError
from senseindex.senses.knn import DEFAULT_K, knn_vote, most_frequent
from senseindex.storage.labels import label_keys
from senseindex.text.tagging import pos_class
from senseindex.text.wordnet import first_sense, uses_sense_keys

__all__ = ["evaluate_semcor", "gold_rows", "heldout_documents", "pos_class"]


def heldout_documents(sections: Sequence[str], fraction: float = 0.1) -> list[str]:
    """A fixed share of documents, chosen by a hash of their ids: the same on every machine and run."""
    if not 0 < fraction < 1:
        raise SenseIndexError("--holdout must be between 0 and 1")
    ranked = sorted(set(sections), key=lambda s: hashlib.sha256(s.encode()).hexdigest())
    n = max(1, round(len(ranked) * fraction))
    if n >= len(ranked):
        raise SenseIndexError(f"only {len(ranked)} document(s): nothing would be left to train on")
    return sorted(ranked[:n])


def gold_rows(store) -> list[tuple[int, str, str, str, str]]:
    """(occurrence id, lemma, Penn tag, gold label, document id) of every gold label with a document."""
    rows = store.db.execute(
        "select o.id, o.lemma, o.pos, l.label, s.section from labels l "
        "join occurrences o on o.id = l.occurrence_id join sentences s on s.id = o.sentence_id "
        "where l.source = 'gold' and s.section is not null order by o.id").fetchall()
    if not rows:
        raise SenseIndexError(f"{store.path}: no gold labels with a document id (index SemCor's "
                              "pre-tokenised JSONL, whose 'doc' field names the document)")
    return rows


def codec_reader(store, spec: str, seed: int = 0) -> Callable[[np.ndarray], np.ndarray]:
    """Vectors of occurrence ids as an index storing them through codec `spec` would give them
    back to k-NN: the codec is trained on a seeded sample of this index's vectors (at most
    TRAIN_SAMPLE, as an index trains it) and what is read is its faithful tier (the refine codes
    of a two-tier codec, else the decoded search codes). Compares codecs on one index without
    building another (issue 28); exact only when the index keeps exact vectors."""
    from senseindex.storage.store import TRAIN_SAMPLE
    from senseindex.storage.vectors import EXACT, Codec, check_codec

    check_codec(store.dim, spec)
    if spec.lower() in (EXACT, "flat"):
        return store.take
    ids = np.array([r[0] for r in store.db.execute("select id from occ order by id")], np.int64)
    if len(ids) > TRAIN_SAMPLE:
        ids = np.sort(np.random.default_rng(seed).choice(ids, TRAIN_SAMPLE, replace=False))
    codec = Codec.train(np.concatenate([store.take(ids[i:i + 50_000]) for i in range(0, len(ids), 50_000)]),
                        spec, nlist=1, seed=seed)
    return lambda oids: codec.faithful(store.take(oids))


def evaluate_semcor(si, holdout: float = 0.1, k: int = DEFAULT_K, any_pos: bool = False,
                    test_tags: dict[int, str] | None = None, wordnet: bool = True,
                    codec: str | None = None) -> dict:
    """Label the gold occurrences of held-out documents from the rest: k-NN and 1-NN against the
    labelled occurrences of the same lemma and part of speech (any part of speech with
    `any_pos`), beside the most frequent sense of that lemma in the training documents. Where
    the training documents have the lemma but not in that part of speech, every method backs
    off as `label` does: to WordNet's first sense of the lemma in that part of speech (where
    WordNet is installed; `wordnet=False` leaves it out), else to the lemma's most frequent
    sense. A prediction is right when it matches any of the occurrence's gold keys (SemCor gives
    about 700 tokens two). Each part's `backoff` counts the back-off answers and how many were
    right, with WordNet's answers for lemmas of one sense apart: WordNet ordered the senses of the
    others by their SemCor counts, these held-out documents included.

    `test_tags` (occurrence id -> Penn tag) replaces the gold tags of held-out occurrences in the
    vote, as a tagger would tag a query (bench/eval_semcor_pos.py); nouns and verbs are still
    split by the gold tag. `codec` scores the vectors as that codec would store them
    (`codec_reader`)."""
    started = time.perf_counter()
    take = codec_reader(si.store, codec) if codec else si.store.take
    rows = gold_rows(si.store)
    test_docs = set(heldout_documents([r[4] for r in rows], holdout))
    train: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    by_lemma: dict[str, list[str]] = defaultdict(list)
    test: dict[tuple[str, str], list[tuple[int, str, str]]] = defaultdict(list)
    for oid, lemma, pos, label, section in rows:
        tag = test_tags.get(oid, pos) if test_tags is not None and section in test_docs else pos
        key = (lemma, "*" if any_pos else pos_class(tag))
        if section in test_docs:
            test[key].append((oid, label, pos or ""))
        else:
            train[key].append((oid, label))
            by_lemma[lemma].append(label)
    gold_keys = label_keys(si.store.db, [oid for items in test.values() for oid, _, _ in items], "gold")
    results = []  # (pos tag, gold keys, knn, 1nn, mfs, covered, back-off kind or None)
    wordnet = wordnet and uses_sense_keys(si.store.db)
    for key, items in test.items():
        known = train.get(key)
        if not known:
            for oid, _, pos in items:
                found = first_sense(key[0], pos_class(pos) if any_pos else key[1]) if wordnet else None
                if found is not None:
                    fallback, kind = found.key, "wordnet" if found.senses > 1 else "wordnet_one_sense"
                elif key[0] in by_lemma:
                    fallback, kind = most_frequent(by_lemma[key[0]])[0], "lemma_mfs"
                else:
                    fallback, kind = None, None
                results.append((pos, gold_keys[oid], fallback, fallback, fallback, False, kind))
            continue
        labels = [lab for _, lab in known]
        mfs = most_frequent(labels)[0]
        sims = take(np.array([oid for oid, _, _ in items])) @ take(np.array([oid for oid, _ in known])).T
        for (oid, _, pos), row in zip(items, sims, strict=True):
            results.append((pos, gold_keys[oid], knn_vote(row, labels, k)[0], labels[int(row.argmax())], mfs,
                            True, None))

    def score(select: Callable[[str], bool]) -> dict:
        part = [r for r in results if select(r[0])]
        cov = [r for r in part if r[5]]
        out = {"instances": len(part), "covered": len(cov),
               "coverage": round(100 * len(cov) / len(part), 2) if part else 0.0,
               "backed_off": sum(1 for r in part if r[6])}
        out["backoff"] = {kind: {"answers": sum(1 for r in part if r[6] == kind),
                                 "right": sum(1 for r in part if r[6] == kind and r[2] in r[1])}
                          for kind in ("wordnet_one_sense", "wordnet", "lemma_mfs")}
        for name, col in (("knn", 2), ("1nn", 3), ("mfs", 4)):
            hits = sum(1 for r in part if r[col] in r[1])
            covered_hits = sum(1 for r in cov if r[col] in r[1])
            out[f"{name}_accuracy"] = round(100 * hits / len(part), 2) if part else 0.0
            out[f"{name}_accuracy_covered"] = round(100 * covered_hits / len(cov), 2) if cov else 0.0
        return out

    return {
        "dataset": "semcor", "index": str(si.store.path), "model": si.store.manifest["model"],
        "layer": si.store.manifest["layer"], "codec": codec or si.store.manifest.get("codec"),
        "vectors": "codec round trip" if codec else "as stored" + (" (kept exact)" if si.store.keep else ""), "k": k, "holdout": holdout, "any_pos": any_pos, "wordnet": wordnet,
        "test_documents": sorted(test_docs), "train_documents": len({r[4] for r in rows} - test_docs),
        "train_instances": sum(len(v) for v in train.values()),
        "all": score(lambda _pos: True),
        "nouns": score(lambda p: p.upper().startswith("NN")),
        "verbs": score(lambda p: p.upper().startswith("VB")),
        "seconds": round(time.perf_counter() - started, 1),
    }
