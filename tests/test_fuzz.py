"""Property-based fuzzing (Hypothesis) of every corpus reader and of `labels import`.

The property, for every generated file: `senseindex` either indexes (imports) it, after which
`check` passes, or stops with one line that names the file and a non-zero exit; never a
traceback; and a refused input leaves the index exactly as it was.

Two profiles: "ci" (the default: a few dozen cases per reader, seconds) and "bench" (thousands:
`SENSEINDEX_FUZZ=bench pytest tests/test_fuzz.py`, or `python bench/faults.py fuzz`). With
SENSEINDEX_FUZZ_LOG set, each test appends the number of cases it ran to that file.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from senseindex import SenseIndex
from senseindex.storage.check import check_index
from senseindex.testing import HashEncoder

pytestmark = pytest.mark.slow  # the fuzz harness: Hypothesis runs many files per test

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=False, database=None,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("bench", max_examples=int(os.environ.get("SENSEINDEX_FUZZ_EXAMPLES", 1000)), deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("SENSEINDEX_FUZZ", "ci"))
BENCH = os.environ.get("SENSEINDEX_FUZZ") == "bench"

SEED_TEXT = "The mole dug a tunnel under the garden.\nThe bank raised its rates.\nA mole on the cheek.\n"
FORMULAS = ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"http://x\")"]

# --- building blocks -------------------------------------------------------------------------------
words = st.sampled_from(["mole", "bank", "river", "garden", "tunnel", "money", "the", "a", "dug", "café", "naïve",
                         "日本語", "x" * 300, "", " ", "\u200b", "\ufeff", "\x00", "\\", "\"", "'", ",", ";", "\t"])
weird_text = st.one_of(st.text(max_size=200), st.lists(words, max_size=40).map(" ".join))
newline = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\x0b", "\u2028"])


@st.composite
def text_lines(draw, line=weird_text) -> str:
    lines = draw(st.lists(line, max_size=20))
    out = "".join(x + draw(newline) for x in lines)
    if BENCH and draw(st.integers(0, 19)) == 0:  # a line of a megabyte, now and then (one fixed case in CI)
        out += "mole bank " * 100_000 + "\n"
    return out


def to_bytes(draw, text: str) -> bytes:
    """Text as bytes, sometimes with a BOM, NULs, invalid UTF-8 or another encoding."""
    how = draw(st.sampled_from(["utf-8", "utf-8", "bom", "latin-1", "invalid", "nul"]))
    if how == "bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    if how == "latin-1":
        return text.encode("latin-1", "replace")
    if how == "invalid":
        raw = bytearray(text.encode("utf-8", "surrogatepass"))
        raw.insert(draw(st.integers(0, len(raw))), draw(st.sampled_from([0xFF, 0xC3, 0x80, 0xED])))
        return bytes(raw)
    if how == "nul":
        return text.encode("utf-8", "surrogatepass").replace(b" ", b"\x00", 3)
    return text.encode("utf-8", "surrogatepass")


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | weird_text,
                           lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                           max_leaves=12)


@st.composite
def jsonl_line(draw) -> str:
    kind = draw(st.integers(0, 9))
    if kind <= 2:
        return json.dumps({"text": draw(weird_text), **draw(st.dictionaries(st.text(max_size=6), json_values, max_size=3))})
    if kind == 3:
        return json.dumps({"text": draw(json_values), "doc": draw(json_values)})
    if kind == 4:  # pre-tokenised, sometimes with extras of the wrong length or type
        toks = draw(st.lists(st.one_of(words, st.text(max_size=10)), max_size=12))
        rec = {"tokens": toks}
        for key in draw(st.sets(st.sampled_from(["sense", "lemma", "pos"]))):
            rec[key] = draw(st.one_of(st.lists(st.one_of(st.none(), st.text(max_size=6)), min_size=len(toks),
                                               max_size=len(toks)), json_values))
        if draw(st.booleans()):
            rec["tokens"] = draw(st.one_of(json_values, st.just(toks)))
        return json.dumps(rec)
    if kind == 5:
        depth = draw(st.sampled_from([1, 10, 500, 5_000, 50_000]))
        return "[" * depth + "]" * depth
    if kind == 6:
        return json.dumps(draw(json_values))
    if kind == 7:
        return draw(st.text(max_size=50))
    if kind == 8:
        return ""
    return json.dumps({"text": "The mole " * draw(st.integers(1, 300))})


@st.composite
def jsonl_file(draw) -> bytes:
    return to_bytes(draw, "".join(draw(jsonl_line()) + draw(newline) for _ in range(draw(st.integers(0, 12)))))


@st.composite
def table_file(draw, sep: str) -> bytes:
    header = draw(st.lists(st.sampled_from(["text", "id", "doc", "Text", "", "text "]), min_size=0, max_size=4))
    if draw(st.integers(0, 3)):
        header = header + ["text"] if "text" not in header else header
    cell = st.one_of(weird_text, st.sampled_from(FORMULAS), st.just('"unclosed'), st.just('a"b'))
    rows = draw(st.lists(st.lists(cell, max_size=len(header) + 2), max_size=12))
    if rows and draw(st.booleans()):
        rows += rows[:2]  # duplicate rows
    text = "".join(sep.join(r) + draw(newline) for r in [header, *rows])
    return to_bytes(draw, text)


# --- the harness -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def index_path(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "seed.txt").write_text(SEED_TEXT, encoding="utf-8")
    si = SenseIndex.open_or_create(folder / "idx", encoder=HashEncoder())
    si.add([folder / "seed.txt"])
    rows = [{"index_id": si.store.index_id, "occurrence_id": 1, "label": "kept"}]
    si.review_labels(rows)
    si.store.db.conn.execute("pragma wal_checkpoint(truncate)")
    shutil.copytree(folder / "idx", folder / "template")  # what a big case starts from (run_case)
    return folder / "idx"


@pytest.fixture(scope="module")
def runner(index_path):
    import senseindex.encoding.encoder

    real = senseindex.encoding.encoder.load_encoder
    senseindex.encoding.encoder.load_encoder = lambda *a, **k: HashEncoder()
    yield CliRunner()
    senseindex.encoding.encoder.load_encoder = real


def snapshot(path: Path) -> dict:
    db = sqlite3.connect(f"{(path / 'index.db').resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {t: db.execute(f"select * from [{t}] order by 1").fetchall()
                for t in ("documents", "sentences", "occ", "labels", "lemmas", "vocab", "vector_state")}
    finally:
        db.close()


CASES = {"n": 0}


BIG_INPUT = 100_000  # bytes


def run_case(runner: CliRunner, index_path: Path, args: list[str], file: Path) -> None:
    """The property: success (and a clean check), or one line naming the file and no change.
    A passing case's input is removed; a failing one's is kept for the report. An input over
    BIG_INPUT bytes (the bench profile's lines of a megabyte) runs on a fresh copy of the seeded
    index instead of the shared one: each adds some 200,000 occurrences, and a shared index that
    grew by that much per case made every later snapshot and check slower and larger."""
    if file.stat().st_size > BIG_INPUT:
        target = Path(tempfile.mkdtemp(prefix="fuzz-big-")) / "idx"
        shutil.copytree(index_path.parent / "template", target)
        try:
            check_case(runner, target, [str(target) if a == str(index_path) else a for a in args], file)
        finally:
            shutil.rmtree(target.parent, ignore_errors=True)
    else:
        check_case(runner, index_path, args, file)
    if file.parent.name.startswith("fuzz-"):  # made by write(), for this case only
        shutil.rmtree(file.parent, ignore_errors=True)


def check_case(runner: CliRunner, index_path: Path, args: list[str], file: Path) -> None:
    CASES["n"] += 1
    before = snapshot(index_path)
    result = runner.invoke(__import__("senseindex.cli", fromlist=["cli"]).cli, args)
    err = getattr(result, "stderr", result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"traceback for {file.name}: {result.exception!r}\n{file.read_bytes()[:300]!r}"
    if result.exit_code == 0:
        report = check_index(index_path)
        assert report.ok, [str(p) for p in report.problems]
        return
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    assert file.name in lines[0] or str(index_path) in lines[0], lines[0]
    assert snapshot(index_path) == before, f"a refused input changed the index: {lines[0]}"


def write(data: bytes, suffix: str, gz: bool = False) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    path = folder / f"input{suffix}{'.gz' if gz else ''}"
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.fixture(autouse=True)
def log_cases(request):
    """With SENSEINDEX_FUZZ_LOG set, one line per finished test: its cases and the running total
    (so a long bench run that is stopped still says how many cases it ran)."""
    before = CASES["n"]
    yield
    if os.environ.get("SENSEINDEX_FUZZ_LOG"):
        with open(os.environ["SENSEINDEX_FUZZ_LOG"], "a") as fh:
            fh.write(json.dumps({"test": request.node.name, "cases": CASES["n"] - before, "total": CASES["n"]}) + "\n")


# --- the readers -------------------------------------------------------------------------------------
@given(data=st.data())
def test_txt(runner, index_path, data):
    raw = data.draw(st.one_of(st.binary(max_size=500), st.builds(lambda t: t, text_lines()).map(
        lambda t: t.encode("utf-8", "surrogatepass"))))
    if data.draw(st.booleans()):
        raw = to_bytes(data.draw, raw.decode("utf-8", "replace"))
    f = write(raw, ".txt")
    run_case(runner, index_path, ["index", str(f), "--index", str(index_path), "-q"], f)


@given(raw=jsonl_file())
def test_jsonl_and_pretokenised(runner, index_path, raw):
    f = write(raw, ".jsonl")
    run_case(runner, index_path, ["index", str(f), "--index", str(index_path), "-q"], f)


@given(raw=st.one_of(table_file(","), table_file(";")))
def test_csv(runner, index_path, raw):
    f = write(raw, ".csv")
    run_case(runner, index_path, ["index", str(f), "--index", str(index_path), "-q"], f)


@given(raw=table_file("\t"))
def test_tsv(runner, index_path, raw):
    f = write(raw, ".tsv")
    run_case(runner, index_path, ["index", str(f), "--index", str(index_path), "-q"], f)


@given(data=st.data())
def test_gz(runner, index_path, data):
    suffix = data.draw(st.sampled_from([".txt", ".jsonl", ".csv", ".tsv"]))
    inner = {".txt": st.builds(lambda t: t.encode("utf-8", "surrogatepass"), text_lines()), ".jsonl": jsonl_file(),
             ".csv": table_file(","), ".tsv": table_file("\t")}[suffix]
    how = data.draw(st.sampled_from(["gzip", "gzip", "truncated", "not gzip"]))
    raw = data.draw(inner)
    if how == "not gzip":
        f = write(raw, suffix + ".gz")
    else:
        f = write(raw, suffix, gz=True)
        if how == "truncated":
            b = f.read_bytes()
            f.write_bytes(b[: data.draw(st.integers(0, max(0, len(b) - 1)))])
    run_case(runner, index_path, ["index", str(f), "--index", str(index_path), "-q"], f)


# --- labels import ------------------------------------------------------------------------------------
@st.composite
def label_rows(draw, index_id: str, ids: list[int]) -> list[dict]:
    rows = []
    for _ in range(draw(st.integers(0, 10))):
        row = {}
        for col in draw(st.sets(st.sampled_from(["index_id", "occurrence_id", "label", "word", "cluster",
                                                 "cluster_label", "extra", "Label"]), max_size=6)) | {"label"}:
            if col == "index_id":
                row[col] = draw(st.sampled_from([index_id, index_id, "", "0" * 32, "x"]))
            elif col == "occurrence_id":
                row[col] = draw(st.one_of(st.sampled_from(ids), st.integers(-5, 10**12), st.sampled_from(
                    ["", "1.0", "1.5", "abc", "1e3", "=1"]), st.floats(allow_nan=True)))
            elif col in ("cluster",):
                row[col] = draw(st.one_of(st.integers(-2, 5), st.text(max_size=4)))
            else:
                row[col] = draw(st.one_of(weird_text, st.sampled_from(FORMULAS), st.none(), json_values))
        rows.append(row)
    if rows and draw(st.booleans()):
        rows.append(dict(rows[0]))  # a duplicate row
    return rows


@given(data=st.data())
def test_labels_import(runner, index_path, data):
    si = SenseIndex.open(index_path, encoder=HashEncoder())
    ids = [r[0] for r in si.store.db.execute("select id from occ limit 50")]
    rows = data.draw(label_rows(si.store.index_id, ids))
    fmt = data.draw(st.sampled_from([".csv", ".jsonl", "bytes"]))
    if fmt == ".jsonl":
        text = "".join(json.dumps(r, default=str) + data.draw(newline) for r in rows)
        if data.draw(st.booleans()):
            text += data.draw(jsonl_line()) + "\n"
        f = write(to_bytes(data.draw, text), ".jsonl")
    elif fmt == ".csv":
        cols = sorted({k for r in rows for k in r}) or ["label"]
        sep = data.draw(st.sampled_from([",", ";", "\t"]))
        lines = [sep.join(cols)] + [sep.join("" if r.get(c) is None else str(r.get(c)) for c in cols) for r in rows]
        f = write(to_bytes(data.draw, "".join(x + data.draw(newline) for x in lines)), ".csv")
    else:
        f = write(data.draw(st.binary(max_size=300)), data.draw(st.sampled_from([".csv", ".jsonl"])))
    run_case(runner, index_path, ["labels", "import", str(index_path), str(f)], f)


def test_regressions_found_by_fuzzing(runner, index_path, tmp_path):
    """Inputs that once gave a traceback: JSON nested deeper than Python's stack; a line of a megabyte."""
    deep = tmp_path / "deep.jsonl"
    deep.write_text("[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    run_case(runner, index_path, ["index", str(deep), "--index", str(index_path), "-q"], deep)
    deep_labels = tmp_path / "deep-labels.jsonl"
    deep_labels.write_text("{\"a\": " * 50_000 + "1" + "}" * 50_000 + "\n", encoding="utf-8")
    run_case(runner, index_path, ["labels", "import", str(index_path), str(deep_labels)], deep_labels)
    si = SenseIndex.open(index_path, encoder=HashEncoder())
    huge = tmp_path / "huge-ids.jsonl"  # ids past SQLite's integers gave OverflowError (a traceback)
    huge.write_text("".join(json.dumps({"index_id": si.store.index_id, "occurrence_id": oid, "label": "x"}) + "\n"
                            for oid in (9.223372036854776e+18, 1e308, -1e300)), encoding="utf-8")
    run_case(runner, index_path, ["labels", "import", str(index_path), str(huge)], huge)
    result = runner.invoke(__import__("senseindex.cli", fromlist=["cli"]).cli, ["labels", "import", str(index_path), str(huge)])
    assert "occurrence_id 9.223372036854776e+18 is out of range" in result.output
    cluster = tmp_path / "huge-cluster.csv"
    cluster.write_text(f"index_id,occurrence_id,word,cluster,cluster_label\n{si.store.index_id},,mole,1e99,x\n",
                       encoding="utf-8")
    run_case(runner, index_path, ["labels", "import", str(index_path), str(cluster)], cluster)
    long_line = tmp_path / "long.txt"
    long_line.write_text("The mole and the bank " * 10_000 + "\n", encoding="utf-8")
    run_case(runner, index_path, ["index", str(long_line), "--index", str(index_path), "-q"], long_line)


def test_the_index_is_sound_after_fuzzing(index_path):
    """Runs last in this module: whatever was accepted, the index checks and keeps its reviewed label."""
    assert check_index(index_path).ok
    si = SenseIndex.open(index_path, encoder=HashEncoder())
    assert any(r["source"] == "review" for r in si.labels())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))

