"""A vector for every WordNet sense, LMMS-style, from two sources that complement each other:

- **supervised centroids**: the mean contextual vector of an index's occurrences labelled with a
  sense key (SemCor's gold keys, or a reviewer's labels that are sense keys), pooled per synset so
  synonyms share their examples; a synset nobody labelled takes, in turn, the mean of its nearest
  labelled hypernyms (a satellite adjective: its head adjective), else the mean of its
  lexicographer file (Loureiro & Jorge 2019). These carry the index's own usage but need labels.
- **gloss vectors**: our own encoder reading WordNet's definition and examples. They need no
  labels, so every sense of every lemma gets one; they do not depend on the index, so they are
  cached per model on disk and computed lazily, a lemma at a time.

A sense is scored against an occurrence by a weighted sum of the two cosines (`combine`); the
weight, the gloss text and the pooling were chosen by measurement on SemCor
(docs/benchmarks/22-dictionary.md).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from senseindex.encoding.encoder import WordEncoder, vector_identity
from senseindex.encoding.weights import cache_dir
from senseindex.storage.vectors import l2_normalise
from senseindex.text.inventory import Inventory, Sense, Synset, key_lexname
from senseindex.text.wordnet import split_sense_keys

# How a gloss becomes a vector (measured in bench/eval_dictionary.py):
#   token     the lemma's own vector at the head of "lemma: gloss; example; example"
#   mean      the mean over every subword of that text
#   examples  the lemma's vectors where it occurs inside the examples (else `token`)
# All three come from one forward pass. (LMMS's "lemma - synonyms - gloss" string would need a
# second pass per sense; on this CPU the pass is the whole cost, so it was left out.)
GLOSS_VARIANTS = ("token", "mean", "examples")
# chosen on SemCor development documents (docs/benchmarks/22-dictionary.md): with labels, the
# examples variant at gloss weight 0.75 fused with the k-NN vote at 0.25 scored best; with no
# labels at all the sentence mean is the better gloss vector (`mean`)
DEFAULT_VARIANT = "examples"
DEFAULT_GLOSS_WEIGHT = 0.75  # share of the gloss cosine beside the supervised one
GLOSS_ONLY_VARIANT = "mean"  # where nothing is labelled
HYPERNYM_DEPTH = 8  # how far up an unlabelled synset looks for labelled ancestors


def _display(lemma: str) -> str:
    return lemma.replace("_", " ")


def gloss_text(sense: Sense) -> tuple[str, list[tuple[int, int]], list[tuple[int, int]]]:
    """The text the `token`, `mean` and `examples` variants read: "lemma: gloss; example; ...",
    with the lemma's span at its head and the spans where a form of the lemma occurs in the
    examples (a word starting with the lemma, so *run* finds *runs* and *running*)."""
    lemma = _display(sense.lemma)
    text = f"{lemma}: {sense.synset.gloss}"
    body_start = len(text)
    if sense.synset.examples:
        text += "; " + "; ".join(sense.synset.examples)
    pattern = re.compile(r"\b" + re.escape(lemma) + r"\w*", re.IGNORECASE)
    inside = [(m.start(), m.end()) for m in pattern.finditer(text, body_start)]
    return text, [(0, len(lemma))], inside


def encode_glosses(encoder: WordEncoder, senses: Sequence[Sense]) -> dict[str, np.ndarray]:
    """Every variant's vector for each sense from one forward pass over its gloss text:
    {variant: (len(senses), dim) float32}."""
    texts, spans, inside_counts = [], [], []
    for sense in senses:
        text, head, inside = gloss_text(sense)
        texts.append(text)
        spans.append(head + [(0, len(text))] + inside)
        inside_counts.append(len(inside))
    vecs = encoder.word_vectors(texts, spans)
    out = {v: np.zeros((len(senses), encoder.dim), np.float32) for v in GLOSS_VARIANTS}
    for i, row in enumerate(vecs):
        out["token"][i] = row[0]
        out["mean"][i] = row[1]
        out["examples"][i] = l2_normalise(row[2:].mean(0, keepdims=True))[0] if inside_counts[i] else row[0]
    return out


class GlossCache:
    """Gloss vectors per sense key and variant, for one encoder, in a SQLite file under the cache
    folder: a lemma's vectors are written the first time it is asked for, so the cache fills as
    it is used, concurrent readers are safe and an interrupted precompute keeps what it wrote.
    Vectors are raw float16 bytes read back with numpy (nothing is unpickled)."""

    def __init__(self, encoder: WordEncoder, inventory: Inventory, folder: Path | None = None):
        self.encoder, self.inventory = encoder, inventory
        identity = vector_identity(encoder)
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
        folder = Path(folder) if folder is not None else cache_dir() / "glosses"
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{digest}.db"
        self._lock = threading.Lock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, timeout=60)
        self.db.execute("pragma journal_mode=wal")
        self.db.execute("create table if not exists meta (key text primary key, value text)")
        self.db.execute("create table if not exists gloss (sense_key text, variant text, vec blob, "
                        "primary key (sense_key, variant))")
        self.db.execute("insert or ignore into meta values ('identity', ?)", (json.dumps(identity),))
        self.db.commit()

    def vectors(self, senses: Sequence[Sense], variant: str = DEFAULT_VARIANT) -> np.ndarray:
        """(len(senses), dim) float32 gloss vectors, encoding (every variant of) the missing ones."""
        if variant not in GLOSS_VARIANTS:
            raise ValueError(f"unknown gloss variant {variant!r} (one of {', '.join(GLOSS_VARIANTS)})")
        out = np.zeros((len(senses), self.encoder.dim), np.float32)
        if not senses:
            return out
        keys = [s.key for s in senses]
        with self._lock:
            found = dict(self.db.execute(
                f"select sense_key, vec from gloss where variant = ? and sense_key in ({','.join('?' * len(keys))})",
                [variant, *keys]).fetchall())
        missing = [s for s in senses if s.key not in found]
        if missing:
            fresh = encode_glosses(self.encoder, missing)
            rows = [(s.key, v, fresh[v][i].astype(np.float16).tobytes())
                    for v in GLOSS_VARIANTS for i, s in enumerate(missing)]
            with self._lock:
                self.db.executemany("insert or replace into gloss values (?, ?, ?)", rows)
                self.db.commit()
            for i, s in enumerate(missing):
                found[s.key] = fresh[variant][i].astype(np.float16).tobytes()
        for i, key in enumerate(keys):
            out[i] = np.frombuffer(found[key], dtype=np.float16)
        return l2_normalise(out)

    def cached(self) -> int:
        """How many sense keys have gloss vectors here."""
        return self.db.execute("select count(distinct sense_key) from gloss").fetchone()[0]


_GLOSS_CACHES: dict[tuple, GlossCache] = {}
_GLOSS_CACHES_LOCK = threading.Lock()


def gloss_cache(encoder: WordEncoder, inventory: Inventory) -> GlossCache:
    """The process's GlossCache for this encoder, inventory and cache folder: opening one (a SQLite
    connection, its schema, a commit) costs milliseconds, which `label` would pay on every call.
    The key holds the objects themselves, so an id is never reused while its entry lives."""
    folder = cache_dir() / "glosses"
    key = (id(encoder), id(inventory), str(folder))
    with _GLOSS_CACHES_LOCK:
        found = _GLOSS_CACHES.get(key)
        if found is None or found.encoder is not encoder or found.inventory is not inventory:
            if len(_GLOSS_CACHES) >= 8:
                _GLOSS_CACHES.pop(next(iter(_GLOSS_CACHES)))
            found = _GLOSS_CACHES[key] = GlossCache(encoder, inventory, folder)
        return found


@dataclass
class Centroids:
    """Supervised sense vectors: unit mean vectors per synset id and per lexicographer file."""

    synsets: dict[str, np.ndarray] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # labelled occurrences behind each synset
    lexnames: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.synsets)


def synset_id(pos: str, offset: int) -> str:
    return f"{offset:08d}-{pos}"


def build_centroids(store, inventory: Inventory, ids: Sequence[int], labels: Sequence[str],
                    batch: int = 20_000) -> Centroids:
    """Synset and lexicographer-file centroids from labelled occurrences (ids with their labels;
    a label holding several sense keys counts for each; labels that are no WordNet 3.0 key are
    skipped). Vectors are read from the store in batches, never all at once."""
    where: dict[str, str | None] = {}
    owners: list[tuple[int, str]] = []  # (position in ids, synset id)
    lex_of: dict[str, str] = {}
    for i, label in enumerate(labels):
        for key in split_sense_keys(label):
            if key not in where:
                found = inventory.offset_of(key)
                where[key] = synset_id(*found) if found else None
                if found:
                    lex_of[where[key]] = key_lexname(key) or ""
            if where[key] is not None:
                owners.append((i, where[key]))
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    ids = np.asarray(ids, dtype=np.int64)
    owners.sort()
    for start in range(0, len(owners), batch):
        part = owners[start:start + batch]
        vecs = store.take(ids[[i for i, _ in part]])
        for (_, sid), vec in zip(part, vecs, strict=True):
            if sid in sums:
                sums[sid] += vec
            else:
                sums[sid] = vec.astype(np.float32)
            counts[sid] = counts.get(sid, 0) + 1
    out = Centroids(counts=counts)
    lex_sums: dict[str, np.ndarray] = {}
    for sid, total in sums.items():
        unit = l2_normalise(total[None, :])[0]
        out.synsets[sid] = unit
        lex = lex_of.get(sid, "")
        lex_sums[lex] = lex_sums[lex] + unit if lex in lex_sums else unit.copy()
    out.lexnames = {lex: l2_normalise(v[None, :])[0] for lex, v in lex_sums.items() if lex}
    return out


def _neighbours_up(synset: Synset) -> list[tuple[str, int]]:
    """Where propagation looks next: hypernyms, and a satellite adjective's head."""
    up = list(synset.hypernyms)
    if synset.pos == "s":
        up += list(synset.similar)
    return up


