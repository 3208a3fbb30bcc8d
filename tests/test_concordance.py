"""The concordance a lexicographer can trust (issue 23): complete lines, filters before the cap,
honest counts, CQL, token counts and frequency per million, collocates with logDice, KWIC sorts."""

from __future__ import annotations

import json
import math
import re
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from senseindex import SenseIndex
from senseindex.errors import SenseIndexError
from senseindex.senses.collocates import collocates, log_dice, name_from
from senseindex.senses.cql import CQLError, looks_like_cql, parse
from senseindex.storage.labels import set_labels
from senseindex.testing import HashEncoder, index_sentences, run_cli
from senseindex.text.words import count_tokens

ROOT = Path(__file__).resolve().parents[1]

BANK = ["River bank erosion worried farmers.",
        "The bank raised interest rates.",
        "Interest rates at the bank rose.",
        "Farmers walked along the river, 2 miles."]


@pytest.fixture(scope="module")
def bank_index(tmp_path_factory) -> Path:
    return index_sentences(tmp_path_factory.mktemp("conc") / "bank", BANK)


def bank_ids(si) -> list[int]:
    return [r[0] for r in si.store.db.execute("select o.id from occ o join lemmas l on l.id = o.lemma_id "
                                              "where l.lemma = 'bank' order by o.id")]


# --- collocates and logDice ----------------------------------------------------------------------
def test_log_dice_by_hand_on_a_small_corpus(bank_index):
    si = SenseIndex.open(bank_index)
    ids = bank_ids(si)
    assert len(ids) == 3  # f_x
    found = {c.item: c for c in collocates(si.store, {"all": ids}, window=5)["all"]}
    # interest and rate: 2 co-occurrences, each occurs twice in the corpus: 14 + log2(2*2 / (3+2))
    assert found["interest"].count == 2 and found["interest"].frequency == 2
    assert found["interest"].log_dice == pytest.approx(14 + math.log2(4 / 5))
    assert found["interest"].log_dice == pytest.approx(13.678, abs=1e-3)
    # river: once with bank (sentence 1), twice in the corpus (sentence 4): 14 + log2(2 / 5)
    assert found["river"].count == 1 and found["river"].frequency == 2
    assert found["river"].log_dice == pytest.approx(12.678, abs=1e-3)
    assert "bank" not in found and "the" not in found  # not the node itself, never a stopword
    assert log_dice(1, 1, 1) == 14.0  # the maximum
    # a window of one token: "at the [bank] rose" -> only "rise" (the is a stopword); "The [bank] raised"
    narrow = {c.item for c in collocates(si.store, {"all": ids}, window=1)["all"]}
    assert "interest" not in narrow and {"rise", "raise", "river", "erosion"} <= narrow
    assert name_from(collocates(si.store, {"all": ids})["all"], "x") == "interest/rate"


def test_collocates_of_a_sample_are_scaled_to_the_whole_group(bank_index):
    """Naming a cluster counts collocates on a sample (senses.induction.NAME_SAMPLE): a sample as
    large as the group is the exact count; a smaller one scales its counts to the group's size."""
    si = SenseIndex.open(bank_index)
    ids = bank_ids(si)
    exact = collocates(si.store, {"all": ids}, window=5)["all"]
    assert collocates(si.store, {"all": ids}, window=5, sample=len(ids))["all"] == exact
    doubled = {"all": ids + ids}  # every occurrence twice: a sample of 3 out of 6, scaled by 2
    est = {c.item: c for c in collocates(si.store, doubled, window=5, sample=3)["all"]}
    assert all(c.count % 2 == 0 and c.count <= 2 * 2 for c in est.values())


def test_cluster_names_leave_out_stopwords_and_filler():
    """An index that stores every word (SemCor, --all-words) offers *be* and *have* as collocates:
    a name never uses them (one SemCor cluster of *person* was named "be/group")."""
    from senseindex.senses.collocates import Collocate

    cols = [Collocate(item, 10 - i, 20, 9.0 - i) for i, item in enumerate(["be", "have", "year", "group", "law"])]
    assert name_from(cols, "x") == "group/law"
    assert name_from(cols[:3], "fallback") == "fallback"


