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

# How a gloss becomes a vector (measured in bench/eval_dictionary.py). Each text is one forward
# pass per sense ("pass"), read several ways ("variants"):
#   pass "gloss": "lemma: gloss; example; example"
#     token     the lemma's own vector at the head of the text
#     mean      the mean over every subword of the text (the sentence-transformer's own pooling)
#     examples  the lemma's vectors where it occurs inside the examples (else `token`)
#   pass "lmms": LMMS's "lemma - synonyms - gloss", with the hypernyms' names after the synonyms
#     lmms_token, lmms_mean   read as above
# A variant's pass is encoded only when that variant is asked for, so the second pass costs nothing
# to whoever never uses it.
GLOSS_PASSES = {"gloss": ("token", "mean", "examples"), "lmms": ("lmms_token", "lmms_mean")}
GLOSS_VARIANTS = tuple(v for variants in GLOSS_PASSES.values() for v in variants)
PASS_OF = {v: name for name, variants in GLOSS_PASSES.items() for v in variants}
# chosen on SemCor development documents, all of SemCor (docs/benchmarks/22-dictionary.md): with
# labels, the examples variant at gloss weight 0.75 fused with the k-NN vote at 0.25 is the best at
# `label`'s k of 10 (the whole grid's best, at k 20, is 0.3 higher on development documents and 0.2
# lower on test ones: a plateau); with no labels at all the mean over the text is the better gloss
# vector (`mean`), helped by the lemma's unlabelled usage (`usage_scores`). LMMS's text, the
# sentence's vector and centring on the lemma's mean use all did worse.
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


def lmms_text(sense: Sense, hypernym_names: Sequence[str] = ()) -> str:
    """LMMS's gloss string, "lemma - synonyms - gloss", with the hypernyms' first names beside the
    synonyms ("bank - depository financial institution, banking company - financial institution -
    a financial institution that accepts deposits ...")."""
    lemma = _display(sense.lemma)
    synonyms = [_display(n) for n in sense.synset.lemmas if n.lower() != sense.lemma.lower()]
    parts = [lemma]
    if synonyms:
        parts.append(", ".join(synonyms))
    if hypernym_names:
        parts.append(", ".join(_display(n) for n in hypernym_names))
    parts.append(sense.synset.gloss)
    return " - ".join(parts)


def _hypernym_names(sense: Sense, inventory: Inventory | None) -> list[str]:
    if inventory is None:
        return []
    names = []
    for pos, offset in sense.synset.hypernyms[:2]:
        up = inventory.synset(pos, offset)
        if up is not None and up.lemmas:
            names.append(up.lemmas[0])
    return names


def encode_glosses(encoder: WordEncoder, senses: Sequence[Sense], passes: Sequence[str] = ("gloss",),
                   inventory: Inventory | None = None) -> dict[str, np.ndarray]:
    """The vectors of every variant of PASSES for each sense, one forward pass per sense and pass:
    {variant: (len(senses), dim) float32}. (INVENTORY finds the hypernyms' names of the lmms text.)"""
    out: dict[str, np.ndarray] = {}
    if "gloss" in passes:
        texts, spans, inside_counts = [], [], []
        for sense in senses:
            text, head, inside = gloss_text(sense)
            texts.append(text)
            spans.append(head + [(0, len(text))] + inside)
            inside_counts.append(len(inside))
        vecs = encoder.word_vectors(texts, spans)
        for v in GLOSS_PASSES["gloss"]:
            out[v] = np.zeros((len(senses), encoder.dim), np.float32)
        for i, row in enumerate(vecs):
            out["token"][i] = row[0]
            out["mean"][i] = row[1]
            out["examples"][i] = l2_normalise(row[2:].mean(0, keepdims=True))[0] if inside_counts[i] else row[0]
    if "lmms" in passes:
        texts = [lmms_text(s, _hypernym_names(s, inventory)) for s in senses]
        spans = [[(0, len(_display(s.lemma))), (0, len(t))] for s, t in zip(senses, texts, strict=True)]
        vecs = encoder.word_vectors(texts, spans)
        out["lmms_token"] = np.stack([row[0] for row in vecs]).astype(np.float32)
        out["lmms_mean"] = np.stack([row[1] for row in vecs]).astype(np.float32)
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
        """(len(senses), dim) float32 gloss vectors, encoding the missing ones (every variant of the
        variant's pass at once)."""
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
            passed = PASS_OF[variant]
            fresh = encode_glosses(self.encoder, missing, (passed,), self.inventory)
            rows = [(s.key, v, fresh[v][i].astype(np.float16).tobytes())
                    for v in GLOSS_PASSES[passed] for i, s in enumerate(missing)]
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
    keys: dict[str, np.ndarray] = field(default_factory=dict)  # per sense key (LMMS's own unit)

    def __len__(self) -> int:
        return len(self.synsets)


