"""Index storage: incremental adds, interruption and resume, locking, consistency of SQLite and vectors."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from senseindex import SenseIndex
from senseindex.errors import IndexLockedError, SenseIndexError
from senseindex.storage.store import Store
from senseindex.text.words import find_words


def write_corpus(folder, n_files=3, n_lines=40):
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(n_files):
        lines = [f"Sentence {i} of file {f} mentions a mole and the garden number {i * 7 % 13}." for i in range(n_lines)]
        (folder / f"f{f}.txt").write_text("\n".join(lines) + "\n")
    return folder


def stored_vectors(store) -> int:
    vs = store.vectors
    return vs.state.tail_rows + sum(vs.segment(g)[0].rows for g in vs.state.segments)


def consistent(path):
    """Every committed occurrence has exactly one stored vector and every sentence its static one."""
    store = Store.open(path)
    occ, sent = store.count("occurrences"), store.count("sentences")
    ids = [r[0] for r in store.db.execute("select id from occ order by id")]
    assert ids == list(range(1, occ + 1)), "occurrence ids must be dense"
    assert store.vectors.state.next_id == occ + 1
    assert stored_vectors(store) == occ
    assert store.db.execute("select count(*) from sentences where static is null").fetchone()[0] == 0
    return occ, sent


def test_add_formats_and_incremental(tmp_path, hash_encoder):
    corpus = write_corpus(tmp_path / "c", 2, 5)
    (corpus / "more.jsonl").write_text(json.dumps({"tokens": ["A", "mole", "dug"], "sense": [None, "animal", None]}) + "\n")
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder)
    report = si.add([corpus])
    assert report.documents == 3 and report.sentences == 11 and report.labels == 1
    occ, sent = consistent(tmp_path / "idx")
    again = si.add([corpus])
    assert again.skipped and again.sentences == 0
    assert consistent(tmp_path / "idx") == (occ, sent)
    (corpus / "new.txt").write_text("A brand new mole sentence.\n")
    assert si.add([corpus]).sentences == 1
    assert consistent(tmp_path / "idx")[1] == sent + 1
    row = si.store.db.execute("select word, lemma, start, end from occurrences o join labels l on l.occurrence_id = o.id").fetchone()
    assert row == ("mole", "mole", 2, 6)


def test_vectors_match_sqlite_ids(tmp_path, hash_encoder):
    corpus = write_corpus(tmp_path / "c", 1, 3)
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder)
    si.add([corpus])
    for oid, sent, start, end in si.store.db.execute(
            "select o.id, s.text, o.start, o.end from occurrences o join sentences s on s.id = o.sentence_id"):
        expected = hash_encoder.word_vectors([sent], [[(start, end)]])[0][0]
        assert np.allclose(si.store.take([oid])[0], expected, atol=2e-3)  # exact float16 below train_rows


def test_interrupt_and_resume_loses_and_duplicates_nothing(tmp_path, hash_encoder):
    corpus = write_corpus(tmp_path / "c", 3, 40)
    clean = SenseIndex.open_or_create(tmp_path / "clean", encoder=hash_encoder)
    clean.add([corpus], chunk_sentences=16)
    expected = consistent(tmp_path / "clean")

    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder)
    calls = {"n": 0}

    def boom(sentences, words):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        si.add([corpus], progress=boom, chunk_sentences=16)
    partial = consistent(tmp_path / "idx")
    assert 0 < partial[1] < expected[1]
    assert SenseIndex.open(tmp_path / "idx").info()["documents_incomplete"] == 1
    SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder).add([corpus], chunk_sentences=16)
    assert consistent(tmp_path / "idx") == expected
    texts = lambda p: [r[0] for r in Store.open(p).db.execute("select text from sentences order by id")]  # noqa: E731
    assert texts(tmp_path / "idx") == texts(tmp_path / "clean")


@pytest.mark.slow
def test_sigkill_mid_run_leaves_an_index_that_opens_and_resumes(tmp_path, hash_encoder):
    """A hard kill right after vectors were appended but before SQLite committed."""
    corpus = write_corpus(tmp_path / "c", 2, 30)
    script = textwrap.dedent(f"""
        import os, sys
        from senseindex.testing import HashEncoder
        from senseindex import SenseIndex
        from senseindex.storage.vectors import VectorStore
        si = SenseIndex.open_or_create({str(tmp_path / 'idx')!r}, encoder=HashEncoder())
        appends = {{"n": 0}}
        orig = VectorStore.append
        def append(self, v, lemmas):
            orig(self, v, lemmas)
            appends["n"] += 1
            if appends["n"] == 3:   # third chunk's vectors written, SQLite not yet
                os.kill(os.getpid(), 9)
        VectorStore.append = append
        si.add([{str(corpus)!r}], chunk_sentences=10)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    store = Store.open(tmp_path / "idx")
    vs = store.vectors
    assert vs._tail_file(".codes").stat().st_size > vs.state.tail_rows * vs.codec.code_size  # uncommitted rows
    assert store.max_id("sentences") == 20
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder)
    si.add([corpus], chunk_sentences=10)
    occ, sent = consistent(tmp_path / "idx")
    vs = si.store.vectors
    assert sent == 60 and vs._tail_file(".codes").stat().st_size == occ * vs.codec.code_size


