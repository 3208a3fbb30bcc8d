"""The dictionary beside what the pages list: a lemma's WordNet senses with their glosses, and the
WordNet sense each stored occurrence (a search hit) reads as.

Why a module of its own: the pages show many occurrences at once, so the sense of each is scored
in one matrix product per (lemma, part of speech) from vectors already stored in the index, with
the lemma's gloss vectors read once from the cache and the index's supervised sense vectors from
memory. That is milliseconds for a page of hits once a lemma's glosses are cached; no forward
pass runs except the lemma's gloss vectors at their first use.

The score is `label`'s sense-vector score (gloss and supervised cosines, `DictionaryConfig`'s
weights) without the k-NN vote: a hit's own label would vote for itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np

from senseindex.senses.dictionary import DictionaryConfig, index_centroids
from senseindex.senses.knn import POS_NAMES
from senseindex.senses.sense_vectors import (
    GLOSS_ONLY_VARIANT,
    combined_scores,
    gloss_cache,
    sense_matrix,
)
from senseindex.storage.db import select_in
from senseindex.text.inventory import Inventory, load_inventory
from senseindex.text.tagging import pos_class


def lemma_senses(lemma: str, pos: str | None = None, inventory: Inventory | None = None) -> list[dict]:
    """Every WordNet sense of LEMMA (in part of speech POS: n, v, a, r; None: all) as dicts with key,
    synset, gloss and examples, in WordNet's order; [] where WordNet is missing or lacks the lemma."""
    inventory = inventory or load_inventory()
    if inventory is None or not lemma:
        return []
    return [s.to_dict() for s in inventory.senses(lemma, pos if pos in POS_NAMES else None)]


def stored_senses(store, encoder, ids: Iterable[int], inventory: Inventory | None = None,
                  config: DictionaryConfig | None = None) -> dict[int, dict]:
    """{occurrence id: its best WordNet sense (key, synset, gloss, score, of = how many senses
    competed)} for the stored occurrences IDS; an occurrence whose lemma WordNet lacks in its
    tagged part of speech is left out."""
    inventory = inventory or load_inventory()
    ids = [int(i) for i in ids if i is not None]
    if inventory is None or not ids:
        return {}
    config = config or DictionaryConfig()
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for oid, lemma, tag in select_in(store.db, "select o.id, l.lemma, o.pos from occ o join lemmas l "
                                               "on l.id = o.lemma_id where o.id in ({ids})", ids):
        cls = pos_class(tag)
        if cls in POS_NAMES and lemma:
            groups[(lemma, cls)].append(oid)
    if not groups:
        return {}
    centroids = index_centroids(store, inventory)
    cache = gloss_cache(encoder, inventory)
    out: dict[int, dict] = {}
    for (lemma, cls), oids in groups.items():
        senses = inventory.senses(lemma, cls)
        if not senses:
            continue
        sup, _ = sense_matrix(senses, centroids, inventory)
        gloss = cache.vectors(senses, config.variant if sup is not None else GLOSS_ONLY_VARIANT)
        X = store.take(np.asarray(oids, dtype=np.int64))
        scores = combined_scores(X, gloss, sup, config.gloss_weight)
        best = scores.argmax(axis=1)
        for oid, b, row in zip(oids, best, scores, strict=True):
            sense = senses[int(b)]
            out[oid] = {"key": sense.key, "synset": sense.name, "gloss": sense.gloss,
                        "score": round(float(row[b]), 4), "of": len(senses)}
    return out
