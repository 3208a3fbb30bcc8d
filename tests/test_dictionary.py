"""Sense vectors and `label` over the dictionary, on the hand-made mini WordNet (no real model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from senseindex import SenseIndex
from senseindex.senses.sense_vectors import (
    Centroids,
    GlossCache,
    build_centroids,
    gloss_text,
    propagate,
    sense_matrix,
    synset_id,
)
from senseindex.text.inventory import Inventory

MINI = Path(__file__).parent / "data" / "wordnet-mini"


@pytest.fixture()
def mini(monkeypatch) -> Inventory:
    monkeypatch.setenv("SENSEINDEX_WORDNET", str(MINI))
    inv = Inventory(MINI)
    yield inv
    inv.close()


class FakeStore:
    """Occurrence id -> a fixed vector (what build_centroids reads through store.take)."""

    def __init__(self, vectors: dict[int, np.ndarray]):
        self.vectors = vectors

    def take(self, ids):
        return np.stack([self.vectors[int(i)] for i in ids]).astype(np.float32)


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, np.float32)
    return v / np.linalg.norm(v)


def test_centroids_pool_synonyms_and_skip_unknown_keys(mini):
    store = FakeStore({1: unit(1, 0, 0), 2: unit(0, 1, 0), 3: unit(0, 0, 1), 4: unit(1, 1, 1)})
    # spy%1:18:00:: and mole%1:18:00:: are one synset: their occurrences pool
    c = build_centroids(store, mini, [1, 2, 3, 4], ["spy%1:18:00::", "mole%1:18:00::", "skin", "nope%1:01:00::"])
    spy = synset_id("n", 4000)
    assert list(c.synsets) == [spy] and c.counts[spy] == 2
    np.testing.assert_allclose(c.synsets[spy], unit(1, 1, 0), atol=1e-6)
    assert set(c.lexnames) == {"noun.person"}


def test_propagation_synset_hypernym_lexname(mini):
    store = FakeStore({1: unit(1, 0, 0), 2: unit(0, 1, 0), 3: unit(0, 0, 1)})
    c = build_centroids(store, mini, [1, 2, 3], ["spy%1:18:00::", "animal%1:05:00::", "bank_building%1:06:00::"])
    spy, animal, unit_sense = (mini.sense(k) for k in ("mole%1:18:00::", "mole%1:05:00::", "mole%1:23:00::"))
    vec, level = propagate(spy, c, mini)
    assert level == "synset" and np.allclose(vec, unit(1, 0, 0))
    vec, level = propagate(animal, c, mini)  # the burrowing mole: unlabelled, its hypernym animal is
    assert level == "hypernym" and np.allclose(vec, unit(0, 1, 0))
    # the SI unit: its hypernym (entity) is unlabelled and so is its lexicographer file
    assert propagate(unit_sense, c, mini) == (None, "none")
    c.lexnames["noun.quantity"] = unit(1, 1, 1)
    vec, level = propagate(unit_sense, c, mini)
    assert level == "lexname" and np.allclose(vec, unit(1, 1, 1))
    matrix, levels = sense_matrix(mini.senses("mole"), c, mini)
    assert levels == ["lexname", "synset", "hypernym"] and matrix.shape == (3, 3)


def test_propagation_reaches_past_unlabelled_hypernyms_and_satellite_heads(mini):
    c = Centroids({synset_id("n", 1740): unit(1, 0), synset_id("a", 20000): unit(0, 1)})
    vec, level = propagate(mini.sense("mole%1:05:00::"), c, mini)  # mole -> animal (none) -> entity
    assert level == "hypernym" and np.allclose(vec, unit(1, 0))
    vec, level = propagate(mini.sense("gigantic%5:00:00:large:00"), c, mini)  # satellite -> its head
    assert level == "hypernym" and np.allclose(vec, unit(0, 1))
    assert sense_matrix(mini.senses("mole"), Centroids(), mini) == (None, ["none"] * 3)


def test_gloss_text_marks_the_lemma_and_its_forms_in_examples(mini):
    text, head, inside = gloss_text(mini.sense("mole%1:05:00::"))
    assert text.startswith("mole: small velvety-furred burrowing mammal; the mole dug a tunnel")
    assert head == [(0, 4)]
    assert [text[s:e] for s, e in inside] == ["mole", "moles"]


def test_gloss_cache_encodes_once(mini, hash_encoder, tmp_path):
    calls = []

    class Counting(type(hash_encoder)):
        def word_vectors(self, texts, spans):
            calls.append(len(texts))
            return super().word_vectors(texts, spans)

    cache = GlossCache(Counting(), mini, tmp_path)
    senses = mini.senses("mole")
    first = cache.vectors(senses, "token")
    again = GlossCache(Counting(), mini, tmp_path).vectors(senses, "token")
    assert calls == [3] and np.allclose(first, again, atol=1e-3)
    assert np.allclose(np.linalg.norm(cache.vectors(senses, "mean"), axis=1), 1, atol=1e-3)
    assert calls == [3] and cache.cached() == 3
    with pytest.raises(ValueError):
        cache.vectors(senses, "nonsense")


@pytest.fixture()
def unlabelled_index(tmp_path, hash_encoder, mini, monkeypatch):
    monkeypatch.setenv("SENSEINDEX_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "corpus.txt"
    src.write_text("The mole dug a tunnel under the garden.\nA mole worked inside the embassy for years.\n"
                   "They run to the gate every morning.\n",
                   encoding="utf-8")
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder)
    si.add([src])
    return si


def test_label_answers_a_lemma_with_no_labelled_occurrences(unlabelled_index):
    p = unlabelled_index.label("The [mole] dug a tunnel under the garden.")
    assert p.method == "dictionary" and p.labelled == 0
    assert p.label in {"mole%1:23:00::", "mole%1:18:00::", "mole%1:05:00::"}
    assert p.sense["key"] == p.label and p.sense["gloss"] and p.sense["synset"].startswith(("mole.n", "spy.n"))
    assert p.evidence["gloss"] == p.label and p.evidence["agreeing"] == ["gloss"]
    assert abs(sum(p.votes.values()) - 1) < 0.02
    data = p.to_dict()
    assert data["sense"]["gloss"] == p.sense["gloss"] and "score" in data


def test_label_only_sense_and_the_old_rule_on_request(unlabelled_index):
    from senseindex.errors import SenseIndexError

    p = unlabelled_index.label("They [run] to the gate every morning.")
    assert p.method == "only-sense" and p.label == "run%2:38:00::" and p.sense["gloss"].startswith("move fast")
    p = unlabelled_index.label("The [spy] came in from the cold.")  # in WordNet, not in the index
    assert p.method == "only-sense" and p.label == "spy%1:18:00::"
    with pytest.raises(SenseIndexError, match="not in the index"):  # the old rule needs it indexed
        unlabelled_index.label("The [spy] came in from the cold.", dictionary=False)
    with pytest.raises(SenseIndexError, match="no labelled occurrences"):  # dig: not in the mini WordNet
        unlabelled_index.label("The mole [dug] a tunnel under the garden.")
    with pytest.raises(SenseIndexError, match="no labelled occurrences"):  # the old rule needs labels
        unlabelled_index.label("The [mole] dug a tunnel under the garden.", dictionary=False)


@pytest.fixture()
def mini_semcor(tmp_path, hash_encoder, mini, monkeypatch):
    """A SemCor-shaped index over the mini WordNet: 20 documents of pre-tokenised, sense-tagged lines."""
    import json

    monkeypatch.setenv("SENSEINDEX_CACHE", str(tmp_path / "cache"))
    lines = []
    for d in range(20):
        for tokens, sense in ((["The", "mole", "dug", "a", "tunnel"], "mole%1:05:00::"),
                              (["The", "mole", "spied", "for", "Moscow"], "mole%1:18:00::"),
                              (["One", "mole", "of", "carbon", "weighs", "twelve", "grams"], "mole%1:23:00::")):
            lines.append({"doc": f"d{d:02d}", "tokens": tokens,
                          "lemma": [None, "mole"] + [None] * (len(tokens) - 2),
                          "pos": ["DT", "NN"] + ["XX"] * (len(tokens) - 2),
                          "sense": [None, sense] + [None] * (len(tokens) - 2)})
    src = tmp_path / "mini-semcor.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder)
    si.add([src])
    return si


def test_semcor_evaluation_with_the_dictionary(mini_semcor, mini, tmp_path):
    from senseindex.evaluation.dictionary import (
        Config,
        Matrix,
        by_part,
        chooser,
        collect,
        corpus_means,
        flag_statistics,
        fused,
        fused_configs,
        gloss_configs,
        grid,
        knn_only,
        new_sense_flag,
        score,
        sense_clusters,
    )

    cache = GlossCache(mini_semcor.encoder, mini, tmp_path / "glosses")
    means = corpus_means(mini_semcor.store, progress=False)
    instances, info = collect(mini_semcor, mini, cache, 0.1, progress=False, variants=("token", "mean"), means=means)
    assert len(instances) == 6 and info["train_documents"] == 18 and info["labelled_synsets"] == 3
    assert all(len(i.keys) == 3 and not np.isnan(i.supervised).any() for i in instances)
    assert {"sent/mean", "centred/token", "sent_centred/mean", "sup_key", "knn@5"} <= set(instances[0].signals)
    # the hash encoder's vectors carry the neighbouring words, so labelled occurrences separate the senses
    assert score(instances, knn_only)["all"]["accuracy"] == 100.0
    assert score(instances, fused("token", 0.0, 0.0))["nouns"]["accuracy"] == 100.0
    never = lambda inst: None  # noqa: E731
    assert score(instances, by_part({"nouns": never}, knn_only))["all"]["coverage"] == 0.0
    assert score(instances, by_part({"verbs": never}, knn_only))["all"]["accuracy"] == 100.0
    configs = fused_configs(gloss_configs(("token", "mean"))[:3], ks=(5, 10))
    results = grid(Matrix(instances), configs)
    assert len(results) == len(configs)
    for config in configs[::7]:  # the stacked arrays score as the instances one by one do
        assert results[config.name]["all"] == score(instances, chooser(config))["all"]["accuracy"]
    clusters = sense_clusters(instances, min_size=2)
    assert sorted(c.gold for c in clusters) == ["mole%1:05:00::", "mole%1:18:00::", "mole%1:23:00::"]
    stats = flag_statistics(clusters, Config(token="token", gloss_weight=0.5, knn_weight=0.0))
    flag = new_sense_flag(stats, [-2.0, 2.0])
    assert flag["clusters"] == 3 and flag["named_right"] == 100.0  # supervised centroids name them
    assert flag["thresholds"]["-2.000"]["recall"] == 0 and flag["thresholds"]["2.000"]["recall"] == 1
    assert flag["thresholds"]["2.000"]["precision"] == 0.5  # everything flagged: half are known senses
    assert new_sense_flag(stats, [2.0], "margin")["thresholds"]["2.000"]["recall"] == 1
    # withholding a sense drops its labelled neighbours: the rest are further away
    assert all(r["withheld"]["knn"] <= r["present"]["knn"] for r in stats)
    dev, dev_info = collect(mini_semcor, mini, cache, 0.1, dev=True, sample_senses=2, progress=False)
    assert dev_info["train_documents"] == 16 and len(dev) == 6


def test_label_fuses_knn_in_a_sense_key_index(mini_semcor):
    p = mini_semcor.label("The [mole] dug a tunnel")
    assert p.method == "dictionary" and p.label == "mole%1:05:00::"
    assert p.evidence["knn"] == p.label and p.evidence["supervised_level"] == "synset"
    assert "k-NN vote" in p.basis and p.neighbours
    again = mini_semcor.label("The [mole] dug a tunnel")  # centroids now come from the index folder
    assert again.label == p.label and (mini_semcor.store.path / "sense-centroids.safetensors").exists()


def test_soft_assignments_sum_to_one():
    from senseindex.senses.cluster_senses import cluster_centroids, soft_assignments

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 8)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    labels = np.arange(40) % 3
    p = soft_assignments(X, cluster_centroids(X, labels, 3))
    assert p.shape == (40, 3) and np.allclose(p.sum(axis=1), 1, atol=1e-5) and (p >= 0).all()
    assert (p.argmax(1) == labels).mean() > 0.5  # a row leans to its own cluster


def test_new_sense_flag_on_a_constructed_case(unlabelled_index, mini, hash_encoder):
    from senseindex.senses.cluster_senses import match_clusters

    store = unlabelled_index.store
    ids = np.array([r[0] for r in store.db.execute("select id from occurrences where lemma = 'mole' order by id")])
    senses = mini.senses("mole")
    G = GlossCache(hash_encoder, mini).vectors(senses, "mean")  # no labels: the gloss-only variant
    known = G[2]  # an occurrence that reads exactly like the burrowing mammal's gloss
    q, _ = np.linalg.qr(G.T)  # a direction orthogonal to every gloss of mole: a sense WordNet lacks
    other = np.random.default_rng(1).standard_normal(G.shape[1]).astype(np.float32)
    other -= q @ (q.T @ other)
    other /= np.linalg.norm(other)
    out = match_clusters(store, hash_encoder, "mole", ids, np.stack([known, other]), np.array([0, 1]), 2, mini,
                         threshold=0.5)
    first, second = out["clusters"]
    assert first["senses"][0]["key"] == senses[2].key and first["senses"][0]["similarity"] > 0.99
    assert not first["new_sense"] and second["new_sense"]
    assert abs(second["senses"][0]["similarity"]) < 1e-4
    assert first["senses"][0]["gloss"].startswith("small velvety-furred")


def test_senses_carry_the_dictionary_and_soft_distributions(unlabelled_index, tmp_path):
    import csv

    report = unlabelled_index.senses("mole", k=2, min_size=1, export=tmp_path / "mole.csv")
    assert report.dictionary["pos"] == "n" and len(report.dictionary["clusters"]) == report.k
    assert all(abs(sum(o.soft) - 1) < 1e-3 and len(o.soft) == report.k for o in report.rows)
    with open(tmp_path / "mole.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert all(r["wordnet_sense"].startswith("mole%1:") and r["gloss"] for r in rows)
    assert all(abs(sum(map(float, r["cluster_probabilities"].split())) - 1) < 1e-3 for r in rows)
    assert unlabelled_index.senses("mole", k=2, min_size=1, dictionary=False).dictionary is None


def test_explain_says_whether_two_occurrences_share_a_wordnet_sense(mini, hash_encoder, monkeypatch, tmp_path):
    from senseindex.senses.explain import explain

    monkeypatch.setenv("SENSEINDEX_CACHE", str(tmp_path / "cache"))

    class NoGlove:
        def vector(self, word):
            return None

    r = explain(hash_encoder, NoGlove(), ["The [mole] dug a tunnel", "The [mole] dug a tunnel",
                                          "They [run] to the gate", "A [tunnel] is dark"])
    senses = [o["wordnet_sense"] for o in r["occurrences"]]
    assert senses[0]["key"].startswith("mole%1:") and senses[0]["gloss"] and senses[2]["key"] == "run%2:38:00::"
    assert senses[3] is None  # tunnel: not in the mini WordNet
    same = r["same_wordnet_sense"]
    assert same[0][1] is True and same[0][2] is False and same[0][3] is None


def test_usage_scores_lean_to_the_sense_the_index_uses():
    from senseindex.senses.sense_vectors import usage_sample, usage_scores

    gloss = np.stack([unit(1, 0, 0), unit(0, 1, 0)])
    x = unit(1, 1, 0.2)  # equally close to both glosses
    assert usage_scores(x[None, :], gloss, np.zeros((0, 3), np.float32)).tolist() == (x[None, :] @ gloss.T).tolist()
    usage = np.stack([unit(1, 0.1 * i, 0.3) for i in range(8)] + [unit(0.1, 1, 0.3)])  # mostly the first sense
    scores = usage_scores(x[None, :], gloss, usage)[0]
    assert scores[0] > scores[1]
    again = usage_scores(x[None, :], gloss, usage[::-1].copy())[0]
    np.testing.assert_allclose(scores, again, atol=1e-5)  # the order of the usage does not matter
    assert usage_sample([5, 3, 9, 1], 10).tolist() == [1, 3, 5, 9]
    picked = usage_sample(list(range(1000, 0, -1)), 5)
    assert picked.tolist() == [1, 250, 500, 750, 1000]


def test_nearest_labelled_skips_the_occurrence_itself():
    from senseindex.senses.cluster_senses import nearest_labelled

    L = np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(1, 1, 0)])
    X = np.stack([unit(1, 0, 0), unit(0, 0, 1)])
    near = nearest_labelled(X, np.array([10, 99]), np.array([10, 11, 12]), L, k=2)
    # row 0 is labelled occurrence 10 itself: its neighbours are 12 (cos 0.707) and 11 (cos 0)
    np.testing.assert_allclose(near, [(0.70710677 + 0.0) / 2, 0.0], atol=1e-6)
    assert np.isnan(nearest_labelled(X, np.array([1, 2]), np.zeros(0, np.int64), np.zeros((0, 3), np.float32))).all()


def test_new_sense_flag_from_labelled_neighbours(mini_semcor, mini):
    from senseindex.senses.cluster_senses import (
        NEW_SENSE_THRESHOLDS,
        NEW_SENSE_THRESHOLDS_BY_LAYER,
        match_clusters,
    )

    store = mini_semcor.store
    ids = np.array([r[0] for r in store.db.execute("select id from occurrences where lemma = 'mole' order by id")])
    X = store.take(ids[:6])
    other = np.random.default_rng(2).standard_normal(X.shape[1]).astype(np.float32)
    other -= X.T @ np.linalg.lstsq(X.T, other, rcond=None)[0]  # unlike every labelled occurrence
    other /= np.linalg.norm(other)
    out = match_clusters(store, mini_semcor.encoder, "mole", np.r_[ids[:6], -1], np.vstack([X, other]),
                         np.array([0] * 6 + [1]), 2, mini)
    assert out["statistic"] == "knn" and out["threshold"] == NEW_SENSE_THRESHOLDS["knn"]["n"]
    known, new = out["clusters"]
    assert known["fit"] > 0.99 and not known["new_sense"]  # same-text occurrences of other documents
    assert new["new_sense"] and abs(new["fit"]) < 0.2
    store.manifest["layer"] = "last4"  # an index of another layer uses that layer's calibration
    again = match_clusters(store, mini_semcor.encoder, "mole", np.r_[ids[:6], -1], np.vstack([X, other]),
                           np.array([0] * 6 + [1]), 2, mini)
    assert again["threshold"] == NEW_SENSE_THRESHOLDS_BY_LAYER["last4"]["knn"]["n"] != out["threshold"]


def test_centroids_per_sense_key_come_first_then_the_synset(mini):
    store = FakeStore({1: unit(1, 0, 0), 2: unit(0, 1, 0)})
    c = build_centroids(store, mini, [1, 2], ["spy%1:18:00::", "mole%1:18:00::"], by_key=True)
    np.testing.assert_allclose(c.keys["spy%1:18:00::"], unit(1, 0, 0), atol=1e-6)
    assert not build_centroids(store, mini, [1, 2], ["spy%1:18:00::", "mole%1:18:00::"]).keys
    spy, mole = mini.sense("spy%1:18:00::"), mini.sense("mole%1:18:00::")
    vec, level = propagate(spy, c, mini, by_key=True)
    assert level == "key" and np.allclose(vec, unit(1, 0, 0), atol=1e-6)
    vec, level = propagate(spy, c, mini)  # pooled by synset: both keys' occurrences
    assert level == "synset" and np.allclose(vec, unit(1, 1, 0), atol=1e-6)
    assert propagate(mole, c, mini, by_key=True)[1] == "key"
