"""The dictionary on the workbench's pages and in its exports (issue 22): WordNet senses with glosses
on the search, senses, review and explain pages, the gloss and soft-distribution columns of the
review exports, every gloss escaped. Hash encoder and a copy of the hand-made mini WordNet whose
mole gloss holds markup, so escaping is checked on real output (fast tier)."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from senseindex import SenseIndex
from test_web_api import client_for

MINI = Path(__file__).parent / "data" / "wordnet-mini"
MARKUP = "<b onmouseover=alert(1)>velvety</b>"  # inside the burrowing mole's gloss
SENTENCES = ["The mole dug a tunnel under the garden.", "A mole ate the worms in the lawn.",
             "The mole burrowed under the roses at night.", "A mole worked inside the embassy for years.",
             "The agency found a mole among its analysts.", "The mole passed secrets to the enemy.",
             "One mole of carbon weighs twelve grams.", "A mole of gas fills the flask."]


@pytest.fixture()
def wordnet(tmp_path, monkeypatch) -> Path:
    """The mini WordNet with markup in a gloss (lines are found by their offset field, so a longer
    line is fine), made the process's WordNet, with a gloss cache of its own."""
    folder = tmp_path / "wordnet"
    shutil.copytree(MINI, folder)
    data = folder / "data.noun"
    data.write_bytes(data.read_bytes().replace(b"small velvety-furred", b"small " + MARKUP.encode()))
    monkeypatch.setenv("SENSEINDEX_WORDNET", str(folder))
    monkeypatch.setenv("SENSEINDEX_CACHE", str(tmp_path / "cache"))
    return folder


@pytest.fixture()
def moles(tmp_path, hash_encoder, wordnet) -> Path:
    src = tmp_path / "moles.txt"
    src.write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    path = tmp_path / "moles"
    si = SenseIndex.open_or_create(path, encoder=hash_encoder)
    si.add([src])
    return path


@pytest.fixture()
def client(moles, hash_encoder):
    with client_for(moles, hash_encoder) as c:
        yield c


def escaped_only(page: str) -> None:
    """The gloss with markup is on the page as text, never as markup."""
    assert MARKUP not in page and "<b onmouseover" not in page
    assert html.escape(MARKUP, quote=False) in page or html.escape(MARKUP) in page


def test_search_page_gives_each_hit_its_wordnet_sense(client, moles, hash_encoder):
    page = client.get("/search", params={"q": "The [mole] dug a tunnel"}).text
    expected = SenseIndex.open(moles, encoder=hash_encoder).dictionary_senses(
        h.occurrence_id for h in SenseIndex.open(moles, encoder=hash_encoder).concordance("The [mole] dug a tunnel").hits)
    assert len(expected) == len(SENTENCES)
    shown = re.findall(r'<td class="wordnet"><span class="synset" title="([^"]+) ·', page)
    assert sorted(shown) == sorted(s["key"] for s in expected.values())
    assert 'id="wordnet-senses"' in page and page.count("<li data-key=\"mole%1:") == 3  # the lemma's senses list
    escaped_only(page)


def test_senses_page_lists_each_clusters_wordnet_senses_and_the_new_sense_flag(client):
    params = {"word": "mole", "k": 3, "min_size": 1}
    page = client.get("/senses", params=params).text
    data = client.get("/api/senses", params={**params, "rows": 1}).json()
    clusters = data["dictionary"]["clusters"]
    assert len(clusters) == data["k"] == 3 and data["dictionary"]["wordnet_senses"] == 3
    for c in clusters:
        block = page.split(f'id="dictionary-{c["cluster"]}"', 1)[1].split("</div>", 1)[0]
        assert re.findall(r'<li data-key="([^"]+)"', block) == [s["key"] for s in c["senses"]]
        assert ("candidate new sense" in block) == c["new_sense"]
    assert page.count('<td class="wordnet"') == 3 and 'id="dictionary-note"' in page
    escaped_only(page)
    assert all(abs(sum(r["soft"]) - 1) < 1e-3 for r in data["rows"])


