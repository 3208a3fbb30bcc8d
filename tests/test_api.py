"""The Python API: every SenseIndex method, with the guarantees the CLI gives (fast tier: hash encoder)."""

from __future__ import annotations

import csv
import inspect
import json

import pytest

import senseindex
from senseindex import CorpusError, SenseIndex, SenseIndexError, WordEncoder
from senseindex.storage.labels import effective_labels

BANK = [
    ("The bank raised its interest rates again .", "money"),
    ("She opened a savings account at the bank .", "money"),
    ("The bank approved the loan on Friday .", "money"),
    ("We sat on the grassy bank of the river .", "river"),
    ("The river bank was muddy after the flood .", "river"),
    ("Fish hid under the bank of the stream .", "river"),
]


@pytest.fixture
def corpus(tmp_path):
    """A pre-tokenised JSONL corpus with gold senses on `bank`, and a plain text file."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    with open(folder / "bank.jsonl", "w", encoding="utf-8") as fh:
        for text, sense in BANK:
            tokens = text.split()
            fh.write(json.dumps({"tokens": tokens, "sense": [sense if t == "bank" else None for t in tokens],
                                 "doc": "d1"}) + "\n")
    (folder / "mole.txt").write_text("The mole dug a tunnel under the lawn.\nA mole on the skin can change.\n")
    return folder


@pytest.fixture
def index(tmp_path, corpus, hash_encoder):
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder)
    si.add([corpus])
    return si


def test_every_public_method_is_documented():
    public = [m for name, m in inspect.getmembers(SenseIndex) if not name.startswith("_") and callable(m)]
    assert len(public) >= 15
    assert all(inspect.getdoc(m) for m in public), [m.__name__ for m in public if not inspect.getdoc(m)]
    assert inspect.getdoc(senseindex.explain) and inspect.getdoc(senseindex.evaluate_coarsewsd)


def test_the_fake_encoder_satisfies_the_protocol(hash_encoder):
    assert isinstance(hash_encoder, WordEncoder)
    assert {"name", "layer", "dim", "precision", "max_length"} <= set(WordEncoder.__annotations__)
    assert not isinstance(object(), WordEncoder)


def test_the_real_encoder_satisfies_the_protocol(minilm_encoder):
    assert isinstance(minilm_encoder, WordEncoder)
    assert minilm_encoder.precision in ("fp32", "bf16") and minilm_encoder.dim == 384


def test_add_checks_all_input_before_creating_the_index(tmp_path, corpus, hash_encoder):
    (corpus / "broken.txt").write_bytes(b"fine line.\n\xff\xfe broken\n")
    si = SenseIndex.open_or_create(tmp_path / "new", encoder=hash_encoder)
    with pytest.raises(CorpusError, match=r"broken.txt:2: cannot decode"):
        si.add([corpus])
    assert not (tmp_path / "new").exists() and not si.exists
    bad_gold = tmp_path / "gold.tsv"
    bad_gold.write_text("file\tline\tword\tsense\nmole.txt\tone\tmole\tanimal\n")
    (corpus / "broken.txt").unlink()
    with pytest.raises(SenseIndexError, match=r"gold.tsv:2: line must be a number"):
        si.add([corpus], gold=bad_gold)
    assert not (tmp_path / "new").exists()
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(CorpusError, match="empty corpus"):
        si.add([tmp_path / "empty.txt"])
    assert not (tmp_path / "new").exists()


def test_add_gold_skip_and_resume(tmp_path, corpus, hash_encoder):
    gold = tmp_path / "gold.tsv"
    gold.write_text("file\tline\tword\tsense\nmole.txt\t1\tmole\tanimal\nmole.txt\t2\tmole\tskin\nnope.txt\t1\tx\ty\n")
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder)
    report = si.add([corpus], gold=gold)
    assert report.documents == 2 and report.sentences == 8 and report.labels == 6
    assert report.gold_file == {"labelled": 2, "unmatched": 1, "ambiguous": 0}
    again = si.add([corpus])
    assert again.sentences == 0 and len(again.skipped) == 2
    assert SenseIndex.open(tmp_path / "idx").import_gold(gold)["labelled"] == 2


def test_open_refuses_another_model(index, hash_encoder):
    with pytest.raises(SenseIndexError, match="was built with test/hash-encoder"):
        SenseIndex.open(index.path, model="minilm")
    with pytest.raises(SenseIndexError, match="no such index"):
        SenseIndex.open(index.path.parent / "missing")


def test_search_compare_target(index):
    target, hits = index.search("money kept at the [bank]", k=3)
    assert target.lemma == "bank" and target.how == "marked" and len(hits) == 3
    assert all(h.lemma == "bank" for h in hits) and hits[0].score >= hits[-1].score
    target, ctx, st = index.compare("the [bank] of the river", k=2)
    assert len(ctx) == len(st) == 2 and all(h.lemma == "bank" for h in st)
    assert index.target("a mole and a bank").word == "mole"  # the rarer indexed word
    with pytest.raises(SenseIndexError, match="'wombat' is not in the index"):
        index.search("a [wombat]")


def test_explain_with_and_without_an_index(index, hash_encoder):
    result = index.explain(["the [bank] lent money", "the river [bank] flooded"], neighbours=3)
    assert len(result["contextual_cosine"]) == 2 and "contextual_neighbours" in result["occurrences"][0]
    bare = senseindex.explain(["the [bank] lent money", "the river [bank] flooded"], encoder=hash_encoder)
    assert bare["contextual_cosine"] == result["contextual_cosine"] and "contextual_neighbours" not in bare["occurrences"][0]


def test_info_records_what_the_vectors_depend_on(index):
    info = index.info()
    assert info["occurrences"] > 0 and info["sentences"] == 8 and info["documents"] == 2
    assert (info["model"], info["layer"], info["pooling"], info["precision"], info["vector_format"]) == (
        "test/hash-encoder", "last", "mean-subwords-l2", "fp32", "1")
    assert info["labels"] == {"gold": 6} and len(info["index_id"]) == 32


def test_label_and_the_label_queries(index, tmp_path):
    p = index.label("The [bank] raised the interest on my savings account", k=3)
    assert p.label in ("money", "river") and p.method == "knn" and p.labelled == 6
    with pytest.raises(SenseIndexError, match="no labelled occurrences of 'mole'"):
        index.label("a [mole] in the lawn")
    rows = index.labels(word="bank")
    assert len(rows) == 6 and {r["source"] for r in rows} == {"gold"}
    assert index.labels(sources=("review",)) == []
    out = index.export_labels(tmp_path / "labels.tsv")
    assert out["rows"] == 6
    read = list(csv.DictReader((tmp_path / "labels.tsv").read_text(encoding="utf-8-sig").splitlines(), delimiter="\t"))
    assert {r["label"] for r in read} == {"money", "river"}
    with pytest.raises(SenseIndexError, match="by extension"):
        index.export_labels(tmp_path / "labels.xlsx")
    summary = index.label_summary("banks")
    assert summary["lemma"] == "bank" and summary["labelled"] == 6
    assert {r["label"]: r["gold"] for r in summary["labels"]} == {"money": 3, "river": 3}


def test_senses_export_import_review(index, tmp_path):
    with pytest.raises(SenseIndexError, match="by extension"):
        index.senses("bank", export=tmp_path / "r.xlsx")
    report = index.senses("bank", k=2, export=tmp_path / "r.csv")
    assert report.k == 2 and report.export["rows"] == report.occurrences == 6
    rows = list(csv.DictReader((tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()))
    rows[0]["label"] = "reviewed"
    with open(tmp_path / "r.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    result = index.import_review(tmp_path / "r.csv")
    assert result["labelled"] == 1 and result["changed"] == 1
    oid = int(rows[0]["occurrence_id"])
    assert effective_labels(index.store.db, [oid]) == {oid: ("reviewed", "review")}
    assert index.import_review(tmp_path / "r.csv")["changed"] == 0


def test_plot_checks_the_format_first(index, tmp_path):
    with pytest.raises(SenseIndexError, match="plot to .png, .html"):
        index.plot("bank", tmp_path / "map.svg")
    result = index.plot("bank", tmp_path / "map.html", k=2)
    assert result["points"] == 6 and (tmp_path / "map.html").read_text(encoding="utf-8").count("<circle") == 6


def test_evaluate_semcor_needs_documents_with_gold(tmp_path, corpus, hash_encoder):
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder)
    si.add([corpus])
    with pytest.raises(SenseIndexError, match="only 1 document"):
        si.evaluate_semcor(holdout=0.5)


def test_evaluate_coarsewsd_names_a_missing_folder(tmp_path):
    with pytest.raises(SenseIndexError, match="no such folder"):
        senseindex.evaluate_coarsewsd(tmp_path / "missing", ["bank"])