def gold(si, pairs) -> None:
    with si.store.lock(), si.store.db.conn:
        set_labels(si.store.db, pairs, "gold")


def test_collocates_cli_exports_json_and_csv(bank_index, tmp_path):
    from senseindex.testing import copy_index

    path = copy_index(bank_index, tmp_path / "b")
    si = SenseIndex.open(path)
    gold(si, [(i, "finance" if n else "river") for n, i in enumerate(bank_ids(si))])
    out = run_cli("collocates", path, "bank", "--by", "label", "--csv", ok=True).output
    lines = out.strip().splitlines()
    assert lines[0].split(",")[:3] == ["label", "size", "item"]
    assert any(line.startswith("finance,2,interest,2,2,") for line in lines)
    data = json.loads(run_cli("collocates", path, "bank", "--by", "label", "--json", ok=True).output)
    assert {g["group"] for g in data["groups"]} == {"finance", "river"}


# --- tokens and frequencies ----------------------------------------------------------------------
def test_token_counts_at_index_time_and_on_upgrade(bank_index, tmp_path):
    from senseindex.testing import copy_index

    si = SenseIndex.open(bank_index)
    expected = sum(count_tokens(s) for s in BANK)
    assert expected == 5 + 5 + 6 + 7  # punctuation excluded, the number 2 counted
    assert si.info()["tokens"] == expected
    freq = si.frequency("bank")
    assert freq["count"] == 3 and freq["corpus_tokens"] == expected
    assert freq["per_million"] == pytest.approx(round(3 / expected * 1e6, 2))
    assert freq["documents"][0]["tokens"] == expected
    # an index from before m014: the column is gone; info says unknown, the upgrade counts from the text
    old = copy_index(bank_index, tmp_path / "old")
    db = sqlite3.connect(old / "index.db")
    db.execute("alter table documents drop column tokens")
    db.execute("delete from _migrations where name = 'm014_token_counts'")
    db.commit()
    db.close()
    assert SenseIndex.open(old).info()["tokens"] is None
    assert "unknown" in run_cli("info", old, ok=True).output
    out = run_cli("upgrade", old, ok=True).output
    assert "m014_token_counts" in out
    assert SenseIndex.open(old).info()["tokens"] == expected


# --- CQL ---------------------------------------------------------------------------------------------
def test_cql_parses_the_subset_and_says_where_it_fails():
    q = parse('[lemma="bank" & pos="NOUN"]')
    attrs = {"lemma": "bank", "pos": "NOUN", "word": "banks", "tag": "NNS", "label": ""}
    assert q.matcher()(attrs.get) and q.lemmas(list) == ["bank"]
    word = parse('[word="banks?"]').matcher()
    assert word({"word": "banks"}.get) and word({"word": "bank"}.get) and not word({"word": "embankment"}.get)
    assert not parse('[word="Bank"]').matcher()({"word": "bank"}.get)  # case-sensitive, as CQL
    assert parse('[word="Bank"%c]').matcher()({"word": "bank"}.get)
    assert parse('[lemma="bank" & label!="river"]').matcher()({"lemma": "bank", "label": "money"}.get)
    assert parse('[lemma="ban.*"]').lemmas(lambda: ["bank", "banner", "oak"]) == ["bank", "banner"]
    assert parse('[lemma="a" | lemma="b"]').lemmas(list) is None
    for bad, pos, what in [('[lemma="bank" & pos=NOUN]', 21, "quoted value"),
                           ('[lemma="bank"', 14, "expected ']'"),
                           ('[lemma="take"]{2}', 15, "repetition"),
                           ('[colour="red"]', 2, "unknown attribute"),
                           ('[word="(("]', 2, "bad regular expression"),
                           ('[]', 1, "any token")]:
        with pytest.raises(CQLError) as exc:
            parse(bad)
        assert f"position {pos} " in str(exc.value) and what in str(exc.value), str(exc.value)
        assert "\n" not in str(exc.value)
    assert looks_like_cql('[lemma="x"]') and not looks_like_cql("I have a [mole] on my hip")
    assert parse('[lemma="take"] [lemma="place"]').length == 2


