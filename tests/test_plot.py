"""The occurrence map: a valid PNG and a self-contained, escaped HTML page."""

from __future__ import annotations

import json

from click.testing import CliRunner

from senseindex.cli import cli
from senseindex.output.plot import plot_data, write_plot
from senseindex.senses.induction import induce_senses
from senseindex.storage.store import Store
from test_review import tiny  # noqa: F401  (fixture: a small index holding <script> and non-ASCII text)


def test_png_by_cluster_and_label(demo_index, tmp_path):
    runner = CliRunner()
    for color in ("cluster", "label"):
        out = tmp_path / f"mole-{color}.png"
        r = runner.invoke(cli, ["plot", str(demo_index), "mole", "--out", str(out), "--color", color, "--json"])
        assert r.exit_code == 0, r.output
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
        groups = json.loads(r.output)["groups"]
        if color == "label":
            assert set(groups) == {"animal", "skin", "chemistry", "spy"}
        else:
            assert len(groups) >= 4


def test_html_escaped_and_offline(tiny, tmp_path):  # noqa: F811
    store = Store.open(tiny)
    data = plot_data(store, induce_senses(store, "bank", k=2))
    write_plot(data, tmp_path / "map.html")
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<svg" in page and page.count("<circle") == 10
    assert "&lt;script&gt;" in page and "Zürich" in page
    assert "<script>alert" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "one vector per word" in page


def test_bad_extension(demo_index, tmp_path):
    r = CliRunner().invoke(cli, ["plot", str(demo_index), "bank", "--out", str(tmp_path / "x.pdf")])
    assert r.exit_code == 1 and "plot to .png, .html" in r.output and "Traceback" not in r.output
