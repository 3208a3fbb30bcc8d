"""SemCor with the dictionary: every gold occurrence of the held-out documents is answered from
its context against the senses WordNet lists for its lemma and part of speech.

No answer uses WordNet's sense numbers or tag counts. Three kinds of evidence are measured alone
and together: the gloss vectors (no labels at all), the supervised sense vectors (centroids of the
training documents' labelled occurrences, propagated to unlabelled senses) and the k-NN vote of the
lemma's labelled occurrences. A lemma WordNet gives one sense in the part of speech is answered
with it (counted apart, "only_sense"); an occurrence whose lemma WordNet lacks stays unanswered and
counts as wrong. The split is `eval semcor`'s (held-out documents by hash); `dev=True` holds out
the next block of documents instead, so weights can be chosen without looking at the test set.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from senseindex.evaluation.semcor import gold_rows, heldout_documents
from senseindex.senses.knn import DEFAULT_K, knn_vote
from senseindex.senses.sense_vectors import (
    GLOSS_ONLY_VARIANT,
    GLOSS_PASSES,
    GLOSS_VARIANTS,
    PASS_OF,
    GlossCache,
    build_centroids,
    sense_matrix,
    usage_sample,
    usage_scores,
    vote_shares,
)
from senseindex.storage.labels import label_keys
from senseindex.text.inventory import Inventory
from senseindex.text.tagging import pos_class
from senseindex.text.wordnet import split_sense_keys

PARTS = {"all": "", "nouns": "NN", "verbs": "VB", "adjectives": "JJ", "adverbs": "RB"}
GLOSS_WEIGHTS = (0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0)
KNN_WEIGHTS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)


@dataclass
class Instance:
    """One held-out gold occurrence and every score a configuration may combine."""

    tag: str
    gold: frozenset[str]
    keys: list[str]  # WordNet's senses of the lemma in the part of speech ([] : WordNet lacks it)
    gloss: dict[str, np.ndarray] | None = None  # variant -> cosine per candidate
    supervised: np.ndarray | None = None  # cosine per candidate (nan: no supervised vector)
    votes: np.ndarray | None = None  # k-NN vote share per candidate (zeros: no labelled neighbour)
    levels: list[str] | None = None
    lemma: str = ""
    # further scores per candidate, by name (see `collect`): "sent/<variant>", "centred/<variant>",
    # "sent_centred/<variant>", "sup_key", "knn@<k>"
    signals: dict[str, np.ndarray] = field(default_factory=dict)
    # the nearest labelled training occurrences, best first: (cosines, candidate index or -1)
    neighbours: tuple[np.ndarray, np.ndarray] | None = None


def split(sections: Iterable[str], holdout: float, dev: bool) -> tuple[set[str], set[str]]:
    """(documents scored, documents trained on): the held-out block, or with `dev` the next block
    (the held-out block then takes part in neither)."""
    sections = list(sections)
    test = set(heldout_documents(sections, holdout))
    if not dev:
        return test, set(sections) - test
    dev_docs = set(heldout_documents(sections, 2 * holdout)) - test
    return dev_docs, set(sections) - test - dev_docs


def sample_groups(groups: Iterable[tuple[str, str]], inventory: Inventory, senses: int,
                  seed: int = 0) -> dict[tuple[str, str], int]:
    """A seeded random sample of polysemous (lemma, part of speech) pairs holding about SENSES
    senses in all, in the sampled order, with their numbers of senses: scoring on it costs a
    fraction of encoding every gloss of the scored documents, and a larger sample extends a
    smaller one, and the order of two pairs never depends on which others are present (pairs are
    ranked by a seeded hash), so samples of overlapping document sets share their cached glosses."""
    import hashlib

    def rank(group: tuple[str, str]) -> str:
        return hashlib.sha256(f"{seed}/{group[0]}/{group[1]}".encode()).hexdigest()

    ordered = sorted({g for g in groups if g[1] in ("n", "v", "a", "r")}, key=rank)
    chosen, total = {}, 0
    for group in ordered:
        if total >= senses:
            break
        n = len(inventory.senses(*group))
        if n > 1:
            chosen[group] = n
            total += n
    return chosen


@dataclass
class CorpusMeans:
    """What the unlabelled index says around each occurrence, from one pass over its vectors:
    each sentence's vector (the unit mean of its occurrences' vectors) and, per (lemma, part of
    speech), the mean of the lemma's occurrence vectors and of their sentences' vectors. Centring
    on these removes what every occurrence of a lemma shares, which would otherwise favour the
    senses whose glosses sit closest to the lemma's average use."""

    sentence_row: dict[int, int]
    sentences: np.ndarray  # (sentences, dim) unit vectors
    occ_sentence: dict[int, int]  # occurrence id -> sentence id
    groups: dict[tuple[str, str], list[int]]  # (lemma, class) -> occurrence ids
    token_sums: dict[tuple[str, str], np.ndarray]

    def lemma_means(self, group: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
        """(mean occurrence vector, mean sentence vector) of a lemma in a part of speech."""
        ids = self.groups.get(group, [])
        if not ids:
            return np.zeros(self.sentences.shape[1], np.float32), np.zeros(self.sentences.shape[1], np.float32)
        rows = [self.sentence_row[self.occ_sentence[i]] for i in ids]
        return self.token_sums[group] / len(ids), self.sentences[rows].mean(0)

    def sentence_vectors(self, ids: Iterable[int]) -> np.ndarray:
        return self.sentences[[self.sentence_row[self.occ_sentence[int(i)]] for i in ids]]


def corpus_means(store, batch: int = 50_000, progress: bool = True) -> CorpusMeans:
    """One pass over every occurrence's vector (see CorpusMeans)."""
    rows = store.db.execute("select o.id, o.sentence_id, l.lemma, o.pos from occ o join lemmas l "
                            "on l.id = o.lemma_id order by o.id").fetchall()
    removed = store.removed()
    rows = [r for r in rows if r[0] not in removed]
    sentence_row: dict[int, int] = {}
    for _, sid, _, _ in rows:
        sentence_row.setdefault(sid, len(sentence_row))
    sums = np.zeros((len(sentence_row), store.dim), np.float32)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    token_sums: dict[tuple[str, str], np.ndarray] = {}
    for start in tqdm(range(0, len(rows), batch), desc="corpus means", unit="batch", disable=not progress):
        part = rows[start:start + batch]
        vecs = store.take(np.array([r[0] for r in part], np.int64))
        np.add.at(sums, np.array([sentence_row[r[1]] for r in part]), vecs)
        for (oid, _, lemma, pos), vec in zip(part, vecs, strict=True):
            group = (lemma, pos_class(pos))
            groups[group].append(oid)
            if group in token_sums:
                token_sums[group] += vec
            else:
                token_sums[group] = vec.copy()
    sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return CorpusMeans(sentence_row, sums, {r[0]: r[1] for r in rows}, dict(groups), token_sums)


KS = (5, 10, 20, 40)  # k of the k-NN votes kept per instance
NEIGHBOURS = 50  # nearest labelled occurrences kept per instance (for the new-sense flag)


def collect(si, inventory: Inventory, gloss: GlossCache, holdout: float = 0.1, dev: bool = False,
            k: int = DEFAULT_K, sample_senses: int | None = None, progress: bool = True,
            variants: Iterable[str] = GLOSS_VARIANTS, means: CorpusMeans | None = None,
            ) -> tuple[list[Instance], dict]:
    """Score every held-out gold occurrence against its lemma's senses, every way at once (with
    `sample_senses`, only the occurrences of a seeded sample of polysemous lemmas). Beside the
    target token's cosines with the gloss vectors of VARIANTS, with MEANS the sentence's vector is
    scored against them too, and both are centred on the lemma's mean use (`CorpusMeans`)."""
    variants = list(variants)
    rows = gold_rows(si.store)
    scored_docs, train_docs = split([r[4] for r in rows], holdout, dev)
    train: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    test: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    if sample_senses:
        keep = sample_groups({(r[1], pos_class(r[2])) for r in rows if r[4] in scored_docs}, inventory,
                             sample_senses)
    for oid, lemma, pos, label, section in rows:
        if section in scored_docs:
            test[(lemma, pos_class(pos))].append((oid, pos or ""))
        elif section in train_docs:
            train[(lemma, pos_class(pos))].append((oid, label))
    t0 = time.perf_counter()
    train_ids = [oid for items in train.values() for oid, _ in items]
    centroids = build_centroids(si.store, inventory, train_ids,
                                [lab for items in train.values() for _, lab in items], by_key=True)
    centroid_seconds = time.perf_counter() - t0
    gold = label_keys(si.store.db, [oid for items in test.values() for oid, _ in items], "gold")
    senses_of = {key: inventory.senses(key[0], key[1]) if key[1] in "nvar" else [] for key in test}
    sampled_out = {key for key, senses in senses_of.items() if len(senses) > 1 and sample_senses and key not in keep}
    polysemous = [s for key, senses in senses_of.items() if len(senses) > 1 and key not in sampled_out for s in senses]
    t0 = time.perf_counter()
    before = gloss.cached()
    for passed in dict.fromkeys(PASS_OF[v] for v in variants):
        for start in tqdm(range(0, len(polysemous), 256), desc=f"gloss vectors ({passed})", unit="batch",
                          disable=not progress):
            gloss.vectors(polysemous[start:start + 256], GLOSS_PASSES[passed][0])
    gloss_seconds, encoded = time.perf_counter() - t0, gloss.cached() - before
    out: list[Instance] = []
    for key, items in tqdm(test.items(), desc="scoring", unit="lemma", disable=not progress):
        senses = senses_of[key]
        keys = [s.key for s in senses]
        if len(senses) < 2 or key in sampled_out:  # (sampled out: counted, never scored)
            out += [Instance(tag, gold[oid], keys, lemma=f"{key[0]}/{key[1]}") for oid, tag in items]
            continue
        ids = np.array([oid for oid, _ in items])
        vecs = si.store.take(ids)
        G = {v: gloss.vectors(senses, v) for v in variants}
        by_variant = {v: vecs @ G[v].T for v in variants}
        signals: dict[str, np.ndarray] = {}
        if means is not None:
            sent = means.sentence_vectors(ids)
            mu_token, mu_sent = means.lemma_means(key)
            usage = si.store.take(usage_sample(means.groups.get(key, [])))
            for v in variants:
                signals[f"usage/{v}"] = usage_scores(vecs, G[v], usage)
                signals[f"sent/{v}"] = sent @ G[v].T
                signals[f"centred/{v}"] = by_variant[v] - (G[v] @ mu_token)[None, :]
                signals[f"sent_centred/{v}"] = signals[f"sent/{v}"] - (G[v] @ mu_sent)[None, :]
        sup_scores = {}
        for name, by_key in (("synset", False), ("key", True)):
            sup, levels = sense_matrix(senses, centroids, inventory, by_key=by_key)
            sc = vecs @ np.nan_to_num(sup).T if sup is not None else np.full((len(items), len(senses)), np.nan)
            if sup is not None:
                sc[:, np.isnan(sup).any(axis=1)] = np.nan
            sup_scores[name] = (sc, levels)
        signals["sup_key"] = sup_scores["key"][0]
        votes = {kk: np.zeros((len(items), len(senses)), np.float32) for kk in KS}
        nbrs: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(items)
        known = train.get(key)
        if known:
            labels = [lab for _, lab in known]
            where = {kk: i for i, kk in enumerate(keys)}
            first = np.array([where.get(next(iter(split_sense_keys(lab)), ""), -1) for lab in labels])
            sims = vecs @ si.store.take(np.array([oid for oid, _ in known])).T
            for r, row in enumerate(sims):
                for kk in KS:
                    votes[kk][r] = vote_shares(knn_vote(row, labels, kk)[2], keys)
                top = np.argsort(-row, kind="stable")[:NEIGHBOURS]
                nbrs[r] = (row[top].astype(np.float32), first[top])
        for kk in KS:
            if kk != k:
                signals[f"knn@{kk}"] = votes[kk]
        sup_synset, levels = sup_scores["synset"]
        for r, (oid, tag) in enumerate(items):
            out.append(Instance(tag, gold[oid], keys, {v: by_variant[v][r] for v in variants},
                                sup_synset[r], votes[k][r], levels, f"{key[0]}/{key[1]}",
                                {name: m[r] for name, m in signals.items()}, nbrs[r]))
    info = {"scored_documents": len(scored_docs),
            "sampled_lemmas": len(senses_of) - len(sampled_out) if sample_senses else None,
            "scored_instances": sum(len(v) for v in test.values()), "train_documents": len(train_docs),
            "train_instances": len(train_ids), "labelled_synsets": len(centroids),
            "centroid_seconds": round(centroid_seconds, 1), "gloss_seconds": round(gloss_seconds, 1),
            "glosses_encoded": encoded, "gloss_variants": variants,
            "glosses_per_second": round(encoded / gloss_seconds, 1) if encoded and gloss_seconds else None}
    return out, info


Chooser = Callable[[Instance], str | None]


@dataclass(frozen=True)
class Config:
    """One way to score a candidate sense:

        gloss  = (1 − β)·cos(token, gloss[token]) + β·cos(sentence, gloss[sentence])
                 (each centred on the lemma's mean use with `centred`; with `usage` the token's part is
        `usage_scores`: helped by the index's unlabelled occurrences of the lemma)
        score  = w·gloss + (1 − w)·cos(token, supervised) + a·(k-NN vote share)

    A sense with no supervised vector takes its gloss score there; `supervised` "" leaves the
    supervised vectors out (gloss only), "synset" pools sense keys by synset, "key" keeps each
    sense key's own centroid where it has one (LMMS), its synset's otherwise."""

    token: str = "examples"
    sentence: str = ""
    sentence_share: float = 0.0
    centred: bool = False
    usage: bool = False
    gloss_weight: float = 0.75
    supervised: str = "synset"
    knn_weight: float = 0.25
    k: int = DEFAULT_K

    @property
    def name(self) -> str:
        gloss = f"token={self.token}" + (f"+sent={self.sentence}x{self.sentence_share:g}" if self.sentence_share else "")
        gloss += "/centred" if self.centred else ""
        gloss += "/usage" if self.usage else ""
        if not self.supervised:
            return f"gloss_only/{gloss}"
        return f"{gloss}/w={self.gloss_weight:g}/sup={self.supervised}/knn={self.knn_weight:g}@{self.k}"

    def scores(self, get: Callable[[str], np.ndarray]) -> np.ndarray:
        """The score of each candidate (works on one instance's vectors or on stacked rows)."""
        beta = self.sentence_share if self.sentence else 0.0
        g = 0.0
        if beta < 1:
            kind = "usage" if self.usage else "centred" if self.centred else "gloss"
            g = (1 - beta) * get(f"{kind}/{self.token}")
        if beta > 0:
            g = g + beta * get(f"sent_centred/{self.sentence}" if self.centred else f"sent/{self.sentence}")
        if not self.supervised:
            return g
        sup = get("sup" if self.supervised == "synset" else "sup_key")
        total = self.gloss_weight * g + (1 - self.gloss_weight) * np.where(np.isnan(sup), g, sup)
        if self.knn_weight:
            total = total + self.knn_weight * get(f"knn@{self.k}")
        return total


def _instance_signal(inst: Instance, name: str) -> np.ndarray:
    if name.startswith("gloss/"):
        return inst.gloss[name[6:]]
    if name == "sup":
        return inst.supervised
    if name == f"knn@{DEFAULT_K}":
        return inst.votes
    return inst.signals[name]


def chooser(config: Config) -> Chooser:
    def choose(inst: Instance) -> str | None:
        return inst.keys[int(np.argmax(config.scores(lambda name: _instance_signal(inst, name))))]
    return choose


def fused(variant: str, gloss_weight: float, knn_weight: float, supervised: bool = True) -> Chooser:
    """gloss_weight·gloss + (1−gloss_weight)·supervised + knn_weight·vote (supervised: the gloss
    cosine where a sense has no supervised vector, or everywhere when `supervised` is False)."""
    return chooser(Config(token=variant, gloss_weight=gloss_weight, knn_weight=knn_weight,
                          supervised="synset" if supervised else ""))


class Matrix:
    """The scored polysemous instances stacked as (instances, most senses) arrays, so a grid of
    thousands of configurations is scored in seconds; `accuracy` gives what `score` gives."""

    def __init__(self, instances: list[Instance]):
        self.instances = instances
        poly = [inst for inst in instances if len(inst.keys) > 1 and inst.gloss is not None]
        self.poly = poly
        width = max((len(inst.keys) for inst in poly), default=1)
        self.valid = np.zeros((len(poly), width), bool)
        self.gold = np.zeros((len(poly), width), bool)
        for r, inst in enumerate(poly):
            self.valid[r, :len(inst.keys)] = True
            self.gold[r, :len(inst.keys)] = [k in inst.gold for k in inst.keys]
        self._cache: dict[str, np.ndarray] = {}
        self.parts = {}
        for part, prefix in PARTS.items():
            sel = [inst for inst in instances if inst.tag.upper().startswith(prefix)]
            rows = np.array([inst.tag.upper().startswith(prefix) for inst in poly], bool)
            n_poly = sum(1 for inst in sel if len(inst.keys) > 1)
            mono_right = sum(1 for inst in sel if len(inst.keys) == 1 and inst.keys[0] in inst.gold)
            self.parts[part] = (rows, len(sel), n_poly, mono_right)

    def get(self, name: str) -> np.ndarray:
        if name not in self._cache:
            out = np.zeros(self.valid.shape, np.float32)
            for r, inst in enumerate(self.poly):
                out[r, :len(inst.keys)] = _instance_signal(inst, name)
            self._cache[name] = out
        return self._cache[name]

    def right(self, config: Config) -> np.ndarray:
        """Whether each polysemous instance is answered right."""
        s = np.where(self.valid, config.scores(self.get), -np.inf)
        return self.gold[np.arange(len(s)), np.argmax(s, axis=1)]

    def accuracy(self, config: Config) -> dict[str, float]:
        """Accuracy per part of speech, every instance counted (as `score` counts them)."""
        right = self.right(config)
        out = {}
        for part, (rows, total, n_poly, mono_right) in self.parts.items():
            scored = int(rows.sum())
            share = n_poly / scored if scored else 0.0
            out[part] = round(100 * (mono_right + share * int(right[rows].sum())) / total, 2) if total else 0.0
        return out


def by_part(choosers: dict[str, Chooser], default: Chooser) -> Chooser:
    """A chooser per part of speech (keys of PARTS other than "all"), by the instance's gold tag."""
    def choose(inst: Instance) -> str | None:
        for part, chooser in choosers.items():
            if inst.tag.upper().startswith(PARTS[part]):
                return chooser(inst)
        return default(inst)
    return choose


def knn_only(inst: Instance) -> str | None:
    """The k-NN vote alone (no labelled neighbour: no answer), as `label` answers today."""
    return inst.keys[int(np.argmax(inst.votes))] if inst.votes.any() else None


def score(instances: list[Instance], choose: Chooser) -> dict:
    """Accuracy per part of speech (every instance counts; unanswered ones are wrong).

    Where `collect` scored a sample of the polysemous lemmas, the others' instances are counted
    but not answered: their accuracy and coverage are estimated by the sample's (a ratio
    estimate), and `polysemous_scored` says on how many instances that rests."""
    answers = [None if not inst.keys or (len(inst.keys) > 1 and inst.gloss is None)
               else inst.keys[0] if len(inst.keys) == 1 else choose(inst)
               for inst in instances]  # once per instance, then tallied per part of speech
    out = {}
    for part, prefix in PARTS.items():
        sel = [(inst, a) for inst, a in zip(instances, answers, strict=True) if inst.tag.upper().startswith(prefix)]
        mono = [(inst, a) for inst, a in sel if len(inst.keys) < 2]
        poly = [(inst, a) for inst, a in sel if len(inst.keys) > 1 and inst.gloss is not None]
        n_poly = sum(1 for inst, _ in sel if len(inst.keys) > 1)
        share = n_poly / len(poly) if poly else 0.0

        def tally(rows):
            return (sum(1 for _, a in rows if a is not None),
                    sum(1 for inst, a in rows if a is not None and a in inst.gold))

        (mono_answered, mono_right), (poly_answered, poly_right) = tally(mono), tally(poly)
        answered, right = mono_answered + share * poly_answered, mono_right + share * poly_right
        out[part] = {"instances": len(sel), "polysemous": n_poly, "polysemous_scored": len(poly),
                     "only_sense": sum(1 for inst, _ in mono if len(inst.keys) == 1),
                     "coverage": round(100 * answered / len(sel), 2) if sel else 0.0,
                     "accuracy": round(100 * right / len(sel), 2) if sel else 0.0,
                     "polysemous_accuracy": round(100 * poly_right / len(poly), 2) if poly else 0.0}
    return out


def gloss_configs(variants: Iterable[str], shares: Iterable[float] = (0.0, 0.25, 0.5, 0.75, 1.0)
                  ) -> list[Config]:
    """Gloss-only configurations: token variant x sentence variant x sentence share x centring."""
    variants, out = list(variants), []
    for centred, usage in ((False, False), (True, False), (False, True)):
        for beta in shares:
            for t in variants if beta < 1 else [variants[0]]:
                for sv in variants if beta > 0 else [""]:
                    out.append(Config(token=t, sentence=sv, sentence_share=beta if sv else 0.0, centred=centred,
                                      usage=usage, supervised="", knn_weight=0.0))
    return list(dict.fromkeys(out))


def fused_configs(glosses: Iterable[Config], weights: Iterable[float] = GLOSS_WEIGHTS,
                  knn_weights: Iterable[float] = KNN_WEIGHTS, ks: Iterable[int] = KS,
                  supervised: Iterable[str] = ("synset", "key")) -> list[Config]:
    """Each gloss configuration fused with the supervised vectors and the k-NN vote."""
    from dataclasses import replace

    out = []
    for g in glosses:
        for sup in supervised:
            for w in weights:
                for a in knn_weights:
                    for kk in ks if a else [DEFAULT_K]:
                        out.append(replace(g, supervised=sup, gloss_weight=w, knn_weight=a, k=kk))
    return out


def grid(matrix: Matrix, configs: Iterable[Config]) -> dict[str, dict[str, float]]:
    """Accuracy per part of speech of every configuration (by name)."""
    return {c.name: matrix.accuracy(c) for c in configs}


def levels_used(instances: list[Instance]) -> dict[str, int]:
    """How the supervised vectors of the scored candidates were found (synset, hypernym, ...)."""
    counts: dict[str, int] = defaultdict(int)
    for inst in instances:
        for level in inst.levels or []:
            counts[level] += 1
    return dict(counts)


@dataclass
class Cluster:
    """The held-out occurrences of one lemma with one gold sense (a perfect cluster), beside every
    scored occurrence of the lemma."""

    lemma: str
    gold: str
    index: int  # the gold sense's position among the candidates
    members: list[Instance]
    lemma_instances: list[Instance]

    @property
    def pos(self) -> str:
        return self.lemma.rsplit("/", 1)[-1]


def sense_clusters(instances: list[Instance], min_size: int = 3) -> list[Cluster]:
    """The held-out occurrences grouped by lemma and gold sense (groups of MIN_SIZE or more, of
    polysemous lemmas): the clusters on which the dictionary's naming and the new-sense flag are
    measured."""
    groups: dict[tuple[str, str], list[Instance]] = defaultdict(list)
    by_lemma: dict[str, list[Instance]] = defaultdict(list)
    for inst in instances:
        if inst.gloss is None:
            continue
        by_lemma[inst.lemma].append(inst)
        gold = next((k for k in inst.keys if k in inst.gold), None)
        if gold is not None:
            groups[(inst.lemma, gold)].append(inst)
    return [Cluster(lemma, gold, members[0].keys.index(gold), members, by_lemma[lemma])
            for (lemma, gold), members in groups.items() if len(members) >= min_size]


FLAG_STATISTICS = ("best", "gloss_best", "margin", "relative", "knn", "knn_relative")
FLAG_K = 3  # nearest labelled occurrences behind the "knn" statistic (chosen on development documents)


def _nearest_mean(insts: list[Instance], withheld: int | None, k: int) -> float:
    """Mean cosine of each occurrence with its K nearest labelled occurrences (those labelled with
    the withheld sense left out: nobody could have labelled a sense the dictionary lacks)."""
    vals = []
    for inst in insts:
        if inst.neighbours is None:
            continue
        sims, idx = inst.neighbours
        if withheld is not None:
            sims = sims[idx != withheld]
        if len(sims):
            vals.append(float(sims[:k].mean()))
    return float(np.mean(vals)) if vals else 0.0


def cluster_statistics(cluster: Cluster, config: Config, withhold: bool, k: int = FLAG_K) -> dict[str, float]:
    """How well the cluster fits its lemma's senses (the gold one withheld or not), every way:
    "best" the best sense's mean score (`config` without its k-NN vote); "margin" its lead over the
    runner-up; "gloss_best" the best sense's mean gloss score (what an index with no labels has);
    "relative" best minus the mean best score of the lemma's occurrences; "knn" the
    members' mean cosine with their nearest labelled occurrences; "knn_relative" that minus the
    same for all the lemma's occurrences. Low values suggest a sense the dictionary lacks."""
    from dataclasses import replace

    plain = replace(config, knn_weight=0.0)
    keep = [i for i in range(len(cluster.members[0].keys)) if not (withhold and i == cluster.index)]

    def scores(insts, config=plain):
        return np.stack([config.scores(lambda name, inst=inst: _instance_signal(inst, name))[keep] for inst in insts])

    sims = scores(cluster.members).mean(0)
    gloss_only = Config(token=GLOSS_ONLY_VARIANT, supervised="", knn_weight=0.0)  # an unlabelled index's
    gloss_best = float(scores(cluster.members, gloss_only).mean(0).max())
    top = np.sort(sims)[::-1]
    lemma_best = float(scores(cluster.lemma_instances).max(axis=1).mean())
    withheld = cluster.index if withhold else None
    knn = _nearest_mean(cluster.members, withheld, k)
    return {"best": float(top[0]), "gloss_best": gloss_best, "margin": float(top[0] - top[1]) if len(top) > 1 else float(top[0]),
            "relative": float(top[0]) - lemma_best, "knn": knn,
            "knn_relative": knn - _nearest_mean(cluster.lemma_instances, withheld, k),
            "named_right": float(not withhold and int(np.argmax(sims)) == cluster.index)}


def flag_statistics(clusters: list[Cluster], config: Config) -> list[dict]:
    """Each cluster's statistics with its gold sense present and withheld."""
    return [{"pos": c.pos, "present": cluster_statistics(c, config, False),
             "withheld": cluster_statistics(c, config, True)} for c in clusters]


def new_sense_flag(stats: list[dict], thresholds: Iterable[float], statistic: str = "best",
                   pos: str | None = None) -> dict:
    """Withhold each cluster's gold sense from the inventory: the cluster should then be flagged
    (its statistic below the threshold) and, with its sense present, not be. Precision and recall
    of the flag per threshold (clusters of part of speech POS only, if given), and how often the
    top sense is the gold one (naming)."""
    rows = [r for r in stats if pos is None or r["pos"] == pos]
    with_stat = np.array([r["present"][statistic] for r in rows])
    without_stat = np.array([r["withheld"][statistic] for r in rows])
    named = sum(r["present"]["named_right"] for r in rows)
    table = {}
    for t in thresholds:
        tp = int((without_stat < t).sum())
        fp = int((with_stat < t).sum())
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / len(without_stat) if len(without_stat) else 0.0
        table[f"{t:.3f}"] = {"precision": round(precision, 3), "recall": round(recall, 3), "flagged_new": tp,
                             "flagged_known": fp}
    return {"statistic": statistic, "pos": pos, "clusters": len(rows),
            "named_right": round(100 * named / len(rows), 2) if rows else 0.0, "thresholds": table}


def pick_threshold(flag: dict, precision: float = 0.7) -> str:
    """The threshold with the largest recall at PRECISION or more (else the most precise one)."""
    ok = [t for t, r in flag["thresholds"].items() if r["precision"] >= precision]
    if ok:
        return max(ok, key=lambda t: (flag["thresholds"][t]["recall"], -float(t)))
    return max(flag["thresholds"], key=lambda t: flag["thresholds"][t]["precision"])
