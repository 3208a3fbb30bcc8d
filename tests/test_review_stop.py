"""Review that knows when to stop (issue 23): the stopping rule, and undoing answers."""

from __future__ import annotations

import numpy as np

from senseindex import SenseIndex
from senseindex.senses.active import stable_answers, stop_rule
from senseindex.testing import index_sentences


def two_senses(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.eye(8)[:2]
    y = np.array([i % 2 for i in range(n)])
    W = centres[y] + 0.05 * rng.standard_normal((n, 8))
    return W / np.linalg.norm(W, axis=1, keepdims=True), y


def test_stop_rule_needs_coverage_stable_predictions_and_the_estimate():
    W, y = two_senses()
    clusters = y.copy()  # the sense clusters review asks from
    rows = np.arange(12)
    stop = stop_rule(W, rows, y[rows], 2, k=3, window=5, target=0.9, groups=(clusters,))
    assert stop["can_stop"] and stop["stable_answers"] == 5 and stop["estimate"] == 1.0
    assert stop["clusters_unasked"] == 0
    only_one = np.arange(0, 24, 2)  # every answer from one sense: stable and sure, but a cluster never asked
    stop = stop_rule(W, only_one, y[only_one], 2, k=3, window=5, target=0.9, groups=(clusters,))
    assert not stop["can_stop"] and stop["clusters_unasked"] == 1
    few = np.arange(3)
    assert not stop_rule(W, few, y[few], 2, k=3, window=5, target=0.9, groups=(clusters,))["can_stop"]
    # an answer that flips the predictions of the rest resets the count
    flipped = np.array([0, 2, 4, 6, 1])  # the first answer of sense 1 comes last
    assert stable_answers(W, flipped, y[flipped], 2, k=3, window=4) == 0


def test_answers_are_undone_all_or_nothing_and_skips_forgotten(tmp_path):
    path = index_sentences(tmp_path / "mole", [
        "The mole dug a tunnel under the lawn.", "A mole ate worms in the garden.",
        "The spy was a mole in the agency.", "The agency found the mole at last.",
        "A mole on the skin should be checked."])
    si = SenseIndex.open(path)
    ids = [r[0] for r in si.store.db.execute("select o.id from occ o join lemmas l on l.id = o.lemma_id "
                                             "where l.lemma = 'mole' order by o.id")]
    first = si.answer_review("mole", {ids[0]: "animal", ids[2]: "spy"})
    assert first["before"] == {ids[0]: None, ids[2]: None}
    second = si.answer_review("mole", {ids[0]: "skin", ids[4]: "skip"})  # a correction and a skip
    assert second["before"] == {ids[0]: "animal", ids[4]: None}
    assert "stop" in second["status"] and second["status"]["stop"]["can_stop"] is False
    undone = si.undo_review("mole", second["before"])
    assert undone["status"]["by_person"] == 2 and undone["status"]["skipped"] == 0
    labels = {r["occurrence_id"]: r["label"] for r in si.labels(("review",), "mole")}
    assert labels == {ids[0]: "animal", ids[2]: "spy"}
    si.undo_review("mole", first["before"])
    assert si.labels(("review",), "mole") == []
