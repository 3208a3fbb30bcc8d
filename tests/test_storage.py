"""Storage format 2 end to end, fast tier (hash encoder, no real model): removing and replacing
documents, compaction (manual, automatic, and killed by SIGKILL at random points), a reader
beside a writer, a read-only copy searched by a process that cannot write, and the upgrade of a
format-1 index (tests/data/index-v1, made by tests/data/make_index_v1.py).

Most tests start from one small index built once per module with a trained PQ8 codec, a small
tail and several segments, so training, flushes and merges are all exercised with 1,800
occurrences; each test works on its own copy.
"""

from __future__ import annotations

import csv
import ctypes
import io
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from senseindex import SenseIndex
from senseindex.cli import cli
from senseindex.errors import SenseIndexError
from senseindex.storage.labels import set_labels
from senseindex.storage.store import Store
from senseindex.testing import HashEncoder, copy_index
from senseindex.text.words import find_words

TESTS = Path(__file__).resolve().parent
FIXTURE_V1 = TESTS / "data" / "index-v1"
NOUNS = ("mole bank river garden tunnel doctor money stream farmer soil carbon cheek loan flood forest castle "
         "engine window letter market harbor pencil violin candle meadow rocket basket ladder mirror pepper "
         "saddle tomato wallet bridge cotton dragon falcon ginger helmet island").split()
# file (relative to the corpus folder) -> sentences; two files share a name to test ambiguity
BASE_FILES = {"f0.txt": 90, "f1.txt": 80, "f2.txt": 70, "x/same.txt": 30, "y/same.txt": 30}
OPTIONS = {"codec": "PQ8", "train_rows": 500, "tail_max": 300}
COUNTS = ("documents", "sentences", "occurrences", "vocabulary_words", "labels", "labels_orphaned")


