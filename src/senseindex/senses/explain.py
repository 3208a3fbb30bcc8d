"""The one-vector-per-word demo in numbers: cosine matrices and nearest words per occurrence."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from senseindex.encoding.glove import GLOVE_NAME, static_neighbours
from senseindex.errors import SenseIndexError
from senseindex.senses.search import Target, parse_target
from senseindex.storage.db import select_in
from senseindex.text.words import is_stopword


def targets_of(sentences: list[str]) -> list[Target]:
    if len(sentences) < 2:
        raise SenseIndexError("give two or more sentences, each with a marked word like [mole]")
    out = []
    for s in sentences:
        if "[" not in s:
            raise SenseIndexError(f"mark the word in: {s!r} (e.g. [mole])")
        out.append(parse_target(s))
    return out


def contextual_neighbours(store, vec: np.ndarray, lemma: str, n: int = 8, pool: int = 400) -> list[tuple[str, float]]:
    """Other lemmas whose occurrences sit nearest this occurrence vector (best score per lemma)."""
    keep = store.search(vec, pool, None, exclude=store.removed())
    if not keep:
        return []
    lemmas = dict(select_in(store.db, "select o.id, l.lemma from occ o join lemmas l on l.id = o.lemma_id "
                                      "where o.id in ({ids})", [i for i, _ in keep]))
    best: dict[str, float] = defaultdict(float)
    for i, s in keep:
        lem = lemmas.get(i)
        if lem and lem != lemma and not is_stopword(lem) and s > best[lem]:
            best[lem] = s
    return sorted(best.items(), key=lambda x: -x[1])[:n]


def explain(encoder, glove, sentences: list[str], store=None, neighbours: int = 8) -> dict:
    """Contextual and static cosine matrices of the marked words and, with a store, their nearest words."""
    targets = targets_of(sentences)
    vecs = np.stack([encoder.word_vectors([t.text], [[(t.start, t.end)]])[0][0] for t in targets])
    contextual = vecs @ vecs.T
    static_vecs = [glove.vector(t.word) for t in targets]
    static = np.array([[float(a @ b) if a is not None and b is not None else float("nan")
                        for b in static_vecs] for a in static_vecs])
    items = []
    for t, v in zip(targets, vecs, strict=True):
        item = {"sentence": t.text, "word": t.word, "lemma": t.lemma, "start": t.start, "end": t.end}
        if store is not None:
            item["contextual_neighbours"] = [
                {"word": w, "score": round(s, 4)} for w, s in contextual_neighbours(store, v, t.lemma, neighbours)]
            item["static_neighbours"] = [
                {"word": w, "score": s} for w, s in static_neighbours(store, glove, t.word, neighbours)]
        items.append(item)
    from senseindex.senses.dictionary import occurrence_senses, same_sense

    senses = occurrence_senses(encoder, targets, vecs, store)
    for item, sense in zip(items, senses, strict=True):
        item["wordnet_sense"] = sense
    return {
        "same_wordnet_sense": same_sense(senses),
        "model": encoder.name,
        "layer": encoder.layer,
        "static_model": GLOVE_NAME,
        "occurrences": items,
        "contextual_cosine": np.round(contextual, 4).tolist(),
        "static_cosine": [[None if np.isnan(x) else round(x, 4) for x in row] for row in static],
    }
