"""The active review page (/review) without a browser: it renders the batch SenseIndex.review asks,
escapes corpus text and sense names, handles bad input as a page with a message, and shows that
answering is disabled on a read-only server. (Answering from the keyboard: tests/test_browser.py.)"""

from __future__ import annotations

import html
import re

import test_web_api as web
from senseindex import SenseIndex
from test_web_api import BASE, client_for, scripts_and_handlers

tiny_index, tiny = web.tiny_index, web.tiny  # the fixtures of test_web_api: a small index, a writable copy

HOSTILE = "<img src=x onerror=alert(1)>"


def answer(client, answers: dict, word: str = "bank"):
    return client.post("/api/review", json={"word": word, "answers": {str(k): v for k, v in answers.items()}},
                       headers={"X-CSRF-Token": client.token, "Origin": BASE})


def oids(page: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr class="q" tabindex="-1" data-oid="(\d+)"', page)]


def test_review_page_shows_the_batch_the_library_asks(tiny, hash_encoder):
    expected = [q.occurrence_id for q in SenseIndex.open(tiny, encoder=hash_encoder).review("bank", 3).questions]
    with client_for(tiny, hash_encoder) as c:
        r = c.get("/review", params={"word": "bank", "n": 3})
        assert r.status_code == 200, r.text[:500]
        page = r.text
        assert oids(page) == expected and len(expected) == 3
        inline, attrs = scripts_and_handlers(page)
        assert not inline and not attrs
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert '<script type="module" src="/static/review.js">' in page
        assert '<a href="/review?index=tiny" aria-current="page">Review</a>' in page
        assert 'data-stat="by_person">0<' in page and 'id="question-template"' in page
        assert page.count('select class="answer"') == 3 + 1  # each line, and the template for the next batch
        assert "none yet: name one with" in page  # no sense names before the first answer
        assert '<a href="/senses?index=tiny&amp;word=bank">its sense clusters</a>' in page
        # the senses page links to the word's review page
        senses = c.get("/senses", params={"word": "bank"}).text
        assert 'id="review-link" href="/review?index=tiny&amp;word=bank"' in senses
        # the empty page: a form and examples, no error
        intro = c.get("/review")
        assert intro.status_code == 200 and 'id="word"' in intro.text and 'class="error"' not in intro.text
        js = c.get("/static/review.js")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        assert "innerHTML" not in js.text and "innerHTML" not in c.get("/static/common.js").text


def test_answers_show_in_the_status_line_and_the_sense_choices(tiny, hash_encoder):
    with client_for(tiny, hash_encoder) as c:
        first = oids(c.get("/review", params={"word": "bank", "n": 2}).text)
        r = answer(c, {first[0]: "money", first[1]: "skip"})
        assert r.status_code == 200, r.text
        page = c.get("/review", params={"word": "bank", "n": 2}).text
        assert 'data-stat="by_person">1<' in page and 'data-stat="skipped">1<' in page
        assert '<li><kbd>1</kbd> <span class="sense">money</span></li>' in page
        assert '<option value="money">money</option>' in page
        assert not set(first) & set(oids(page))  # answered and skipped lines are not asked again


def test_corpus_text_word_and_sense_names_are_escaped(tiny, hash_encoder):
    with client_for(tiny, hash_encoder) as c:
        page = c.get("/review", params={"word": "bank", "n": 20}).text
        assert "He typed &lt;script&gt;alert(1)&lt;/script&gt; next to the bank form &amp; left." in page  # title
        assert "<script>alert" not in page
        asked = oids(page)
        assert answer(c, {asked[0]: HOSTILE}).status_code == 200
        page = c.get("/review", params={"word": "bank", "n": 20}).text
        assert HOSTILE not in page and "<img" not in page
        assert f'<span class="sense">{html.escape(HOSTILE)}</span>' in page  # a choice, as text
        # a hostile word: the page again with the message, escaped
        bad = c.get("/review", params={"word": "<script>alert(2)</script>"})
        assert bad.status_code == 400 and "<script>alert(2)" not in bad.text
        assert 'class="error"' in bad.text and "&lt;script&gt;alert(2)&lt;/script&gt;" in bad.text
        assert c.get("/review", params={"word": "bank", "n": 0}).status_code == 400
        assert c.get("/review", params={"word": "zebra"}).status_code == 400


def test_read_only_server_shows_the_questions_with_answering_disabled(tiny, hash_encoder):
    with client_for(tiny, hash_encoder, read_only=True) as c:
        r = c.get("/review", params={"word": "bank", "n": 3})
        assert r.status_code == 200, r.text[:500]
        page = r.text
        assert len(oids(page)) == 3 and "answering is disabled" in page and 'class="badge"' in page
        for writable in ('select class="answer"', 'id="new-sense"', 'id="store-answers"', 'id="question-template"'):
            assert writable not in page
        r = c.post("/api/review", json={"word": "bank", "answers": {str(oids(page)[0]): "money"}},
                   headers={"X-CSRF-Token": c.token, "Origin": BASE})
        assert r.status_code == 403 and "read-only" in r.json()["error"]
    assert SenseIndex.open(tiny).labels() == []
