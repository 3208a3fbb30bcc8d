"""A query's marked word tagged from the index (no tagger loaded) where the index settles it, and
by the tagger everywhere else, with the same targets and hits as the tagger gives."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import Counter

import pytest

from helpers import DEMO, ROOT
from senseindex import SenseIndex
from senseindex.senses.search import parse_target
from senseindex.text.tagging import form_lemmas, indexed_tag


def demo_queries() -> list[str]:
    with open(ROOT / "corpora" / "demo.queries.tsv", encoding="utf-8", newline="") as fh:
        return [row[2] for row in list(csv.reader(fh, delimiter="\t"))[1:]]


@pytest.fixture(scope="module")
def demo_hash_index(tmp_path_factory):
    from senseindex.testing import HashEncoder

    path = tmp_path_factory.mktemp("qt") / "demo"
    SenseIndex.open_or_create(path, encoder=HashEncoder()).add([DEMO])
    return path


def test_every_demo_query_gets_the_taggers_target_and_hits_from_the_index(demo_hash_index, monkeypatch):
    from senseindex.testing import HashEncoder

    si = SenseIndex.open(demo_hash_index, encoder=HashEncoder())
    queries = demo_queries()
    assert len(queries) >= 50
    for q in queries:
        inner = q[q.index("[") + 1 : q.index("]")]
        assert si._indexed_tag(inner) is not None, q  # every demo word is settled by the index
        tagged = parse_target(q, None, si.store.lemma_count)  # the tagger, as before
        target, hits = si.search(q, k=10)
        assert (target.lemma, target.pos, target.start, target.end) == (tagged.lemma, tagged.pos, tagged.start,
                                                                        tagged.end), q
        monkeypatch.setattr(SenseIndex, "_indexed_tag", lambda self, form: None)
        si._query_vectors.clear()
        before, old_hits = si.search(q, k=10)
        monkeypatch.undo()
        assert before.pos_filter == target.pos_filter
        assert [(h.occurrence_id, h.score) for h in hits] == [(h.occurrence_id, h.score) for h in old_hits], q


def test_the_index_settles_a_form_only_when_it_is_unambiguous():
    assert indexed_tag("mole", Counter({("mole", "NN"): 45, ("mole", "JJ"): 1, ("mole", "NNP"): 1})).pos == "NN"
    assert indexed_tag("moles", Counter({("mole", "NNS"): 3})).lemma == "mole"
    assert indexed_tag("moles", Counter({("mole", "NNS"): 2})) is None  # too few to go by
    assert indexed_tag("play", Counter({("play", "VB"): 2, ("play", "NN"): 2})) is None  # both parts of speech
    assert indexed_tag("bank", Counter({("bank", "NN"): 8, ("bank", "VB"): 2})) is None  # 80 % is not enough
    assert indexed_tag("leaves", Counter({("leaf", "NNS"): 40})) is None  # the lexicon has leave too
    assert indexed_tag("saw", Counter({("saw", "NN"): 40})) is None  # ... and see
    assert indexed_tag("mole", Counter()) is None
    assert {"mole"} <= set(form_lemmas("moles")) and "leave" in form_lemmas("leaves")


def test_names_phrases_and_unknown_forms_are_tagged_in_the_query(demo_hash_index):
    from senseindex.testing import HashEncoder

    si = SenseIndex.open(demo_hash_index, encoder=HashEncoder())
    asked = []

    def known(form):
        asked.append(form)
        return si._indexed_tag(form)

    assert parse_target("Mr [Mole] lives here", known=known).word == "Mole" and asked == []  # a capital inside
    assert parse_target("[Mole] lives here", known=known).lemma == "mole" and asked == ["Mole"]  # sentence start
    assert parse_target("I [took place] here", known=known).word == "took place" and len(asked) == 1
    assert si._indexed_tag("zyzzyva") is None and si._indexed_tag("MOLE") is not None


def test_a_settled_query_loads_no_tagger_and_storage_no_pandas(demo_hash_index):
    code = f"""
import sys
from senseindex.cli import cli
from senseindex import SenseIndex
from senseindex.testing import HashEncoder
assert "pandas" not in sys.modules
si = SenseIndex.open({str(demo_hash_index)!r}, encoder=HashEncoder())
target, hits = si.search("I have a [mole] on my hip", k=3)
print("TAGGER", "spacy" in sys.modules, target.lemma, target.pos, len(hits))
si.search("Mr [Mole] lives here", k=3)
print("TAGGER", "spacy" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[:2] == ["TAGGER False mole NN 3", "TAGGER True"], out.stdout
