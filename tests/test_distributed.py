"""Distributed indexing on Ray: the same index as the local path, and a killed job resumes.

The Ray tests start one local Ray instance for the module (`ray.init(num_cpus=2)`) and are
skipped when Ray is not installed (it is an optional extra: pip install 'senseindex[ray]')."""

from __future__ import annotations

import csv
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import asdict

import numpy as np
import pytest
from click.testing import CliRunner

from helpers import DEMO, DEMO_QUERIES
from senseindex import SenseIndex
from senseindex.cli import cli
from senseindex.storage.store import Store

OCC = ("select o.id, o.sentence_id, s.document_id, s.ordinal, o.start, o.end, l.lemma, o.pos "
       "from occ o join sentences s on s.id = o.sentence_id join lemmas l on l.id = o.lemma_id order by o.id")
SENT = "select id, document_id, ordinal, line, section, text from sentences order by id"
DOCS = "select id, path, sha256, status, sentences from documents order by id"


@pytest.fixture(scope="module")
def ray_address():
    """A local Ray instance for this module: two CPUs, as on the development machine."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def local_demo(tmp_path_factory, minilm_encoder):
    path = tmp_path_factory.mktemp("local") / "demo"
    SenseIndex.open_or_create(path, encoder=minilm_encoder).add([DEMO])
    return path


def same_index(a, b, encoder) -> None:
    """Same documents, sentences and occurrences with the same ids, vectors at cosine >= 0.999,
    and the same top-5 for every demo query."""
    sa, sb = Store.open(a), Store.open(b)
    for sql in (DOCS, SENT, OCC):
        assert sa.db.execute(sql).fetchall() == sb.db.execute(sql).fetchall()
    ids = [r[0] for r in sa.db.execute("select id from occ order by id")]
    va, vb = sa.take(ids), sb.take(ids)
    assert float((va * vb).sum(1).min()) >= 0.999
    ia, ib = SenseIndex.open(a, encoder=encoder), SenseIndex.open(b, encoder=encoder)
    with open(DEMO_QUERIES, newline="") as fh:
        queries = [row["query"] for row in csv.DictReader(fh, delimiter="\t")]
    for q in queries:
        assert [h.occurrence_id for h in ia.search(q, k=5)[1]] == [h.occurrence_id for h in ib.search(q, k=5)[1]], q


def test_killed_ray_job_resumes_from_its_finished_shards(tmp_path, minilm_encoder, ray_address, local_demo):
    """The driver (the Ray job) is killed with SIGKILL while workers encode; the next run keeps
    the finished shards, encodes only the missing ones and builds the same index."""
    from senseindex.distributed import RayEngine

    index = tmp_path / "ray"
    script = textwrap.dedent(f"""
        from senseindex import SenseIndex
        from senseindex.distributed import RayEngine
        engine = RayEngine({ray_address!r}, workers=2, shard_sentences=50, chunk_sentences=64)
        SenseIndex.open_or_create({str(index)!r}, model="minilm").add([{str(DEMO)!r}], engine=engine)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    staging = index / "staging"
    deadline = time.monotonic() + 240
    try:
        while not any(staging.glob("*-*-*.json")):  # a shard finished (merged ones are deleted)
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "no shard was finished in time"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert Store.open(index).count("sentences") < 494
    engine = RayEngine(workers=2, shard_sentences=50, chunk_sentences=64)
    SenseIndex.open_or_create(index, encoder=minilm_encoder).add([DEMO], engine=engine)
    encoded = engine.stats["shards"] - engine.stats["shards_reused"]
    assert 1 <= encoded < 10  # of 10 shards (two a file): the finished ones, merged or staged, are kept
    same_index(local_demo, index, minilm_encoder)


def test_staged_shards_survive_reading_options_with_tuples(tmp_path):
    """A job's settings are compared as they read back from job.json: a tuple option (the
    metadata fields, the VRT attributes) must not make every resumed job start afresh."""
    from senseindex.distributed import Staging
    from senseindex.text.corpus import ReadOptions

    job = {"read": asdict(ReadOptions(meta_fields=("year",), vrt_attrs=("word", "lemma"))), "shard_sentences": 50}
    staging = Staging(tmp_path, job)
    staging.write("shard-0-50", {"vectors": b"", "static": b"", "meta": "{}"})
    assert Staging(tmp_path, job).done("shard-0-50")
    assert not Staging(tmp_path, {**job, "shard_sentences": 60}).done("shard-0-50")  # other settings: afresh


