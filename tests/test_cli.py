"""End-to-end: the real packaged model (all-mpnet-base-v2) on the demo corpus, through the CLI."""

import csv
import json
from collections import defaultdict
from functools import partial

import pytest

from helpers import DEMO, DEMO_QUERIES
from senseindex import SenseIndex
from senseindex.storage.store import Store
from senseindex.testing import run_cli

run = partial(run_cli, ok=True)


def test_search_mole_on_hip_finds_skin_sense(demo_index):
    hits = json.loads(run("search", demo_index, "I have a [mole] on my hip", "-k", 5, "--json").stdout)
    assert len(hits) == 5
    assert {"rank", "score", "text", "word", "lemma", "start", "end", "doc", "sentence_id", "label"} <= set(hits[0])
    assert [h["label"] for h in hits] == ["skin"] * 5
    assert all(h["text"][h["start"]:h["end"]].lower().startswith("mole") for h in hits)
    assert hits[0]["score"] >= hits[-1]["score"]


def test_search_table_compare_and_static(demo_index):
    out = run("search", demo_index, "I have a [mole] on my hip", "-k", 3).output
    assert "target: mole" in out and "[mole]" in out
    both = json.loads(run("search", demo_index, "I have a [mole] on my hip", "--compare", "--json").stdout)
    assert set(both) == {"target", "contextual", "static"} and len(both["static"]) == 10
    table = run("search", demo_index, "The [mole] dug under the lawn", "--compare", "-k", 4).stdout
    assert "contextual (one vector per occurrence)" in table and "static GloVe" in table
    static = json.loads(run("search", demo_index, "The [mole] dug under the lawn", "--static", "--json").stdout)
    assert all(h["lemma"] == "mole" for h in static)
    rows = list(csv.DictReader(run("search", demo_index, "[bank] loan", "--csv", "-k", 2).stdout.splitlines()))
    assert len(rows) == 2 and rows[0]["lemma"] == "bank"


def test_target_selection(demo_index):
    db = Store.open(demo_index).db
    count = {w: db.execute("select count(*) from occurrences where lemma = ?", [w]).fetchone()[0] for w in ("mole", "bank")}
    rarest = min(count, key=count.get)
    res = run("search", demo_index, "a mole, a bank", "--json")
    assert f"target: {rarest}" in res.stderr and "fewest occurrences" in res.stderr
    res = run("search", demo_index, "a mole of carbon", "--word", "mole", "-k", 3, "--json")
    assert [h["label"] for h in json.loads(res.stdout)] == ["chemistry"] * 3
    anyw = json.loads(run("search", demo_index, "a dark [mole] on the skin of her neck", "--any-word", "-k", 30, "--json").stdout)
    assert len({h["lemma"] for h in anyw}) > 1


def test_unknown_word_names_nearest_indexed_words(demo_index):
    res = run("search", demo_index, "a [wombat] in the zoo", ok=False)
    assert res.exit_code == 1 and "'wombat' is not in the index; nearest indexed words:" in res.output
    assert "Traceback" not in res.output
    res = run("search", demo_index, "the of and", ok=False)
    assert res.exit_code == 1 and "no content word" in res.output


def test_explain_shows_contextual_versus_static(demo_index):
    data = json.loads(run("explain", "I have a [mole] on my hip", "The [mole] dug tunnels at the zoo",
                          "A [mole] of carbon weighs twelve grams", "The doctor removed a dark [mole] from my arm",
                          "--index", demo_index, "--json").stdout)
    ctx = data["contextual_cosine"]
    # the two skin-spot occurrences are closer to each other than to the animal or the unit
    assert ctx[0][3] > max(ctx[0][1], ctx[0][2]) + 0.1
    assert ctx[3][0] > max(ctx[3][1], ctx[3][2]) + 0.1
    assert len(data["static_cosine"]) == 4
    near = [{n["word"] for n in o["contextual_neighbours"]} for o in data["occurrences"]]
    assert near[0] != near[1]
    text = run("explain", "I have a [mole] on my hip", "The [mole] dug tunnels at the zoo", "--index", demo_index).stdout
    assert "Contextual cosine" in text and "Static cosine" in text and "contextual:" in text
    res = run("explain", "only one [mole] here", ok=False)
    assert res.exit_code == 1 and "two or more" in res.output


