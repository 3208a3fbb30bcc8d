"""`label` over the whole dictionary: any lemma WordNet lists is answered from its context.

Each of the lemma's WordNet senses in the target's part of speech is scored by its sense vectors
(gloss cosine and supervised cosine, `sense_vectors`) plus the share of the k-NN vote of the
lemma's labelled occurrences that names it; the highest score answers. Which evidence agreed with
the answer is reported, so a reader sees whether labels or the dictionary decided.

An index whose labels are the user's own names (skin/spy), a target of unknown part of speech, or
a lemma WordNet lacks is answered as before (`knn.predict`), so nothing changes for them.

The supervised centroids of an index are computed once from its labelled occurrences and kept in
the index folder as safetensors (sense-centroids.safetensors), stamped with a fingerprint of the
labels table: a label added or changed makes the next `label` rebuild them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from senseindex.senses.knn import (
    POS_NAMES,
    Prediction,
    labelled_in_class,
    predict,
    target_vector,
    vote_neighbours,
)
from senseindex.senses.search import Target
from senseindex.senses.sense_vectors import (
    DEFAULT_GLOSS_WEIGHT,
    DEFAULT_VARIANT,
    GLOSS_ONLY_VARIANT,
    Centroids,
    build_centroids,
    gloss_cache,
    score_senses,
    sense_matrix,
    usage_sample,
    usage_scores,
    vote_shares,
)
from senseindex.storage.db import change_stamp
from senseindex.storage.labels import VOTING_SOURCES
from senseindex.text.inventory import Inventory, Sense, load_inventory
from senseindex.text.wordnet import SENSE_KEY, VERSION

DEFAULT_KNN_WEIGHT = 0.25  # weight of the k-NN vote share beside the sense-vector score (measured)
CENTROIDS_FILE = "sense-centroids.safetensors"
TEMPERATURE = 0.05  # softmax temperature that turns scores into the displayed confidence


@dataclass(frozen=True)
class DictionaryConfig:
    variant: str = DEFAULT_VARIANT
    gloss_weight: float = DEFAULT_GLOSS_WEIGHT
    knn_weight: float = DEFAULT_KNN_WEIGHT


def labels_fingerprint(db) -> str:
    """Changes whenever a voting label is added, removed or changed."""
    marks = ",".join("?" * len(VOTING_SOURCES))
    row = db.execute(f"select count(*), max(updated), total(occurrence_id) from labels where source in ({marks})",
                     list(VOTING_SOURCES)).fetchone()
    return json.dumps(list(row))


def _sense_key_labels(db) -> tuple[list[int], list[str]]:
    """Occurrences whose label in effect (review over gold) is a WordNet sense key."""
    marks = ",".join("?" * len(VOTING_SOURCES))
    best: dict[int, tuple[int, str]] = {}
    for oid, label, source in db.execute(
            f"select occurrence_id, label, source from labels where source in ({marks})", list(VOTING_SOURCES)):
        rank = VOTING_SOURCES.index(source)
        if oid not in best or rank < best[oid][0]:
            best[oid] = (rank, label)
    items = sorted((oid, label) for oid, (_, label) in best.items() if SENSE_KEY.match(label or ""))
    return [oid for oid, _ in items], [label for _, label in items]


_MEMORY: dict[tuple[str, str], Centroids] = {}
# (index path, connection id) -> (database change stamp, labels fingerprint then); a few entries,
# one per connection (the web serves an index from two), the oldest dropped first
_STAMPS: dict[tuple[str, int], tuple[tuple, str]] = {}


def _fingerprint(store) -> str:
    """labels_fingerprint, recomputed only when the database changed since the last call on this
    connection (it scans the labels table: about 30 ms on SemCor, most of `label`'s time beyond
    the model)."""
    stamp = change_stamp(store.db)
    key = (str(store.path), id(stamp[0]))
    known = _STAMPS.get(key)
    if known is not None and known[0] == stamp:
        return known[1]
    fingerprint = labels_fingerprint(store.db)
    _STAMPS.pop(key, None)
    while len(_STAMPS) >= 8:
        _STAMPS.pop(next(iter(_STAMPS)))
    _STAMPS[key] = (stamp, fingerprint)
    return fingerprint


def index_centroids(store, inventory: Inventory) -> Centroids:
    """The index's supervised sense vectors: from memory, else its safetensors file if the labels
    are unchanged since it was written, else built from the labelled occurrences (and saved)."""
    from safetensors.numpy import load_file, save_file

    fingerprint = _fingerprint(store)
    mem_key = (str(store.path), fingerprint)
    if mem_key in _MEMORY:
        return _MEMORY[mem_key]
    path = Path(store.path) / CENTROIDS_FILE
    centroids = None
    if path.exists():
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as fh:
            meta = fh.metadata() or {}
        if meta.get("fingerprint") == fingerprint:
            tensors = load_file(str(path))
            ids, lexes = json.loads(meta["synsets"]), json.loads(meta["lexnames"])
            counts = json.loads(meta["counts"])
            centroids = Centroids(
                {sid: tensors["synsets"][i].astype(np.float32) for i, sid in enumerate(ids)},
                dict(zip(ids, counts, strict=True)),
                {lex: tensors["lexnames"][i].astype(np.float32) for i, lex in enumerate(lexes)})
    if centroids is None:
        ids, labels = _sense_key_labels(store.db)
        centroids = build_centroids(store, inventory, ids, labels)
        if len(centroids):
            synsets, lexes = list(centroids.synsets), list(centroids.lexnames)
            tmp = path.with_suffix(".tmp")
            save_file({"synsets": np.stack([centroids.synsets[s] for s in synsets]).astype(np.float16),
                       "lexnames": np.stack([centroids.lexnames[x] for x in lexes]).astype(np.float16)},
                      str(tmp), metadata={"fingerprint": fingerprint, "synsets": json.dumps(synsets),
                                          "lexnames": json.dumps(lexes),
                                          "counts": json.dumps([centroids.counts[s] for s in synsets])})
            tmp.replace(path)
    _MEMORY.clear()
    _MEMORY[mem_key] = centroids
    return centroids


def lemma_usage(store, lemma: str, cls: str) -> np.ndarray:
    """Vectors of a sample of the index's occurrences of LEMMA in part of speech CLS (see
    `sense_vectors.usage_scores`)."""
    from senseindex.text.tagging import pos_class

    lid = store.lemma_id(lemma)
    if lid is None:
        return np.zeros((0, store.dim), np.float32)
    removed = store.removed(lid)
    ids = [oid for oid, pos in store.db.execute("select id, pos from occ where lemma_id = ?", [lid])
           if pos_class(pos) == cls and oid not in removed]
    return store.take(usage_sample(ids)) if ids else np.zeros((0, store.dim), np.float32)


def has_user_labels(db) -> bool:
    """Labels that are not WordNet sense keys (the user's own names): those indexes keep k-NN."""
    rows = db.execute("select label from labels limit 20").fetchall()
    return any(not SENSE_KEY.match(label or "") for (label,) in rows)


def predict_with_dictionary(store, encoder, target: Target, k: int = 10, min_score: float = 0.0,
                            any_pos: bool = False, config: DictionaryConfig | None = None,
                            inventory: Inventory | None = None) -> Prediction | None:
    """The sense of the target among WordNet's senses of its lemma (see the module's docstring);
    `knn.predict` where the dictionary does not apply."""
    cls = target.pos_class
    inventory = inventory or load_inventory()
    if any_pos or cls not in POS_NAMES or inventory is None or has_user_labels(store.db):
        return predict(store, encoder, target, k, min_score, any_pos)
    senses = inventory.senses(target.lemma, cls)
    if not senses:
        return predict(store, encoder, target, k, min_score, any_pos)
    config = config or DictionaryConfig()
    what = f"{target.lemma!r} as a {POS_NAMES[cls]}"
    if len(senses) == 1:
        return _answer(target, senses[0], 1.0, 1.0, "only-sense", k, 0, {}, [], cls,
                       f"{VERSION} lists one sense of {what}", {"only_sense": senses[0].key})
    vec = target_vector(encoder, target)
    ids, labels = labelled_in_class(store.db, target.lemma, cls)
    votes, hits = {}, []
    if len(ids):
        _, _, votes, hits = vote_neighbours(store, ids, labels, vec, k, min_score)
    centroids = index_centroids(store, inventory)
    labelled = bool(len(centroids) or len(ids))
    gloss = gloss_cache(encoder, inventory).vectors(senses, config.variant if labelled else GLOSS_ONLY_VARIANT)
    sup, levels = sense_matrix(senses, centroids, inventory)
    scores = score_senses(vec[None, :], senses, gloss, sup, levels)[0]
    if not labelled:  # nothing labelled: the gloss cosines, helped by the lemma's unlabelled usage
        scores.gloss = usage_scores(vec[None, :], gloss, lemma_usage(store, target.lemma, cls))[0]
    shares = vote_shares(votes, [s.key for s in senses])
    total = scores.combined(config.gloss_weight) + config.knn_weight * shares
    best = int(np.argmax(total))
    probs = np.exp((total - total.max()) / TEMPERATURE)
    probs /= probs.sum()
    evidence = {"gloss": senses[int(np.argmax(scores.gloss))].key}
    if sup is not None:
        evidence["supervised"] = senses[int(np.nanargmax(np.where(np.isnan(scores.supervised), -9,
                                                                  scores.supervised)))].key
        evidence["supervised_level"] = levels[best]
    if shares.any():
        evidence["knn"] = senses[int(np.argmax(shares))].key
    agreed = [name for name in ("knn", "supervised", "gloss") if evidence.get(name) == senses[best].key]
    parts = []
    if len(ids):
        parts.append(f"k-NN vote of {len(hits)} nearest of {len(ids):,} labelled occurrences")
    if sup is not None:
        parts.append(f"sense vectors ({levels[best]} level)")
    parts.append("gloss vectors")
    basis = (f"{VERSION}'s {len(senses)} senses of {what}, scored by " + ", ".join(parts)
             + (f"; agreeing: {', '.join(agreed)}" if agreed else ""))
    evidence["agreeing"] = agreed
    return _answer(target, senses[best], float(probs[best]), float(total[best]), "dictionary", k, len(ids),
                   {s.key: float(p) for s, p in sorted(zip(senses, probs, strict=True), key=lambda x: -x[1])
                    if p >= 0.005}, hits, cls, basis, evidence)


def _answer(target, sense: Sense, confidence: float, score: float, method: str, k: int, labelled: int,
            votes: dict, hits: list, cls: str, basis: str, evidence: dict) -> Prediction:
    return Prediction(target, sense.key, confidence, method, k, labelled, votes or {sense.key: confidence}, hits,
                      pos=cls, basis=basis, sense=sense.to_dict(), score=round(score, 4), evidence=evidence)


def occurrence_senses(encoder, targets: list[Target], vectors: np.ndarray, store=None,
                      inventory: Inventory | None = None, config: DictionaryConfig | None = None) -> list[dict | None]:
    """The WordNet sense each marked occurrence reads as (key, synset, gloss, score; None where
    WordNet lacks its lemma in its part of speech): gloss vectors, plus the supervised sense vectors
    of STORE's sense-key labels when there is one."""
    inventory = inventory or load_inventory()
    config = config or DictionaryConfig()
    out: list[dict | None] = []
    for target, vec in zip(targets, vectors, strict=True):
        cls = target.pos_class
        senses = inventory.senses(target.lemma, cls) if inventory is not None and cls in POS_NAMES else []
        if not senses:
            out.append(None)
            continue
        sup, levels = sense_matrix(senses, index_centroids(store, inventory), inventory) if store is not None \
            else (None, ["none"] * len(senses))
        gloss = gloss_cache(encoder, inventory).vectors(senses, config.variant if sup is not None
                                                       else GLOSS_ONLY_VARIANT)
        total = score_senses(vec[None, :], senses, gloss, sup, levels)[0].combined(config.gloss_weight)
        best = int(np.argmax(total))
        out.append({**senses[best].to_dict(), "score": round(float(total[best]), 4), "of": len(senses)})
    return out


def same_sense(senses: list[dict | None]) -> list[list[bool | None]]:
    """Whether each pair of occurrences reads as the same WordNet sense (None: either has none)."""
    return [[None if a is None or b is None else a["synset_id"] == b["synset_id"] for b in senses] for a in senses]
