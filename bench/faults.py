"""Reliability as a measured property: crashes, damaged files, a full disk, big inputs, readers
beside a writer (RELIABILITY.md has the figures and the commands).

    python bench/faults.py crash --kills 100      # SIGKILL at random moments, then open, check, resume
    python bench/faults.py damage                 # every file x truncate / flip / delete
    python bench/faults.py diskfull               # a size-limited tmpfs (root) or RLIMIT_FSIZE
    python bench/faults.py memory                 # peak RSS on a 50 MB single-line file and a large corpus
    python bench/faults.py concurrency --seconds 60
    python bench/faults.py all --markdown         # everything, as the RELIABILITY.md tables

Every run uses the tiny deterministic hash encoder of the test suite (senseindex.testing.HashEncoder), put
in place of the model inside the real `senseindex` command line, so a kill/resume cycle takes
seconds and what is measured is the storage, not the model. The test suite runs short versions
of the same functions (tests/test_faults.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from senseindex import SenseIndex
from senseindex.errors import SenseIndexError
from senseindex.storage.check import check_index
from senseindex.testing import HashEncoder

ROOT = Path(__file__).resolve().parents[1]

NOUNS = ("mole bank river garden tunnel doctor money stream farmer soil carbon cheek loan flood forest castle "
         "engine window letter market harbor pencil violin candle meadow rocket basket ladder mirror pepper").split()
OPTIONS = {"codec": "PQ8", "train_rows": 400, "tail_max": 300}  # training, flushes and merges on ~2,000 rows
CHUNK = 40  # sentences per committed chunk in the harness: many commits on a small corpus
QUERIES = ["the [mole] near the river", "a [bank] with money", "the [garden] and the soil", "a [loan] from the bank"]

# The real command line, with the hash encoder in place of the model and small chunks.
CHILD = r'''
import functools, sys
from senseindex.testing import HashEncoder
import senseindex.encoding.encoder
senseindex.encoding.encoder.load_encoder = lambda *a, **k: HashEncoder()
from senseindex.sense_index import SenseIndex
SenseIndex.add = functools.partialmethod(SenseIndex.add, chunk_sentences=int(sys.argv[1]))
from senseindex.cli import cli
print("READY", flush=True)
cli.main(args=sys.argv[2:], prog_name="senseindex")
'''


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env.setdefault("SENSEINDEX_CACHE", str(ROOT / ".cache" / "tests"))
    return env


def senseindex(*args, chunk: int = CHUNK, **popen) -> subprocess.Popen:
    """`senseindex ARGS` in a child process (hash encoder), stdout/stderr piped."""
    return subprocess.Popen([sys.executable, "-c", CHILD, str(chunk), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(), **popen)


def run_cli(*args, chunk: int = CHUNK, timeout: float = 300) -> tuple[int, str, str]:
    p = senseindex(*args, chunk=chunk)
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out.replace("READY\n", "", 1), err


# --- corpora and indexes ------------------------------------------------------------------------
def sentences(n: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(n):
        w = rng.sample(NOUNS, 5)
        out.append(f"The {w[0]} and the {w[1]} near the {w[2]} with a {w[3]} or {w[4]}.")
    return out


def write_corpus(folder: Path, files: dict[str, int], seed: int) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, n in files.items():
        (folder / name).write_text("\n".join(sentences(n, rng)) + "\n", encoding="utf-8")
    return folder


def copy_index(src: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".lock"))
    return dest


def review_file(path: Path, out: Path, every: int = 7) -> Path:
    """A review CSV labelling every `every`-th occurrence (what `labels import` reads)."""
    si = SenseIndex.open(path, encoder=HashEncoder())
    rows = si.store.db.execute("select o.id, o.word from occurrences o order by o.id").fetchall()
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("index_id,occurrence_id,word,label\n")
        for oid, word in rows[::every]:
            fh.write(f"{si.store.index_id},{oid},{word},sense-{oid % 3}\n")
    return out


def fingerprint(path: Path) -> dict[str, set]:
    """Everything a clean build and a resumed one must agree on: documents, sentences and
    occurrences with their ids, every label (reviewed ones included), orphaned labels."""
    db = sqlite3.connect(f"{(path / 'index.db').resolve().as_uri()}?mode=ro", uri=True)
    try:
        q = {
            "documents": "select path, sha256, status, sentences from documents",
            "sentences": "select s.id, d.path, s.ordinal, s.text from sentences s join documents d on d.id = s.document_id",
            "occurrences": "select o.id, o.sentence_id, o.start, o.end, l.lemma from occ o join lemmas l on l.id = o.lemma_id",
            "labels": "select occurrence_id, source, label from labels",
            "orphaned": "select occurrence_id, source, label, reason from labels_orphaned",
            "lemma_counts": "select lemma, count from lemmas where count > 0",
        }
        return {k: db.execute(sql).fetchall() for k, sql in q.items()}
    finally:
        db.close()


def compare(got: dict, want: dict) -> tuple[int, int]:
    """(rows lost, rows duplicated or extra) between two fingerprints."""
    lost = dup = 0
    for k in want:
        g, w = got[k], want[k]
        lost += len(set(w) - set(g))
        dup += len(set(g) - set(w)) + (len(g) - len(set(g)))
    return lost, dup


class Scenario:
    """An operation of the command line, a starting index, and how to resume after a kill."""

    def __init__(self, name: str, start: Path, args: list[str], resume=None) -> None:
        self.name, self.start, self.args = name, start, args
        self.resume = resume or (lambda _path: [args])

    def command(self, path: Path) -> list[str]:
        return [a.replace("{INDEX}", str(path)) for a in self.args]


def prepare(work: Path) -> tuple[list[Scenario], dict]:
    """Starting indexes for the four operations (each a small index with reviewed labels)."""
    seed = write_corpus(work / "seed", {"seed.txt": 40}, 1)
    main = write_corpus(work / "main", {f"f{i}.txt": 60 for i in range(6)}, 2)
    s0 = work / "s0"
    si = SenseIndex.open_or_create(s0, encoder=HashEncoder(), **OPTIONS)
    si.add([seed], chunk_sentences=CHUNK)
    review_s0 = review_file(s0, work / "review0.csv", 5)
    si.import_review(review_s0)  # reviewed labels every later state must keep
    s1 = copy_index(s0, work / "s1")
    SenseIndex.open(s1, encoder=HashEncoder()).add([main], chunk_sentences=CHUNK)
    review = review_file(s1, work / "review1.csv")
    s2 = copy_index(s1, work / "s2")
    SenseIndex.open(s2, encoder=HashEncoder()).import_review(review)
    s3 = copy_index(s2, work / "s3")
    SenseIndex.open(s3, encoder=HashEncoder()).remove(["f5.txt"])  # 15% removed: no automatic compaction

    def remove_rest(path: Path) -> list[list[str]]:
        have = {r[0].rsplit("/", 1)[-1] for r in sqlite3.connect(path / "index.db").execute("select path from documents")}
        left = [d for d in ("f1.txt", "f2.txt") if d in have]
        return [["remove", str(path), *left]] if left else []

    scenarios = [
        Scenario("index", s0, ["index", str(main), "--index", "{INDEX}", "-q"]),
        Scenario("labels import", s1, ["labels", "import", "{INDEX}", str(review)]),
        Scenario("remove", s2, ["remove", "{INDEX}", "f1.txt", "f2.txt"], remove_rest),  # 30%: compacts itself
        Scenario("compact", s3, ["compact", "{INDEX}"]),
    ]
    return scenarios, {"corpus_sentences": 40 + 360}


# --- crash anywhere -----------------------------------------------------------------------------
def crash(kills: int = 100, seed: int = 0, work: Path | None = None, log=print) -> dict:
    """SIGKILL each operation at `kills` random moments spread over its run; after each kill the
    index must open, pass `check`, and resume to exactly the clean result."""
    work = Path(work or tempfile.mkdtemp(prefix="faults-crash-"))
    rng = random.Random(seed)
    scenarios, _ = prepare(work)
    clean, seconds = {}, {}
    for sc in scenarios:  # the clean result and how long the operation runs (after start-up)
        path = copy_index(sc.start, work / "clean")
        p = senseindex(*[a.replace("{INDEX}", str(path)) for a in sc.args])
        assert p.stdout.readline().strip() == "READY"
        t0 = time.perf_counter()
        out, err = p.communicate(timeout=300)
        seconds[sc.name] = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"{sc.name}: clean run failed: {err[-2000:]}")
        clean[sc.name] = fingerprint(path)
    totals = {"kills": 0, "finished_before_kill": 0, "lost": 0, "duplicated": 0, "failed_opens": 0,
              "failed_checks": 0, "failed_resumes": 0, "per_operation": {}}
    failures = []
    # A run that finishes before its moment is no kill: draw again (up to 4x `kills` runs), so the
    # count reported is of processes actually killed, even when the machine is faster than it was
    # while the clean durations were measured.
    i = -1
    while totals["kills"] < kills and i + 1 < 4 * kills:
        i += 1
        sc = scenarios[totals["kills"] % len(scenarios)]
        path = copy_index(sc.start, work / "k")
        p = senseindex(*[a.replace("{INDEX}", str(path)) for a in sc.args])
        assert p.stdout.readline().strip() == "READY"
        at = rng.uniform(0, seconds[sc.name])
        time.sleep(at)
        p.send_signal(signal.SIGKILL)
        p.communicate()
        per = totals["per_operation"].setdefault(sc.name, {"kills": 0, "seconds": round(seconds[sc.name], 2)})
        if p.returncode != -signal.SIGKILL:
            totals["finished_before_kill"] += 1
            continue
        totals["kills"] += 1
        per["kills"] += 1
        what = f"{sc.name} killed at {at:.3f}s of {seconds[sc.name]:.2f}s"
        try:
            si = SenseIndex.open(path, encoder=HashEncoder())
            si.info()
            for q in QUERIES[:2]:
                si.search(q, k=5)
        except Exception as exc:  # noqa: BLE001 - every kind of failure is what is counted
            totals["failed_opens"] += 1
            failures.append(f"{what}: open: {type(exc).__name__}: {exc}")
        report = check_index(path)
        if not report.ok:
            totals["failed_checks"] += 1
            failures.append(f"{what}: check: {'; '.join(map(str, report.problems))}")
        for args in sc.resume(path):
            rc, out, err = run_cli(*[a.replace("{INDEX}", str(path)) for a in args])
            if rc != 0:
                totals["failed_resumes"] += 1
                failures.append(f"{what}: resume {args[0]}: {err.strip()[-500:]}")
        lost, dup = compare(fingerprint(path), clean[sc.name])
        totals["lost"] += lost
        totals["duplicated"] += dup
        if lost or dup:
            failures.append(f"{what}: {lost} rows lost, {dup} duplicated after resuming")
        after = check_index(path)
        if not after.ok:
            totals["failed_checks"] += 1
            failures.append(f"{what}: check after resume: {'; '.join(map(str, after.problems))}")
        if totals["kills"] % 5 == 0:
            log(f"  {i + 1} runs: {totals['kills']}/{kills} kills, {totals['lost']} lost, "
                f"{totals['duplicated']} duplicated, {totals['failed_opens']} failed opens, {totals['failed_checks']} "
                f"failed checks, {totals['failed_resumes']} failed resumes; per operation "
                f"{ {k: v['kills'] for k, v in totals['per_operation'].items()} }", flush=True)
            for f in failures:
                log(f"  FAILURE {f}")
    totals["failures"] = failures
    totals["runs"] = i + 1
    totals["seed"] = seed
    return totals


# --- damaged files ------------------------------------------------------------------------------
def damage_base(work: Path) -> Path:
    """An index with two segments and a tail, a trained codec, reviewed labels and a removed file."""
    corpus = write_corpus(work / "dmg-corpus", {f"d{i}.txt": 50 for i in range(5)}, 3)
    more = write_corpus(work / "dmg-more", {"late.txt": 30}, 4)
    path = work / "dmg"
    si = SenseIndex.open_or_create(path, encoder=HashEncoder(), **OPTIONS)
    si.add([corpus], chunk_sentences=CHUNK)
    si.import_review(review_file(path, work / "dmg-review.csv", 4))
    si.add([more], chunk_sentences=CHUNK)  # rows left in the tail
    si.remove(["d4.txt"])
    return path


def answers(path: Path) -> dict:
    """What users read from an index: contextual, any-word and static hits, labels, counts."""
    si = SenseIndex.open(path, encoder=HashEncoder())
    info = si.info()  # the counts (how the vectors are laid out may change with a repair)
    out = {"info": {k: info[k] for k in ("documents", "sentences", "occurrences", "vocabulary_words", "labels",
                                         "labels_orphaned", "model", "codec", "index_id")}}
    for q in QUERIES:
        out[q] = [(h.occurrence_id, round(h.score, 5), h.text) for h in si.search(q, k=8)[1]]
        out["any " + q] = [(h.occurrence_id, round(h.score, 5)) for h in si.search(q, k=8, any_word=True)[1]]
        out["static " + q] = [(h.sentence_id, round(h.score, 5)) for h in si.search(q, k=8, static=True)[1]]
    out["labels"] = sorted((r["occurrence_id"], r["source"], r["label"]) for r in si.labels())
    return out


def _damage(f: Path, how: str, rng: random.Random) -> bool:
    size = f.stat().st_size
    if how == "delete":
        f.unlink()
    elif how == "truncate":
        if size == 0:
            return False
        os.truncate(f, rng.randrange(0, size))
    else:
        if size == 0:
            return False
        data = bytearray(f.read_bytes())
        for _ in range(4):
            data[rng.randrange(size)] ^= 1 << rng.randrange(8)
        f.write_bytes(bytes(data))
    return True


def cli_line(path: Path) -> tuple[int, str]:
    """`senseindex search` on a damaged index: (exit code, stderr)."""
    from click.testing import CliRunner

    import senseindex.encoding.encoder
    from senseindex.cli import cli

    real = senseindex.encoding.encoder.load_encoder
    senseindex.encoding.encoder.load_encoder = lambda *a, **k: HashEncoder()
    try:
        r = CliRunner().invoke(cli, ["search", str(path), QUERIES[0], "--json"])
    finally:
        senseindex.encoding.encoder.load_encoder = real
    return r.exit_code, (r.stderr if hasattr(r, "stderr") else r.output) + ("" if r.exception is None or
                                                                             isinstance(r.exception, SystemExit)
                                                                             else f"TRACEBACK {r.exception!r}")


def damage(work: Path | None = None, seeds: int = 1, files: list[str] | None = None, log=print) -> dict:
    """Every file of an index x (truncate, flip 4 bits, delete): does `check` see it, does search
    refuse (or answer exactly as before), does `repair` bring the index back?"""
    work = Path(work or tempfile.mkdtemp(prefix="faults-damage-"))
    base = damage_base(work)
    want = answers(base)
    names = sorted(f.name for f in base.iterdir() if f.is_file() and f.name != ".lock")
    if files:  # the first file whose name holds each given part
        names = [m for x in files for m in [next((n for n in names if x in n), None)] if m]
    rows = []
    for name in names:
        for how in ("truncate", "flip", "delete"):
            for s in range(seeds if how != "delete" else 1):
                rng = random.Random(f"{name}{how}{s}")
                path = copy_index(base, work / "case")
                if not _damage(path / name, how, rng):
                    continue
                row = {"file": name, "damage": how, "seed": s}
                report = check_index(path)
                row["check"] = "detected" if (not report.ok or any(name in n for n in report.notes)) else "not seen"
                row["check_says"] = "; ".join(map(str, report.problems))[:200] or "; ".join(report.notes)[:200]
                try:
                    got = answers(path)
                    row["search"] = "same answers" if got == want else "WRONG ANSWERS"
                except (SenseIndexError, sqlite3.DatabaseError, OSError, RuntimeError, ValueError) as exc:
                    row["search"] = "refused"
                    row["search_says"] = str(exc)[:200]
                code, err = cli_line(path)
                row["cli"] = "ok" if code == 0 else ("one line" if code == 1 and len(err.strip().splitlines()) == 1
                                                     and "TRACEBACK" not in err else f"BAD: {err[-300:]}")
                try:
                    r = SenseIndex.repair(path, encoder=HashEncoder())
                    after = check_index(path)
                    same = answers(path)
                    labels_kept = same["labels"] == want["labels"]
                    if not after.ok or not labels_kept or same["info"] != want["info"]:
                        row["repair"] = "FAILED"
                    else:
                        row["repair"] = "repaired" if r["repaired"] else "nothing to repair"
                        row["repair_answers"] = "same answers" if same == want else "equivalent (codec trained again)"
                    row["repair_says"] = "; ".join(r["repaired"])[:200]
                except SenseIndexError as exc:
                    row["repair"] = "refused: cannot be derived"
                    row["repair_says"] = str(exc)[:200]
                except Exception as exc:  # noqa: BLE001 - a crash of repair is a finding, not the end of the run
                    row["repair"] = "FAILED"
                    row["repair_says"] = f"{type(exc).__name__}: {exc}"[:300]
                row["verdict"] = ("detected" if row["check"] == "detected" or row["search"] == "refused" else
                                  "harmless" if row["search"] == "same answers" else "SILENT DAMAGE")
                rows.append(row)
        log(f"  {name}: {[(r['damage'], r['check'], r['search'], r['repair']) for r in rows if r['file'] == name]}")
    return {"cases": rows, "summary": damage_summary(rows)}


def damage_summary(rows: list[dict]) -> dict:
    n = len(rows)
    return {"cases": n,
            "detected_by_check": sum(r["check"] == "detected" for r in rows),
            "harmless_not_detected": sum(r["verdict"] == "harmless" for r in rows),
            "silent_damage": sum(r["verdict"] == "SILENT DAMAGE" for r in rows),
            "search_refused": sum(r["search"] == "refused" for r in rows),
            "search_same_answers": sum(r["search"] == "same answers" for r in rows),
            "search_wrong_answers": sum(r["search"] == "WRONG ANSWERS" for r in rows),
            "cli_one_line_or_ok": sum(r["cli"] in ("ok", "one line") for r in rows),
            "repaired": sum(r["repair"] in ("repaired", "nothing to repair") for r in rows),
            "not_derivable_refused": sum(r["repair"].startswith("refused") for r in rows),
            "repair_failed": sum(r["repair"] == "FAILED" for r in rows)}


# --- disk full ----------------------------------------------------------------------------------
def _tmpfs(path: Path, size: int) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def diskfull(limits: int = 8, work: Path | None = None, log=print) -> dict:
    """Index into a filesystem that fills up (a tmpfs of a few hundred KB, when this process may
    mount one; else RLIMIT_FSIZE): a one-line error, the last committed state opens and checks,
    and the same command resumes to the clean result once there is room."""
    work = Path(work or tempfile.mkdtemp(prefix="faults-disk-"))
    corpus = write_corpus(work / "corpus", {f"g{i}.txt": 60 for i in range(4)}, 5)
    clean = work / "clean"
    rc, out, err = run_cli("index", corpus, "--index", clean, "-q")
    assert rc == 0, err
    want = fingerprint(clean)
    full = sum(f.stat().st_size for f in clean.iterdir() if f.is_file())
    mnt = work / "mnt"
    use_tmpfs = _tmpfs(mnt, 1 << 20)
    if use_tmpfs:
        subprocess.run(["umount", str(mnt)], check=False)
    results = []
    for j in range(limits):
        size = int(full * (0.15 + 0.8 * j / max(1, limits - 1)))
        if use_tmpfs:
            _tmpfs(mnt, size)
            path = mnt / "idx"
            p = senseindex("index", corpus, "--index", path, "-q")
        else:
            path = work / f"idx{j}"
            lim = max(4096, size // 3)

            def limit(lim=lim):
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (lim, lim))
            p = senseindex("index", corpus, "--index", path, "-q", preexec_fn=limit)
        out, err = p.communicate(timeout=300)
        row = {"limit_bytes": size if use_tmpfs else max(4096, size // 3), "exit": p.returncode,
               "message": err.strip().splitlines()[-1][:200] if err.strip() else ""}
        row["one_line"] = p.returncode == 0 or (len(err.strip().splitlines()) == 1 and "Traceback" not in err)
        if use_tmpfs:  # room again: move the index out, as a user would after freeing space
            moved = work / f"idx{j}"
            if path.exists():
                shutil.copytree(path, moved, ignore=shutil.ignore_patterns(".lock"))
            subprocess.run(["umount", str(mnt)], check=False)
            path = moved
        if path.exists() and (path / "index.db").exists():
            try:
                SenseIndex.open(path, encoder=HashEncoder()).info()
                row["opens"] = True
            except SenseIndexError as exc:
                row["opens"] = f"no: {exc}"
            row["check"] = "ok" if check_index(path).ok else "; ".join(map(str, check_index(path).problems))[:200]
        else:
            row["opens"] = row["check"] = "nothing written (refused before creating the index)"
        rc, _, err = run_cli("index", corpus, "--index", path, "-q")
        row["resumed"] = rc == 0
        lost, dup = compare(fingerprint(path), want) if rc == 0 else (-1, -1)
        row["lost"], row["duplicated"] = lost, dup
        results.append(row)
        log(f"  limit {row['limit_bytes']:,}: exit {row['exit']} {row['message'][:100]!r} opens={row['opens']} "
            f"check={row['check']} resumed={row['resumed']} lost={lost} dup={dup}")
    return {"method": "tmpfs" if use_tmpfs else "RLIMIT_FSIZE", "index_bytes": full, "runs": results}


# --- memory -------------------------------------------------------------------------------------
def _peak_rss(args: list, seconds: float, every: float = 10.0) -> tuple[int, int, float, list]:
    """(exit code or -9, peak RSS in KB, seconds, [(second, RSS MB)] every `every` s) of
    `senseindex ARGS`, stopped after `seconds`."""
    p = senseindex(*args, chunk=256)
    p.stdout.readline()
    t0 = time.perf_counter()
    peak, trace, next_at = 0, [], 0.0
    while p.poll() is None and time.perf_counter() - t0 < seconds:
        try:
            status = dict(line.split(":", 1) for line in Path(f"/proc/{p.pid}/status").read_text().splitlines())
        except (OSError, ValueError):
            break
        peak = max(peak, int(status.get("VmHWM", "0 kB").split()[0]))
        if time.perf_counter() - t0 >= next_at:
            trace.append((round(time.perf_counter() - t0), round(int(status.get("VmRSS", "0 kB").split()[0]) / 1024)))
            next_at += every
        time.sleep(0.05)
    if p.poll() is None:
        p.kill()
    p.communicate()
    return p.returncode, peak, time.perf_counter() - t0, trace


def memory(line_mb: int = 50, corpus_mb: int = 200, seconds: float = 60, work: Path | None = None, log=print,
           parts: tuple[str, ...] = ("single_line", "single_line_no_stops", "corpus")) -> dict:
    """Peak RSS of `senseindex index` on one 50 MB line of text (with full stops, and without: a
    single "sentence" that the reader cuts into pieces) and on a large corpus of distinct
    files (the run is stopped after `seconds`: reading, planning and the first chunks are what
    could blow memory), with the RSS sampled along the way to show whether it grows."""
    work = Path(work or tempfile.mkdtemp(prefix="faults-mem-"))
    rng = random.Random(6)
    block = " ".join(sentences(2000, rng))
    line = work / "one-line.txt"
    with open(line, "w", encoding="utf-8") as fh:
        while fh.tell() < line_mb << 20:
            fh.write(block + " ")
        fh.write("\n")
    bare = work / "one-line-no-stops.txt"  # the same words, no full stop: one "sentence" unless cut
    with open(bare, "w", encoding="utf-8") as fh:
        words = block.replace(".", "").replace("?", "").replace("!", "")
        while fh.tell() < line_mb << 20:
            fh.write(words + " ")
        fh.write("\n")
    big = work / "big"
    big.mkdir()
    total, n = 0, 0
    while total < corpus_mb << 20:  # distinct files: identical ones would be skipped by content hash
        f = big / f"part{n:05d}.txt"
        f.write_text("\n".join(sentences(100_000, rng)) + "\n", encoding="utf-8")
        total += f.stat().st_size
        n += 1
    base_rc, base, _, _ = _peak_rss(["info", "--help"], 10)
    out = {"baseline_kb": base}
    for name, src in (("single_line", line), ("single_line_no_stops", bare), ("corpus", big)):
        if name not in parts:
            continue
        rc, peak, secs, trace = _peak_rss(["index", src, "--index", work / f"idx-{name}", "-q"], seconds)
        size = sum(f.stat().st_size for f in ([src] if src.is_file() else src.iterdir()))
        si = SenseIndex.open(work / f"idx-{name}", encoder=HashEncoder()) if (work / f"idx-{name}" / "index.db").exists() else None
        info = si.info() if si else {}
        out[name] = {"input_mb": round(size / 2**20, 1), "files": 1 if src.is_file() else n,
                     "peak_rss_mb": round(peak / 1024, 1), "seconds": round(secs, 1), "finished": rc == 0,
                     "sentences_indexed": info.get("sentences", 0), "occurrences_indexed": info.get("occurrences", 0),
                     "rss_trace_mb": trace}
        log(f"  {name}: {out[name]}")
    return out


# --- concurrency --------------------------------------------------------------------------------
READER = r'''
import json, sys, time, tempfile, os
from senseindex.testing import HashEncoder
from senseindex import SenseIndex
path, role, seconds, chunk = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
si = SenseIndex.open(path, encoder=HashEncoder())
ops = errors = partial = 0
messages = []
end = time.time() + seconds
out = os.path.join(tempfile.mkdtemp(), "labels.csv")
while time.time() < end:
    try:
        if role == "search":
            for q in ("the [mole] near the river", "a [bank] with money"):
                hits = si.search(q, k=50)[1]
                ids = [h.occurrence_id for h in hits]
                have = {r[0] for r in si.store.db.execute(
                    "select id from occ where id in (%s)" % ",".join(map(str, ids or [0])))}
                if have != set(ids):
                    partial += 1
        elif role == "label":
            si.label("the [bank] near the river", k=5)
        elif role == "senses":
            si.senses("garden", k=2)
        elif role == "export":
            si.export_labels(out)
        # a chunk is committed whole: every document holds a multiple of the chunk size, or all of it
        for n, total, status in si.store.db.execute(
                "select count(s.id), d.sentences, d.status from documents d left join sentences s "
                "on s.document_id = d.id group by d.id"):
            if n != total or (status == "partial" and n % chunk):
                partial += 1
        ops += 1
    except Exception as exc:
        errors += 1
        messages.append(f"{type(exc).__name__}: {exc}")
print(json.dumps({"role": role, "ops": ops, "errors": errors, "partial": partial, "messages": messages[:5]}))
'''


def concurrency(seconds: float = 60, work: Path | None = None, log=print) -> dict:
    """One writer (`senseindex index`, file after file) and four readers (search, label, senses,
    export) for `seconds`; meanwhile a second writer must be refused."""
    work = Path(work or tempfile.mkdtemp(prefix="faults-conc-"))
    start = write_corpus(work / "start", {"start.txt": 60}, 7)
    path = work / "idx"
    si = SenseIndex.open_or_create(path, encoder=HashEncoder(), **OPTIONS)
    si.add([start], chunk_sentences=CHUNK)
    si.import_review(review_file(path, work / "r.csv", 3))
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(path), role, str(seconds), str(CHUNK)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
               for role in ("search", "label", "senses", "export")]
    t0 = time.time()
    files, second, n = 0, [], 0
    while time.time() - t0 < seconds:
        corpus = write_corpus(work / f"w{n}", {f"w{n}.txt": 80}, 100 + n)
        n += 1
        writer = senseindex("index", corpus, "--index", path, "-q")
        writer.stdout.readline()
        time.sleep(0.3)
        if writer.poll() is None:  # a second writer while the first holds the lock
            rc, _, err = run_cli("index", corpus, "--index", path, "-q")
            if writer.poll() is None:  # (one that started after the first had finished proves nothing)
                second.append((rc, err.strip().splitlines()[-1] if err.strip() else ""))
        out, err = writer.communicate(timeout=300)
        if writer.returncode == 0:
            files += 1
        else:
            second.append(("first writer failed", err[-300:]))
    results = [json.loads(r.communicate(timeout=seconds + 120)[0].strip().splitlines()[-1]) for r in readers]
    refused = [s for s in second if s[0] == 1 and "another senseindex process is writing" in s[1]]
    out = {"seconds": seconds, "writer_files": files, "readers": results,
           "reader_seconds": round(len(readers) * seconds), "reader_errors": sum(r["errors"] for r in results),
           "partial_chunks_seen": sum(r["partial"] for r in results), "reader_ops": sum(r["ops"] for r in results),
           "second_writers": len(second), "second_writers_refused": len(refused),
           "refusal": refused[0][1] if refused else None, "check_after": check_index(path).ok}
    log(f"  {out}")
    return out


# --- the tables for RELIABILITY.md --------------------------------------------------------------
def markdown(results: dict) -> str:
    lines = []
    if "crash" in results:
        c = results["crash"]
        lines += [f"**{c['kills']} kills, {c['lost']} lost, {c['duplicated']} duplicated, {c['failed_opens']} failed opens** "
                  f"({c['failed_checks']} failed checks, {c['failed_resumes']} failed resumes; "
                  f"{c['finished_before_kill']} runs finished before their kill moment; seed {c['seed']})", "",
                  "| operation | kills | clean run (s, after start-up) |", "|---|---:|---:|"]
        lines += [f"| {k} | {v['kills']} | {v['seconds']} |" for k, v in c["per_operation"].items()]
        lines.append("")
    if "damage" in results:
        d = results["damage"]
        d["summary"] = damage_summary(d["cases"])
        import re
        from collections import defaultdict

        groups = defaultdict(list)
        for r in d["cases"]:
            groups[(re.sub(r"-\d{6}", "-G", r["file"]), r["damage"])].append(r)

        def tally(rows, key):
            c = defaultdict(int)
            for r in rows:
                c[r[key]] += 1
            return ", ".join(f"{v} {k}" for k, v in sorted(c.items()))
        lines += ["| file | damage | cases | check | search | repair |", "|---|---|---:|---|---|---|"]
        for (name, how), rs in groups.items():
            lines.append(f"| {name} | {how} | {len(rs)} | {tally(rs, 'check')} | {tally(rs, 'search')} | "
                         f"{tally(rs, 'repair')} |")
        s = d["summary"]
        lines += ["", f"{s['cases']} cases: {s['detected_by_check']} detected by check, {s['harmless_not_detected']} "
                      f"not detected and harmless (same answers), {s['silent_damage']} silent damage; search refused "
                      f"{s['search_refused']}, answered exactly as before {s['search_same_answers']}, wrong answers "
                      f"{s['search_wrong_answers']}; repaired {s['repaired']}, not derivable (refused, nothing "
                      f"changed) {s['not_derivable_refused']}, repair failed {s['repair_failed']}", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["crash", "damage", "diskfull", "memory", "concurrency", "all"])
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=1, help="damage: random flips/truncations per file and kind")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--corpus-mb", type=int, default=200, help="memory: size of the many-file corpus")
    ap.add_argument("--line-mb", type=int, default=50, help="memory: size of the single-line file")
    ap.add_argument("--out", type=Path, help="write the results as JSON")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    results = {}
    todo = ["crash", "damage", "diskfull", "memory", "concurrency"] if args.what == "all" else [args.what]
    for what in todo:
        t0 = time.perf_counter()
        print(f"{what} ...", flush=True)
        if what == "crash":
            results[what] = crash(args.kills, args.seed)
        elif what == "damage":
            results[what] = damage(seeds=args.seeds)
        elif what == "diskfull":
            results[what] = diskfull()
        elif what == "memory":
            results[what] = memory(args.line_mb, args.corpus_mb, seconds=args.seconds)
        else:
            results[what] = concurrency(args.seconds)
        results[what]["wall_seconds"] = round(time.perf_counter() - t0, 1)
    text = json.dumps(results, indent=1, default=str)
    if args.out:
        args.out.write_text(text)
    print(markdown(results) if args.markdown else text)


if __name__ == "__main__":
    main()
