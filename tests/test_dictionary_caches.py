"""The caches behind `label`'s latency (issue 22): the supervised sense vectors stay in memory while
the labels are unchanged and follow every change, whether this connection or another process
made it; one gloss cache per process, encoder and cache folder."""

from __future__ import annotations

import numpy as np

from senseindex import SenseIndex
from senseindex.senses import dictionary
from senseindex.senses.sense_vectors import gloss_cache
from senseindex.storage.db import change_stamp
from test_dictionary import mini, mini_semcor  # noqa: F401 (fixtures)


def test_change_stamp_moves_with_this_connection_and_with_others(mini_semcor):  # noqa: F811
    db = mini_semcor.store.db
    before = change_stamp(db)
    assert change_stamp(db) == before  # nothing happened
    other = SenseIndex.open(mini_semcor.store.path, encoder=mini_semcor.encoder)
    first = other.concordance("The [mole] dug a tunnel").hits[0].occurrence_id
    other.review_labels([{"index_id": other.info()["index_id"], "occurrence_id": first, "label": "mole%1:18:00::"}])
    moved = change_stamp(db)
    assert moved != before  # another connection committed
    mini_semcor.review_labels([{"index_id": mini_semcor.info()["index_id"], "occurrence_id": first,
                                "label": "mole%1:23:00::"}])
    assert change_stamp(db) != moved  # this connection wrote


def test_centroids_are_reused_until_a_label_changes(mini_semcor, mini, monkeypatch):  # noqa: F811
    store = mini_semcor.store
    first = dictionary.index_centroids(store, mini)
    scans = []
    real = dictionary.labels_fingerprint
    monkeypatch.setattr(dictionary, "labels_fingerprint", lambda db: scans.append(1) or real(db))
    assert dictionary.index_centroids(store, mini) is first and scans == []  # no scan of the labels table
    # another process relabels every burrowing-mole line as the spy: the vectors must follow
    other = SenseIndex.open(store.path, encoder=mini_semcor.encoder)
    ids = [h.occurrence_id for h in other.concordance("The [mole] dug a tunnel").hits
           if h.label == "mole%1:05:00::"]
    other.review_labels([{"index_id": other.info()["index_id"], "occurrence_id": i, "label": "mole%1:18:00::"}
                         for i in ids])
    after = dictionary.index_centroids(store, mini)
    assert scans == [1] and after is not first
    spy = mini.sense("mole%1:18:00::").synset.id
    assert after.counts[spy] > first.counts[spy] and mini.sense("mole%1:05:00::").synset.id not in after.synsets
    assert not np.allclose(after.synsets[spy], first.synsets[spy])
    assert dictionary.index_centroids(store, mini) is after and scans == [1]


def test_one_gloss_cache_per_encoder_inventory_and_folder(mini, hash_encoder, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SENSEINDEX_CACHE", str(tmp_path / "a"))
    a = gloss_cache(hash_encoder, mini)
    assert gloss_cache(hash_encoder, mini) is a and a.path.parent == tmp_path / "a" / "glosses"
    monkeypatch.setenv("SENSEINDEX_CACHE", str(tmp_path / "b"))
    assert gloss_cache(hash_encoder, mini) is not a