def propagate(sense: Sense, centroids: Centroids, inventory: Inventory,
              depth: int = HYPERNYM_DEPTH) -> tuple[np.ndarray | None, str]:
    """A supervised vector for SENSE and the level it came from: "synset" (its synset was
    labelled), "hypernym" (the mean of the nearest labelled ancestors, up to DEPTH levels),
    "lexname" (the mean of its lexicographer file), or (None, "none")."""
    sid = sense.synset.id
    if sid in centroids.synsets:
        return centroids.synsets[sid], "synset"
    frontier, seen = _neighbours_up(sense.synset), {sid}
    for _ in range(depth):
        frontier = [p for p in dict.fromkeys(frontier) if synset_id(*p) not in seen]
        if not frontier:
            break
        found = [centroids.synsets[synset_id(*p)] for p in frontier if synset_id(*p) in centroids.synsets]
        if found:
            return l2_normalise(np.mean(found, axis=0, keepdims=True))[0], "hypernym"
        seen.update(synset_id(*p) for p in frontier)
        nxt = []
        for pos, offset in frontier:
            up = inventory.synset(pos, offset)
            if up is not None:
                nxt += _neighbours_up(up)
        frontier = nxt
    lex = centroids.lexnames.get(sense.synset.lexname)
    return (lex, "lexname") if lex is not None else (None, "none")


