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
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from senseindex.evaluation.semcor import gold_rows, heldout_documents
from senseindex.senses.cluster_senses import flag_statistic
from senseindex.senses.knn import DEFAULT_K, knn_vote
from senseindex.senses.sense_vectors import (
    GLOSS_VARIANTS,
    GlossCache,
    build_centroids,
    combine,
    sense_matrix,
    vote_shares,
)
from senseindex.storage.labels import label_keys
from senseindex.text.inventory import Inventory
from senseindex.text.tagging import pos_class

PARTS = {"all": "", "nouns": "NN", "verbs": "VB", "adjectives": "JJ", "adverbs": "RB"}
GLOSS_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
KNN_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)


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


def collect(si, inventory: Inventory, gloss: GlossCache, holdout: float = 0.1, dev: bool = False,
            k: int = DEFAULT_K, sample_senses: int | None = None, progress: bool = True,
            ) -> tuple[list[Instance], dict]:
    """Score every held-out gold occurrence against its lemma's senses, every way at once (with
    `sample_senses`, only the occurrences of a seeded sample of polysemous lemmas)."""
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
                                [lab for items in train.values() for _, lab in items])
    centroid_seconds = time.perf_counter() - t0
    gold = label_keys(si.store.db, [oid for items in test.values() for oid, _ in items], "gold")
    senses_of = {key: inventory.senses(key[0], key[1]) if key[1] in "nvar" else [] for key in test}
    sampled_out = {key for key, senses in senses_of.items() if len(senses) > 1 and sample_senses and key not in keep}
    polysemous = [s for key, senses in senses_of.items() if len(senses) > 1 and key not in sampled_out for s in senses]
    t0 = time.perf_counter()
    before = gloss.cached()
    for start in tqdm(range(0, len(polysemous), 256), desc="gloss vectors", unit="batch", disable=not progress):
        gloss.vectors(polysemous[start:start + 256])
    gloss_seconds, encoded = time.perf_counter() - t0, gloss.cached() - before
    out: list[Instance] = []
    for key, items in tqdm(test.items(), desc="scoring", unit="lemma", disable=not progress):
        senses = senses_of[key]
        keys = [s.key for s in senses]
        if len(senses) < 2 or key in sampled_out:  # (sampled out: counted, never scored)
            out += [Instance(tag, gold[oid], keys, lemma=f"{key[0]}/{key[1]}") for oid, tag in items]
            continue
        vecs = si.store.take(np.array([oid for oid, _ in items]))
        by_variant = {v: vecs @ gloss.vectors(senses, v).T for v in GLOSS_VARIANTS}
        sup, levels = sense_matrix(senses, centroids, inventory)
        sup_scores = vecs @ np.nan_to_num(sup).T if sup is not None else np.full((len(items), len(senses)), np.nan)
        if sup is not None:
            sup_scores[:, np.isnan(sup).any(axis=1)] = np.nan
        votes = np.zeros((len(items), len(senses)), np.float32)
        known = train.get(key)
        if known:
            labels = [lab for _, lab in known]
            sims = vecs @ si.store.take(np.array([oid for oid, _ in known])).T
            for r, row in enumerate(sims):
                votes[r] = vote_shares(knn_vote(row, labels, k)[2], keys)
        for r, (oid, tag) in enumerate(items):
            out.append(Instance(tag, gold[oid], keys, {v: by_variant[v][r] for v in GLOSS_VARIANTS},
                                sup_scores[r], votes[r], levels, f"{key[0]}/{key[1]}"))
    info = {"scored_documents": len(scored_docs),
            "sampled_lemmas": len(senses_of) - len(sampled_out) if sample_senses else None,
            "scored_instances": sum(len(v) for v in test.values()), "train_documents": len(train_docs),
            "train_instances": len(train_ids), "labelled_synsets": len(centroids),
            "centroid_seconds": round(centroid_seconds, 1), "gloss_seconds": round(gloss_seconds, 1),
            "glosses_encoded": encoded,
            "glosses_per_second": round(encoded / gloss_seconds, 1) if encoded and gloss_seconds else None}
    return out, info


