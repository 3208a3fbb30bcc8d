"""Word sketch by sense: relations from spaCy's parser on a toy corpus, logDice checked by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from senseindex import SenseIndex
from senseindex.cli import cli
from senseindex.errors import SenseIndexError
from senseindex.text.association import log_dice

TOY = Path(__file__).parent / "data" / "corpora" / "sketch_toy.jsonl"


def test_log_dice_by_hand():
    assert log_dice(10, 10, 10) == 14.0  # always together: the maximum
    assert log_dice(5, 10, 10) == 13.0  # half of each item's occurrences: one less
    assert log_dice(2, 2, 3) == pytest.approx(14 + math.log2(4 / 5))
    assert log_dice(0, 5, 5) == float("-inf")
    with pytest.raises(ValueError):
        log_dice(6, 5, 10)
    # independent of corpus size: the same proportions give the same score
    assert log_dice(3, 30, 60) == log_dice(300, 3000, 6000)


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> Path:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import HashEncoder

    path = tmp_path_factory.mktemp("sketch") / "idx"
    SenseIndex.open_or_create(path, encoder=HashEncoder()).add([TOY], parse=True)
    return path


def test_relations_stored_at_index_time(parsed):
    db = SenseIndex.open(parsed).store.db
    rels = set(db.execute("select o.word, d.rel, d.lemma from deps d join occurrences o on o.id = d.occurrence_id"))
    assert {("bank", "object_of", "rob"), ("bank", "subject_of", "lend"), ("bank", "modifier", "river"),
            ("bank", "modifier", "muddy"), ("bank", "pp_of", "england"), ("store", "object_of", "rob"),
            ("robbed", "object", "bank"), ("muddy", "modifies", "bank")} <= rels


def test_word_sketch_by_label_with_log_dice_by_hand(parsed):
    r = SenseIndex.open(parsed).word_sketch("bank")
    assert r["of"] == "label" and {s["sense"]: s["occurrences"] for s in r["senses"]} == {"bank.finance": 4,
                                                                                         "bank.river": 2}
    got = {(x["sense"], x["relation"], x["collocate"]): (x["count"], x["logdice"]) for x in r["rows"]}
    # object_of rob: the finance sense twice (f_xy 2); it is the object of something twice (f_x 2);
    # rob has 3 objects in the corpus (bank, bank, store: f_y 3) -> 14 + log2(4/5)
    assert got[("bank.finance", "object_of", "rob")] == (2, round(14 + math.log2(4 / 5), 3))
    # subject_of lend: once; the finance sense is a subject twice (lend, raise); lend has one subject
    assert got[("bank.finance", "subject_of", "lend")] == (1, round(14 + math.log2(2 / 3), 3))
    # the river bank is a subject once (of flood), and flood has no other subject: the maximum
    assert got[("bank.river", "subject_of", "flood")] == (1, 14.0)
    assert got[("bank.river", "modifier", "river")] == (1, round(14 + math.log2(2 / 3), 3))
    assert not any(s == "bank.river" and c == "rob" for s, _, c in got)


def test_sketch_cli_and_unparsed_index(parsed, tmp_path, hash_encoder):
    r = CliRunner().invoke(cli, ["sketch", str(parsed), "bank", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["rows"][0]["sense"] == "bank.finance"
    r = CliRunner().invoke(cli, ["sketch", str(parsed), "bank"])
    assert "bank.river (2 occurrences)" in r.output and "object_of" in r.output
    plain = SenseIndex.open_or_create(tmp_path / "plain", encoder=hash_encoder)
    plain.add([TOY])
    with pytest.raises(SenseIndexError, match="index with --parse"):
        plain.word_sketch("bank")


def test_conllu_dependencies_are_the_corpus_own(tmp_path, hash_encoder):
    """A CoNLL-U corpus with HEAD and DEPREL brings its relations: the parser does not run on it."""
    from senseindex.text import parsing

    calls = []
    original = parsing.span_relations
    parsing.span_relations = lambda texts, spans, **k: calls.append(len(texts)) or original(texts, spans, **k)
    try:
        si = SenseIndex.open_or_create(tmp_path / "ud", encoder=hash_encoder)
        si.add([TOY.parent / "ud_small.conllu"], parse=True)
    finally:
        parsing.span_relations = original
    rels = set(si.store.db.execute("select o.word, d.rel, d.lemma from deps d join occurrences o on o.id = d.occurrence_id"))
    assert ("bank", "object_of", "like") in rels and ("crane", "object_of", "hear") in rels
    assert ("heard", "subject", "mary") in rels and ("heard", "and/or", "see") in rels
    assert calls == [1]  # only the sentence without dependencies (d2's) went to the parser