def test_second_writer_is_refused(tmp_path, hash_encoder):
    corpus = write_corpus(tmp_path / "c", 1, 3)
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder)
    si.add([corpus])
    other = SenseIndex.open(tmp_path / "idx", encoder=hash_encoder)
    with si.store.lock(), pytest.raises(IndexLockedError, match="another senseindex process"):
        other.add([tmp_path / "c"])
    assert consistent(tmp_path / "idx")[1] == 3


def test_wrong_model_and_not_an_index(tmp_path, hash_encoder):
    corpus = write_corpus(tmp_path / "c", 1, 2)
    SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder).add([corpus])
    with pytest.raises(SenseIndexError, match="was built with test/hash-encoder"):
        SenseIndex.open(tmp_path / "idx", model="minilm")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "x").write_text("x")
    with pytest.raises(SenseIndexError, match="not a senseindex index"):
        SenseIndex.open(tmp_path / "junk")
    with pytest.raises(SenseIndexError, match="exists and is not a senseindex index"):
        SenseIndex.open_or_create(tmp_path / "junk", encoder=hash_encoder)


def test_long_sentences_are_windowed_not_truncated(tmp_path, minilm_encoder):
    body = " ".join(["The mole"] + ["dug another long tunnel under the green lawn"] * 60 + ["and the mole rested."])
    (tmp_path / "long.txt").write_text(body + "\n")
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=minilm_encoder)
    si.add([tmp_path / "long.txt"])
    n_words = len(find_words(body))
    assert si.store.max_id("occurrences") == n_words > 300
    ids = [r[0] for r in si.store.db.execute("select id from occurrences where lemma = 'mole' order by id")]
    v = si.store.take(ids)
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-3)


def test_codec_starts_exact_then_trains_when_enough_rows(tmp_path, hash_encoder):
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder, codec="PQ8", train_rows=1000)
    si.add([write_corpus(tmp_path / "a", 1, 20)])
    assert not si.store.vectors.codec.trained and si.store.vectors.codec.code_size == 2 * hash_encoder.dim
    exact_hits = si.search("a [mole] in the garden", k=5)[1]
    si.add([write_corpus(tmp_path / "b", 3, 60)])
    si = SenseIndex.open(tmp_path / "idx", encoder=hash_encoder)
    vs = si.store.vectors
    assert vs.codec.trained and vs.codec.code_size == 8 and len(vs.state.segments) == 1
    assert consistent(tmp_path / "idx")[0] > 1000
    info = si.info()
    assert info["codec_trained"] and info["code_bytes"] == 8
    target, hits = si.search("a [mole] in the garden", k=5)
    assert [h.lemma for h in hits] == ["mole"] * 5
    # the coded scores stay close to the exact ones for the same occurrences
    # the coded scores stay close to the exact ones for the same occurrences (every mole is
    # listed with a large k, so each of the first top 5 is compared)
    coded = {h.occurrence_id: h.score for h in si.search("a [mole] in the garden", k=100_000)[1]}
    assert len(exact_hits) == 5 and all(h.occurrence_id in coded for h in exact_hits)
    assert all(abs(coded[h.occurrence_id] - h.score) < 0.1 for h in exact_hits)