def test_cql_concordance_filters_before_ranking_and_cap(bank_index, tmp_path):
    from senseindex.testing import copy_index

    path = copy_index(bank_index, tmp_path / "b")
    si = SenseIndex.open(path, encoder=HashEncoder())
    ids = bank_ids(si)
    gold(si, [(ids[0], "river"), (ids[1], "money"), (ids[2], "money")])
    c = si.concordance(cql='[lemma="bank" & label="money"]')
    assert (c.total, c.matching, len(c.hits), c.ranked) == (3, 2, 2, False)
    assert [h.occurrence_id for h in c.hits] == ids[1:]  # corpus order without an example
    c = si.concordance("The [bank] raised interest rates.", label="money", k=1)
    assert (c.matching, len(c.hits), c.capped) == (2, 1, True)  # N of M
    c = si.concordance("The [bank] raised interest rates.", documents=[])  # an empty subcorpus
    assert (c.total, c.matching, c.hits) == (3, 0, [])
    doc = si.store.db.execute("select id from documents").fetchone()[0]
    assert si.concordance("The [bank] raised interest rates.", documents={doc}).matching == 3
    with pytest.raises(SenseIndexError, match="example sentence"):
        si.concordance()
    # sequences: adjacent tokens in the text, the line spanning the match
    seq = si.concordance(cql='[lemma="river"] [lemma="bank"]')
    assert [(h.word, h.lemma) for h in seq.hits] == [("River bank", "river")]
    assert [h.word for h in si.concordance(cql='[lemma="bank"] [lemma="raise"] [lemma="interest"]').hits] == [
        "bank raised interest"]
    assert si.concordance(cql='[lemma="rate"] [lemma="bank"]').hits == []  # "rates at the bank": not adjacent
    ranked = si.concordance("The [bank] raised interest rates.", cql='[lemma="bank"] [lemma="raise"]')
    assert ranked.ranked and len(ranked.hits) == 1 and ranked.hits[0].score is not None
    err = run_cli("search", path, "--cql", '[lemma="bank"', ok=False).output
    assert "position 14" in err and "Traceback" not in err


# --- web helpers: KWIC sorts, clipping, contrast -----------------------------------------------
def test_kwic_sort_by_second_word_left_and_clipping_at_a_word():
    from senseindex.web.views import clip_left, clip_right, concordance

    def hit(rank, text, word):
        s = text.index(word)
        return SimpleNamespace(rank=rank, score=1.0 - rank / 10, text=text, start=s, end=s + len(word), label=None,
                               label_source=None, doc="d.txt", line=rank, occurrence_id=rank, sentence_id=rank)

    hits = [hit(1, "zebra apple the mole", "mole"), hit(2, "ant cherry a mole", "mole"), hit(3, "mole alone", "mole")]
    by2 = [r["rank"] for r in concordance(hits, "left2")]
    assert by2 == [1, 2, 3]  # 2nd word left: apple < cherry; none last
    by1 = [r["rank"] for r in concordance(hits, "left1")]
    assert by1 == [2, 1, 3]  # a < the
    assert [r["rank"] for r in concordance(hits, "right1")] == [3, 1, 2]  # alone first; no right word last
    left = clip_left("the quick brown fox jumps over the lazy dog", 12)
    assert left == "…lazy dog"  # not "…he lazy dog"
    assert clip_right("the quick brown fox jumps", 12) == "the quick…"


def test_cluster_badges_meet_wcag_aa():
    from senseindex.output.palette import PALETTE, contrast

    css = (ROOT / "src/senseindex/web/static/app.css").read_text()
    rules = {int(i): (bg, fg) for i, bg, fg in re.findall(
        r"\.c(\d) \{ background: (#[0-9a-f]{6}); color: (#[0-9a-f]{6}); \}", css)}
    assert sorted(rules) == list(range(len(PALETTE)))
    for i, (bg, fg) in rules.items():
        assert bg == PALETTE[i]
        assert contrast(bg, fg) >= 4.5, (i, bg, fg, contrast(bg, fg))
    assert contrast("#ffffff", "#000000") == pytest.approx(21.0)