def synset_id(pos: str, offset: int) -> str:
    return f"{offset:08d}-{pos}"


def build_centroids(store, inventory: Inventory, ids: Sequence[int], labels: Sequence[str],
                    batch: int = 20_000, by_key: bool = False) -> Centroids:
    """Synset and lexicographer-file centroids from labelled occurrences (ids with their labels;
    a label holding several sense keys counts for each; labels that are no WordNet 3.0 key are
    skipped), and with BY_KEY one per sense key too. Vectors are read from the store in batches,
    never all at once."""
    where: dict[str, str | None] = {}
    owners: list[tuple[int, str, str]] = []  # (position in ids, synset id, sense key)
    lex_of: dict[str, str] = {}
    for i, label in enumerate(labels):
        for key in split_sense_keys(label):
            if key not in where:
                found = inventory.offset_of(key)
                where[key] = synset_id(*found) if found else None
                if found:
                    lex_of[where[key]] = key_lexname(key) or ""
            if where[key] is not None:
                owners.append((i, where[key], key))
    sums: dict[str, np.ndarray] = {}
    key_sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    ids = np.asarray(ids, dtype=np.int64)
    owners.sort()
    for start in range(0, len(owners), batch):
        part = owners[start:start + batch]
        vecs = store.take(ids[[i for i, _, _ in part]])
        for (_, sid, key), vec in zip(part, vecs, strict=True):
            for table, name in ((sums, sid), (key_sums, key)) if by_key else ((sums, sid),):
                if name in table:
                    table[name] += vec
                else:
                    table[name] = vec.astype(np.float32)
            counts[sid] = counts.get(sid, 0) + 1
    out = Centroids(counts=counts, keys={k: l2_normalise(v[None, :])[0] for k, v in key_sums.items()})
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
              depth: int = HYPERNYM_DEPTH, by_key: bool = False) -> tuple[np.ndarray | None, str]:
    """A supervised vector for SENSE and the level it came from: with BY_KEY "key" (its own sense
    key was labelled, LMMS's first level), then "synset" (its synset was labelled), "hypernym"
    (the mean of the nearest labelled ancestors, up to DEPTH levels), "lexname" (the mean of its
    lexicographer file), or (None, "none")."""
    if by_key and sense.key in centroids.keys:
        return centroids.keys[sense.key], "key"
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


# Gloss-only, helped by the index's own unlabelled occurrences of the lemma (a sample of USAGE_SAMPLE):
# each is assigned softly to the senses by its gloss cosines (softmax at USAGE_TEMPERATURE); the
# soft counts give an estimate of how often each sense is used here (its log, weighted
# USAGE_PRIOR_WEIGHT, is added, like McCarthy et al.'s predominant senses, but from our own vectors)
# and the soft means give a centroid per sense (its cosine, weighted USAGE_CENTROID_WEIGHT). No
# label and no WordNet count is used. Chosen on SemCor development documents
# (bench/dictionary_usage_grid.py, docs/benchmarks/22-dictionary.md): +3 points on polysemous
# lemmas over the gloss cosine alone.
USAGE_SAMPLE = 100
USAGE_TEMPERATURE = 0.01
USAGE_CENTROID_WEIGHT = 0.5
USAGE_PRIOR_WEIGHT = 0.12


