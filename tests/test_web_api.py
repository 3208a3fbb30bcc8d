"""The web workbench without a browser: JSON API, pages, guards, label writes, exports, concurrency.

Most tests use a small index built with the hash encoder (fast tier); the last ones use the demo index
with the real model (full tier)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from senseindex import SenseIndex
from senseindex.cli import cli
from senseindex.web import create_app
from senseindex.web.lanes import PrimedEncoder
from senseindex.web.views import MAX_K, MAX_QUERY, concordance

BASE = "http://127.0.0.1"
SENTENCES = [
    "The bank raised its interest rates again.",
    "She opened a savings account at the bank.",
    "The bank approved the loan on Friday.",
    "A teller at the bank counted the money twice.",
    "We sat on the grassy bank of the river.",
    "The river bank was muddy after the flood.",
    "Fish hid under the bank of the stream.",
    "Reeds grew thick along the bank near the water.",
    "He typed <script>alert(1)</script> next to the bank form & left.",
    "The old mill stood by the river.",
]
QUERY = "I sat on the [bank] of the river"


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory) -> Path:
    """A small read-only index built with the hash encoder (copy it to write)."""
    from senseindex.testing import HashEncoder
    root = tmp_path_factory.mktemp("web")
    src = root / "corpus.txt"
    src.write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    path = root / "tiny"
    SenseIndex.open_or_create(path, encoder=HashEncoder()).add([src])
    return path


@pytest.fixture
def tiny(tiny_index, tmp_path) -> Path:
    from senseindex.testing import copy_index
    return copy_index(tiny_index, tmp_path / "tiny")


@contextlib.contextmanager
def client_for(path, encoder, **kwargs):
    app = create_app({"tiny": path}, encoder=encoder, **kwargs)
    with TestClient(app, base_url=BASE) as client:
        client.token = app.state.token
        client.app_state = app.state
        yield client


@pytest.fixture
def client(tiny, hash_encoder):
    with client_for(tiny, hash_encoder) as c:
        yield c


def post(client, body, token=None, **headers):
    return client.post("/api/labels", json=body, headers={
        "X-CSRF-Token": client.token if token is None else token, "Origin": BASE, **headers})


def scripts_and_handlers(html: str) -> tuple[list[str], list[str]]:
    """Inline <script> blocks and on*= / style= attributes (the CSP forbids all of them)."""
    inline = [m for m in re.findall(r"<script\b([^>]*)>", html) if "src=" not in m]
    attrs = re.findall(r"<[^>]+\s(on[a-z]+|style)\s*=", html)
    return inline, attrs


# --- pages and headers -------------------------------------------------------------------------------
def test_pages_render_with_csp_and_no_inline_script(client):
    urls = ["/search", f"/search?q={QUERY}&k=5", f"/search?q={QUERY}&k=5&compare=1&sort=left", "/senses",
            "/senses?word=bank", "/explain", "/info", "/api"]
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:300])
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
        inline, attrs = scripts_and_handlers(r.text)
        assert not inline and not attrs, (url, inline, attrs)
        assert 'name="csrf-token"' in r.text
    assert client.get("/", follow_redirects=False).status_code == 303
    js = client.get("/static/senses.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "innerHTML" not in js.text and "innerHTML" not in client.get("/static/search.js").text


def test_search_page_is_a_bookmarkable_concordance(client):
    r = client.get(f"/search?q={QUERY}&k=4&sort=right")
    assert r.status_code == 200
    assert r.text.count("<mark>") == 4 and 'data-sort="right" aria-current="true"' in r.text
    assert "target <strong>bank</strong>" in r.text
    # paging: 2 per page, page 2 holds ranks 3 and 4
    r = client.get(f"/search?q={QUERY}&k=4&per=2&page=2")
    assert re.findall(r'<td class="rank">(\d+)</td>', r.text) == ["3", "4"]
    assert "page 2 of 2" in r.text
    # filters by label and document; the static ranking alone
    assert client.get("/search", params={"q": QUERY, "k": 4, "label": "(none)"}).text.count("<mark>") == 4
    assert client.get("/search", params={"q": QUERY, "k": 4, "label": "finance"}).text.count("<mark>") == 0
    doc = client.get("/api/search", params={"q": QUERY, "k": 1}).json()["hits"][0]["doc"]
    assert client.get("/search", params={"q": QUERY, "k": 4, "doc": doc}).text.count("<mark>") == 4
    assert client.get("/search", params={"q": QUERY, "k": 4, "doc": "elsewhere.txt"}).text.count("<mark>") == 0
    static = client.get("/api/search", params={"q": QUERY, "k": 4, "static": 1}).json()["hits"]
    assert len(static) == 4 and "ranked by the static GloVe view" in client.get(
        "/search", params={"q": QUERY, "k": 4, "static": 1}).text
    # a bad request shows the page again with the message and the user's input
    r = client.get("/explain", params={"s": ["no mark here", "none here either"]})
    assert r.status_code == 400 and "mark the word" in r.text and "none here either" in r.text


def test_corpus_markup_is_escaped_everywhere(client):
    for url in ["/search?q=the+[bank]+form&k=20", "/senses?word=bank"]:
        html = client.get(url).text
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    r = client.get("/search?q=<b>[bank]</b>&k=3")
    assert "<b>" not in r.text.split("<main>")[1].split('id="q"')[0]


# --- the JSON API ----------------------------------------------------------------------------------------
def test_search_api_has_the_cli_json_fields(client, tiny, hash_encoder):
    r = client.get("/api/search", params={"q": QUERY, "k": 3})
    assert r.status_code == 200
    data = r.json()
    target, hits = SenseIndex.open(tiny, encoder=hash_encoder).search(QUERY, 3)
    assert data["target"] == target.__dict__
    assert data["hits"] == [h.to_dict() for h in hits]
    r = client.get("/api/search", params={"q": QUERY, "k": 3, "compare": 1}).json()
    assert set(r) == {"index", "target", "counts", "contextual", "static"} and len(r["static"]) == 3
    assert set(r["static"][0]) == set(hits[0].to_dict())


def test_info_senses_labels_plot_explain_api(client, tiny, hash_encoder):
    si = SenseIndex.open(tiny, encoder=hash_encoder)
    info = client.get("/api/info").json()
    assert {k: v for k, v in info.items() if k != "name"} == si.info() and info["name"] == "tiny"
    senses = client.get("/api/senses", params={"word": "bank", "k": 2, "rows": 1}).json()
    report = si.senses("bank", k=2)
    assert senses["occurrences"] == report.occurrences and senses["k"] == 2
    assert [s["size"] for s in senses["senses"]] == [s.size for s in report.senses]
    assert len(senses["rows"]) == report.occurrences and "label" in senses["rows"][0]
    assert sum(sum(d["clusters"].values()) for d in senses["documents"]) == report.occurrences
    assert client.get("/api/labels", params={"word": "bank"}).json() == si.label_summary("bank")
    plot = client.get("/api/senses/plot", params={"word": "bank", "k": 2}).json()
    assert len(plot["points"]) == report.occurrences
    assert all(0 <= p["x"] <= plot["width"] and 0 <= p["y"] <= plot["height"] for p in plot["points"])
    sentences = ["We sat on the [bank] of the river", "The [bank] raised its rates"]
    explained = client.get("/api/explain", params={"s": sentences}).json()
    assert np.allclose(explained["contextual_cosine"], si.explain(sentences)["contextual_cosine"], atol=1e-4)
    assert client.get("/api/indexes").json() == {"indexes": ["tiny"], "read_only": False}


def test_limits_and_errors(client):
    assert client.get("/api/search", params={"q": "[bank] " + "x" * MAX_QUERY}).status_code == 400
    assert client.get("/api/search", params={"q": QUERY, "k": MAX_K + 1}).status_code == 400
    assert client.get("/api/search", params={"q": QUERY, "k": "many"}).status_code == 400
    r = client.get("/api/search", params={"q": "the [zebra] ran"})
    assert r.status_code == 400 and "not in the index" in r.json()["error"]
    r = client.get("/api/search", params={"q": QUERY, "index": "../../etc"})
    assert r.status_code == 404 and "no index named" in r.json()["error"]
    for page in ("/search", "/senses", "/explain", "/info", "/api"):
        r = client.get(page, params={"q": QUERY, "word": "bank", "index": "nope"})
        assert r.status_code == 404 and "no index named" in r.text
    assert client.get("/api/explain", params={"s": ["[bank] a"] * 11}).status_code == 400
    assert client.get("/api/explain", params={"s": ["only [one]"]}).status_code == 400
    assert client.get("/export/senses.exe", params={"word": "bank"}).status_code == 404
    big = {"occurrence_ids": [1], "label": "x" * 2_000_000}
    r = post(client, big)
    assert r.status_code == 413
    r = post(client, {"occurrence_ids": [1], "label": "x" * 101})
    assert r.status_code == 400 and "at most 100" in r.json()["error"]
    r = client.post("/api/labels", content=b"not json", headers={"X-CSRF-Token": client.token,
                                                                  "Content-Type": "application/json"})
    assert r.status_code == 400


def test_host_header_is_checked(client):
    assert client.get("/api/info", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/api/info", headers={"Host": "localhost:8000"}).status_code == 200


# --- writes: CSRF, same origin, all or nothing, undo -----------------------------------------------------------
def test_writes_need_the_token_and_the_same_origin(client, tiny):
    body = {"occurrence_ids": [1], "label": "x"}
    assert post(client, body, token="").status_code == 403
    assert post(client, body, token="wrong").status_code == 403
    assert post(client, body, Origin="http://evil.example").status_code == 403
    assert post(client, body, Origin="http://127.0.0.1:9999").status_code == 403
    r = client.post("/api/labels", json=body, headers={"X-CSRF-Token": client.token,
                                                        "Referer": "http://evil.example/page"})
    assert r.status_code == 403
    r = client.post("/api/labels", json=body, headers={"X-CSRF-Token": client.token, "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    assert SenseIndex.open(tiny).labels() == []  # nothing was written by any of them
    assert client.get("/api/csrf").json()["csrf_token"] == client.token
    assert post(client, body).status_code == 200


def test_cluster_label_persists_shows_in_labels_list_and_undoes(client, tiny):
    r = post(client, {"word": "bank", "k": 2, "cluster": 0, "label": "money"})
    assert r.status_code == 200, r.text
    done = r.json()
    n0 = sum(1 for o in SenseIndex.open(tiny).senses("bank", k=2).rows if o.cluster == 0)
    assert done["changed"] == done["labelled"] == done["from_cluster_labels"] == n0
    assert set(done["before"].values()) == {None}
    assert {x["label"]: x["review"] for x in done["summary"]["labels"]}["money"] == n0
    listed = CliRunner().invoke(cli, ["labels", "list", str(tiny), "bank", "--json"])
    assert {x["label"]: x["review"] for x in json.loads(listed.output)["labels"]}["money"] == n0
    page = client.get("/senses", params={"word": "bank", "k": 2}).text
    assert 'data-name="money"' in page and 'data-name=""' in page  # cluster 1 is still unnamed
    r = post(client, {"word": "bank", "restore": done["before"]})
    assert r.status_code == 200 and r.json()["cleared"] == n0
    assert SenseIndex.open(tiny).labels(("review",)) == []


def test_moved_lines_keep_their_label_when_the_cluster_is_renamed(client, tiny):
    report = SenseIndex.open(tiny).senses("bank", k=2)
    zero = [o.occurrence_id for o in report.rows if o.cluster == 0]
    assert post(client, {"word": "bank", "k": 2, "cluster": 0, "label": "money"}).status_code == 200
    moved = post(client, {"word": "bank", "occurrence_ids": [zero[0]], "label": "river"}).json()
    assert moved["before"] == {str(zero[0]): "money"}
    renamed = post(client, {"word": "bank", "k": 2, "cluster": 0, "label": "finance"}).json()
    assert renamed["labelled"] == len(zero) - 1
    review = {r["occurrence_id"]: r["label"] for r in SenseIndex.open(tiny).labels(("review",))}
    assert review[zero[0]] == "river" and {review[i] for i in zero[1:]} == {"finance"}


def test_a_bad_write_changes_nothing(client, tiny):
    r = post(client, {"occurrence_ids": [1, 2, 999999], "label": "x"})
    assert r.status_code == 400 and "999999" in r.json()["error"] and "nothing imported" in r.json()["error"]
    r = post(client, {"restore": {"1": "x", "2": None, "888888": None}})
    assert r.status_code == 400 and "888888" in r.json()["error"]
    r = post(client, {"rows": [{"occurrence_id": 1, "cluster": 0, "cluster_label": "a"},
                               {"occurrence_id": 2, "cluster": 0, "cluster_label": "b"}]})
    assert r.status_code == 400 and "labelled both" in r.json()["error"]
    assert post(client, {"word": "bank", "k": 2, "cluster": 7, "label": "x"}).status_code == 400
    assert SenseIndex.open(tiny).labels() == []


def test_read_only_server_refuses_writes(tiny, hash_encoder):
    with client_for(tiny, hash_encoder, read_only=True) as c:
        r = post(c, {"occurrence_ids": [1], "label": "x"})
        assert r.status_code == 403 and "read-only" in r.json()["error"]
        page = c.get("/senses", params={"word": "bank"}).text
        assert "name-cluster" not in page and "import-form" not in page and "read-only" in page
        assert c.get("/export/senses.csv", params={"word": "bank"}).status_code == 200
        assert c.get("/api/search", params={"q": QUERY}).status_code == 200
    assert SenseIndex.open(tiny).labels() == []


# --- exports and imports ---------------------------------------------------------------------------------
def test_review_export_imports_back(client, tiny):
    post(client, {"occurrence_ids": [1], "label": "finance"})
    r = client.get("/export/senses.csv", params={"word": "bank", "k": 2})
    assert r.status_code == 200 and r.headers["content-disposition"] == 'attachment; filename="bank-senses.csv"'
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert {"index_id", "occurrence_id", "cluster", "label", "cluster_label"} <= set(rows[0])
    assert {x["label"] for x in rows if x["occurrence_id"] == "1"} == {"finance"}
    # as exported, it imports back unchanged (the CLI's import)
    path = tiny.parent / "bank.csv"
    path.write_bytes(r.content)
    again = SenseIndex.open(tiny).import_review(path)
    assert again["changed"] == 0 and again["unchanged"] == 1
    # filled in, uploaded through the browser's form: the same code
    for x in rows:
        x["cluster_label"] = {"0": "money", "1": "riverside"}[x["cluster"]]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    up = client.post("/api/labels/import", files={"file": ("../../reviewed.csv", buf.getvalue().encode(), "text/csv")},
                     headers={"X-CSRF-Token": client.token, "Origin": BASE})
    assert up.status_code == 200, up.text
    assert up.json()["labelled"] == len(rows) and up.json()["file"] == "reviewed.csv"
    summary = SenseIndex.open(tiny).label_summary("bank")
    assert {x["label"] for x in summary["labels"]} == {"finance", "money", "riverside"}
    bad = client.post("/api/labels/import", files={"file": ("x.csv", b"index_id,occurrence_id,label\nzz,1,a\n")},
                      headers={"X-CSRF-Token": client.token, "Origin": BASE})
    assert bad.status_code == 400 and "another index" in bad.json()["error"] and "senseindex-upload" not in bad.json()["error"]
    for fmt in ("jsonl", "html"):
        assert client.get(f"/export/senses.{fmt}", params={"word": "bank"}).status_code == 200


def test_search_view_exports(client):
    params = {"q": QUERY, "k": 5, "sort": "left"}
    r = client.get("/export/search.csv", params=params)
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 5 and list(rows[0])[:3] == ["rank", "score", "text"]
    ranks = [int(x["rank"]) for x in rows]
    assert sorted(ranks) == [1, 2, 3, 4, 5] and ranks == [x["rank"] for x in concordance_ranks(client, params)]
    lines = client.get("/export/search.jsonl", params={**params, "compare": 1}).text.splitlines()
    assert {json.loads(x)["method"] for x in lines} == {"contextual", "static"}
    html = client.get("/export/search.html", params={"q": "the [bank] form", "k": 20}).text
    assert "&lt;script&gt;" in html and "<script>alert" not in html


def concordance_ranks(client, params):
    page = client.get("/search", params=params).text
    return [{"rank": int(x)} for x in re.findall(r'<td class="rank">(\d+)</td>', page)]


def test_active_review_api(client, tiny):
    q = client.get("/api/review", params={"word": "bank", "n": 2})
    assert q.status_code == 200, q.text
    ids = [x["occurrence_id"] for x in q.json()["questions"]]
    assert len(ids) == 2 and q.json()["status"]["by_person"] == 0
    token = client.get("/api/csrf").json()["csrf_token"]
    r = client.post("/api/review", json={"word": "bank", "answers": {str(ids[0]): "money", str(ids[1]): "skip"}},
                    headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text
    assert r.json()["labelled"] == 1 and r.json()["status"]["skipped"] == 1
    st = client.get("/api/review/status", params={"word": "bank"}).json()
    assert st["by_person"] == 1 and st["by_knn"] == st["occurrences"] - 1
    assert client.post("/api/review", json={"word": "bank", "answers": {"1": "x"}}).status_code == 403  # no token
    bad = client.post("/api/review", json={"word": "bank", "answers": {str(ids[0]): ""}}, headers={"X-CSRF-Token": token})
    assert bad.status_code == 400 and "error" in bad.json()


def test_openapi_documents_every_api_route(client):
    from starlette.routing import Route

    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"] == "3.1.0"
    served = {(r.path, m.lower()) for r in client.app.routes if isinstance(r, Route) and r.path.startswith("/api/")
              for m in r.methods if m != "HEAD"}
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert served == documented
    refs = set(re.findall(r'"\$ref": "#/components/schemas/(\w+)"', json.dumps(spec)))
    assert refs <= set(spec["components"]["schemas"])
    page = client.get("/api").text
    assert all(path in page for path in spec["paths"])


# --- units ---------------------------------------------------------------------------------------------
class _Hit:
    def __init__(self, rank, text, start, end):
        self.rank, self.text, self.start, self.end = rank, text, start, end
        self.score, self.label, self.label_source, self.doc, self.line = 1.0 - rank / 10, None, None, "d.txt", rank
        self.occurrence_id, self.sentence_id = rank, rank


def test_concordance_sorts_by_context():
    hits = [_Hit(1, "zebra saw the bank there", 14, 18), _Hit(2, "a bank ahead", 2, 6), _Hit(3, "my big bank zone", 7, 11)]
    assert [r["rank"] for r in concordance(hits, "left")] == [2, 3, 1]  # a, big, the
    assert [r["rank"] for r in concordance(hits, "right")] == [2, 1, 3]  # ahead, there, zone
    assert [r["rank"] for r in concordance(hits, "score")] == [1, 2, 3]


def test_primed_encoder_answers_from_one_batch(hash_encoder):
    primed = PrimedEncoder(hash_encoder)
    items = [("the river bank", 10, 14), ("a bank loan", 2, 6)]
    primed.prime(items)
    assert primed.batches == 1
    for text, s, e in items:
        got = primed.word_vectors([text], [[(s, e)]])[0]
        assert np.allclose(got, hash_encoder.word_vectors([text], [[(s, e)]])[0])
    other = primed.word_vectors(["new text here"], [[(0, 3)]])[0]  # not primed: the real encoder
    assert other.shape == (1, hash_encoder.dim)


def test_waiting_searches_share_one_forward_pass(hash_encoder):
    from senseindex.web.lanes import Lane

    calls = []

    class Counting:
        name, layer, dim, precision, max_length = "count", "last", hash_encoder.dim, "fp32", 64

        def word_vectors(self, texts, spans):
            calls.append(len(texts))
            return hash_encoder.word_vectors(texts, spans)

    primed = PrimedEncoder(Counting())
    lane = Lane("test", lambda: (object(), primed))
    started, gate = threading.Event(), threading.Event()
    lane.submit(lambda si: (started.set(), gate.wait(10)))
    assert started.wait(10)  # the lane is busy: the next jobs wait together
    texts = [f"the bank number {i} here" for i in range(5)]
    futures = [lane.submit(lambda si, t=t: primed.word_vectors([t], [[(4, 8)]])[0], prime=lambda si, t=t: [(t, 4, 8)])
               for t in texts]
    gate.set()
    results = [f.result(10) for f in futures]
    lane.close()
    assert calls == [5] and primed.batches == 1  # one forward pass for the five, none after
    for t, got in zip(texts, results, strict=True):
        assert np.allclose(got, hash_encoder.word_vectors([t], [[(4, 8)]])[0])
    lone = Lane("lone", lambda: (object(), primed))  # a search alone is encoded alone, as the CLI does
    assert lone.submit(lambda si: primed.word_vectors(["a bank"], [[(2, 6)]])[0],
                       prime=lambda si: [("a bank", 2, 6)]).result(10).shape == (1, hash_encoder.dim)
    lone.close()
    assert calls == [5, 1] and primed.batches == 1


def test_a_few_queries_run_on_the_query_model_and_a_batch_on_the_index_model(hash_encoder):
    from senseindex.web.lanes import SINGLE_UP_TO

    calls = []

    class Counting:
        dim, layer, max_length = hash_encoder.dim, "last", 64

        def __init__(self, name, precision):
            self.name, self.precision = name, precision

        def word_vectors(self, texts, spans):
            calls.append((self.precision, len(texts)))
            return hash_encoder.word_vectors(texts, spans)

    primed = PrimedEncoder(Counting("m", "bf16"), Counting("m", "int8"))
    assert primed.precision == "bf16"  # it stands for the index's model (vector identity, caches)
    primed.word_vectors(["a bank"], [[(2, 6)]])
    primed.prime([(f"bank {i}", 0, 4) for i in range(SINGLE_UP_TO)])
    primed.prime([(f"the bank {i}", 4, 8) for i in range(SINGLE_UP_TO + 1)])
    assert calls == [("int8", 1), ("int8", SINGLE_UP_TO), ("bf16", SINGLE_UP_TO + 1)]


def test_serve_refuses_other_hosts_without_the_flag(tiny):
    r = CliRunner().invoke(cli, ["serve", str(tiny), "--host", "0.0.0.0"])
    assert r.exit_code == 1 and "--allow-remote" in r.output
    r = CliRunner().invoke(cli, ["serve", str(tiny.parent / "missing")])
    assert r.exit_code == 1 and "no such index" in r.output


# --- a real server: concurrent clients and a writer at the same time ---------------------------------------
@contextlib.contextmanager
def running(app):
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_concurrent_searches_while_another_process_writes(tiny, hash_encoder, tmp_path):
    app = create_app({"tiny": tiny}, encoder=hash_encoder)
    queries = [f"I sat on the [bank] of the {w}" for w in ("river", "stream", "lake", "pond", "sea", "canal")]
    expected = {q: [h.to_dict() for h in SenseIndex.open(tiny, encoder=hash_encoder).search(q, 5)[1]]
                for q in queries}
    more = tmp_path / "more.txt"
    more.write_text("".join(f"The bank of the canal number {i} was steep.\n" for i in range(24)), encoding="utf-8")
    with running(app) as base:
        def ask(i):
            q = queries[i % len(queries)]
            with httpx.Client(base_url=base, timeout=30) as c:
                r = c.get("/api/search", params={"q": q, "k": 5, "any_word": i % 2})
                return q, i % 2, r.status_code, r.json()

        token = app.state.token
        statuses = {}

        def during(sentences, words):  # called while the writer holds the index's lock
            if "post" not in statuses:
                r = httpx.post(f"{base}/api/labels", json={"occurrence_ids": [1], "label": "x"},
                               headers={"X-CSRF-Token": token, "Origin": base}, timeout=30)
                statuses["post"] = (r.status_code, r.json())
                statuses["get"] = httpx.get(f"{base}/api/search", params={"q": QUERY}, timeout=30).status_code

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(ask, i) for i in range(32)]
            SenseIndex.open(tiny, encoder=hash_encoder).add([more], progress=during, chunk_sentences=8)
            answers = [f.result() for f in futures]
        assert all(status == 200 for _, _, status, _ in answers)
        for q, any_word, _, data in answers:
            if not any_word and all(h["doc"] != str(more) for h in data["hits"][:2]):
                assert data["hits"][:2] == expected[q][:2]  # batched encoding gives the same vectors
        code, body = statuses["post"]
        assert code == 409 and "another senseindex process" in body["error"]
        assert statuses["get"] == 200
        time.sleep(0.1)
        info = httpx.get(f"{base}/api/info", timeout=30).json()
        assert info["documents"] == 2
        fresh = httpx.get(f"{base}/api/search", params={"q": "The [bank] of the canal number 7", "k": 500}).json()
        assert any(h["doc"] == str(more) for h in fresh["hits"])
        assert httpx.post(f"{base}/api/labels", json={"occurrence_ids": [1], "label": "x"},
                          headers={"X-CSRF-Token": token, "Origin": base}).status_code == 200


# --- the demo index with the real model ---------------------------------------------------------------------
def test_mole_query_on_the_demo(demo_index, mpnet_encoder):
    app = create_app({"demo": demo_index}, encoder=mpnet_encoder, read_only=True)
    with TestClient(app, base_url=BASE) as c:
        data = c.get("/api/search", params={"q": "I have a [mole] on my hip", "k": 5}).json()
        assert sum(h["label"] == "skin" for h in data["hits"]) >= 4
        page = c.get("/search", params={"q": "I have a [mole] on my hip", "k": 5}).text
        assert page.count('title="gold label">skin<') >= 4
        sentences = ["I have a [mole] on my hip", "The [mole] dug tunnels under the lawn at the zoo"]
        explained = c.get("/api/explain", params={"s": sentences}).json()
        direct = SenseIndex.open(demo_index, encoder=mpnet_encoder).explain(sentences)
        assert np.allclose(explained["contextual_cosine"], direct["contextual_cosine"], atol=1e-6)
        assert explained["static_cosine"][0][1] == pytest.approx(1.0)