# --- the demo: the same counts everywhere ------------------------------------------------------------
@pytest.mark.model
def test_counts_agree_across_search_senses_review_freq_and_api(demo_index, mpnet_encoder):
    from starlette.testclient import TestClient

    from senseindex.web import create_app

    si = SenseIndex.open(demo_index, encoder=mpnet_encoder)
    every = si.concordance("I have a [mole] on my hip", any_pos=True)
    nouns = si.concordance("I have a [mole] on my hip")
    assert every.total == every.matching == len(every.hits) == 61
    assert (nouns.matching, nouns.pos_left_out, nouns.pos_filter) == (60, 1, "n")
    assert si.senses("mole").occurrences == 61
    assert si.review_status("mole")["occurrences"] == 61
    assert si.frequency("mole")["count"] == 61
    assert si.label_summary("mole")["occurrences"] == 61
    assert si.info("mole")["word"]["occurrences"] == 61
    spy = si.concordance("I have a [mole] on my hip", label="spy", any_pos=True, k=50)
    assert spy.matching == len(spy.hits) == 15  # the old cap cut the filter's lines
    calls = []
    real = si.encoder.word_vectors
    si.encoder.word_vectors = lambda *a: calls.append(1) or real(*a)
    try:
        for label in ("spy", "skin", None):  # filtering the same query never re-encodes it
            si.concordance("I have a [mole] on my hip", label=label)
    finally:
        si.encoder.word_vectors = real
    assert calls == []
    with TestClient(create_app({"demo": demo_index}, encoder=mpnet_encoder, warm=False),
                    base_url="http://127.0.0.1") as client:
        api = client.get("/api/search", params={"q": "I have a [mole] on my hip", "any_pos": 1, "k": 1000}).json()
        assert api["counts"]["total"] == api["counts"]["matching"] == len(api["hits"]) == 61
        assert client.get("/api/senses", params={"word": "mole"}).json()["occurrences"] == 61
        assert client.get("/api/review/status", params={"word": "mole"}).json()["occurrences"] == 61
        info = client.get("/api/info", params={"word": "mole"}).json()
        assert info["tokens"] > 0 and info["word"]["occurrences"] == 61


def test_web_keeps_the_query_across_indexes_marks_unindexed_words_and_shows_context(bank_index, tmp_path):
    from starlette.testclient import TestClient

    from senseindex.testing import copy_index
    from senseindex.web import create_app

    other = copy_index(bank_index, tmp_path / "other")
    app = create_app({"bank": bank_index, "other": other}, encoder=HashEncoder(), warm=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        page = client.get("/search", params={"index": "bank", "q": "The [bank] raised interest rates.",
                                             "label": "(none)", "sort": "left2"})
        assert page.status_code == 200
        pick = page.text[page.text.index('<form class="pick"'):page.text.index("</form>", page.text.index('class="pick"'))]
        assert 'name="q" value="The [bank] raised interest rates."' in pick  # switching index keeps the query
        assert 'name="sort" value="left2"' in pick
        search_form = page.text[page.text.index('id="search-form"'):page.text.index("</form>", page.text.index('id="search-form"'))]
        assert 'name="label" value="(none)"' in search_form  # resubmitting keeps the filter
        assert 'data-count="matching">3<' in page.text
        words = client.get("/api/words", params={"index": "bank", "q": "The bank raised the hip"}).json()["words"]
        assert {w["word"]: w["occurrences"] > 0 for w in words} == {"The": False, "bank": True, "raised": True,
                                                                     "the": False, "hip": False}
        sid = client.get("/api/search", params={"index": "bank", "q": "The [bank] raised interest rates.",
                                                "k": 1}).json()["hits"][0]["sentence_id"]
        ctx = client.get("/api/context", params={"index": "bank", "sentence_id": sid, "around": 1}).json()
        assert [s["current"] for s in ctx["sentences"]].count(True) == 1 and 2 <= len(ctx["sentences"]) <= 3
        assert client.get("/api/context", params={"sentence_id": 10**9}).status_code == 400
        col = client.get("/api/collocates", params={"index": "bank", "word": "bank", "by": "cluster"}).json()
        found = {c["item"]: c for g in col["groups"] for c in g["collocates"]}
        assert found["interest"]["count"] >= 1 and col["frequency"]["count"] == 3