@dataclass
class SenseScores:
    """Each candidate sense's cosines with one occurrence, and how they combine."""

    senses: list[Sense]
    supervised: np.ndarray  # cosine with the (propagated) supervised vector; nan where none
    gloss: np.ndarray  # cosine with the gloss vector
    levels: list[str]  # propagation level of each supervised vector

    def combined(self, gloss_weight: float = DEFAULT_GLOSS_WEIGHT) -> np.ndarray:
        return combine(self.gloss, self.supervised, gloss_weight)


def combine(gloss: np.ndarray, supervised: np.ndarray, gloss_weight: float = DEFAULT_GLOSS_WEIGHT) -> np.ndarray:
    """w·gloss + (1−w)·supervised cosines, the gloss cosine alone where a sense has no supervised
    vector (nan). For unit vectors this is what LMMS's concatenation [c; g]·[v; v] ranks by, at w = 0.5."""
    return gloss_weight * gloss + (1 - gloss_weight) * np.where(np.isnan(supervised), gloss, supervised)


def vote_shares(votes: dict[str, float], keys: Sequence[str]) -> np.ndarray:
    """A k-NN vote's share for each sense key (a label of several keys splits its share)."""
    where = {k: i for i, k in enumerate(keys)}
    out = np.zeros(len(keys), np.float32)
    for label, share in votes.items():
        parts = [p for p in split_sense_keys(label) if p in where]
        for p in parts:
            out[where[p]] += share / len(parts)
    return out


