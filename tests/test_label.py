"""Sense labelling by nearest labelled neighbours, on the demo index built with the real model."""

from __future__ import annotations

import csv
import json
from collections import Counter

import numpy as np
import pytest

from helpers import DEMO_QUERIES
from senseindex import SenseIndex
from senseindex.senses.knn import knn_vote
from senseindex.storage.labels import set_labels
from senseindex.testing import run_cli
from senseindex.text.tagging import pos_class

run = run_cli


def demo_queries() -> list[dict]:
    """The first query of each (word, sense) in the demo's query file: every demo sense once."""
    first: dict[tuple[str, str], dict] = {}
    with open(DEMO_QUERIES, encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            first.setdefault((r["word"], r["sense"]), r)
    return list(first.values())


def test_knn_vote_weights_by_similarity():
    sims = np.array([0.9, 0.5, 0.45, 0.1], dtype=np.float32)
    label, conf, votes = knn_vote(sims, ["a", "b", "b", "c"], k=3)
    assert label == "b" and conf == pytest.approx(0.95 / 1.85, abs=1e-4)
    assert list(votes) == ["b", "a"]
    # one close neighbour outweighs a distant one; min_score drops the distant ones entirely
    assert knn_vote(sims, ["a", "b", "c", "c"], k=2)[0] == "a"
    assert knn_vote(sims, ["a", "b", "b", "c"], k=3, min_score=0.6)[:2] == ("a", 1.0)
    assert knn_vote(sims, ["a", "b", "b", "c"], k=3, min_score=0.95)[0] is None


def test_label_predicts_demo_senses(demo_index):
    """Every sense of every demo word: the real model, the real gold labels."""
    queries = demo_queries()
    assert len(queries) == 27
    wrong = []
    for q in queries:
        result = run("label", demo_index, q["query"], "--json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        if data["label"] != q["sense"]:
            wrong.append((q["query"], q["sense"], data["label"]))
    assert not wrong, wrong


def test_label_json_shape(demo_index):
    result = run("label", demo_index, "I have a [mole] on my hip", "-k", "5", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"target", "label", "confidence", "method", "pos", "basis", "k", "labelled", "votes",
                         "neighbours"}
    assert data["label"] == "skin" and data["method"] == "knn" and data["k"] == 5
    assert 0.5 < data["confidence"] <= 1.0
    assert data["target"]["lemma"] == "mole" and data["target"]["how"] == "marked"
    assert len(data["neighbours"]) == 5
    assert all(h["lemma"] == "mole" and h["label"] and h["label_source"] == "gold" for h in data["neighbours"])
    scores = [h["score"] for h in data["neighbours"]]
    assert scores == sorted(scores, reverse=True)
    assert sum(data["votes"].values()) == pytest.approx(1.0, abs=1e-3)


def test_label_text_output(demo_index):
    result = run("label", demo_index, "The [bank] raised its interest rates")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].startswith("finance  (confidence")
    assert "[bank]" in result.output


def test_label_falls_back_to_most_frequent_sense(demo_index):
    """No neighbour is similar enough: the most frequent label of the lemma as a noun (the
    query's part of speech; untagged occurrences count too), with its share."""
    si = SenseIndex.open(demo_index)
    counts = Counter(label for label, pos in si.store.db.execute(
        "select l.label, o.pos from labels l join occurrences o on o.id = l.occurrence_id "
        "where o.lemma = 'mole'").fetchall() if pos_class(pos) in ("n", "x"))
    result = run("label", demo_index, "A [mole] dug tunnels under the lawn.", "--min-score", "0.999", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    top = max(counts.values())
    assert data["method"] == "mfs" and data["neighbours"] == []
    assert counts[data["label"]] == top
    assert data["confidence"] == pytest.approx(top / sum(counts.values()), abs=1e-3)


def test_label_errors_are_one_line(demo_index):
    si = SenseIndex.open(demo_index)
    unlabelled = si.store.db.execute(
        "select o.lemma from occurrences o left join labels l on l.occurrence_id = o.id "
        "group by o.lemma having count(l.label) = 0 and count(*) > 2 order by count(*) desc limit 1").fetchone()[0]
    word = si.store.db.execute("select word from occurrences where lemma = ? limit 1", [unlabelled]).fetchone()[0]
    result = run("label", demo_index, f"Something about the [{word}] here")
    assert result.exit_code == 1
    assert "no labelled occurrences" in result.output and "Traceback" not in result.output
    result = run("label", demo_index, "A [zyxwvut] in the garden")
    assert result.exit_code == 1 and "not in the index" in result.output
    result = run("label", demo_index, "[two] [marks]")
    assert result.exit_code == 1 and "mark one word" in result.output


def test_review_labels_vote_and_predictions_do_not(writable_demo):
    """Review beats gold; an earlier prediction never votes (the labeller would feed on itself)."""
    si = SenseIndex.open(writable_demo)
    db = si.store.db
    skin = [r[0] for r in db.execute(
        "select o.id from occurrences o join labels l on l.occurrence_id = o.id "
        "where o.lemma = 'mole' and l.label = 'skin'")]
    everything = [r[0] for r in db.execute("select id from occurrences where lemma = 'mole'")]
    with si.store.lock(), si.store.db.conn:  # a writer's connection, in one transaction
        set_labels(si.store.db, [(i, "bogus") for i in everything], "predicted")
    assert si.label("I have a [mole] on my hip").label == "skin"
    with si.store.lock(), si.store.db.conn:
        set_labels(si.store.db, [(i, "birthmark") for i in skin], "review")
    p = si.label("I have a [mole] on my hip")
    assert p.label == "birthmark" and p.method == "knn"
    assert all(h.label == "birthmark" and h.label_source == "review" for h in p.neighbours[:3])
