"""Word sense induction: group the occurrences of one lemma into senses without labels.

Method (measured on CoarseWSD-20 in BENCHMARKS.md):

* Ward agglomerative clustering of the L2-normalised occurrence vectors. Ward merges the pair
  of groups whose union adds the least squared error, so a small but distinct sense (the 4% of
  *bank* that is a river bank) survives until late, while the big sense is not carved into
  topical slices the way k-means + silhouette on mean-centred vectors does. Ward is
  translation invariant, so the large shared "this is *mole*" component needs no centring.
* The number of senses (``k="auto"``) is read off the tree: the cut below the largest relative
  jump in merge height, ``h(k-1) / h(k)``, for k in 2..k_max, among cuts whose clusters all hold
  at least ``min_size`` occurrences (a few odd sentences are never a sense). When even the best
  jump is below ``SPLIT_RATIO`` the word is called single-sense (k=1).
* With ``k=N`` the tree is cut into N clusters; clusters smaller than ``min_size`` are merged
  into the nearest remaining centroid, so fewer than N may come back.
* Large words: the tree is built on a seeded random sample of ``SAMPLE`` occurrences and every
  occurrence is then assigned to the nearest sample-cluster centroid (one pass, chunked), so
  memory and time stay flat up to 100,000 occurrences and beyond.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np

from senseindex.errors import SenseIndexError
from senseindex.storage.db import OCCURRENCE_JOIN, select_in
from senseindex.storage.vectors import l2_normalise
from senseindex.text.words import FILLER, STOPWORDS, lemmatize

SAMPLE = 4000  # occurrences the Ward tree is built on; the rest join the nearest centroid
K_MAX = 8
SPLIT_RATIO = 1.25  # the largest relative jump in merge height must reach this to split at all
NAME_SAMPLE = 1000  # occurrences per cluster whose collocates name it (all of them took 1.3 s of 3.3 at 10,000)
MIN_SHARE = 0.01  # default min-size: 1% of the occurrences, at least 2


def default_min_size(n: int) -> int:
    return max(2, math.ceil(MIN_SHARE * n))


@dataclass
class Clustering:
    labels: np.ndarray  # cluster per row, 0 = largest
    centroids: np.ndarray  # (k, dim), L2-normalised
    similarity: np.ndarray  # cosine of each row to its cluster centroid
    k: int
    how: str  # how k was chosen, in words
    heights: list[float]  # top merge heights of the Ward tree, highest first
    sampled: int | None  # sample size when the tree was built on a sample


def _cut(Z: np.ndarray, k: int) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster

    return fcluster(Z, k, "maxclust") - 1


def choose_k(Z: np.ndarray, n: int, min_size: int, k_max: int = K_MAX,
             split_ratio: float = SPLIT_RATIO) -> tuple[int, str]:
    """k from a Ward tree: the largest relative jump in merge height among cuts without tiny clusters."""
    if n < 2 * min_size:
        return 1, f"k=1: fewer than 2 x min-size ({min_size}) occurrences"
    heights = Z[::-1, 2]  # heights[j] merges j+2 clusters into j+1
    best, best_ratio = 1, 0.0
    for k in range(2, min(k_max, n - 1) + 1):
        sizes = np.bincount(_cut(Z, k))
        if len(sizes) < k or sizes.min() < min_size:
            continue
        ratio = float(heights[k - 2] / max(heights[k - 1], 1e-12))
        if ratio > best_ratio:
            best, best_ratio = k, ratio
    if best_ratio < split_ratio:
        return 1, f"k=1: no jump in Ward merge height reaches {split_ratio} (best {best_ratio:.2f})"
    return best, f"largest jump in Ward merge height (x{best_ratio:.2f}) over k=2..{k_max}, clusters >= {min_size}"


def cluster_vectors(X: np.ndarray, k: int | str = "auto", min_size: int | None = None, seed: int = 0,
                    k_max: int = K_MAX, sample: int = SAMPLE, split_ratio: float = SPLIT_RATIO) -> Clustering:
    """Cluster L2-normalised vectors into senses (see the module docstring for the method)."""
    from scipy.cluster.hierarchy import linkage

    X = np.asarray(X, dtype=np.float32)
    n = len(X)
    if n == 0:
        raise SenseIndexError("no occurrences to cluster")
    min_size = default_min_size(n) if min_size is None else max(1, int(min_size))
    if n == 1:
        return Clustering(np.zeros(1, int), l2_normalise(X), np.ones(1, np.float32), 1, "k=1: one occurrence", [], None)
    sampled = None
    rows = np.arange(n)
    if n > sample:
        rows = np.sort(np.random.default_rng(seed).choice(n, sample, replace=False))
        sampled = sample
    S = X[rows].astype(np.float64)
    Z = linkage(_distances(S), "ward")
    m = len(S)
    sample_min = max(1, round(min_size * m / n))
    if k == "auto":
        k_sel, how = choose_k(Z, m, sample_min, k_max, split_ratio)
    else:
        k_sel, how = max(1, min(int(k), m)), f"k={int(k)} given"
    lab = _cut(Z, k_sel) if k_sel > 1 else np.zeros(m, int)
    cents = np.stack([S[lab == c].mean(0) for c in range(lab.max() + 1)])
    labels = _assign(X, cents) if sampled else lab
    # clusters below min-size join the nearest bigger one (only reachable with a fixed k or after assignment)
    while True:
        sizes = np.bincount(labels, minlength=len(cents))
        small = [c for c in np.argsort(sizes, kind="stable") if 0 < sizes[c] < min_size]
        alive = [c for c in range(len(cents)) if sizes[c] > 0]
        if not small or len(alive) < 2:
            break
        c = small[0]  # the smallest joins the nearest other cluster, which may then be big enough
        others = np.array([o for o in alive if o != c])
        target = others[np.argmax(l2_normalise(cents[others]) @ l2_normalise(cents[c : c + 1])[0])]
        labels = np.where(labels == c, target, labels)
        how += f"; a cluster of {sizes[c]} (< min-size {min_size}) merged into its nearest"
        cents = np.stack([X[labels == c2].mean(0) if (labels == c2).any() else cents[c2] for c2 in range(len(cents))])
    labels = _renumber(labels)
    k_final = int(labels.max()) + 1
    cents = l2_normalise(np.stack([X[labels == c].mean(0) for c in range(k_final)])).astype(np.float32)
    sim = np.einsum("ij,ij->i", X, cents[labels]).astype(np.float32)
    return Clustering(labels, cents, sim, k_final, how, [round(float(h), 4) for h in Z[::-1, 2][:k_max]], sampled)


def _distances(S: np.ndarray) -> np.ndarray:
    """Condensed Euclidean distances through one matrix product (BLAS, all cores): scipy's pdist
    loops pair by pair and took 90% of `senses` on a lemma of 10,000 occurrences."""
    from scipy.spatial.distance import squareform

    sq = np.einsum("ij,ij->i", S, S)
    D = S @ S.T
    D *= -2
    D += sq[:, None]
    D += sq[None, :]
    np.maximum(D, 0, out=D)
    np.fill_diagonal(D, 0)
    return np.sqrt(squareform(D, checks=False))


def _assign(X: np.ndarray, cents: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Nearest centroid (Euclidean) for every row, in chunks."""
    out = np.empty(len(X), int)
    c2 = (cents**2).sum(1)
    for lo in range(0, len(X), chunk):
        part = X[lo : lo + chunk].astype(np.float64)
        out[lo : lo + chunk] = np.argmin(c2[None, :] - 2 * part @ cents.T, axis=1)
    return out


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Cluster 0 is the largest; ties go to the cluster seen first."""
    ids, first, counts = np.unique(labels, return_index=True, return_counts=True)
    order = sorted(range(len(ids)), key=lambda i: (-counts[i], first[i]))
    remap = {int(ids[i]): r for r, i in enumerate(order)}
    return np.array([remap[int(x)] for x in labels], int)


# --- describing clusters -------------------------------------------------------------

@dataclass
class Occurrence:
    occurrence_id: int
    cluster: int
    similarity: float
    sentence: str
    start: int
    end: int
    word: str
    doc: str
    line: int
    section: str | None
    soft: list[float] | None = None  # probability of each cluster (sums to 1), from cluster_senses


@dataclass
class Sense:
    cluster: int
    name: str
    size: int
    share: float
    words: list[str]
    examples: list[Occurrence]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SenseReport:
    index: str
    index_id: str
    lemma: str
    occurrences: int
    k: int
    how: str
    min_size: int
    seed: int
    sampled: int | None
    senses: list[Sense]
    rows: list[Occurrence] = field(repr=False)  # every occurrence, most representative first per cluster
    export: dict | None = None  # the review file written, if one was asked for
    dictionary: dict | None = None  # WordNet senses matched to each cluster (senses.cluster_senses)

    def names(self) -> dict[int, str]:
        return {s.cluster: s.name for s in self.senses}

    def to_dict(self, rows: bool = False) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "rows"}
        if rows:
            d["rows"] = [asdict(r) for r in self.rows]
        return d


def distinctive_words(contexts: list[set[str]], labels: np.ndarray, k: int, n: int = 8) -> list[list[str]]:
    """Per cluster, context lemmas most typical of it against the other clusters (content words:
    no stopwords or filler such as *every*, *year*, *keep*).

    Score = p * log(p / q) with p, q the smoothed share of the cluster's / the other clusters'
    sentences holding the word (its term of the KL divergence), so a word must be both frequent
    in the cluster and rarer elsewhere; for a single cluster it is plain frequency.
    """
    df = [Counter() for _ in range(k)]
    for ctx, c in zip(contexts, labels, strict=True):
        df[c].update(ctx)
    total = Counter()
    for d in df:
        total.update(d)
    sizes = np.bincount(labels, minlength=k)
    out = []
    for c in range(k):
        nc, no = int(sizes[c]), int(len(labels) - sizes[c])
        scored = []
        for w, a in df[c].items():
            if (a < 2 and nc >= 4) or w in FILLER or w in STOPWORDS:  # an index of every word stores them too
                continue
            p = (a + 0.5) / (nc + 1)
            if no == 0:
                score = p
            else:
                q = (total[w] - a + 0.5) / (no + 1)
                score = p * math.log(p / q)
            scored.append((-score, w))
        out.append([w for s, w in sorted(scored)[:n] if s < 0 or no == 0])
    return out


def suggest_names(words: list[list[str]], lemma: str, store=None, groups: dict[int, list[int]] | None = None
                  ) -> list[str]:
    """A short name per cluster, kept unique: from its two best window collocates by logDice,
    filler left out (collocates.name_from), given the store and each cluster's occurrence ids;
    else (or when it has none) from its two most distinctive words."""
    from senseindex.senses.collocates import collocates, name_from

    cols = collocates(store, groups, sample=NAME_SAMPLE) if store is not None and groups else {}
    names, seen = [], set()
    for c, ws in enumerate(words):
        name = name_from(cols.get(c, []), "/".join(ws[:2]) or f"{lemma}-{c}")
        if name in seen:
            name = f"{name}-{c}"
        seen.add(name)
        names.append(name)
    return names


def occurrence_rows(store, lemma: str, where=None) -> list[tuple]:
    """A lemma's occurrences with their sentences; `where` (a storage.where.Selection) keeps
    those of a metadata selection."""
    cond, params = (f" and {where.sql}", where.params) if where is not None else ("", [])
    return store.db.execute("select o.id, o.start, o.end, o.word, s.text, s.line, s.section, d.path, s.id "
                            + OCCURRENCE_JOIN + f"where o.lemma = ?{cond} order by o.id", [lemma, *params]).fetchall()


def context_lemmas(store, sentence_ids: list[int], lemma: str) -> dict[int, set[str]]:
    """The lemmas of the other words indexed in each sentence, as the indexer tagged them in
    context: one query, no tagger call (tagging each context word alone took 99% of `senses`)."""
    out: dict[int, set[str]] = {sid: set() for sid in sentence_ids}
    for sid, other in select_in(store.db, "select o.sentence_id, l.lemma from occ o join lemmas l on l.id = o.lemma_id "
                                          "where o.sentence_id in ({ids})", sorted(out)):
        out[sid].add(other)
    for ctx in out.values():
        ctx.discard(lemma)
    return out


def induce_senses(store, word: str, k: int | str = "auto", min_size: int | None = None, seed: int = 0,
                  examples: int = 5, n_words: int = 8, glove=None, where=None,
                  lemma: str | None = None) -> SenseReport:
    """Cluster every occurrence of WORD's lemma (or of `lemma`, as stored; in a metadata
    selection `where`, when given) and describe each cluster for a reader."""
    lemma, rows = lemma_rows(store, word, where, glove, lemma)
    if k != "auto" and int(k) < 1:
        raise SenseIndexError("--k must be auto or a number of at least 1")
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    X = store.take(ids)
    n = len(ids)
    ms = default_min_size(n) if min_size is None else max(1, int(min_size))
    cl = cluster_vectors(X, k, ms, seed)
    senses, occ = describe_clusters(store, rows, ids, cl.labels, cl.similarity, cl.k, lemma, examples, n_words)
    return SenseReport(str(store.path), store.index_id, lemma, n, cl.k, cl.how, ms, seed, cl.sampled, senses, occ)


def lemma_rows(store, word: str, where=None, glove=None, lemma: str | None = None) -> tuple[str, list[tuple]]:
    """(lemma, its occurrence rows) for `induce_senses` and the dictionary-seeded mode; a named error
    where the lemma has no occurrence (in the selection)."""
    lemma = lemma or lemmatize(word)
    rows = occurrence_rows(store, lemma, where)
    if not rows and where is not None:
        raise SenseIndexError(f"no occurrence of {lemma!r} where {where.expr}")
    if not rows:
        from senseindex.encoding.glove import load_glove, not_indexed

        raise not_indexed(store, glove if glove is not None else load_glove(), word)
    return lemma, rows


def describe_clusters(store, rows: list[tuple], ids: np.ndarray, labels: np.ndarray, similarity: np.ndarray, k: int,
                      lemma: str, examples: int = 5, n_words: int = 8) -> tuple[list[Sense], list[Occurrence]]:
    """Each cluster's distinctive words, name and most representative sentences, and every
    occurrence sorted by cluster, most representative first (whatever made the clusters)."""
    n = len(ids)
    by_sentence = context_lemmas(store, [r[8] for r in rows], lemma)
    contexts = [by_sentence[r[8]] for r in rows]
    words = distinctive_words(contexts, labels, k, n_words)
    names = suggest_names(words, lemma, store, {c: ids[labels == c].tolist() for c in range(k)})
    occ = [Occurrence(int(r[0]), int(c), round(float(s), 4), r[4], int(r[1]), int(r[2]), r[3], r[7], int(r[5]), r[6])
           for r, c, s in zip(rows, labels, similarity, strict=True)]
    occ.sort(key=lambda o: (o.cluster, -o.similarity, o.occurrence_id))
    senses = []
    for c in range(k):
        members = [o for o in occ if o.cluster == c]
        shown, seen = [], set()
        for o in members:  # most representative first, one per distinct sentence
            if o.sentence in seen:
                continue
            seen.add(o.sentence)
            shown.append(o)
            if len(shown) == examples:
                break
        senses.append(Sense(c, names[c], len(members), round(len(members) / n, 4), words[c], shown))
    return senses, occ
