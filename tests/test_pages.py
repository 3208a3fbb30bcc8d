"""The HTML pages (Jinja2 templates, autoescaped): corpus text is always escaped, pages are offline.

Fast: no model and no index; the reports and plot data are built by hand."""

from __future__ import annotations

from html.parser import HTMLParser
from types import SimpleNamespace as NS

import pytest

from senseindex.output.html import HTML_ROWS_PER_CLUSTER, plot_page, review_page

HOSTILE = [
    'He typed <script>alert("bank")</script> into the bank website & laughed.',
    "The bank &amp; trust said \"no\" and 'maybe' about the “curly” bank.",
    "Die Bank in Zürich – Ünïcödé bank café – was closed.",
    'A </mark><b onmouseover="x()">bank</b></li></ol> breaks out',
    "bank {{ 7*7 }} {% raw %} ${x}",
]


def _occ(i: int, cluster: int, sentence: str) -> NS:
    start = sentence.index("bank")
    return NS(occurrence_id=i, cluster=cluster, similarity=1 - i / 1000, sentence=sentence, start=start,
              end=start + 4, word=sentence[start:start + 4], doc=f"/corpus/<d>/doc&{i % 3}.txt", line=i + 1,
              section=None)


def _report(sizes: dict[int, int]) -> NS:
    rows, i = [], 0
    for cluster, n in sizes.items():
        for _ in range(n):
            rows.append(_occ(i, cluster, HOSTILE[i % len(HOSTILE)]))
            i += 1
    total = len(rows)
    senses = [NS(cluster=c, name=f"<script>alert({c})</script> “sense” & co", size=n, share=n / total,
                 words=["<i>money</i>", "Zürich"], examples=[]) for c, n in sizes.items()]
    return NS(index="/idx/<script>alert('i')</script>", index_id="x", lemma="bank<script>alert('l')</script>",
              occurrences=total, k=len(sizes), how="kmeans <k> & silhouette", min_size=2, seed=0, sampled=None,
              senses=senses, rows=rows)


def _plot_data(n: int) -> dict:
    groups = ["0: <script>alert(0)</script>", "1: river “bank” & 'shore'", "(no label)"]
    points = []
    for i in range(n):
        s = HOSTILE[i % len(HOSTILE)]
        start = s.index("bank")
        points.append({"x": (i * 7919 % 101) / 10, "y": (i * 104729 % 97) / 10, "group": groups[i % 3],
                       "text": s, "start": start, "end": start + 4, "id": i})
    return {"lemma": "bank</title><script>alert(1)</script>", "method": "pca", "color": "cluster",
            "groups": groups, "points": points, "mean": [5.0, 4.8], "total": n}


class _Page(HTMLParser):
    """Visible text, elements (with their attributes) and script bodies of a page."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)

    def all(self, tag: str) -> list[dict]:
        return [a for t, a in self.tags if t == tag]


def _no_corpus_markup(page: str) -> None:
    for raw in ("<script>alert", "<b onmouseover", "<i>money", "</mark><b", "<d>"):
        assert raw not in page, raw
    # the one hostile sentence that would close the list early stays text
    assert "&lt;/mark&gt;&lt;b onmouseover=" in page


def _offline(p: _Page) -> None:
    for _, attrs in p.tags:
        for name in ("src", "href"):
            assert not (attrs.get(name) or "").startswith(("http://", "https://", "//")), attrs
    assert not p.all("link") and not any("src" in a for _, a in p.tags)


def test_review_page_escapes_corpus_text_and_highlights():
    report = _report({0: 4, 1: 3})
    page = review_page(report)
    assert page.startswith("<!doctype html>") and page.endswith("</body></html>\n")
    _no_corpus_markup(page)
    p = _Page(page)
    text = "".join(p.text)
    assert not p.scripts and not p.all("script")  # the review page has no script at all
    for s in HOSTILE:  # every sentence reads back exactly as written
        assert s in text
    assert "Senses of “bank<script>alert('l')</script>”" in text
    assert "<script>alert(0)</script> “sense” & co" in text and "<i>money</i>, Zürich" in text
    assert "senseindex labels import /idx/<script>alert('i')</script> FILE.csv" in text
    assert "doc&0.txt:1 #0" in text and "/corpus/" not in text  # the file name only
    # one <mark> per row, around exactly the occurrence
    assert len(p.all("mark")) == len(report.rows) == len(p.all("li"))
    assert page.count("<mark>") == len(report.rows)
    assert "<mark>bank</mark>" in page and "<mark>Bank</mark>" not in page
    assert "Die Bank in Zürich – Ünïcödé <mark>bank</mark> café" in page
    assert [a["id"] for a in p.all("section")] == ["cluster-0", "cluster-1"]
    assert "more in the CSV/JSONL export" not in page
    _offline(p)


def test_review_page_caps_rows_per_cluster():
    extra = 7
    report = _report({0: HTML_ROWS_PER_CLUSTER + extra, 1: 2})
    page = review_page(report)
    sections = page.split('<section id="cluster-')[1:]
    assert len(sections) == 2
    assert sections[0].count("<li>") == HTML_ROWS_PER_CLUSTER and sections[1].count("<li>") == 2
    assert f"… and {extra} more in the CSV/JSONL export." in sections[0]
    assert "more in the CSV/JSONL export" not in sections[1]
    # the most representative rows are the ones shown, in order
    shown = [int(x.split(" #")[1].split("<")[0]) for x in sections[0].split("<li>")[1:]]
    assert shown == list(range(HTML_ROWS_PER_CLUSTER))
    # big counts get thousands separators, as in the rest of the page
    assert "… and 1,700 more" in review_page(_report({0: 2000}))
    assert "… and 3 more" in review_page(_report({0: 5}), rows_per_cluster=2)


def test_review_page_empty_cluster_words():
    report = _report({0: 1})
    report.senses[0].words = []
    assert "Distinctive words: -</p>" in review_page(report)


def test_plot_page_escapes_and_has_one_point_per_occurrence():
    data = _plot_data(23)
    page = plot_page(data)
    assert page.startswith("<!doctype html>") and page.endswith("</body></html>\n")
    _no_corpus_markup(page)
    p = _Page(page)
    assert len(p.all("script")) == 1 and page.count("<script>") == 1  # the page's own legend toggle
    assert "alert" not in p.scripts[0]
    circles = p.all("circle")
    assert len(circles) == page.count("<circle") == len(data["points"])
    for a in circles:
        assert 0 <= float(a["cx"]) <= 760 and 0 <= float(a["cy"]) <= 560
    assert {a["class"] for a in circles} == {"g0", "g1", "g2"}
    assert {a["fill"] for a in circles if a["class"] == "g2"} == {"#bbbbbb"}  # "(no label)" is grey
    text = "".join(p.text)
    assert "“bank</title><script>alert(1)</script>”: 23 occurrences (PCA, coloured by cluster)" in text
    # the tooltip: the sentence with the occurrence in brackets, its id and group
    assert 'He typed <script>alert("[bank]")</script>' in text
    assert "Die Bank in Zürich – Ünïcödé [bank] café – was closed. (#2, (no label))" in text
    legend = [a["data-g"] for a in p.all("li") if "data-g" in a]
    assert legend == ["g0", "g1", "g2"]
    assert "1: river “bank” & 'shore' (8)" in text and "(no label) (7)" in text
    assert "one vector per word" in text
    _offline(p)
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


@pytest.mark.parametrize("n", [0, 1])
def test_plot_page_tiny(n):
    page = plot_page(_plot_data(n))
    assert page.count("<circle") == n and "★" in page