def test_info(demo_index):
    data = json.loads(run("info", demo_index, "--json").stdout)
    assert data["documents"] == 5 and data["sentences"] >= 400 and data["dimensions"] == 768
    assert data["model"] == "sentence-transformers/all-mpnet-base-v2" and data["labels"]["gold"] >= 400
    assert data["bytes_per_occurrence"] > 0
    assert "bytes per occurrence" in run("info", demo_index).stdout


@pytest.mark.model
def test_index_command_end_to_end_with_small_model(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("The mole dug a tunnel under the lawn.\nShe had a mole removed from her cheek.\n")
    (corpus / "b.jsonl").write_text(json.dumps({"body": "A mole is a unit of amount of substance."}) + "\n")
    idx = tmp_path / "idx"
    out = json.loads(run("index", corpus, "--index", idx, "--model", "minilm", "--text-field", "body", "--json").stdout)
    assert out["sentences_added"] == 3 and out["index"]["dimensions"] == 384
    again = json.loads(run("index", corpus, "--index", idx, "--json").stdout)
    assert again["files_skipped"] == 2 and again["sentences_added"] == 0
    res = run("index", corpus, "--index", idx, "--model", "mpnet", ok=False)
    assert res.exit_code == 1 and "cannot be searched with mpnet" in res.output


@pytest.mark.model
@pytest.mark.parametrize("case", ["missing", "empty_dir", "undecodable", "empty_file", "binary", "not_index", "locked"])
def test_bad_input_is_one_line_and_nonzero(tmp_path, case, writable_demo):
    idx = tmp_path / "idx"
    args = None
    if case == "missing":
        args, expect = ["index", tmp_path / "nope.txt", "--index", idx], "no such file"
    elif case == "empty_dir":
        (tmp_path / "d").mkdir()
        args, expect = ["index", tmp_path / "d", "--index", idx], "no readable files"
    elif case == "undecodable":
        (tmp_path / "u.txt").write_bytes(b"ok line.\n\xfe\xfe broken\n")
        args, expect = ["index", tmp_path / "u.txt", "--index", idx], "u.txt:2: cannot decode"
    elif case == "empty_file":
        (tmp_path / "e.txt").write_text("\n\n")
        args, expect = ["index", tmp_path / "e.txt", "--index", idx], "empty corpus"
    elif case == "binary":
        (tmp_path / "b.txt").write_bytes(bytes(range(256)) * 4)
        args, expect = ["index", tmp_path / "b.txt", "--index", idx], "binary"
    elif case == "not_index":
        (tmp_path / "x").mkdir()
        args, expect = ["search", tmp_path / "x", "a [mole]"], "not a senseindex index"
    if case == "locked":
        store = Store.open(writable_demo)
        with store.lock():
            res = run("index", DEMO, "--index", writable_demo, ok=False)
        expect = "another senseindex process"
    else:
        res = run(*args, ok=False)
    assert res.exit_code == 1, res.output
    assert expect in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    if case not in ("locked", "not_index"):
        assert not idx.exists(), "a failed index run must not leave a half-made index"


def test_every_demo_sense_has_a_precise_query(demo_index, capsys):
    """For each word-sense there is a query whose top 5 contextual hits hold >= 4 of that sense;
    the report gives each sense's best and worst query, for the contextual and the static index."""
    si = SenseIndex.open(demo_index)
    queries = defaultdict(list)
    with open(DEMO_QUERIES, encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            queries[(row["word"], row["sense"])].append(row["query"])
    failures, lines = [], []
    totals = {(m, w): 0 for m in ("contextual", "static") for w in ("best", "worst")}
    for (word, sense), qs in sorted(queries.items()):
        good = {"contextual": [], "static": []}
        for q in qs:
            for method in good:
                _, hits = si.search(q, k=5, static=method == "static")
                good[method].append(sum(h.label == sense for h in hits))
        for method, counts in good.items():
            totals[(method, "best")] += max(counts)
            totals[(method, "worst")] += min(counts)
        lines.append(f"{word:>8}/{sense:<10} contextual best {max(good['contextual'])}/5 worst "
                     f"{min(good['contextual'])}/5   static best {max(good['static'])}/5 worst {min(good['static'])}/5")
        if max(good["contextual"]) < 4:
            failures.append(f"{word}/{sense}")
    n = len(queries) * 5
    with capsys.disabled():
        print("\n" + "\n".join(lines))
        for which in ("best", "worst"):
            print(f"precision@5 over {len(queries)} senses ({which} query each): contextual "
                  f"{totals[('contextual', which)] / n:.1%}, static {totals[('static', which)] / n:.1%}")
    assert len(queries) >= 27
    assert not failures, failures
