"""Sense quality on real annotated data (CoarseWSD-20, SemCor); small subsets, skipped without ../shared."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from helpers import SHARED
from senseindex import SenseIndex
from senseindex.errors import SenseIndexError
from senseindex.evaluation import METHODS, heldout_documents, macro_f1, nearest_order, pos_class
from senseindex.evaluation.coarsewsd import subset_indices, take_split, target_vectors
from senseindex.evaluation.datasets import read_coarsewsd
from senseindex.testing import run_cli

WORDS = "digit,yard"  # the two smallest words: 110 and 217 instances


run = run_cli


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


def test_metrics_helpers():
    assert macro_f1(["a", "a", "b", "b"], ["a", "a", "b", "a"]) == pytest.approx((0.8 + 2 / 3) / 2)

    sims = np.array([[0.1, 0.9, 0.5], [0.7, 0.2, 0.3]])
    assert nearest_order(sims, 2).tolist() == [[1, 2], [0, 2]]
    assert [pos_class(t) for t in ("NNS", "VBD", "JJ", "RB", "PUNC", None)] == ["n", "v", "a", "r", "x", "x"]


def test_heldout_documents_are_fixed():
    docs = [f"br-{c}{n:02d}" for c in "abcdef" for n in range(1, 11)]
    chosen = heldout_documents(docs, 0.1)
    assert len(chosen) == 6 and chosen == heldout_documents(list(reversed(docs)), 0.1)
    assert heldout_documents(["x", "y", "z"], 0.1) == heldout_documents(["z", "y", "x"], 0.1)
    with pytest.raises(SenseIndexError, match="between 0 and 1"):
        heldout_documents(docs, 1.5)


def test_subset_is_stable_and_cut_from_the_cache(shared_data, minilm_encoder, tmp_path, monkeypatch):
    monkeypatch.setenv("SENSEINDEX_CACHE", str(tmp_path / "cache"))
    split = read_coarsewsd(shared_data / "coarsewsd20", "digit", "train")
    idx = subset_indices(split, 20)
    assert len(idx) == 20 and idx.tolist() == subset_indices(split, 20).tolist()
    assert subset_indices(split, 20, seed=1).tolist() != idx.tolist()
    assert subset_indices(split, 1000) is None
    part = take_split(split, idx)
    assert part.texts == [split.texts[i] for i in idx] and part.labels == [split.labels[i] for i in idx]
    alone = target_vectors(minilm_encoder, split, idx)  # no whole-split cache yet: encodes the 20
    whole = target_vectors(minilm_encoder, split)
    assert np.allclose(target_vectors(minilm_encoder, split, idx), whole[idx])  # now cut from the cache
    assert np.allclose(alone, whole[idx], atol=0.02)


@pytest.mark.model
def test_eval_coarsewsd20_json(shared_data):
    root = shared_data / "coarsewsd20"
    before = snapshot(root)
    result = run("eval", "coarsewsd20", root, "--words", WORDS, "--model", "minilm", "-k", "5", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert snapshot(root) == before  # nothing written into the dataset
    assert data["words"] == ["digit", "yard"] and data["k"] == 5
    assert set(data["methods"]) == set(METHODS)
    for name, m in data["methods"].items():
        assert {"micro_accuracy", "per_word_accuracy_mean", "macro_f1_mean", "per_word"} <= set(m), name
        assert set(m["per_word"]) == {"digit", "yard"}
        assert m["per_word"]["digit"]["n_test"] == 42 and m["per_word"]["yard"]["n_test"] == 72
        # micro accuracy is the instance-weighted mean of the per-word accuracies
        weighted = (42 * m["per_word"]["digit"]["accuracy"] + 72 * m["per_word"]["yard"]["accuracy"]) / 114
        assert m["micro_accuracy"] == pytest.approx(weighted, abs=0.02), name
    inst = data["methods"]["contextual-instance"]
    assert {"precision_at_5", "precision_at_10"} <= set(inst) and "precision_at_5" in inst["per_word"]["yard"]
    assert "precision_at_5" not in data["methods"]["mfs"]
    # the real small model on real sentences: nearest neighbours beat the majority sense by far on
    # macro-F1 (MiniLM's centroids are weaker on yard, whose minority senses are small)
    mfs = data["methods"]["mfs"]
    for m in ("contextual-instance", "contextual-knn"):
        assert data["methods"][m]["micro_accuracy"] >= 85, m
        assert data["methods"][m]["macro_f1_mean"] > mfs["macro_f1_mean"] + 30, m
    assert data["methods"]["contextual-centroid"]["macro_f1_mean"] > mfs["macro_f1_mean"] + 20


@pytest.mark.model
def test_eval_coarsewsd20_table_and_errors(shared_data, tmp_path):
    root = shared_data / "coarsewsd20"
    result = run("eval", "coarsewsd20", root, "--words", "digit", "--model", "minilm")
    assert result.exit_code == 0, result.output
    assert "BERT-large (published)" in result.output and "contextual-instance" in result.output
    result = run("eval", "coarsewsd20", root, "--words", "digit,unicorn", "--model", "minilm")
    assert result.exit_code == 1 and "unicorn" in result.output and "Traceback" not in result.output
    result = run("eval", "coarsewsd20", tmp_path / "missing", "--model", "minilm")
    assert result.exit_code == 1 and "no such folder" in result.output
    rows = run("eval", "coarsewsd20", root, "--words", "digit", "--model", "minilm", "--csv")
    assert rows.exit_code == 0 and rows.output.startswith("method,word,")
    assert sum(1 for line in rows.output.splitlines() if ",digit," in line) == len(METHODS)


@pytest.fixture(scope="module")
def semcor_index(tmp_path_factory, minilm_encoder):
    """The first 80 sentences of five SemCor documents, indexed with the small packaged model."""
    source = SHARED / "semcor" / "semcor30.jsonl.gz"
    if not source.is_file():
        pytest.skip("../shared/data/semcor is absent (benchmark data beside the repository)")
    folder = tmp_path_factory.mktemp("semcor")
    per_doc: dict[str, int] = {}
    lines = []
    with gzip.open(source, "rt", encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)["doc"]
            if doc not in per_doc and len(per_doc) == 5:
                break
            per_doc[doc] = per_doc.get(doc, 0) + 1
            if per_doc[doc] <= 80:
                lines.append(line)
    part = folder / "semcor-part.jsonl.gz"
    with gzip.open(part, "wt", encoding="utf-8") as fh:
        fh.writelines(lines)
    si = SenseIndex.open_or_create(folder / "index", encoder=minilm_encoder)
    report = si.add([part])
    assert report.sentences == len(lines) and report.labels > 1000
    return folder / "index"


def test_semcor_eval(semcor_index):
    si = SenseIndex.open(semcor_index)
    sections = {r[0] for r in si.store.db.execute("select distinct section from sentences")}
    assert len(sections) == 5
    result = si.evaluate_semcor(holdout=0.2, k=5)
    assert len(result["test_documents"]) == 1 and result["train_documents"] == 4
    assert result["test_documents"][0] in sections
    for part in ("all", "nouns", "verbs"):
        assert result[part]["instances"] > 0
        assert 0 < result[part]["covered"] <= result[part]["instances"]
    assert result["all"]["instances"] >= result["nouns"]["instances"] + result["verbs"]["instances"]
    # real text, real model: nearest labelled neighbours do better than chance on covered words and
    # stay in the range of the most frequent sense (which is hard to beat on so little training data)
    assert result["all"]["knn_accuracy_covered"] > 50
    assert result["all"]["knn_accuracy_covered"] > result["all"]["mfs_accuracy_covered"] - 10
    cli_result = run("eval", "semcor", semcor_index, "--holdout", "0.2", "-k", "5", "--json")
    assert cli_result.exit_code == 0, cli_result.output
    assert json.loads(cli_result.output)["all"] == result["all"]
    text = run("eval", "semcor", semcor_index, "--holdout", "0.2")
    assert text.exit_code == 0 and "nouns" in text.output and "MFS" in text.output
    # lemmas unseen in training: WordNet's first sense, right far more often than not (most have one sense)
    wn = result["all"]["backoff"]
    given = wn["wordnet_one_sense"]["answers"] + wn["wordnet"]["answers"]
    assert given > 0 and wn["wordnet_one_sense"]["right"] + wn["wordnet"]["right"] > given / 2
    assert "WordNet" in text.output
    without = si.evaluate_semcor(holdout=0.2, k=5, wordnet=False)
    assert without["all"]["backoff"]["wordnet"]["answers"] == 0
    assert without["all"]["knn_accuracy_covered"] == result["all"]["knn_accuracy_covered"]
    assert without["all"]["knn_accuracy"] < result["all"]["knn_accuracy"]
    csv = run("eval", "semcor", semcor_index, "--holdout", "0.2", "--no-wordnet", "--csv")
    assert csv.exit_code == 0 and "backoff_wordnet_right" in csv.output.splitlines()[0]


def test_semcor_eval_through_a_codec(semcor_index):
    """--codec scores the same instances through a codec's faithful tier: the two-tier default
    stays within a point of the stored vectors; a bad codec string is one line."""
    si = SenseIndex.open(semcor_index)
    stored = si.evaluate_semcor(holdout=0.2, k=5)
    faithful = si.evaluate_semcor(holdout=0.2, k=5, codec="PQ16,Refine(SQ4)")
    coarse = si.evaluate_semcor(holdout=0.2, k=5, codec="PQ8")
    assert faithful["vectors"] == "codec round trip" and stored["vectors"].startswith("as stored")
    assert faithful["all"]["instances"] == stored["all"]["instances"] == coarse["all"]["instances"]
    assert abs(faithful["all"]["knn_accuracy"] - stored["all"]["knn_accuracy"]) <= 1.0
    assert coarse["codec"] == "PQ8" and coarse["all"]["covered"] == stored["all"]["covered"]
    bad = run("eval", "semcor", semcor_index, "--holdout", "0.2", "--codec", "PQ7x")
    assert bad.exit_code == 1 and "PQ7x" in bad.output and "Traceback" not in bad.output


def test_semcor_eval_needs_gold_documents(demo_index):
    result = run("eval", "semcor", demo_index)
    assert result.exit_code == 1 and "no gold labels with a document id" in result.output