Chooser = Callable[[Instance], str | None]


def fused(variant: str, gloss_weight: float, knn_weight: float, supervised: bool = True) -> Chooser:
    """gloss_weight·gloss + (1−gloss_weight)·supervised + knn_weight·vote (supervised: the gloss
    cosine where a sense has no supervised vector, or everywhere when `supervised` is False)."""
    def choose(inst: Instance) -> str | None:
        g = inst.gloss[variant]
        score = (combine(g, inst.supervised, gloss_weight) if supervised else g) + knn_weight * inst.votes
        return inst.keys[int(np.argmax(score))]
    return choose


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


def grid(instances: list[Instance]) -> dict[str, dict]:
    """Every configuration measured: gloss-only per variant, supervised per weight, fused with k-NN."""
    results = {"knn_only": score(instances, knn_only)}
    for v in GLOSS_VARIANTS:
        results[f"gloss_only/{v}"] = score(instances, fused(v, 1.0, 0.0, supervised=False))
        for w in GLOSS_WEIGHTS:
            for a in KNN_WEIGHTS:
                results[f"{v}/w={w}/knn={a}"] = score(instances, fused(v, w, a))
    return results


def levels_used(instances: list[Instance]) -> dict[str, int]:
    """How the supervised vectors of the scored candidates were found (synset, hypernym, ...)."""
    counts: dict[str, int] = defaultdict(int)
    for inst in instances:
        for level in inst.levels or []:
            counts[level] += 1
    return dict(counts)


def sense_clusters(instances: list[Instance], variant: str, gloss_weight: float, min_size: int = 3
                   ) -> list[tuple[str, np.ndarray, list[str]]]:
    """The held-out occurrences grouped by lemma and gold sense (groups of MIN_SIZE or more, of
    polysemous lemmas): (gold key, mean combined score per candidate, candidate keys). A perfect
    clustering, on which the dictionary's matching and the new-sense flag are measured."""
    groups: dict[tuple[str, str], list[Instance]] = defaultdict(list)
    for inst in instances:
        if inst.gloss is None:
            continue
        gold = next((k for k in inst.keys if k in inst.gold), None)
        if gold is not None:
            groups[(inst.lemma, gold)].append(inst)
    out = []
    for (_, gold), members in groups.items():
        if len(members) < min_size:
            continue
        scores = [combine(inst.gloss[variant], inst.supervised, gloss_weight) for inst in members]
        out.append((gold, np.mean(scores, axis=0), members[0].keys))
    return out


def new_sense_flag(clusters: list[tuple[str, np.ndarray, list[str]]], thresholds: Iterable[float],
                   statistic: str = "best") -> dict:
    """Withhold each cluster's gold sense from the inventory: the cluster should then be flagged
    (its statistic below the threshold) and, with its sense present, not be. Precision and recall
    of the flag per threshold, and how often the top sense is the gold one (naming)."""
    with_stat, without_stat, named = [], [], 0
    for gold, sims, keys in clusters:
        i = keys.index(gold)
        with_stat.append(flag_statistic(sims, statistic))
        without_stat.append(flag_statistic(np.delete(sims, i), statistic))
        named += int(np.argmax(sims)) == i
    with_stat, without_stat = np.array(with_stat), np.array(without_stat)
    table = {}
    for t in thresholds:
        tp = int((without_stat < t).sum())
        fp = int((with_stat < t).sum())
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / len(without_stat) if len(without_stat) else 0.0
        table[f"{t:.3f}"] = {"precision": round(precision, 3), "recall": round(recall, 3), "flagged_new": tp,
                             "flagged_known": fp}
    return {"statistic": statistic, "clusters": len(clusters),
            "named_right": round(100 * named / len(clusters), 2) if clusters else 0.0, "thresholds": table}
