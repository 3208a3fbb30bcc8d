"""Senses over metadata on a generated corpus with a planted drift (evaluation/drift.py), from the
library, the CLI (table and PNG) and the web workbench."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from senseindex import SenseIndex
from senseindex.cli import cli
from senseindex.evaluation.drift import PLANTED, write_drift_corpus
from senseindex.senses.over import wilson
from senseindex.text.corpus import ReadOptions


@pytest.fixture(scope="module")
def drift_index(tmp_path_factory) -> Path:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import HashEncoder

    root = tmp_path_factory.mktemp("drift")
    write_drift_corpus(root / "drift.jsonl", per_bin=500)
    si = SenseIndex.open_or_create(root / "idx", encoder=HashEncoder())
    si.add([root / "drift.jsonl"], ReadOptions(meta_fields=("year",)))
    return root / "idx"


def test_wilson_interval():
    lo, hi = wilson(5, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.2366, 0.7634)  # the textbook value for 5/10 at 95%
    assert wilson(0, 20)[0] == 0.0 and wilson(20, 20)[1] == 1.0 and wilson(0, 0) == (0.0, 0.0)


def test_planted_drift_recovered_from_labels(drift_index):
    r = SenseIndex.open(drift_index).senses_over("mouse", "year", 10)
    assert r["of"] == "label" and [b["bin"] for b in r["bins"]] == ["1970-1979", "1980-1989", "1990-1999", "2000-2009"]
    assert sum(b["occurrences"] for b in r["bins"]) == 2000
    device = {x["value"]: x for x in r["rows"] if x["sense"] == "mouse.device"}
    for decade, share in PLANTED.items():
        row = device[decade]
        assert abs(row["share"] - share) <= 0.05, (decade, row["share"], share)
        assert row["ci_low"] <= row["share"] <= row["ci_high"]
        assert row["per_million"] == pytest.approx(row["count"] / row["tokens"] * 1e6, rel=1e-3)


def test_planted_drift_recovered_from_clusters(drift_index):
    """Without labels: the sense clusters (k=2) carry the drift too."""
    si = SenseIndex.open(drift_index)
    r = si.senses_over("mouse", "year", 10, of="cluster", k=2)
    assert r["of"] == "cluster" and len(r["senses"]) == 2
    gold = si.senses_over("mouse", "year", 10, of="label")
    device_gold = {x["value"]: x["share"] for x in gold["rows"] if x["sense"] == "mouse.device"}
    # the cluster whose share rises is the device sense
    rising = max(r["senses"], key=lambda s: next(x["share"] for x in r["rows"] if x["sense"] == s and x["value"] == 2000))
    for decade, share in PLANTED.items():
        got = next(x["share"] for x in r["rows"] if x["sense"] == rising and x["value"] == decade)
        assert abs(got - share) <= 0.05 and abs(got - device_gold[decade]) <= 0.05, (decade, got, share)


def test_over_cli_table_png_and_filter(drift_index, tmp_path):
    png = tmp_path / "mouse.png"
    r = CliRunner().invoke(cli, ["over", str(drift_index), "mouse", "--by", "year", "--bin", "10", "--plot", str(png)])
    assert r.exit_code == 0, r.output
    assert "1970-1979" in r.output and "mouse.device" in r.output and png.read_bytes()[:4] == b"\x89PNG"
    r = CliRunner().invoke(cli, ["over", str(drift_index), "mouse", "--by", "year", "--bin", "10", "--csv",
                                 "--where", "year >= 1990"])
    assert r.exit_code == 0 and r.output.splitlines()[0].startswith("lemma,bin,sense,count")
    assert {line.split(",")[1] for line in r.output.splitlines()[1:]} == {"1990-1999", "2000-2009"}
    r = CliRunner().invoke(cli, ["over", str(drift_index), "mouse", "--by", "genre"])
    assert r.exit_code == 1 and "no metadata field 'genre' (fields: year)" in r.output


def test_over_web_chart(drift_index):
    from starlette.testclient import TestClient

    from senseindex.web.app import create_app

    with TestClient(create_app([str(drift_index)], warm=False), base_url="http://127.0.0.1") as client:
        _check_over_pages(client)


def _check_over_pages(client):
    data = client.get("/api/over", params={"word": "mouse", "by": "year", "bin": "10"}).json()
    assert [b["bin"] for b in data["bins"]][0] == "1970-1979" and len(data["rows"]) == 8
    page = client.get("/over", params={"word": "mouse", "by": "year", "bin": "10"})
    assert page.status_code == 200
    html = page.text
    assert "<svg" in html and html.count('class="over-point"') == 8
    assert "value=2000-2009&amp;sense=mouse.device#lines" in html  # each point links to the lines behind it
    page = client.get("/over", params={"word": "mouse", "by": "year", "bin": "10", "value": "2000-2009",
                                       "sense": "mouse.device"})
    assert 'id="over-lines"' in page.text and "/search?" in page.text
    bad = client.get("/api/over", params={"word": "mouse", "by": "nope"})
    assert bad.status_code == 400 and "no metadata field" in bad.json()["error"]
    lines = client.get("/api/over/lines", params={"word": "mouse", "by": "year", "bin": "10", "value": "2000",
                                                  "sense": "mouse.device"}).json()
    assert lines["count"] == json.loads(json.dumps(next(x["count"] for x in data["rows"]
                                                        if x["value"] == 2000 and x["sense"] == "mouse.device")))


def test_over_chart_in_a_browser(drift_index):
    """Chromium opens the chart, clicks the device sense's 2000s point and reads its lines; no
    console or page error."""
    from playwright.sync_api import sync_playwright

    from senseindex.web.app import create_app
    from test_browser import CHROMIUM_ARGS, chromium_path
    from test_web_api import running

    with running(create_app({"drift": drift_index}, warm=False)) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{base}/over?index=drift&word=mouse&by=year&bin=10")
        assert page.locator("#over-chart circle").count() == 8
        assert page.locator("#over-table tbody tr").count() == 8
        page.locator('g[data-sense="mouse.device"] a.over-point').last.click()
        page.wait_for_selector("#over-lines")
        assert "mouse.device in 2000-2009" in page.locator("#lines").inner_text()
        assert page.locator("#over-lines tr").count() == 100  # the first 100 of the bin's lines
        browser.close()
    assert problems == []