# --- helpers ------------------------------------------------------------------------------------
def sentences(n: int, seed: int, seen: set) -> list[str]:
    """n sentences of five distinct nouns (six occurrences with "near"); no two share the same
    set of nouns (the hash encoder's context is order-free, so that keeps every occurrence vector
    distinct: no score ties)."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        words = [NOUNS[i] for i in rng.choice(len(NOUNS), 5, replace=False)]
        if frozenset(words) in seen:
            continue
        seen.add(frozenset(words))
        out.append(f"The {words[0]} and the {words[1]} near the {words[2]} with a {words[3]} or {words[4]}.")
    return out


def write_corpus(folder: Path, files: dict[str, int], seed: int = 0, seen: set | None = None) -> Path:
    seen = set() if seen is None else seen
    for i, (name, n) in enumerate(files.items()):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("\n".join(sentences(n, seed * 1000 + i, seen)) + "\n", encoding="utf-8")
    return folder


def counts(si: SenseIndex) -> dict:
    info = si.info()
    return {k: info[k] for k in COUNTS}


def live_ids(store: Store) -> np.ndarray:
    return np.array([r[0] for r in store.db.execute("select id from occ order by id")], np.int64)


def stored_ids(store: Store) -> np.ndarray:
    """Ids of every stored vector row: segments (lemma-sorted runs) and the tail. The list-sorted
    run of each segment holds the same ids (or none, without coarse lists: codes not trained)."""
    vs = store.vectors
    parts = []
    for g in vs.state.segments:
        by_lemma, by_list = vs.segment(g)
        a = np.concatenate([np.asarray(b.ids) for b in by_lemma.blocks()] or [np.zeros(0)])
        b = np.concatenate([np.asarray(b.ids) for b in by_list.blocks()] or [np.zeros(0)])
        assert np.array_equal(np.sort(a), np.sort(b)) or (vs.codec.nlist == 1 and len(b) == 0), \
            f"segment {g}: lemma and list runs differ"
        parts.append(a)
    parts.append(np.arange(vs.state.tail_first_id, vs.state.next_id))
    return np.concatenate(parts).astype(np.int64)


def vector_files(path: Path, kinds: tuple[str, ...] = ("seg-", "tail-", "codec-")) -> dict[str, int]:
    return {f.name: f.stat().st_size for f in path.iterdir() if f.name.startswith(kinds)}


def check_vectors(store: Store, expected_live: np.ndarray | None = None) -> np.ndarray:
    """Every live occurrence has exactly one stored vector; removed ones at most one."""
    live = live_ids(store)
    if expected_live is not None:
        assert np.array_equal(live, expected_live)
    have = stored_ids(store)
    assert len(np.unique(have)) == len(have), "a vector row is stored twice"
    extra = np.setdiff1d(have, live)
    assert set(extra.tolist()) <= store.removed(), "a stored row belongs to no live or removed occurrence"
    assert np.isin(live, have).all()
    return store.take(live)


def query(word: str) -> str:
    return f"a [{word}] beside the river garden"


def raw_search(store: Store, encoder, word: str, k: int = 10_000) -> list[tuple[int, float]]:
    """(id, score) straight from the vector store, removed occurrences excluded (as search does)."""
    target = SenseIndex(store, encoder).target(query(word))
    vec = encoder.word_vectors([target.text], [[(target.start, target.end)]])[0][0]
    lid = store.lemma_id(target.lemma)
    return store.vectors.search(vec, k, lid, exclude=store.removed(lid))


def same_results(a: list[tuple[int, float]], b: list[tuple[int, float]], tol: float = 1e-6) -> None:
    assert [i for i, _ in a] == [i for i, _ in b]
    assert np.allclose([s for _, s in a], [s for _, s in b], atol=tol, rtol=0)


@pytest.fixture(scope="module")
def encoder():
    return HashEncoder()


@pytest.fixture(scope="module")
def base_index(tmp_path_factory, encoder) -> Path:
    """1,800 occurrences in 5 files, PQ8 trained at 500 rows, tail of 300: several segments.
    Read-only for the tests (copy it to write)."""
    root = tmp_path_factory.mktemp("base")
    corpus = write_corpus(root / "corpus", BASE_FILES)
    si = SenseIndex.open_or_create(root / "idx", encoder=encoder, **OPTIONS)
    si.add([corpus], chunk_sentences=17)
    vs = si.store.vectors
    assert vs.codec.trained and vs.codec.code_size == 8
    assert len(vs.state.segments) >= 2 and vs.state.tail_rows > 0, vs.state
    assert si.store.removed() == set()
    si.store.db.close()  # checkpointed: a copy is one self-contained database file
    return root / "idx"


@pytest.fixture
def index_copy(base_index, tmp_path) -> Path:
    return copy_index(base_index, tmp_path / "idx")


def doc_occurrences(store: Store, name: str) -> list[int]:
    return [r[0] for r in store.db.execute(
        "select o.id from occ o join sentences s on s.id = o.sentence_id join documents d on d.id = s.document_id "
        "where d.path like ? order by o.id", ["%" + name])]


# --- 1. remove ----------------------------------------------------------------------------------
def test_remove_documents_and_refuse_bad_names(index_copy, encoder):
    si = SenseIndex.open(index_copy, encoder=encoder)
    before = counts(si)
    gone = doc_occurrences(si.store, "x/same.txt")
    gone_sentences = si.store.db.execute(
        "select count(*) from sentences s join documents d on d.id = s.document_id where d.path like '%x/same.txt'"
    ).fetchone()[0]
    assert gone and gone_sentences == 30
    labelled = {gone[0]: "lab-a", gone[7]: "lab-b"}
    kept = doc_occurrences(si.store, "f0.txt")[0]
    with si.store.lock(), si.store.db.conn:
        set_labels(si.store.db, list(labelled.items()), "review")
        set_labels(si.store.db, [(gone[0], "gold-a"), (kept, "gold-k")], "gold")
    before = counts(si)
    assert before["labels"] == {"review": 2, "gold": 2}

    # unknown or ambiguous names: an error naming them, and nothing removed
    for names, message in ((["nope.txt"], "'nope.txt'"), (["same.txt"], "'same.txt' names 2 documents"),
                           (["f2.txt", "nope.txt"], "'nope.txt'")):
        with pytest.raises(SenseIndexError, match=message):
            si.remove(names)
        assert counts(si) == before and si.store.removed() == set()

    words = {w for (w,) in si.store.db.execute(
        f"select distinct lemma from occurrences where id in ({','.join(map(str, gone))})")}
    result = si.remove(["x/same.txt"])
    assert result["documents"] == 1 and result["occurrences"] == len(gone)
    assert result["labels_orphaned"] == 3
    after = counts(si)
    assert after["documents"] == before["documents"] - 1
    assert after["sentences"] == before["sentences"] - gone_sentences
    assert after["occurrences"] == before["occurrences"] - len(gone)
    assert after["labels"] == {"gold": 1} and after["labels_orphaned"] == 3
    assert si.info()["removed_awaiting_compaction"] == len(gone)  # 10%: no automatic compaction
    assert si.store.removed() == set(gone)

    orphaned = si.labels_orphaned()
    assert sorted((o["occurrence_id"], o["source"], o["label"]) for o in orphaned) == sorted(
        [(gone[0], "review", "lab-a"), (gone[7], "review", "lab-b"), (gone[0], "gold", "gold-a")])
    for o in orphaned:
        assert o["reason"] == "document removed" and o["document"].endswith("x/same.txt")
        assert o["sentence"] and o["sentence"][o["start"]:o["end"]] == o["word"]
        assert o["word"].lower() in o["sentence"].lower()

    # search no longer finds them (per lemma, any word, static), and finds every live one
    for word in sorted(words)[:6]:
        _, hits = si.search(query(word), k=10_000)
        assert hits and not {h.occurrence_id for h in hits} & set(gone)
        assert len(hits) == si.store.lemma_count(word)
        assert not any(h.doc.endswith("x/same.txt") for h in hits)
        _, static_hits = si.search(query(word), k=10_000, static=True)
        assert static_hits and not any(h.doc.endswith("x/same.txt") for h in static_hits)
    _, anyword = si.search(query("mole"), k=500, any_word=True)
    assert len(anyword) == 500 and not {h.occurrence_id for h in anyword} & set(gone)
    with pytest.raises(SenseIndexError):
        si.store.take(gone[:1])
    check_vectors(si.store)
    # the same name now picks the one document left
    assert si.remove(["same.txt"])["documents"] == 1


# --- 2. replace ---------------------------------------------------------------------------------
def label_map(db) -> dict[tuple, tuple]:
    """(document, sentence, start, end, source) -> (label, confidence, updated) for every label."""
    rows = db.execute(
        "select d.path, s.text, o.start, o.end, l.source, l.label, l.confidence, l.updated, o.id from labels l "
        "join occ o on o.id = l.occurrence_id join sentences s on s.id = o.sentence_id "
        "join documents d on d.id = s.document_id").fetchall()
    return {r[:5]: (r[5], r[6], r[7], r[8]) for r in rows}


def test_replace_carries_labels_and_orphans_changed_sentence(tmp_path, encoder):
    folder = tmp_path / "corpus"
    folder.mkdir()
    tokens = [["The", "bank", "lent", "money", "to", "the", "farmer"],
              ["We", "sat", "on", "the", "grassy", "bank", "of", "the", "river"],
              ["The", "mole", "dug", "a", "tunnel", "under", "the", "bank"],
              ["A", "bank", "clerk", "counted", "the", "money"]]
    senses = [[None, "finance", None, None, None, None, None],
              [None, None, None, None, None, "river", None, None, None],
              [None, "animal", None, None, None, None, None, "river"],
              [None, "finance", None, None, None, None]]

    def write_jsonl(rows):
        (folder / "g.jsonl").write_text("".join(json.dumps({"tokens": t, "sense": s}) + "\n" for t, s in rows),
                                        encoding="utf-8")

    write_jsonl(zip(tokens, senses, strict=True))
    write_corpus(folder, {"t.txt": 12})
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=encoder)
    assert si.add([folder]).labels == 5

    # review labels through a review file: on the sentence that will change and on one that won't
    si.senses("bank", k=2, export=tmp_path / "review.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "review.csv").read_text(encoding="utf-8-sig"))))
    for r in rows:
        r["label"] = {"grassy": "riverside", "clerk": "teller"}.get(
            next((w for w in ("grassy", "clerk") if w in r["sentence"]), ""), "")
    with open(tmp_path / "review.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    si.import_review(tmp_path / "review.csv")
    t_occ = doc_occurrences(si.store, "t.txt")
    with si.store.lock(), si.store.db.conn:  # and a review label on the unchanged text file
        set_labels(si.store.db, [(t_occ[3], "t-label")], "review", confidence=0.5)
    old_labels = label_map(si.store.db)
    assert len(old_labels) == 8
    old_info = counts(si)
    old_g = doc_occurrences(si.store, "g.jsonl")

    # change the second sentence only ("grassy" -> "steep"; same offsets for "bank" would carry,
    # so the word before it changes length)
    tokens[1][4] = "steepest"
    write_jsonl(zip(tokens, senses, strict=True))
    report = si.add([folder])
    assert sorted(report.skipped) == [str(folder / "t.txt")]
    assert report.documents == 1 and report.sentences == 4
    changed_old = tuple(k for k in old_labels if "grassy" in k[1])
    assert len(changed_old) == 2  # gold and review on the same occurrence
    [rep] = report.replaced
    assert rep["document"] == str(folder / "g.jsonl")
    assert rep["occurrences_removed"] == len(old_g)
    assert rep["labels_orphaned"] == 2 and rep["labels_carried"] == 5  # 4 gold + "teller" on unchanged sentences

    new_labels = label_map(si.store.db)
    new_g = set(doc_occurrences(si.store, "g.jsonl"))
    assert not new_g & set(old_g)
    for key, (label, conf, updated, oid) in old_labels.items():
        if key in changed_old:
            assert key not in new_labels
            continue
        assert new_labels[key][:2] == (label, conf), key  # same label, same source (in the key)
        if key[0].endswith("g.jsonl"):
            assert new_labels[key][3] in new_g and new_labels[key][3] != oid
            if key[4] == "review":
                assert new_labels[key][2] == updated  # carried as it was
        else:
            assert new_labels[key] == (label, conf, updated, oid)  # untouched document
    # the changed sentence has its new gold label from the file itself, nothing more
    changed_new = {k: v for k, v in new_labels.items() if "steepest" in k[1]}
    assert [(k[4], v[0]) for k, v in changed_new.items()] == [("gold", "river")]
    assert len(new_labels) == len(old_labels) - 2 + 1

    orphaned = si.labels_orphaned()
    assert sorted((o["source"], o["label"]) for o in orphaned) == [("gold", "river"), ("review", "riverside")]
    for o in orphaned:
        assert o["reason"] == "sentence changed in a new version of the document"
        assert "grassy" in o["sentence"] and o["word"] == "bank" and o["occurrence_id"] in old_g
        assert o["document"] == str(folder / "g.jsonl")

    # nothing duplicated: the same counts as a fresh index of the new folder
    fresh = SenseIndex.open_or_create(tmp_path / "fresh", encoder=encoder)
    fresh.add([folder])
    now, clean = counts(si), counts(fresh)
    for k in ("documents", "sentences", "occurrences", "vocabulary_words"):
        assert now[k] == clean[k], k
    assert now["documents"] == old_info["documents"]
    assert now["labels"] == {"gold": 5, "review": 2}
    paths = [p for (p,) in si.store.db.execute("select path from documents")]
    assert len(paths) == len(set(paths)) == 2
    assert si.store.removed() == set(old_g) or si.info()["removed_awaiting_compaction"] == 0
    _, hits = si.search("the [bank] of the river", k=100)
    assert len(hits) == si.store.lemma_count("bank") == fresh.store.lemma_count("bank")
    assert not {h.occurrence_id for h in hits} & set(old_g)
    check_vectors(si.store)
    # indexing the same folder again changes nothing
    again = si.add([folder])
    assert again.sentences == 0 and not again.replaced and counts(si) == now


# --- 3. compaction ------------------------------------------------------------------------------
def test_compaction_manual_and_automatic(index_copy, encoder):
    si = SenseIndex.open(index_copy, encoder=encoder)
    words = NOUNS[:8]
    gone = doc_occurrences(si.store, "x/same.txt")
    si.remove(["x/same.txt"])
    info = si.info()
    assert info["removed_awaiting_compaction"] == len(gone) and info["segments"] >= 2  # below 20%: kept
    before_counts = counts(si)
    before_results = {w: raw_search(si.store, encoder, w) for w in words}
    before_hits = {w: [(h.occurrence_id, h.score) for h in si.search(query(w), k=15)[1]] for w in words}
    before_any = [(h.occurrence_id, h.score) for h in si.search(query("mole"), k=40, any_word=True)[1]]
    before_vectors = check_vectors(si.store)
    before_files = vector_files(index_copy, ("seg-", "tail-"))
    live = live_ids(si.store)

    r = si.compact()
    assert r["removed_dropped"] == len(gone) and r["rows_after"] == len(live)
    after_files = vector_files(index_copy, ("seg-", "tail-"))
    assert sum(after_files.values()) < sum(before_files.values())
    assert not set(after_files) & set(before_files)  # every row rewritten, the old files deleted
    si = SenseIndex.open(index_copy, encoder=encoder)
    vs = si.store.vectors
    assert len(vs.state.segments) == 1 and vs.state.tail_rows == 0
    assert set(vector_files(index_copy)) == {f.name for f in vs.live_files()}
    assert np.array_equal(np.sort(stored_ids(si.store)), live)  # removed rows are gone
    assert si.info()["removed_awaiting_compaction"] == 0 and si.store.removed() == set()
    assert counts(si) == before_counts
    assert np.array_equal(check_vectors(si.store, live), before_vectors)
    for w in words:
        same_results(raw_search(si.store, encoder, w), before_results[w])
        same_results([(h.occurrence_id, h.score) for h in si.search(query(w), k=15)[1]], before_hits[w])
    same_results([(h.occurrence_id, h.score) for h in si.search(query("mole"), k=40, any_word=True)[1]],
                 before_any)

    # automatic: not at 10% removed, yes past 20%
    si.remove(["y/same.txt"])
    assert si.info()["removed_awaiting_compaction"] > 0 and len(si.store.vectors.state.segments) == 1
    live = live_ids(si.store)
    f1 = doc_occurrences(si.store, "f1.txt")
    total = si.store.vectors.state.next_id - 1
    assert (len(f1) + si.info()["removed_awaiting_compaction"]) > 0.2 * total
    si.remove(["f1.txt"])
    si = SenseIndex.open(index_copy, encoder=encoder)
    info = si.info()
    assert info["removed_awaiting_compaction"] == 0 and info["segments"] == 1 and info["unsorted_rows"] == 0
    assert np.array_equal(np.sort(stored_ids(si.store)), np.setdiff1d(live, f1))
    check_vectors(si.store)
    assert si.search(query("bank"), k=5)[1]


# --- 4. SIGKILL during compaction (and during an add's flushes and merges) -------------------------
KILL_CHILD = r'''
import os, pathlib, signal, sys
path, mode, n, tests = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
from senseindex.testing import HashEncoder
from senseindex import SenseIndex
from senseindex.storage.store import Store
from senseindex.storage.vectors import SortedRun

calls = {"n": 0}

def tick():
    calls["n"] += 1
    if calls["n"] == n:
        os.kill(os.getpid(), signal.SIGKILL)

def after(owner, name, static=False):
    orig = getattr(owner, name)
    def wrapper(*a, **k):
        out = orig(*a, **k)
        tick()
        return out
    setattr(owner, name, staticmethod(wrapper) if static else wrapper)

si = SenseIndex.open(path, encoder=HashEncoder())
if mode in ("write", "add"):
    after(SortedRun, "write", static=True)
elif mode == "midwrite":  # inside a run's file writing: after n blocks of the first run
    orig = SortedRun.write
    def write(base, blocks, *a, **k):
        def cut():
            for i, b in enumerate(blocks):
                if i == n:
                    os.kill(os.getpid(), signal.SIGKILL)
                yield b
        return orig(base, cut(), *a, **k)
    SortedRun.write = staticmethod(write)
elif mode == "commit":
    after(Store, "commit_state")
elif mode == "unlink":
    after(pathlib.Path, "unlink")
if mode == "timer":
    print("READY", flush=True)
    while True:
        si.compact()
elif mode == "add":
    si.add([sys.argv[5]], chunk_sentences=10)
else:
    si.compact()
print("FINISHED", flush=True)
'''


def check_after_kill(path: Path, encoder, expected: dict, live: np.ndarray, vectors: np.ndarray, what: str,
                     left_files: bool):
    si = SenseIndex.open(path, encoder=encoder)  # a reader: opens, sees the committed state
    assert counts(si) == expected, what
    assert np.array_equal(check_vectors(si.store, live), vectors), what
    assert len(si.search(query("mole"), k=5)[1]) == 5, what
    before = set(vector_files(path))
    with si.store.lock():  # the next writer deletes what the killed one left half-done
        live_files = {f.name for f in si.store.vectors.live_files()}
    assert set(vector_files(path)) == live_files, what
    assert before >= live_files, what
    if left_files:  # the kill did leave new or old files behind, and they are gone now
        assert before > live_files, what
    r = si.compact()
    assert r["rows_after"] == len(live), what
    si = SenseIndex.open(path, encoder=encoder)
    assert len(si.store.vectors.state.segments) == 1 and si.store.removed() == set(), what
    assert np.array_equal(check_vectors(si.store, live), vectors), what
    assert counts(si) == expected, what


@pytest.mark.slow
def test_sigkill_during_compaction_at_random_points(base_index, tmp_path, encoder):
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    orig = copy_index(base_index, tmp_path / "orig")
    si = SenseIndex.open(orig, encoder=encoder)
    si.remove(["x/same.txt"])  # something for compaction to drop
    f0 = doc_occurrences(si.store, "f0.txt")
    with si.store.lock(), si.store.db.conn:
        set_labels(si.store.db, [(f0[1], "kept")], "review")
    expected, live = counts(si), live_ids(si.store)
    vectors = check_vectors(si.store, live)
    old_files = len(vector_files(orig, ("seg-", "tail-")))  # what a compaction deletes
    extra = write_corpus(tmp_path / "extra", {"new.txt": 60}, seed=7)
    new_occurrences = sum(len(find_words(line)) for line in (extra / "new.txt").read_text().splitlines())

    def start(i: int, mode: str, n: int) -> tuple:
        path = copy_index(orig, tmp_path / f"k{i}")
        args = [sys.executable, "-c", KILL_CHILD, str(path), mode, str(n), str(TESTS), str(extra / "new.txt")]
        return mode, n, path, subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    # hooks: kill after the n-th call; an add flushes its tail at least once (two runs written)
    scenarios = [("write", 1), ("write", 2), ("midwrite", rng.randrange(1, 30)), ("commit", 1),
                 ("unlink", 1), ("unlink", rng.randrange(2, old_files + 1)), ("add", rng.choice([1, 2])),
                 ("timer", 0), ("timer", 0)]
    procs = [start(i, mode, n) for i, (mode, n) in enumerate(scenarios) if mode != "timer"]
    procs += [(mode, n, i) for i, (mode, n) in enumerate(scenarios) if mode == "timer"]
    for mode, n, path, *proc in procs:
        what = f"{mode} {n} (seed {seed})"
        if mode == "timer":  # started one at a time, killed at a random moment of a compaction loop
            mode, n, path, proc = start(path, mode, n)
            assert proc.stdout.readline().strip() == "READY", proc.stderr.read()
            time.sleep(rng.uniform(0.02, 0.5))
            proc.send_signal(signal.SIGKILL)
        else:
            [proc] = proc
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL, f"{what}: not killed ({proc.returncode}): {out} {err[-2000:]}"
        if mode == "add":
            si = SenseIndex.open(path, encoder=encoder)
            check_vectors(si.store)
            got = counts(si)
            assert expected["sentences"] <= got["sentences"] < expected["sentences"] + 60, what
            si = SenseIndex.open_or_create(path, encoder=encoder)
            assert si.add([extra], chunk_sentences=10).sentences == expected["sentences"] + 60 - got["sentences"]
            got = counts(si)
            assert got["sentences"] == expected["sentences"] + 60, what
            assert got["occurrences"] == expected["occurrences"] + new_occurrences, what
            new_live = live_ids(si.store)
            assert np.array_equal(new_live[: len(live)], live), what
            take = check_vectors(si.store, new_live)
            assert np.array_equal(take[: len(live)], vectors), what
            with si.store.lock():
                assert set(vector_files(path)) == {f.name for f in si.store.vectors.live_files()}, what
        else:
            check_after_kill(path, encoder, expected, live, vectors, what,
                             left_files=mode in ("write", "midwrite", "commit") or (mode, n) == ("unlink", 1))


# --- 5. a reader beside a writer ------------------------------------------------------------------
WRITER_CHILD = r'''
import sys
path, tests, *files = sys.argv[1:]
from senseindex.testing import HashEncoder
from senseindex import SenseIndex
si = SenseIndex.open(path, encoder=HashEncoder())
for f in files:
    si.add([f], chunk_sentences=10)
    print("added", f, flush=True)
'''


@pytest.mark.slow
def test_reader_beside_a_writer(tmp_path, encoder):
    seen: set = set()
    first = write_corpus(tmp_path / "c0", {"start.txt": 30}, seed=11, seen=seen)
    more = write_corpus(tmp_path / "c1", {f"m{i}.txt": 25 for i in range(8)}, seed=12, seen=seen)
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=encoder, **OPTIONS)
    si.add([first])
    words = [w for w in NOUNS if si.store.lemma_count(w) >= 2][:6]
    assert len(words) == 6
    assert not si.store.vectors.codec.trained  # 150 rows: the writer will train the codec meanwhile
    files = sorted(str(p) for p in more.iterdir())
    writer = subprocess.Popen([sys.executable, "-c", WRITER_CHILD, str(tmp_path / "idx"), str(TESTS), *files],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reader = SenseIndex.open(tmp_path / "idx", encoder=encoder)  # long-lived: re-reads the state
    last = {w: 0 for w in words}
    seen_states, rounds = set(), 0
    try:
        while writer.poll() is None or rounds < 2:
            fresh = SenseIndex.open(tmp_path / "idx", encoder=encoder)
            for i, word in enumerate(words):
                # a long-lived reader, a fresh one, and the process that wrote the index first
                si_ = (reader, fresh, si)[i % 3]
                _, hits = si_.search(query(word), k=10_000)
                assert len(hits) >= last[word], (word, len(hits), last[word])
                last[word] = len(hits)
                found = raw_search(si_.store, encoder, word)
                ids = [i for i, _ in found]
                exist = {r[0] for r in si_.store.db.execute(
                    f"select id from occ where id in ({','.join(map(str, ids or [0]))})")}
                assert exist == set(ids), f"vector hits without an occurrence: {set(ids) - exist}"
            _, anyword = reader.search(query("mole"), k=20, any_word=True)
            assert len(anyword) == 20
            vs = reader.store.vectors
            seen_states.add((vs.state.codec_gen, vs.state.segments, vs.state.tail_gen))
            rounds += 1
    finally:
        if writer.poll() is None:
            writer.kill()
        out, err = writer.communicate()
    assert writer.returncode == 0, err[-3000:]
    assert out.count("added") == len(files)
    assert len(seen_states) >= 3, seen_states  # the reader really saw the files change under it
    final = SenseIndex.open(tmp_path / "idx", encoder=encoder)
    assert final.store.vectors.codec.trained and final.info()["sentences"] == 30 + 8 * 25
    for word in words:
        n = final.store.lemma_count(word)
        assert last[word] <= len(final.search(query(word), k=10_000)[1]) == n
        # the long-lived ones see everything too, the one that wrote before included
        assert len(reader.search(query(word), k=10_000)[1]) == len(si.search(query(word), k=10_000)[1]) == n
    check_vectors(final.store)
    check_vectors(si.store)


# --- 6. read-only ---------------------------------------------------------------------------------
READER_CHILD = r'''
import json, os, sys
path, tests = sys.argv[1:]
from senseindex.testing import HashEncoder
from senseindex import SenseIndex
from senseindex.errors import SenseIndexError

for attempt in (lambda: open(os.path.join(path, "new-file"), "w"), lambda: open(os.path.join(path, "index.db"), "r+b")):
    try:
        attempt()
    except PermissionError:
        continue
    sys.exit("this process can write to the index: the test does not test anything")
si = SenseIndex.open(path, encoder=HashEncoder())
out = {"info": si.info(), "hits": {}, "labels": len(si.labels()), "senses": si.senses("bank", k=2).occurrences}
for w in ("mole", "bank", "river"):
    out["hits"][w] = [[h.occurrence_id, h.score] for h in si.search(f"a [{w}] beside the river garden", k=10)[1]]
out["any"] = [[h.occurrence_id, h.score] for h in si.search("a [mole] beside the river garden", k=10, any_word=True)[1]]
out["static"] = [h.sentence_id for h in si.search("a [mole] beside the river garden", k=10, static=True)[1]]
try:
    si.compact()
    out["compact"] = "wrote"
except SenseIndexError as exc:
    out["compact"] = str(exc)
print(json.dumps(out))
'''


def _reachable_by_others(path: Path) -> bool:
    path = path.resolve()
    return all(p.stat().st_mode & stat.S_IXOTH for p in path.parents) and path.stat().st_mode & stat.S_IROTH


def _cannot_write():
    """In the child: give up the power to write what its owner may not (as root: become nobody
    when the interpreter is reachable by others, else drop every capability, so only the mode
    bits of the files count)."""
    if os.getuid() != 0:
        return
    if _reachable_by_others(Path(sys.executable)) and _reachable_by_others(Path(sys.base_prefix) / "lib"):
        os.setgid(65534)
        os.setuid(65534)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in range(64):
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP: root keeps no capability after exec


def readable_only_copy(src: Path) -> tuple[Path, Path]:
    top = Path(tempfile.mkdtemp(prefix="senseindex-ro-"))
    top.chmod(0o755)
    dest = copy_index(src, top / "idx")
    for f in dest.iterdir():
        f.chmod(0o444)
    dest.chmod(0o555)
    return top, dest


@pytest.mark.slow
def test_read_only_copy_is_searchable_by_a_process_that_cannot_write(base_index, encoder):
    top, dest = readable_only_copy(base_index)
    try:
        before = {f.name: (f.stat().st_mtime_ns, f.stat().st_size) for f in dest.iterdir()}
        proc = subprocess.run([sys.executable, "-c", READER_CHILD, str(dest), str(TESTS)], capture_output=True,
                              text=True, preexec_fn=_cannot_write, cwd=top, timeout=120)
        assert proc.returncode == 0, proc.stderr[-3000:]
        got = json.loads(proc.stdout)
        assert {f.name: (f.stat().st_mtime_ns, f.stat().st_size) for f in dest.iterdir()} == before
    finally:
        dest.chmod(0o755)
        shutil.rmtree(top)
    assert "cannot write" in got["compact"]
    si = SenseIndex.open(base_index, encoder=encoder)
    assert {k: got["info"][k] for k in COUNTS if k != "labels"} == {k: v for k, v in counts(si).items() if k != "labels"}
    assert got["info"]["codec_trained"] and got["info"]["segments"] >= 2
    for w, hits in got["hits"].items():
        assert len(hits) == 10
        same_results([tuple(h) for h in hits], [(h.occurrence_id, h.score) for h in si.search(query(w), k=10)[1]])
    same_results([tuple(h) for h in got["any"]],
                 [(h.occurrence_id, h.score) for h in si.search(query("mole"), k=10, any_word=True)[1]])
    assert got["static"] == [h.sentence_id for h in si.search(query("mole"), k=10, static=True)[1]]
    assert got["senses"] == si.store.lemma_count("bank")


def test_reading_writes_nothing(index_copy, encoder):
    si = SenseIndex.open(index_copy, encoder=encoder)
    gone = doc_occurrences(si.store, "y/same.txt")
    with si.store.lock(), si.store.db.conn:
        set_labels(si.store.db, [(gone[0], "x")], "review")
    si.remove(["y/same.txt"])  # tombstones and an orphaned label to read too
    si.store.db.close()

    def snapshot():  # -shm is SQLite's shared-memory index, which every reader of a WAL database maps
        return {f.name: (f.stat().st_mtime_ns, f.stat().st_size) for f in index_copy.iterdir()
                if not f.name.endswith("-shm")}

    def unchanged(before, after):
        new = set(after) - set(before)  # a reader may create an empty -wal, nothing else
        assert new <= {"index.db-wal"} and all(after[n][1] == 0 for n in new), (new, after)
        assert {k: after.get(k) for k in before} == before

    before = snapshot()
    time.sleep(0.01)
    si = SenseIndex.open(index_copy, encoder=encoder)
    si.info()
    for w in ("mole", "bank"):
        assert si.search(query(w), k=5)[1]
        si.search(query(w), k=5, static=True)
        si.label_summary(w)
    si.search(query("mole"), k=5, any_word=True)
    assert si.senses("bank", k=2).occurrences == si.store.lemma_count("bank")
    si.labels()
    si.labels_orphaned()
    si.store.take(live_ids(si.store)[:50])
    unchanged(before, snapshot())
    si.store.db.close()
    unchanged(before, snapshot())


# --- 7. upgrade from format 1 ---------------------------------------------------------------------
def encoder16() -> HashEncoder:
    enc = HashEncoder()
    enc.dim = 16  # the format-1 fixture was built with the 16-dimension hash encoder
    return enc


def read_v1(path: Path) -> dict:
    db = sqlite3.connect(path / "index.db")
    q = lambda sql: db.execute(sql).fetchall()  # noqa: E731
    manifest = dict(q("select key, value from manifest"))
    dim, sdim = int(manifest["dimensions"]), int(manifest["static_dimensions"])
    data = {
        "manifest": manifest,
        "documents": q("select id, path, sha256, status, sentences from documents order by id"),
        "sentences": q("select id, document_id, ordinal, line, text from sentences order by id"),
        "occurrences": q("select id, sentence_id, start, end, word, lemma from occurrences order by id"),
        "labels": q("select occurrence_id, source, label, confidence, updated from labels order by 1, 2"),
        "vectors": np.fromfile(path / "occurrences.f32", np.float32).reshape(-1, dim),
        "static": np.fromfile(path / "sentences_static.f32", np.float32).reshape(-1, sdim),
    }
    db.close()
    return data


def check_upgraded(path: Path, old: dict) -> SenseIndex:
    si = SenseIndex.open(path, encoder=encoder16())
    db = si.store.db
    q = lambda sql: db.execute(sql).fetchall()  # noqa: E731
    info = si.info()
    assert info["format_version"] == "2" and info["index_id"] == old["manifest"]["index_id"]
    assert q("select id, path, sha256, status, sentences from documents order by id") == old["documents"]
    assert q("select id, document_id, ordinal, line, text from sentences order by id") == old["sentences"]
    assert q("select id, sentence_id, start, end, word, lemma from occurrences order by id") == old["occurrences"]
    assert q("select occurrence_id, source, label, confidence, updated from labels order by 1, 2") == old["labels"]
    assert {s for _, s, *_ in old["labels"]} == {"gold", "review"}
    n = len(old["occurrences"])
    ids = np.arange(1, n + 1)
    assert len(old["vectors"]) == n
    # exact float16 codes below train_rows: the old float32 vectors to fp16 precision
    assert not si.store.vectors.codec.trained
    assert np.array_equal(si.store.take(ids), old["vectors"].astype(np.float16).astype(np.float32))
    sids = [r[0] for r in old["sentences"]]
    static = si.store.static_vectors(sids)
    assert np.abs(static).sum(axis=1).min() > 0
    assert np.array_equal(static, old["static"][np.array(sids) - 1].astype(np.float16).astype(np.float32))
    assert (path / "vocab_static.faiss").is_file()
    for name in ("occurrences.f32", "occurrences.faiss", "sentences_static.f32", "sentences_static.faiss"):
        assert not (path / name).exists(), name
    # search: the top ids of a brute-force search over the old float32 log
    lemma_of = {r[0]: r[5] for r in old["occurrences"]}
    enc = si.encoder
    for text in ("the [bank] of a quiet river", "money in the [bank]", "a [mole] in the garden", "the [river] rose"):
        target, hits = si.search(text, k=3)
        q_vec = enc.word_vectors([target.text], [[(target.start, target.end)]])[0][0]
        cand = np.array([i for i in ids if lemma_of[int(i)] == target.lemma])
        scores = old["vectors"][cand - 1] @ q_vec
        order = np.argsort(-scores, kind="stable")[:3]
        assert [h.occurrence_id for h in hits] == cand[order].tolist(), text
        assert np.allclose([h.score for h in hits], scores[order], atol=2e-3)
    return si


def test_upgrade_from_format_1(tmp_path):
    assert sorted(p.name for p in FIXTURE_V1.iterdir()) == sorted(
        ["index.db", "occurrences.f32", "occurrences.faiss", "sentences_static.f32", "sentences_static.faiss",
         "vocab_static.faiss"])
    assert sum(p.stat().st_size for p in FIXTURE_V1.iterdir()) < 200_000
    a, b = copy_index(FIXTURE_V1, tmp_path / "a"), copy_index(FIXTURE_V1, tmp_path / "b")
    old = read_v1(a)
    assert old["manifest"]["format_version"] == "1" and len(old["documents"]) == 3
    with pytest.raises(SenseIndexError, match=re.escape(f"senseindex upgrade {a}")):
        SenseIndex.open(a)
    assert read_v1(a)["manifest"] == old["manifest"]  # refusing wrote nothing

    r = SenseIndex.upgrade(a)
    assert r["upgraded"] and r["format_version"] == "2" and r["occurrences"] == len(old["occurrences"])
    si = check_upgraded(a, old)
    assert si.label_summary("bank")["labelled"] == 4
    again = SenseIndex.upgrade(a)
    assert again == {"path": str(a), "upgraded": False, "format_version": "2", "migrations": []}
    check_upgraded(a, old)

    result = CliRunner().invoke(cli, ["upgrade", str(b), "--json", "-q"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    out = out[0] if isinstance(out, list) else out
    assert out["upgraded"] and out["format_version"] == "2" and out["occurrences"] == len(old["occurrences"])
    check_upgraded(b, old)
    result = CliRunner().invoke(cli, ["upgrade", str(b), "--json", "-q"])
    assert result.exit_code == 0 and json.loads(result.stdout)["upgraded"] is False
    # and the upgraded index takes new documents
    (tmp_path / "new.txt").write_text("The bank by the river flooded.\n", encoding="utf-8")
    SenseIndex.open_or_create(a, encoder=encoder16()).add([tmp_path / "new.txt"])
    si = SenseIndex.open(a, encoder=encoder16())
    assert si.info()["occurrences"] == len(old["occurrences"]) + 3
    check_vectors(si.store)


def test_upgrade_refuses_a_codec_it_cannot_build(tmp_path):
    a = copy_index(FIXTURE_V1, tmp_path / "a")
    with pytest.raises(SenseIndexError, match="codec"):
        SenseIndex.upgrade(a, codec="bogus")
    assert read_v1(a)["manifest"]["format_version"] == "1"