def usage_sample(ids: Sequence[int], n: int = USAGE_SAMPLE) -> np.ndarray:
    """At most N occurrence ids spread evenly over IDS (sorted): the same sample on every run."""
    ids = np.sort(np.asarray(ids, np.int64))
    if len(ids) <= n:
        return ids
    return ids[np.linspace(0, len(ids) - 1, n).astype(int)]


def usage_scores(vectors: np.ndarray, gloss: np.ndarray, usage: np.ndarray,
                 temperature: float = USAGE_TEMPERATURE, centroid_weight: float = USAGE_CENTROID_WEIGHT,
                 prior_weight: float = USAGE_PRIOR_WEIGHT) -> np.ndarray:
    """(len(vectors), senses) gloss scores helped by the lemma's unlabelled USAGE vectors (see
    USAGE_SAMPLE): cos(gloss) + centroid_weight·cos(soft usage centroid) + prior_weight·log(soft
    share of usage). With no usage, the gloss cosines alone."""
    base = vectors @ gloss.T
    if not len(usage):
        return base
    s = usage @ gloss.T
    p = np.exp((s - s.max(axis=1, keepdims=True)) / temperature)
    p /= p.sum(axis=1, keepdims=True)
    centroids = l2_normalise(p.T @ usage)
    prior = np.log(p.mean(axis=0) + 1e-3)
    return base + centroid_weight * (vectors @ centroids.T) + prior_weight * prior[None, :]


def vote_shares(votes: dict[str, float], keys: Sequence[str]) -> np.ndarray:
    """A k-NN vote's share for each sense key (a label of several keys splits its share)."""
    where = {k: i for i, k in enumerate(keys)}
    out = np.zeros(len(keys), np.float32)
    for label, share in votes.items():
        parts = [p for p in split_sense_keys(label) if p in where]
        for p in parts:
            out[where[p]] += share / len(parts)
    return out


def sense_matrix(senses: Sequence[Sense], centroids: Centroids | None, inventory: Inventory,
                 by_key: bool = False) -> tuple[np.ndarray | None, list[str]]:
    """Supervised vectors of SENSES ((n, dim), nan rows where none) and their levels."""
    if centroids is None or not len(centroids):
        return None, ["none"] * len(senses)
    rows, levels = [], []
    for sense in senses:
        vec, level = propagate(sense, centroids, inventory, by_key=by_key)
        rows.append(vec)
        levels.append(level)
    dim = next((r.shape[0] for r in rows if r is not None), 0)
    if not dim:
        return None, levels
    return np.stack([r if r is not None else np.full(dim, np.nan, np.float32) for r in rows]), levels


def sense_cosines(vectors: np.ndarray, gloss: np.ndarray, supervised: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(gloss, supervised) cosines, each (rows of VECTORS, senses); supervised is nan where a sense
    has no supervised vector (or none has)."""
    g = vectors @ gloss.T
    s = vectors @ np.nan_to_num(supervised).T if supervised is not None else np.full_like(g, np.nan)
    if supervised is not None:
        s[:, np.isnan(supervised).any(axis=1)] = np.nan
    return g, s


def combined_scores(vectors: np.ndarray, gloss: np.ndarray, supervised: np.ndarray | None,
                    gloss_weight: float = DEFAULT_GLOSS_WEIGHT) -> np.ndarray:
    """(rows of VECTORS, senses) combined scores, as `SenseScores.combined` gives them row by row."""
    return combine(*sense_cosines(vectors, gloss, supervised), gloss_weight)


def score_senses(vectors: np.ndarray, senses: Sequence[Sense], gloss: np.ndarray,
                 supervised: np.ndarray | None, levels: Iterable[str]) -> list[SenseScores]:
    """Scores of each occurrence vector (rows of VECTORS) against the same candidate senses."""
    g, s = sense_cosines(vectors, gloss, supervised)
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
        f"select sense_key from gloss where variant = ? and sense_key in ({','.join('?' * len(keys))})",
        [DEFAULT_VARIANT, *keys])}
    missing = [s for s in senses if s.key not in have]
    if missing:
        cache.vectors(missing)
    if progress is not None:
        progress(len(senses))
    return len(missing)