def test_review_exports_carry_the_gloss_and_the_soft_distribution(client):
    params = {"word": "mole", "k": 2}
    rows = list(csv.DictReader(io.StringIO(client.get("/export/senses.csv", params=params).text.lstrip("\ufeff"))))
    report = client.get("/api/senses", params=params).json()
    best = {c["cluster"]: c["senses"][0] for c in report["dictionary"]["clusters"]}
    assert len(rows) == len(SENTENCES)
    for r in rows:
        assert r["wordnet_sense"] == best[int(r["cluster"])]["key"] and r["gloss"] == best[int(r["cluster"])]["gloss"]
        probabilities = [float(x) for x in r["cluster_probabilities"].split()]
        assert len(probabilities) == 2 and abs(sum(probabilities) - 1) < 1e-3
    lines = [json.loads(x) for x in client.get("/export/senses.jsonl", params=params).text.splitlines()]
    assert [x["gloss"] for x in lines] == [r["gloss"] for r in rows]
    assert any(MARKUP in x["gloss"] for x in lines) or all(MARKUP not in b["gloss"] for b in best.values())
    page = client.get("/export/senses.html", params=params).text
    assert page.count("<li><strong>") == sum(len(c["senses"]) for c in report["dictionary"]["clusters"])
    escaped_only(page)


def test_review_page_shows_wordnet_senses_and_glosses_of_sense_key_choices(client, moles, hash_encoder):
    si = SenseIndex.open(moles, encoder=hash_encoder)
    first = si.concordance("The [mole] dug a tunnel").hits[0]
    si.review_labels([{"index_id": si.info()["index_id"], "occurrence_id": first.occurrence_id,
                       "label": "mole%1:05:00::"}])
    page = client.get("/review", params={"word": "mole"}).text
    assert 'id="wordnet-senses"' in page and page.count('<li data-key="mole%1:') == 3
    choice = page.split('<span class="sense">mole%1:05:00::</span>', 1)[1].split("</li>", 1)[0]
    burrower = next(w for w in si.wordnet_senses("mole") if w["key"] == "mole%1:05:00::")
    assert f'{burrower["synset"]}: ' in choice and MARKUP in burrower["gloss"]
    escaped_only(page)


def test_explain_page_says_whether_two_occurrences_share_a_wordnet_sense(client, moles, hash_encoder):
    sentences = ["The [mole] dug a tunnel", "The [mole] dug a tunnel", "The [mole] passed secrets",
                 "The [tunnel] collapsed"]
    page = client.get("/explain", params={"s": sentences}).text
    result = SenseIndex.open(moles, encoder=hash_encoder).explain(sentences)
    same = result["same_wordnet_sense"]
    cells = re.findall(r'<td class="(same|different|na)" data-i="(\d+)" data-j="(\d+)">', page)
    assert len(cells) == 16
    for kind, i, j in cells:
        want = same[int(i) - 1][int(j) - 1]
        assert kind == ("na" if want is None else "same" if want else "different")
    assert same[0][1] is True and same[0][3] is None  # tunnel: not in the mini WordNet
    keys = re.findall(r'<tr data-key="([^"]*)">', page)
    assert keys == [o["wordnet_sense"]["key"] if o["wordnet_sense"] else "" for o in result["occurrences"]]
    assert "WordNet does not list <em>tunnel</em>" in page
    if any(MARKUP in (o["wordnet_sense"] or {}).get("gloss", "") for o in result["occurrences"]):
        escaped_only(page)


def test_pages_without_wordnet_show_no_dictionary(moles, hash_encoder, monkeypatch, tmp_path):
    monkeypatch.setenv("SENSEINDEX_WORDNET", str(tmp_path / "nowhere"))  # no index.sense there: no WordNet
    with client_for(moles, hash_encoder) as c:
        search = c.get("/search", params={"q": "The [mole] dug a tunnel"})
        senses = c.get("/senses", params={"word": "mole", "k": 2})
        review = c.get("/review", params={"word": "mole"})
    assert search.status_code == senses.status_code == review.status_code == 200
    assert 'id="wordnet-senses"' not in search.text + review.text and 'class="dictionary"' not in senses.text
