"""Review files: export formats, escaping, and the label import round trip (idempotent, all or nothing)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from senseindex import SenseIndex
from senseindex.cli import cli
from senseindex.errors import SenseIndexError
from senseindex.output.review_export import export_review
from senseindex.storage.labels import effective_labels
from senseindex.storage.store import Store
from senseindex.testing import index_sentences

SENTENCES = [
    "The bank raised its interest rates again.",
    "She opened a savings account at the bank.",
    "The bank approved the loan on Friday.",
    'He typed <script>alert("bank")</script> into the bank website & laughed.',
    "Die Bank in Zürich – the bank near the café – was closed.",
    "We sat on the grassy bank of the river.",
    "The river bank was muddy after the flood.",
    "Fish hid under the bank of the stream.",
]


@pytest.fixture
def tiny(tmp_path, hash_encoder):
    """A small index built with the hash encoder, holding markup and non-ASCII text."""
    return index_sentences(tmp_path / "tiny", SENTENCES, hash_encoder)


def _report(path, k=2):
    return SenseIndex.open(path).senses("bank", k=k)


def test_csv_and_jsonl_rows(tiny, tmp_path):
    report = _report(tiny)
    export_review(report, tmp_path / "r.csv")
    export_review(report, tmp_path / "r.jsonl")
    raw = (tmp_path / "r.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM so spreadsheets read UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    lines = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(lines) == report.occurrences == 10  # "bank" twice in two sentences
    for r in (rows[0], lines[0]):
        assert {"index_id", "occurrence_id", "cluster", "suggested_name", "label", "cluster_label", "similarity",
                "sentence", "start", "end", "doc"} <= set(r)
        assert r["label"] == "" and r["index_id"] == report.index_id
    zurich = next(r for r in lines if "Zürich" in r["sentence"])
    assert zurich["sentence"][zurich["start"]:zurich["end"]].lower() == "bank"
    assert any("Zürich" in r["sentence"] for r in rows)


def test_html_is_escaped_and_self_contained(tiny, tmp_path):
    export_review(_report(tiny), tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(" in page
    assert "&amp; laughed" in page and "Zürich" in page and "café" in page
    assert "<mark>bank</mark>" in page or "<mark>Bank</mark>" in page
    assert page.count("<section") == 2
    assert "http://" not in page and "https://" not in page


def test_unknown_format(tiny, tmp_path):
    with pytest.raises(SenseIndexError, match="by extension"):
        export_review(_report(tiny), tmp_path / "r.xlsx")


def _fill(path, tmp_path, edit) -> str:
    """Export, let `edit` fill labels in the rows, write the CSV back; returns its path."""
    report = _report(path)
    out = tmp_path / "review.csv"
    export_review(report, out)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    edit(rows)
    with open(out, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return str(out)


def test_import_round_trip_idempotent(tiny, tmp_path):
    def edit(rows):
        for r in rows:
            if r["cluster"] == "0":
                r["cluster_label"] = "finance"  # one row labels the whole cluster
                break
        rows[-1]["label"] = "river"  # an individual label beats its cluster's label

    f = _fill(tiny, tmp_path, edit)
    store = Store.open(tiny)
    first = SenseIndex.open(tiny).import_review(f)
    n0 = sum(1 for r in _report(tiny).rows if r.cluster == 0)
    assert first["changed"] == first["labelled"] >= n0
    second = SenseIndex.open(tiny).import_review(f)
    assert second["changed"] == 0 and second["unchanged"] == first["labelled"]
    got = effective_labels(store.db, [o.occurrence_id for o in _report(tiny).rows])
    assert {s for _, s in got.values()} == {"review"}
    last = _report(tiny).rows[-1].occurrence_id
    assert got[last][0] == "river"


def test_import_is_all_or_nothing(tiny, tmp_path):
    def edit(rows):
        for r in rows:
            r["label"] = "x"
        rows[1]["occurrence_id"] = "999999"
        rows[2]["occurrence_id"] = "abc"

    f = _fill(tiny, tmp_path, edit)
    store = Store.open(tiny)
    with pytest.raises(SenseIndexError) as err:
        SenseIndex.open(tiny).import_review(f)
    msg = str(err.value)
    assert "nothing imported" in msg and "999999" in msg and "abc" in msg
    assert store.db.execute("select count(*) from labels").fetchone()[0] == 0


def test_import_refuses_another_index(tiny, tmp_path):
    def edit(rows):
        rows[0]["label"] = "x"
        for r in rows:
            r["index_id"] = "0123456789abcdef"

    with pytest.raises(SenseIndexError, match="another index"):
        SenseIndex.open(tiny).import_review(_fill(tiny, tmp_path, edit))


def test_conflicting_cluster_labels(tiny, tmp_path):
    def edit(rows):
        zero = [r for r in rows if r["cluster"] == "0"]
        zero[0]["cluster_label"], zero[1]["cluster_label"] = "a", "b"

    with pytest.raises(SenseIndexError, match="labelled both 'a' and 'b'"):
        SenseIndex.open(tiny).import_review(_fill(tiny, tmp_path, edit))


def test_spreadsheet_saved_csv_imports(tiny, tmp_path):
    """BOM, CRLF, semicolons, reordered and extra columns, quoted fields, 12.0 numbers, a whole-cluster row."""
    report = _report(tiny)
    rows = [o for o in report.rows]
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    w.writerow(["Sentence", "Label", "Occurrence ID", "notes", "Cluster", "index_id", "word"])
    w.writerow([rows[0].sentence, "money; \"the\" institution", f"{rows[0].occurrence_id}.0", "multi\r\nline", "0",
                report.index_id, "bank"])
    for o in rows[1:]:
        w.writerow([o.sentence, "", str(o.occurrence_id), "", str(o.cluster), report.index_id, "bank"])
    w.writerow(["", "riverside", "", "whole cluster 1", "1", "", ""])  # a reviewer's own row: no id, no word
    w.writerow(["", "", "", "", "", "", ""])
    path = tmp_path / "saved.csv"
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
    result = SenseIndex.open(tiny).import_review(path)
    n1 = sum(1 for o in rows if o.cluster == 1)
    assert result["labelled"] == 1 + n1 and result["from_cluster_labels"] == n1
    got = effective_labels(Store.open(tiny).db, [rows[0].occurrence_id])
    assert got[rows[0].occurrence_id] == ('money; "the" institution', "review")


def test_cli_import_list_export_and_search(writable_demo, tmp_path, mpnet_encoder):
    runner = CliRunner()
    out = tmp_path / "bank.csv"
    r = runner.invoke(cli, ["senses", str(writable_demo), "bank", "--export", str(out), "--inventory", "none"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    for row in rows:
        row["cluster_label"] = {"0": "money", "1": "riverside"}[row["cluster"]]
    with open(out, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\r\n")
        w.writeheader()
        w.writerows(rows)
    r = runner.invoke(cli, ["labels", "import", str(writable_demo), str(out), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["changed"] == 30
    r = runner.invoke(cli, ["labels", "import", str(writable_demo), str(out)])
    assert "0 changed" in r.output
    r = runner.invoke(cli, ["labels", "list", str(writable_demo), "bank", "--json"])
    summary = {x["label"]: x for x in json.loads(r.output)["labels"]}
    assert summary["money"]["review"] == 15 and summary["finance"]["gold"] == 15
    assert summary["money"]["effective"] == 15 and summary["finance"]["effective"] == 0
    r = runner.invoke(cli, ["labels", "list", str(writable_demo), "bank"])
    assert "riverside" in r.output and "effective" in r.output
    r = runner.invoke(cli, ["labels", "export", str(writable_demo), "--source", "review", "--json"])
    exported = json.loads(r.output)
    assert len(exported) == 30 and {x["source"] for x in exported} == {"review"}
    r = runner.invoke(cli, ["labels", "export", str(writable_demo), str(tmp_path / "all.jsonl")])
    assert r.exit_code == 0 and len((tmp_path / "all.jsonl").read_text().splitlines()) > 30
    # search shows the reviewed labels
    _, hits = SenseIndex.open(writable_demo, encoder=mpnet_encoder).search("We fished from the muddy [bank]", 5)
    assert {(h.label, h.label_source) for h in hits} == {("riverside", "review")}
    bad = runner.invoke(cli, ["labels", "import", str(writable_demo), str(tmp_path / "missing.csv")])
    assert bad.exit_code == 1 and "no such file" in bad.output and "Traceback" not in bad.output


def test_jsonl_round_trip(tiny, tmp_path):
    report = _report(tiny)
    path = tmp_path / "r.jsonl"
    export_review(report, path)
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    for r in rows:
        r["cluster_label"] = f"sense {r['cluster']}"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert SenseIndex.open(tiny).import_review(path)["changed"] == len(rows)
    assert SenseIndex.open(tiny).import_review(path)["changed"] == 0
    path.write_text(path.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    with pytest.raises(SenseIndexError, match=r"r.jsonl:11: invalid JSON"):
        SenseIndex.open(tiny).import_review(path)
