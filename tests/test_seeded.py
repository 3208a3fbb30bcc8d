"""Dictionary-seeded sense clusters (senses/seeded.py): the pure core on constructed vectors, and
`senses --inventory wordnet` on a small sense-tagged index over the mini WordNet (hash encoder)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from senseindex import SenseIndex
from senseindex.errors import SenseIndexError
from senseindex.senses.seeded import seed_clusters
from senseindex.testing import run_cli
from senseindex.text.inventory import Inventory

MINI = Path(__file__).parent / "data" / "wordnet-mini"


def constructed(seed: int = 0):
    """Rows near sense A (12), near sense B (8) and two groups near neither (4 + 3), in 16
    dimensions; senses A, B and C (nobody's) as unit directions."""
    rng = np.random.default_rng(seed)
    basis = np.eye(16, dtype=np.float32)
    groups = [(basis[0], 12), (basis[1], 8), (basis[5], 4), (basis[6], 3)]
    X = np.concatenate([d + 0.05 * rng.standard_normal((n, 16)) for d, n in groups]).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    senses = np.stack([basis[0], basis[1], basis[2]])
    return X, X @ senses.T, np.repeat([0, 1, 2, 3], [12, 8, 4, 3])


def test_senses_become_clusters_empty_ones_drop_far_ones_are_new():
    X, scores, truth = constructed()
    sd = seed_clusters(X, scores, threshold=0.5, min_size=2)
    assert sd.k == 4 and sd.senses == [0, 1, None, None]  # largest first; sense C got nothing and is gone
    assert sd.far == 7
    assert np.array_equal(sd.labels, truth)  # the far rows are induced into their own two clusters
    assert sd.soft.shape == (27, 4) and np.allclose(sd.soft.sum(1), 1, atol=1e-5) and (sd.soft >= 0).all()
    assert (sd.soft.argmax(1) == sd.labels).all()
    assert "2 new cluster" in sd.how


def test_without_a_threshold_everyone_goes_to_a_sense():
    X, scores, _ = constructed()
    sd = seed_clusters(X, scores, threshold=None, min_size=2)
    assert None not in sd.senses and sd.far == 0
    assert np.allclose(sd.soft.sum(1), 1, atol=1e-5)


def test_small_senses_are_dropped_and_their_occurrences_take_the_next_best():
    X, scores, _ = constructed()
    scores = np.concatenate([scores, np.zeros((27, 1))], axis=1)
    scores[0, 3] = 5.0  # one occurrence prefers a fourth sense, which nobody else wants
    sd = seed_clusters(X, scores, threshold=0.5, min_size=2)
    assert 3 not in sd.senses and sd.senses[sd.labels[0]] == 0
    sd1 = seed_clusters(X, scores, threshold=0.5, min_size=1)
    assert 3 in sd1.senses  # a cluster of one is allowed when min-size is 1


def test_a_lone_far_occurrence_joins_its_best_sense():
    X, scores, _ = constructed()
    keep = np.r_[0:20, 20]  # one of the far rows only
    sd = seed_clusters(X[keep], scores[keep], threshold=0.5, min_size=2)
    assert None not in sd.senses and sd.far == 0 and sd.k == 2


@pytest.fixture()
def tagged_index(tmp_path, hash_encoder, monkeypatch):
    """Six documents of sense-tagged lines: mole as an animal, a spy and a unit (mini WordNet keys)."""
    monkeypatch.setenv("SENSEINDEX_WORDNET", str(MINI))
    monkeypatch.setenv("SENSEINDEX_CACHE", str(tmp_path / "cache"))
    lines = []
    for d in range(6):
        for tokens, sense in ((["The", "mole", "dug", "a", "tunnel"], "mole%1:05:00::"),
                              (["The", "mole", "was", "unmasked", "again"], "mole%1:18:00::"),
                              (["One", "mole", "of", "carbon", "weighs"], "mole%1:23:00::")):
            lines.append({"doc": f"d{d}", "tokens": tokens, "lemma": [None, "mole", None, None, None],
                          "pos": ["DT", "NN", "XX", "XX", "XX"], "sense": [None, sense, None, None, None]})
    src = tmp_path / "tagged.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder)
    si.add([src])
    return si


def test_seeded_clusters_are_the_senses_of_the_occurrences(tagged_index, hash_encoder):
    from senseindex.senses.seeded import seeded_senses

    # the hash encoder's gloss vectors are all alike (its "mole" dominates), so the test reads the
    # supervised sense vectors alone: each occurrence must land in the cluster of its own sense
    report = seeded_senses(tagged_index.store, hash_encoder, "mole", gloss_weight=0.0)
    assert report.dictionary["mode"] == "seeded" and report.k == 3
    by_key = {s.key: s for s in Inventory(MINI).senses("mole", "n")}
    gold = tagged_index.effective_labels("mole")
    for sense, cluster in zip(report.senses, report.dictionary["clusters"], strict=True):
        seeded = by_key[cluster["seeded_from"]]
        assert sense.name == seeded.name and cluster["senses"][0]["gloss"] == seeded.gloss
        assert not cluster["new_sense"]
        members = {gold[o.occurrence_id][0] for o in report.rows if o.cluster == sense.cluster}
        assert members == {seeded.key}


def test_seeded_senses_through_the_facade(tagged_index, tmp_path):
    report = tagged_index.senses("mole", inventory="wordnet", export=tmp_path / "mole.csv")
    assert report.dictionary["mode"] == "seeded" and report.how.startswith("seeded by 3 dictionary sense(s)")
    names = {s.name for s in Inventory(MINI).senses("mole", "n")}
    assert {s.name for s in report.senses} <= names
    assert all(abs(sum(o.soft) - 1) < 1e-3 and len(o.soft) == report.k for o in report.rows)
    with open(tmp_path / "mole.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert all(r["gloss"] and r["suggested_name"] in names for r in rows)
    assert all(abs(sum(map(float, r["cluster_probabilities"].split())) - 1) < 1e-3 for r in rows)
    plain = tagged_index.senses("mole", inventory="none")
    assert plain.dictionary.get("mode") is None
    with pytest.raises(SenseIndexError, match="--k applies"):
        tagged_index.senses("mole", k=2, inventory="wordnet")
    with pytest.raises(SenseIndexError, match="--inventory"):
        tagged_index.senses("mole", inventory="oed")


def test_cli_inventory_option(tagged_index):
    # the CLI opens the index afresh and cannot load the test's hash encoder: the plain mode still
    # clusters (and says why there is no dictionary); the seeded mode, asked for, says why it cannot
    out = run_cli("senses", tagged_index.store.path, "mole", "--inventory", "none", "--json", ok=True)
    data = json.loads(out.output)
    assert data["dictionary"] is None and "no dictionary" in data["how"]
    seeded = run_cli("senses", tagged_index.store.path, "mole", "--inventory", "wordnet", ok=False)
    assert "cannot load model" in seeded.output and "Traceback" not in seeded.output
    bad = run_cli("senses", tagged_index.store.path, "mole", "--inventory", "oed", ok=False)
    assert "Traceback" not in bad.output and "oed" in bad.output
