"""Short versions of bench/faults.py (the long ones and their figures: RELIABILITY.md), and the
untrusted-input checks: spreadsheet injection, planted pickles.

Fast tier: the hash encoder inside the real command line, small indexes.
"""

from __future__ import annotations

import csv
import pickle
import random
from pathlib import Path

import numpy as np
import pytest
from bench import faults  # the harness of `make faults`, run here in short versions
from click.testing import CliRunner

from senseindex import SenseIndex
from senseindex.errors import SenseIndexError
from senseindex.storage.check import check_index
from senseindex.testing import HashEncoder


@pytest.mark.slow
def test_sigkill_at_random_moments_of_index_import_remove_compact(tmp_path):
    seed = random.randrange(1 << 30)  # a new moment each run; the seed is in every failure message
    r = faults.crash(kills=4, seed=seed, work=tmp_path)
    assert r["failures"] == [], (seed, r["failures"])
    assert r["kills"] == 4 and r["runs"] == 4 + r["finished_before_kill"], seed
    assert (r["lost"], r["duplicated"], r["failed_opens"], r["failed_checks"], r["failed_resumes"]) == (0, 0, 0, 0, 0)


@pytest.mark.slow
def test_damaged_files_are_detected_refused_and_repaired(tmp_path):
    r = faults.damage(work=tmp_path, files=["lemma.codes", "tail-", "codec-", "index.db"])
    s = r["summary"]
    assert s["cases"] >= 10
    assert s["silent_damage"] == 0 and s["search_wrong_answers"] == 0 and s["repair_failed"] == 0, r["cases"]
    assert s["cli_one_line_or_ok"] == s["cases"]
    for row in r["cases"]:
        if row["file"].startswith(("seg-", "tail-", "codec-")):
            assert row["check"] == "detected" and row["repair"] == "repaired", row
        if row["file"] == "index.db" and row["damage"] != "flip":
            assert row["repair"].startswith("refused"), row


@pytest.mark.slow
def test_disk_full_leaves_the_last_committed_state_and_resumes(tmp_path):
    r = faults.diskfull(limits=2, work=tmp_path)
    for run in r["runs"]:
        assert run["one_line"], run
        assert run["opens"] is True or run["opens"].startswith("nothing written"), run
        assert run["check"] in ("ok",) or run["check"].startswith("nothing written"), run
        assert run["resumed"] and (run["lost"], run["duplicated"]) == (0, 0), run
    assert any(run["exit"] != 0 for run in r["runs"])  # the disk did fill up


@pytest.mark.slow
def test_one_writer_four_readers_and_a_refused_second_writer(tmp_path):
    r = faults.concurrency(seconds=6, work=tmp_path)
    assert r["reader_errors"] == 0, r["readers"]
    assert r["partial_chunks_seen"] == 0
    assert all(x["ops"] > 0 for x in r["readers"])
    assert r["second_writers"] == 0 or r["second_writers_refused"] == r["second_writers"], r
    assert r["check_after"]


@pytest.fixture
def small_index(tmp_path) -> Path:
    corpus = faults.write_corpus(tmp_path / "c", {"a.txt": 40, "b.txt": 40}, 9)
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=HashEncoder(), codec="PQ8", train_rows=300, tail_max=150)
    si.add([corpus], chunk_sentences=20)
    return tmp_path / "idx"


def test_check_and_repair_on_the_command_line(small_index, monkeypatch):
    import senseindex.encoding.encoder
    from senseindex.cli import cli

    monkeypatch.setattr(senseindex.encoding.encoder, "load_encoder", lambda *a, **k: HashEncoder())
    runner = CliRunner()
    ok = runner.invoke(cli, ["check", str(small_index)])
    assert ok.exit_code == 0 and ok.output.strip().splitlines()[-1].startswith("ok:"), ok.output
    seg = next(small_index.glob("seg-*.lemma.codes"))
    data = bytearray(seg.read_bytes())
    data[len(data) // 2] ^= 0x40
    seg.write_bytes(bytes(data))
    bad = runner.invoke(cli, ["check", str(small_index)])
    assert bad.exit_code == 1 and seg.name in bad.output and "DAMAGED" in bad.output
    fixed = runner.invoke(cli, ["repair", str(small_index), "--json"])
    assert fixed.exit_code == 0, fixed.output
    assert runner.invoke(cli, ["check", str(small_index)]).exit_code == 0


def test_exported_formula_cells_are_neutralised_and_import_back(small_index, tmp_path):
    si = SenseIndex.open(small_index, encoder=HashEncoder())
    ids = [r[0] for r in si.store.db.execute("select id from occ order by id limit 7")]
    labels = ["=cmd|' /C calc'!A0", "+SUM(1)", "-1", "@A1", "\tx", "\rx", "plain"]
    si.review_labels([{"index_id": si.store.index_id,
                       "occurrence_id": i, "label": lab} for i, lab in zip(ids, labels, strict=True)])
    stored = dict(si.store.db.execute("select occurrence_id, label from labels where source = 'review'").fetchall())
    out = tmp_path / "labels.csv"
    si.export_labels(out, ["review"])
    with open(out, encoding="utf-8-sig", newline="") as fh:
        cells = [r["label"] for r in csv.DictReader(fh)]
    assert sorted(cells) == sorted("'" + x if x[0] in "=+-@\t\r" else x for x in stored.values())
    assert sum(c.startswith("'") for c in cells) >= 4
    # a review file goes out through the same writer (and carries the index id, so it imports back)
    from senseindex.output.rows import write_file

    review = tmp_path / "review.csv"
    write_file(review, [{"index_id": si.store.index_id, "occurrence_id": i, "label": lab} for i, lab in stored.items()])
    assert "'=cmd" in review.read_text(encoding="utf-8-sig")
    with si.store.lock(), si.store.db.conn:  # forget them, then import the neutralised file back
        si.store.db.conn.execute("delete from labels where source = 'review'")
    si.import_review(review)
    got = dict(si.store.db.execute("select occurrence_id, label from labels where source = 'review'").fetchall())
    assert got == stored


class Boom:
    """Unpickling this runs code: it must never happen."""

    marker = ""

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_planted_pickle_in_an_index_is_never_loaded(small_index, tmp_path):
    from senseindex.storage import checksums

    marker = tmp_path / "pwned"
    Boom.marker = str(marker)
    coarse = next(small_index.glob("codec-*.coarse.npy"))
    np.save(coarse, np.array([Boom()], dtype=object), allow_pickle=True)
    si = SenseIndex.open(small_index, encoder=HashEncoder())
    with si.store.lock(verify=False), si.store.db.conn:  # as if made by someone else: checksums that match
        checksums.record(si.store.db, {coarse.name: [checksums.whole(coarse)]})
    with pytest.raises(SenseIndexError, match="unreadable"):
        SenseIndex.open(small_index, encoder=HashEncoder()).search("the [mole] near the river")
    assert not check_index(small_index).ok
    assert not marker.exists()


@pytest.mark.slow
def test_a_model_folder_with_a_pickle_is_refused(tmp_path):
    from senseindex.encoding.encoder import load_encoder

    marker = tmp_path / "pwned"
    Boom.marker = str(marker)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bert", "hidden_size": 8, "num_hidden_layers": 1, '
                                        '"num_attention_heads": 1, "intermediate_size": 8, "vocab_size": 10}')
    with open(folder / "pytorch_model.bin", "wb") as fh:
        pickle.dump(Boom(), fh)
    with pytest.raises(SenseIndexError):
        load_encoder(str(folder))
    assert not marker.exists()