def sense_matrix(senses: Sequence[Sense], centroids: Centroids | None, inventory: Inventory
                 ) -> tuple[np.ndarray | None, list[str]]:
    """Supervised vectors of SENSES ((n, dim), nan rows where none) and their levels."""
    if centroids is None or not len(centroids):
        return None, ["none"] * len(senses)
    rows, levels = [], []
    for sense in senses:
        vec, level = propagate(sense, centroids, inventory)
        rows.append(vec)
        levels.append(level)
    dim = next((r.shape[0] for r in rows if r is not None), 0)
    if not dim:
        return None, levels
    return np.stack([r if r is not None else np.full(dim, np.nan, np.float32) for r in rows]), levels


def score_senses(vectors: np.ndarray, senses: Sequence[Sense], gloss: np.ndarray,
                 supervised: np.ndarray | None, levels: Iterable[str]) -> list[SenseScores]:
    """Scores of each occurrence vector (rows of VECTORS) against the same candidate senses."""
    g = vectors @ gloss.T
    s = vectors @ np.nan_to_num(supervised).T if supervised is not None else np.full_like(g, np.nan)
    if supervised is not None:
        s[:, np.isnan(supervised).any(axis=1)] = np.nan
    levels = list(levels)
    return [SenseScores(list(senses), s[i], g[i], levels) for i in range(len(vectors))]


def precompute_glosses(cache: GlossCache, lemmas: Iterable[str] | None = None, limit: int | None = None,
                       batch: int = 256, progress=None) -> dict:
    """Encode the gloss vectors of every sense of LEMMAS (default: all of WordNet) that the cache
    lacks, BATCH senses per forward pass; `progress(n)` is called with each batch's size. Returns
    what was done and the rate, from which the time for all of WordNet follows."""
    import time

    started = time.perf_counter()
    pending: list[Sense] = []
    seen = encoded = senses = 0
    lemmas = cache.inventory.iter_lemmas() if lemmas is None else lemmas
    for lemma in lemmas:
        if limit is not None and seen >= limit:
            break
        seen += 1
        found = cache.inventory.senses(lemma)
        senses += len(found)
        pending += found
        if len(pending) >= batch:
            encoded += _fill(cache, pending, progress)
            pending = []
    if pending:
        encoded += _fill(cache, pending, progress)
    seconds = time.perf_counter() - started
    return {"lemmas": seen, "senses": senses, "encoded": encoded, "seconds": round(seconds, 1),
            "senses_per_second": round(encoded / seconds, 2) if encoded and seconds else None,
            "cache": str(cache.path)}


def _fill(cache: GlossCache, senses: list[Sense], progress) -> int:
    keys = [s.key for s in senses]
    have = {k for (k,) in cache.db.execute(
        f"select distinct sense_key from gloss where sense_key in ({','.join('?' * len(keys))})", keys)}
    missing = [s for s in senses if s.key not in have]
    if missing:
        cache.vectors(missing)
    if progress is not None:
        progress(len(senses))
    return len(missing)