def test_cli_engine_ray_builds_the_same_index_as_local(tmp_path, minilm_encoder, ray_address, local_demo):
    args = ["index", str(DEMO), "--index", str(tmp_path / "ray"), "--model", "minilm", "--engine", "ray",
            "--address", ray_address, "--workers", "2", "--json"]
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["documents_added"] == 5 and result["sentences_added"] == 494
    assert result["ray"]["shards"] == 5 and result["ray"]["shards_reused"] == 0
    assert result["index"]["occurrences"] == result["occurrences_added"] > 0
    assert not (tmp_path / "ray" / "staging").exists()
    same_index(local_demo, tmp_path / "ray", minilm_encoder)
    again = json.loads(CliRunner().invoke(cli, args).stdout)  # content hashes skip, as in the local path
    assert again["files_skipped"] == 5 and again["sentences_added"] == 0 and again["ray"]["shards"] == 0


def test_cli_engine_ray_without_ray_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails, as when it is not installed
    out = CliRunner().invoke(cli, ["index", str(DEMO), "--index", str(tmp_path / "idx"), "--engine", "ray"])
    assert out.exit_code == 1 and "pip install 'senseindex[ray]'" in out.output
    assert "Traceback" not in out.output and not (tmp_path / "idx").exists()
    out = CliRunner().invoke(cli, ["index", str(DEMO), "--index", str(tmp_path / "idx"), "--workers", "4"])
    assert out.exit_code == 2 and "need --engine ray" in out.output


def test_shard_ranges_resume_after_committed_sentences():
    from pathlib import Path

    from senseindex.distributed import shard_ranges
    from senseindex.indexer import PlannedFile

    item = PlannedFile(Path("x.txt"), "0" * 64, 10, 1, 0)
    assert shard_ranges(item, 4) == [(1, 4), (5, 8), (9, 10)]
    item.done_before = 6
    assert shard_ranges(item, 4) == [(7, 8), (9, 10)]
    assert np.array_equal(shard_ranges(PlannedFile(Path("x"), "0", 0), 4), [])


def test_a_file_changed_under_a_worker_is_a_one_line_error(tmp_path, minilm_encoder, ray_address):
    from senseindex.distributed import RayEngine
    from senseindex.errors import SenseIndexError

    corpus = tmp_path / "c.txt"
    corpus.write_text("The mole dug a tunnel.\n\nA mole is a unit of amount.\n")

    def change(todo, skipped):  # after the plan was read, before any worker reads the file
        corpus.write_text(corpus.read_text() + "\nA third sentence about moles.\n")

    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=minilm_encoder)
    with pytest.raises(SenseIndexError, match="changed while it was being indexed") as err:
        si.add([corpus], on_plan=change, engine=RayEngine(workers=1))
    assert "\n" not in str(err.value)


def test_shards_round_trip_through_staging_and_join_in_order(tmp_path, hash_encoder):
    from senseindex.distributed import (
        Staging,
        join_chunks,
        sentence_from_json,
        sentence_json,
        shard_payload,
    )
    from senseindex.encoding.glove import load_glove
    from senseindex.indexer import encode_chunk
    from senseindex.text.corpus import Sentence, Token

    glove = load_glove()
    tokens = [Token(0, 1, "A"), Token(2, 6, "mole", "mole", "animal", "NOUN"), Token(7, 10, "dug")]
    sentences = [Sentence("The mole dug deep.", 3), Sentence("A mole dug", 4, "d1", tokens)]
    assert [sentence_from_json(sentence_json(s)) for s in sentences] == sentences
    staging = Staging(tmp_path, {"job": 1})
    for i, s in enumerate(sentences):
        staging.write(f"{'ab' * 16}-{i + 1:010d}-{i + 1:010d}", shard_payload(encode_chunk([s], hash_encoder, glove, False), 0, "float32"))
    parts = [staging.read(f"{'ab' * 16}-{i + 1:010d}-{i + 1:010d}", 7, i + 1, i == 1, glove) for i in range(2)]
    joined = join_chunks(parts)
    whole = encode_chunk(sentences, hash_encoder, glove, False)
    assert [row[2:] for row in joined.sentences] == whole.sentences and joined.documents == {7: (2, True)}
    assert joined.occurrences == whole.occurrences and joined.gold == whole.gold == [(3, "animal")]
    assert np.allclose(joined.vectors, whole.vectors) and joined.vocab == whole.vocab
    assert Staging(tmp_path, {"job": 2}).done(f"{'ab' * 16}-{1:010d}-{1:010d}") is False  # other settings: emptied
