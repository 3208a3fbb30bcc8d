"""Corpus formats end to end: metadata and --where filters, subcorpora, and the sense-tagged
corpus export (round trip through each format, CoNLL-U checked by the `conllu` package)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from senseindex import SenseIndex
from senseindex.cli import cli
from senseindex.errors import SenseIndexError
from senseindex.storage.labels import effective_labels, set_labels
from senseindex.text.corpus import ReadOptions, read_sentences

DATA = Path(__file__).parent / "data" / "corpora"
FILES = ["ud_small.conllu", "corpus_small.vrt", "words_only.vrt", "bnc_small.xml"]


@pytest.fixture
def corpus_index(tmp_path, hash_encoder) -> Path:
    """The hand-written corpora plus a plain text file, indexed, some occurrences labelled."""
    txt = tmp_path / "src" / "news" / "2015-a.txt"
    txt.parent.mkdir(parents=True)
    txt.write_text("The mouse clicked, and the bank closed.\nA crane flew over the river bank.\n")
    path = tmp_path / "idx"
    si = SenseIndex.open_or_create(path, encoder=hash_encoder)
    si.add([*(DATA / f for f in FILES), txt], ReadOptions(meta_path="{genre}/{year}-*.txt"))
    db = si.store.db
    with si.store.lock():
        occ = db.execute("select id, lemma from occurrences where lemma in ('mouse', 'bank', 'crane') order by id"
                         ).fetchall()
        with db.conn:
            set_labels(db, [(oid, f"{lemma}.{i % 2}") for i, (oid, lemma) in enumerate(occ) if i % 3 != 2], "review")
            set_labels(db, [(oid, f"{lemma}.p", 0.75) for oid, lemma in occ], "predicted")
    return path


def test_metadata_is_typed_and_filters(corpus_index, hash_encoder):
    si = SenseIndex.open(corpus_index, encoder=hash_encoder)
    fields = {f["field"]: f for f in si.metadata_fields()}
    assert fields["year"]["type"] == "number" and fields["year"]["min"] == 1985 and fields["year"]["max"] == 2015
    assert fields["genre"]["type"] == "text"
    # senses, labels and search over a selection
    report = si.senses("mouse", k=1, where="year >= 1990")
    docs = {o.section for o in report.rows}
    assert docs == {"t2", "w1", None}  # 2001 (VRT), 1990 (VRT), 2015 (the .txt, whose path gave its year)
    assert {r["doc"].rsplit("/", 1)[-1] for r in si.labels(where='genre = "news"')} == {"corpus_small.vrt",
                                                                                       "2015-a.txt"}
    _, hits = si.search("the [mouse] ran", k=20, where="genre in (tech, news) and not year < 2000")
    assert hits and {h.doc.rsplit("/", 1)[-1] for h in hits} == {"corpus_small.vrt", "2015-a.txt"}
    assert all(h.text != "The mouse ran New York ." for h in hits)  # 1985 is left out


def test_metadata_as_columns(corpus_index):
    r = CliRunner().invoke(cli, ["labels", "export", str(corpus_index), "--word", "mouse", "--source", "review",
                                 "--meta", "year", "--meta", "genre", "--csv"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].endswith(",year,genre")
    assert {tuple(x.rsplit(",", 2)[1:]) for x in lines[1:]} <= {("1985", "news"), ("2001", "tech"), ("1990", ""),
                                                               ("2015", "news"), ("", "")}
    r = CliRunner().invoke(cli, ["labels", "export", str(corpus_index), "--meta", "decade"])
    assert r.exit_code == 1 and "no metadata field 'decade'" in r.output


def test_where_errors_and_parameters(corpus_index):
    si = SenseIndex.open(corpus_index)
    for expr, message in [("year >= 19x0", r"year is a number field; '19x0' is not a number at column 9"),
                          ("decade = 199", r"unknown field 'decade' \(fields: date, genre, type, year; or doc, path\) "
                                           r"at column 1"),
                          ("year >= 1990 and (genre = tech or", r"expected a condition, found the end at column 34"),
                          ("year 1990", r"expected an operator after 'year'"),
                          ("year > 1 genre = x", r"unexpected 'genre' \(join conditions with and/or\) at column 10"),
                          ("@nope", r"no subcorpus named 'nope' at column 2")]:
        with pytest.raises(SenseIndexError, match=message):
            si.labels(where=expr)
    # a value is a parameter, never SQL
    assert si.labels(where="genre = \"x'; drop table meta; --\"") == []
    assert si.metadata_fields()


def test_subcorpus_saved_and_used(corpus_index):
    si = SenseIndex.open(corpus_index)
    saved = si.save_subcorpus("modern", "year >= 1990")
    assert saved["sentences"] == 5 and saved["tokens"] > 0
    assert [s["name"] for s in si.subcorpora()] == ["modern"]
    a = si.senses("mouse", k=1, where="@modern and genre = tech")
    assert {o.section for o in a.rows} == {"t2"}
    r = CliRunner().invoke(cli, ["subcorpus", str(corpus_index), "old", "--where", "not @modern"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["senses", str(corpus_index), "mouse", "--where", "@old", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["occurrences"] == 3
    r = CliRunner().invoke(cli, ["subcorpus", str(corpus_index), "modern", "--delete"])
    assert r.exit_code == 0
    r = CliRunner().invoke(cli, ["senses", str(corpus_index), "mouse", "--where", "@old"])
    assert r.exit_code == 1 and "no subcorpus named 'modern'" in r.output


def test_the_workbench_concordance_keeps_to_a_subcorpus(corpus_index, hash_encoder):
    """The search page and API take `where` (a selection or @subcorpus): the lines and the
    "N of M" counts are those of the selection, computed before ranking and the cap."""
    from starlette.testclient import TestClient

    from senseindex.web import create_app

    si = SenseIndex.open(corpus_index, encoder=hash_encoder)
    si.save_subcorpus("modern", "year >= 1990")
    everything = si.concordance("the [mouse] ran")
    modern = si.concordance("the [mouse] ran", where="@modern")
    assert 0 < modern.matching < everything.matching
    with TestClient(create_app({"c": corpus_index}, encoder=hash_encoder), base_url="http://127.0.0.1") as client:
        page = client.get("/search", params={"index": "c", "q": "the [mouse] ran", "where": "@modern"})
        assert page.status_code == 200, page.text
        assert "The mouse ran New York" not in page.text  # the 1985 text is outside
        assert 'value="@modern"' in page.text  # the selection stays in the form
        api = client.get("/api/search", params={"index": "c", "q": "the [mouse] ran", "where": "@modern"}).json()
        assert api["counts"]["matching"] == modern.matching and len(api["hits"]) == min(modern.matching, 10)
        bad = client.get("/api/search", params={"index": "c", "q": "the [mouse] ran", "where": "@nope"})
        assert bad.status_code == 400 and "no subcorpus named 'nope'" in bad.text


def test_metadata_sidecar(corpus_index, tmp_path):
    side = tmp_path / "meta.tsv"
    side.write_text("doc\tauthor\tdate\nd1\tNivre\t2016-05-01\n2015-a.txt\tReuters\t2015-03\nnope\tX\t1999\n")
    r = CliRunner().invoke(cli, ["meta", str(corpus_index), "--import", str(side), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["unmatched"] == 1
    si = SenseIndex.open(corpus_index)
    assert {f["field"]: f["type"] for f in si.metadata_fields()}["author"] == "text"
    assert {r["doc"].rsplit("/", 1)[-1] for r in si.labels(where="author = Nivre")} == {"ud_small.conllu"}
    bad = tmp_path / "bad.tsv"
    bad.write_text("doc\tyear\nd1\t1990\textra\n")
    r = CliRunner().invoke(cli, ["meta", str(corpus_index), "--import", str(bad)])
    assert r.exit_code == 1 and "bad.tsv:2: 3 cells where the header has 2" in r.output


def _labels_by_sentence(si) -> dict[str, list[tuple[str, str]]]:
    """Sentence text -> [(word, label in effect)] in offset order, from the index."""
    db = si.store.db
    rows = db.execute("select o.id, o.word, o.start, s.text from occurrences o join sentences s on s.id = o.sentence_id"
                      ).fetchall()
    found = effective_labels(db, [r[0] for r in rows])
    out: dict[str, list] = {}
    for oid, word, _start, text in sorted(rows, key=lambda r: (r[3], r[2])):
        if oid in found:
            out.setdefault(text, []).append((word, found[oid][0]))
    return out


def _senses_read_back(path: Path, **opts) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list] = {}
    for s in read_sentences(path, ReadOptions(**opts)):
        for t in s.tokens:
            if t.sense:
                out.setdefault(s.text, []).append((t.word, t.sense))
    return out


def test_export_conllu_round_trip(corpus_index, tmp_path):
    import conllu

    si = SenseIndex.open(corpus_index)
    out = tmp_path / "out.conllu"
    r = si.export_corpus(out)
    texts = [t for (t,) in si.store.db.execute("select text from sentences order by id")]
    assert r["sentences"] == len(texts) and r["senses"] > 0
    parsed = conllu.parse(out.read_text())  # every sentence accepted by the conllu package
    assert len(parsed) == len(texts)
    assert [s.text for s in read_sentences(out)] == texts  # same sentences, rebuilt from SpaceAfter
    assert _senses_read_back(out) == _labels_by_sentence(si)  # same labels
    # the corpus's own lines come back: the multiword token, the empty node, the dependency columns
    body = out.read_text()
    assert "2-3\tdon't\t_" in body and "5.1\tsaw\tsee\tVERB\tVBD\t_\t_\t_\t2:conj\tCopyOf=2" in body
    assert re.search(r"6\tbank\tbank\tNOUN\tNN\t_\t4\tobj\t_\tSpaceAfter=No\|Sense=bank\.\d\|SenseSource=review", body)
    assert "# meta::year = 2015" in body and "SenseSource=predicted|SenseScore=0.750" in body
    # document metadata comes back too
    assert {s.meta.get("year") for s in read_sentences(out) if s.meta} == {"1985", "2001", "1990", "2015", None}


def test_export_vrt_round_trip_and_cwb_rules(corpus_index, tmp_path):
    si = SenseIndex.open(corpus_index)
    out = tmp_path / "out.vrt"
    si.export_corpus(out)
    lines = out.read_text().splitlines()
    header = re.fullmatch(r"<!-- #vrt positional-attributes: (.*) -->", lines[0])
    attrs = header.group(1).split()
    assert attrs == ["word", "lemma", "pos", "sense", "sense_source", "sense_score"]
    stack = []
    for line in lines[1:]:  # cwb-encode's input: every token line as wide as declared, tags nested
        if line.startswith("<"):
            m = re.fullmatch(r'<(/?)(\w+)((?: \w+="[^"<>&]*(?:&\w+;[^"<>&]*)*")*)>', line)
            assert m, line
            if m.group(1):
                assert stack.pop() == m.group(2)
            else:
                stack.append(m.group(2))
        else:
            cols = line.split("\t")
            assert len(cols) == len(attrs) and all(cols) and not re.search(r"<|>|&(?!amp;|lt;|gt;|quot;)", line), line
    assert stack == []
    back = list(read_sentences(out))
    db = si.store.db
    tokens = [s.tokens for s in back]
    assert len(back) == db.execute("select count(*) from sentences").fetchone()[0]
    assert [t.word for t in tokens[0]] == ["I", "do", "n't", "like", "the", "bank", "."]  # CoNLL-U's words
    assert [t.word for t in tokens[3]] == ["The", "mouse", "ran", "New", "York", "."]
    exported = {" ".join(t.word for t in s.tokens): [(t.word, t.sense) for t in s.tokens if t.sense] for s in back}
    assert sum(len(v) for v in exported.values()) == sum(len(v) for v in _labels_by_sentence(si).values())
    assert exported["The mouse ran New York ."] == _labels_by_sentence(si)["The mouse ran New York ."]
    assert back[3].meta == {"genre": "news", "year": "1985"} and back[3].section == "t1"


def test_export_jsonl_round_trip_and_limits(corpus_index, tmp_path, hash_encoder):
    si = SenseIndex.open(corpus_index)
    out = tmp_path / "out.jsonl"
    si.export_corpus(out)
    texts = [t for (t,) in si.store.db.execute("select text from sentences order by id")]
    assert [s.text for s in read_sentences(out)] == texts
    assert _senses_read_back(out) == _labels_by_sentence(si)
    mouse = json.loads(out.read_text().splitlines()[3])
    assert mouse["text"] == "The mouse ran New York ."
    assert mouse["meta"] == {"genre": "news", "year": 1985} and mouse["sense_source"][1] in ("review", "predicted")
    # re-indexed, the export's senses are the new index's gold labels
    again = SenseIndex.open_or_create(tmp_path / "again", encoder=hash_encoder)
    again.add([out])
    assert _labels_by_sentence(again) == _labels_by_sentence(si)
    # limits: one lemma (only it carries senses), one label, a selection
    r = si.export_corpus(tmp_path / "crane.conllu", words=["crane"])
    body = (tmp_path / "crane.conllu").read_text()
    assert r["sentences"] == 2 and "Sense=crane" in body and "Sense=bank" not in body
    r = si.export_corpus(tmp_path / "m.vrt", labels=["mouse.1"])
    assert r["senses"] == sum(1 for v in _labels_by_sentence(si).values() for _, lab in v if lab == "mouse.1")
    r = si.export_corpus(tmp_path / "y.jsonl", where="year >= 2000")
    assert r["sentences"] == 3


def test_export_corpus_cli(corpus_index, tmp_path):
    out = tmp_path / "x.conllu.gz"
    r = CliRunner().invoke(cli, ["export-corpus", str(corpus_index), str(out), "--word", "mouse", "--json", "-q"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["format"] == "conllu" and out.is_file()
    r = CliRunner().invoke(cli, ["export-corpus", str(corpus_index), str(tmp_path / "x.txt")])
    assert r.exit_code != 0 and "use one of conllu, vrt, jsonl" in r.output
    assert not (tmp_path / "x.txt").exists()


def test_index_cli_metadata_options(tmp_path, monkeypatch, hash_encoder):
    """index --meta-field and --vrt-attrs reach the readers (the encoder is the tiny test one)."""
    import senseindex.encoding.encoder as enc

    monkeypatch.setattr(enc, "load_encoder", lambda *a, **k: hash_encoder)
    (tmp_path / "a.jsonl").write_text('{"text": "A mouse ran.", "year": 1999}\n')
    (tmp_path / "b.vrt").write_text("<text id=\"b\" year=\"2005\">\n<s>\nmice\tNNS\tmouse\n</s>\n</text>\n")
    r = CliRunner().invoke(cli, ["index", str(tmp_path / "a.jsonl"), str(tmp_path / "b.vrt"), "--index",
                                 str(tmp_path / "i"), "--meta-field", "year", "--vrt-attrs", "word,pos,lemma", "-q",
                                 "--json"])
    assert r.exit_code == 0, r.output
    si = SenseIndex.open(tmp_path / "i")
    assert {f["field"]: (f["min"], f["max"]) for f in si.metadata_fields()} == {"year": (1999, 2005)}
    assert si.store.lemma_count("mouse") == 2
    r = CliRunner().invoke(cli, ["index", str(DATA / "bad_attrs.vrt"), "--index", str(tmp_path / "j"), "-q"])
    assert r.exit_code == 1 and "bad_attrs.vrt:3:" in r.output and not (tmp_path / "j").exists()


def test_attribute_names_become_field_names(tmp_path, hash_encoder):
    """A corpus's attribute names that --where could not name are renamed, never refused midway."""
    f = tmp_path / "a.vrt"
    f.write_text('<text id="a" xml:lang="en" and="x" path="p" 1st="y">\n<s>\nmice\n</s>\n</text>\n')
    si = SenseIndex.open_or_create(tmp_path / "i", encoder=hash_encoder)
    si.add([f])
    assert {x["field"] for x in si.metadata_fields()} == {"xml_lang", "meta_and", "meta_path", "_1st"}
    assert len(si.labels(where="xml_lang = en and meta_path = p")) == 0


def test_text_and_document_token_counts_agree(corpus_index):
    """One counting rule: the texts' counts (senses over metadata) add up to their document's
    (frequency per million), for every format of the corpus."""
    db = SenseIndex.open(corpus_index).store.db
    rows = db.execute("select d.path, d.tokens, (select sum(t.tokens) from texts t where t.document_id = d.id) "
                      "from documents d").fetchall()
    assert len(rows) == 5 and all(n > 0 for _, n, _ in rows)
    assert all(doc == texts for _, doc, texts in rows), rows
