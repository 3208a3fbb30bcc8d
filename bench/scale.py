"""The storage layer at corpus scale: build time, peak memory, disk per occurrence, warm search
latency (same-lemma and any-word, with recall against an exhaustive scan), the memory of a
searching process, and a cold CLI search on the demo. Prints one JSON summary (last line).

No model runs while the big indexes are built: synthetic occurrences go through the real
storage layer (`Store.append(Chunk(...))` then `maintain()` under `store.lock()`, as the
indexer does). They are made from real vectors: the demo's (read from a demo index) and
CoarseWSD-20's (all-mpnet-base-v2, from the vector cache, encoded once if missing). Lemmas
follow a Zipf law (the top lemma holds 10% of the occurrences, about 40 occurrences a lemma
on average, the tail a handful each); each synthetic lemma takes its senses from a few real
vectors of one real word (more senses for frequent lemmas), and each occurrence is one of
them plus Gaussian noise (norm --noise), re-normalised. Sentences are real ones (the demo's
and CoarseWSD-20's, repeated under new ids) and occurrences are their content words' offsets.

    .venv/bin/python bench/scale.py                                  # 1 M and 10 M (about 40 min)
    .venv/bin/python bench/scale.py --occurrences 300000 --words digit yard --tail-max 50000
    .venv/bin/python bench/scale.py --markdown                       # also a table for BENCHMARKS.md

Each index is built in its own process (peak RSS is that child's ru_maxrss, also reported
without the codec training, the steady state while appending); searches run in
another fresh process that only opens the index (its RSS is what a searching process costs
beyond a loaded model); the exhaustive scans for recall run in this process afterwards.
The indexes are kept under --workdir (delete them with --cleanup).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from senseindex.storage.store import Chunk

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "corpora" / "demo"
CLI = ROOT / ".venv" / "bin" / "senseindex"
CWSD = Path("/work/shared/data/coarsewsd20")
DIM = 768
TARGETS = (100, 10_000, 1_000_000)  # lemma sizes whose search latency is measured
DOC_SENTENCES = 20_000  # sentences per synthetic document (a book)
CHUNK_SENTENCES = 1024  # the indexer's default commit size
QUERY = "I have a [mole] on my hip"
GOALS = {"bytes_per_occurrence": 500, "edit_s": 1.0, "lemma_p50_ms": 10, "lemma_p99_ms": 50, "lemma_1m_p50_ms": 50,
         "any_p50_ms": 100, "recall": 0.95, "search_rss_mb": 500, "rss_flat": 0.10, "cli_s": 4.0}


# --- helpers ------------------------------------------------------------------------------
def proc_status() -> dict[str, float]:
    """VmRSS, VmHWM, RssAnon, RssFile of this process, in MB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def reset_peak_rss() -> bool:
    """Reset VmHWM (Linux: writing 5 to clear_refs), so a later peak excludes earlier phases."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def ru_maxrss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile of milliseconds, rounded."""
    s = sorted(values)
    return round(s[min(len(s) - 1, max(0, int(np.ceil(q / 100 * len(s))) - 1))], 2)


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64: a deterministic hash of non-negative integers (vectorised)."""
    z = np.asarray(x, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def run_child(args: list[str], log: Path) -> dict:
    """Run this script as a child process; its last stdout line is a JSON object."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    with open(log, "a") as err:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"child {' '.join(args[:2])} failed (exit {proc.returncode}); see {log}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- the real vectors and sentences ---------------------------------------------------------------
class Base:
    """Real vectors grouped by word (float16), real sentences with their content-word spans."""

    def __init__(self, path: Path) -> None:
        z = np.load(path, allow_pickle=False)
        self.pool = z["pool"]
        self.word_start, self.word_count = z["word_start"], z["word_count"]
        self.words = [str(w) for w in z["words"]]
        self.span_ptr, self.span_start, self.span_end = z["span_ptr"], z["span_start"], z["span_end"]
        self.static = z["static"]
        self.texts = json.loads(Path(str(path) + ".texts.json").read_text())

    @property
    def sentences(self) -> int:
        return len(self.texts)

    # a synthetic lemma (a 0-based Zipf rank) -> its real word and sense vectors
    def word_of(self, ranks: np.ndarray) -> np.ndarray:
        """Each rank's real word, drawn in proportion to the words' vector counts."""
        rows = mix(ranks) % np.uint64(len(self.pool))
        return np.searchsorted(self.word_start, rows.astype(np.int64), side="right") - 1

    def senses_of(self, ranks: np.ndarray, words: np.ndarray) -> np.ndarray:
        """How many senses: 12 for the top ranks, 2 fewer per factor of 10 down, at least 1."""
        n = 12 - 2 * np.floor(np.log10(np.asarray(ranks, np.float64) + 1)).astype(np.int64)
        return np.clip(np.minimum(n, self.word_count[words]), 1, None)

    def sense_rows(self, ranks: np.ndarray, words: np.ndarray, sense: np.ndarray) -> np.ndarray:
        h = mix(np.asarray(ranks, np.uint64) * np.uint64(1_000_003) + np.asarray(sense, np.uint64))
        return self.word_start[words] + (h % self.word_count[words].astype(np.uint64)).astype(np.int64)

    def occurrence_vectors(self, ranks: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
        """One vector per occurrence: a sense vector of its lemma plus noise, unit length."""
        ranks = np.asarray(ranks, np.int64)
        words = self.word_of(ranks)
        sense = rng.integers(0, self.senses_of(ranks, words))
        v = self.pool[self.sense_rows(ranks, words, sense)].astype(np.float32)
        v += rng.standard_normal(v.shape, dtype=np.float32) * np.float32(noise / np.sqrt(DIM))
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        return v

    def lemma_names(self, ranks: np.ndarray) -> list[str]:
        """Lemma names ("<real word>_<rank>"), computed each time: nothing that grows with the
        corpus is kept in the building process but what the storage layer keeps."""
        uniq, inverse = np.unique(np.asarray(ranks, np.int64), return_inverse=True)
        names = [f"{self.words[w]}_{r}" for w, r in zip(self.word_of(uniq).tolist(), uniq.tolist(), strict=True)]
        return [names[i] for i in inverse.tolist()]


def rank_of(lemma: str) -> int:
    return int(lemma.rsplit("_", 1)[1])


class Zipf:
    """Occurrence counts by lemma rank: p(r) ~ r^-s over n/40 lemmas, s chosen so that the top
    lemma gets 10% of the occurrences."""

    def __init__(self, n: int, top_share: float = 0.1, per_lemma: int = 40) -> None:
        self.lemmas = max(100, n // per_lemma)
        r = np.arange(1, self.lemmas + 1, dtype=np.float64)
        lo, hi = 0.1, 4.0
        for _ in range(60):
            s = (lo + hi) / 2
            lo, hi = (s, hi) if 1 / np.sum(r ** -s) < top_share else (lo, s)
        self.s = s
        p = r ** -s
        self.cdf = np.cumsum(p / p.sum())

    def sample(self, rng: np.random.Generator, m: int) -> np.ndarray:
        return np.minimum(np.searchsorted(self.cdf, rng.random(m), side="right"), self.lemmas - 1)


def prepare_base(args) -> dict:
    """Child: collect the real vectors (demo index, CoarseWSD-20 cache) and sentences into one file."""
    from senseindex.encoding.encoder import load_encoder, vector_identity
    from senseindex.encoding.glove import load_glove
    from senseindex.evaluation.datasets import cache_path, cached_target_vectors, read_coarsewsd
    from senseindex.storage.store import Store
    from senseindex.text.words import find_words

    t0 = time.perf_counter()
    demo = Path(args.demo_index)
    if not Store.is_index(demo):
        say(f"building the demo index at {demo}")
        subprocess.run([str(CLI), "index", str(DEMO), "--index", str(demo), "-q"], check=True,
                       stdout=subprocess.DEVNULL)
    store = Store.open(demo)
    words, chunks, texts = [], [], []
    for (lemma,) in store.db.execute("select lemma from lemmas where count > 0 order by lemma").fetchall():
        _, v = store.lemma_vectors(lemma)
        if len(v):
            words.append(lemma)
            chunks.append(v.astype(np.float16))
    demo_vectors = sum(len(c) for c in chunks)
    texts += [r[0] for r in store.db.execute("select text from sentences order by id")]

    encoder, cwsd = load_encoder(), {}
    for word in args.words:
        parts = []
        for split in ("train", "test"):
            data = read_coarsewsd(CWSD, word, split)
            texts += data.texts
            cached = cache_path(f"{data.word}-{data.split}", [vector_identity(encoder), data.texts, data.spans], ".npy")
            have = sum(len(p) for p in parts)
            want = None if args.base_vectors is None else max(0, args.base_vectors - have)
            if cached.exists() or want is None:
                say(f"{word} {split}: {'cached' if cached.exists() else 'encoding (then cached)'}")
                vecs = cached_target_vectors(encoder, data)[:want]
            elif want:  # a capped quick run: encode only what is used, outside the cache
                say(f"{word} {split}: encoding {min(want, len(data.texts))} (not cached)")
                vecs = np.concatenate(encoder.word_vectors(data.texts[:want], [[s] for s in data.spans[:want]]))
            else:
                vecs = np.zeros((0, DIM), np.float32)
            parts.append(vecs)
        v = np.concatenate(parts)
        cwsd[word] = len(v)
        if len(v):
            words.append(f"cwsd.{word}")
            chunks.append(v.astype(np.float16))
    counts = np.array([len(c) for c in chunks], np.int64)

    glove = load_glove()
    spans, static = [], []
    for t in texts:
        found = find_words(t)
        spans.append([(s, e) for s, e, _ in found])
        static.append(glove.mean_vector(w for _, _, w in found))
    ptr = np.zeros(len(texts) + 1, np.int64)
    ptr[1:] = np.cumsum([len(s) for s in spans])
    flat = np.array([x for s in spans for x in s], np.int32).reshape(-1, 2)
    out = Path(args.base)
    np.savez(out, pool=np.concatenate(chunks), word_start=np.concatenate([[0], np.cumsum(counts)[:-1]]),
             word_count=counts, words=np.array(words), span_ptr=ptr, span_start=flat[:, 0], span_end=flat[:, 1],
             static=np.stack(static).astype(np.float16))
    Path(str(out) + ".texts.json").write_text(json.dumps(texts))
    return {"real_vectors": int(counts.sum()), "demo_vectors": demo_vectors, "demo_lemmas": len(words) - len(cwsd),
            "coarsewsd_vectors": cwsd, "sentences": len(texts), "spans_per_sentence": round(len(flat) / len(texts), 2),
            "seconds": round(time.perf_counter() - t0, 1)}


# --- building (child) ----------------------------------------------------------------------------
class StubEncoder:
    """The identity of the default model; never encodes (the vectors are synthetic)."""

    name = "sentence-transformers/all-mpnet-base-v2"
    layer = "last"
    dim = DIM
    precision = "bf16"
    max_length = 384

    def word_vectors(self, texts, spans):  # noqa: ARG002 (the WordEncoder protocol)
        raise RuntimeError("the scale benchmark never encodes")


def build(args) -> dict:
    """Child: write `args.occurrences` synthetic occurrences into a new index, as the indexer does."""
    from senseindex.encoding.glove import load_glove
    from senseindex.indexer import Indexer
    from senseindex.sense_index import SenseIndex
    from senseindex.storage.store import Chunk

    base = Base(Path(args.base))
    glove = load_glove()
    zipf = Zipf(args.occurrences)
    rng = np.random.default_rng(args.seed)
    words_of = [[t[s:e].lower() for s, e in zip(base.span_start[base.span_ptr[i]:base.span_ptr[i + 1]],
                                                  base.span_end[base.span_ptr[i]:base.span_ptr[i + 1]], strict=True)]
                for i, t in enumerate(base.texts)]
    rss_start = proc_status()
    t0 = time.perf_counter()
    si = SenseIndex.open_or_create(args.index, encoder=StubEncoder(), codec=args.codec, tail_max=args.tail_max)
    store = si.store
    done, sentences, doc_id, ordinal = 0, 0, None, 0
    t_append = t_maintain = 0.0
    trained_at, reset, samples = None, False, []
    with store.lock():
        db = store.db
        while done < args.occurrences:
            picked = rng.integers(0, base.sentences, CHUNK_SENTENCES)
            counts = base.span_ptr[picked + 1] - base.span_ptr[picked]
            total = int(counts.sum())
            if done + total > args.occurrences:  # the last chunk: cut at the sentence that fills it
                keep = int(np.searchsorted(np.cumsum(counts), args.occurrences - done)) + 1
                picked, counts = picked[:keep], counts[:keep]
                total = int(counts.sum())
            rows_in_chunk, docs = [], {}
            for b in picked:
                if doc_id is None or ordinal == DOC_SENTENCES:
                    if doc_id is not None:
                        docs[doc_id] = (ordinal, True)
                    with db.conn:
                        doc_id = db["documents"].insert({
                            "path": f"synthetic/part-{sentences // DOC_SENTENCES:05d}.txt",
                            "sha256": f"{args.seed:08x}{sentences:056x}", "format": "txt", "status": "partial",
                            "sentences": 0, "added": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())}).last_pk
                    ordinal = 0
                ordinal += 1
                sentences += 1
                rows_in_chunk.append((doc_id, ordinal, ordinal, None, base.texts[b]))
                docs[doc_id] = (ordinal, False)
            first = np.repeat(base.span_ptr[picked], counts)
            within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
            span = first + within
            sent = np.repeat(np.arange(len(picked)), counts)
            if done + total > args.occurrences:
                span, sent = span[: args.occurrences - done], sent[: args.occurrences - done]
                total = len(span)
            ranks = zipf.sample(rng, total)
            vocab = Counter()
            for b in picked:
                vocab.update(words_of[b])
            chunk = Chunk(
                sentences=rows_in_chunk, static=base.static[picked],
                occurrences=list(zip(sent.tolist(), base.span_start[span].tolist(), base.span_end[span].tolist(),
                                     [None] * total, base.lemma_names(ranks), strict=True)),
                vectors=base.occurrence_vectors(ranks, rng, args.noise), vocab=vocab, documents=docs,
                in_glove=glove.__contains__)
            if done + total >= args.occurrences:
                chunk.documents[doc_id] = (ordinal, True)
            t = time.perf_counter()
            store.append(chunk)
            t_append += time.perf_counter() - t
            t = time.perf_counter()
            store.maintain()
            t_maintain += time.perf_counter() - t
            done += total
            if trained_at is None and store.vectors.codec.trained:
                trained_at = {"occurrences": done, "seconds": round(time.perf_counter() - t0, 1),
                              "peak_mb_so_far": proc_status()}
                reset = reset_peak_rss()  # steady-state peak from here on
            if len(samples) < 200 and done >= (len(samples) + 1) * args.occurrences / 20:
                samples.append({"occurrences": done, "s": round(time.perf_counter() - t0, 1), **proc_status()})
        Indexer(store, None, glove)._save_vocab_index()
    build_s = time.perf_counter() - t0
    vs = store.vectors
    lemma_counts = store.db.execute("select lemma, count from lemmas where count > 0").fetchall()
    targets = {}
    for goal in TARGETS:
        lemma, count = min(lemma_counts, key=lambda x: (abs(np.log(x[1] / goal)), rank_of(x[0])))
        targets[str(goal)] = {"lemma": lemma, "count": count, "rank": rank_of(lemma)}
    end = proc_status()
    peak = max(ru_maxrss_mb(), (trained_at or {}).get("peak_mb_so_far", {}).get("VmHWM", 0))  # reset clears both
    store.db.conn.close()
    return {"occurrences": done, "sentences": sentences, "lemmas": len(lemma_counts), "zipf_s": round(zipf.s, 4),
            "build_s": round(build_s, 1), "occurrences_per_s": round(done / build_s),
            "append_s": round(t_append, 1), "maintain_s": round(t_maintain, 1), "codec_trained": trained_at,
            "segments": [vs.segment(g)[0].rows for g in vs.state.segments], "tail_rows": vs.state.tail_rows,
            "nlist": vs.codec.nlist, "rss_start_mb": rss_start.get("VmRSS"),
            "peak_rss_mb": peak, "steady_peak_rss_mb": end.get("VmHWM") if reset else None,
            "rss_end": end, "rss_samples": samples, "targets": targets,
            "largest_lemmas": sorted((c for _, c in lemma_counts), reverse=True)[:5]}


# --- removing and replacing a document (child) ---------------------------------------------------
EDIT_SENTENCES = 1000  # sentences of the document removed and of the one replaced
EDIT_REPEATS = 3


def doc_chunk(base: Base, zipf: Zipf, rng: np.random.Generator, glove, doc_id: int, picked: np.ndarray,
              noise: float) -> Chunk:
    """One whole document of the given base sentences as a chunk of synthetic occurrences."""
    from senseindex.storage.store import Chunk

    counts = base.span_ptr[picked + 1] - base.span_ptr[picked]
    total = int(counts.sum())
    span = np.repeat(base.span_ptr[picked], counts) + np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    sent = np.repeat(np.arange(len(picked)), counts)
    ranks = zipf.sample(rng, total)
    return Chunk(sentences=[(doc_id, i + 1, i + 1, None, base.texts[b]) for i, b in enumerate(picked)],
                 static=base.static[picked],
                 occurrences=list(zip(sent.tolist(), base.span_start[span].tolist(), base.span_end[span].tolist(),
                                      [None] * total, base.lemma_names(ranks), strict=True)),
                 vectors=base.occurrence_vectors(ranks, rng, noise), documents={doc_id: (len(picked), True)},
                 in_glove=glove.__contains__)


def edit(args) -> dict:
    """Child: time removing one 1,000-sentence document and replacing one with a changed version
    (10% of its sentences changed; 100 reviewed labels, carried where their sentence is unchanged),
    as `senseindex remove` and re-indexing a changed file do, minus the forward pass of the new
    version (synthetic vectors). Each is repeated and the median reported."""
    from senseindex.encoding.glove import load_glove
    from senseindex.storage.documents import remove_document, replace_document
    from senseindex.storage.labels import set_labels
    from senseindex.storage.store import Store

    base, glove = Base(Path(args.base)), load_glove()
    zipf, rng = Zipf(args.occurrences), np.random.default_rng(args.seed + 7)
    store = Store.open(args.index)
    times: dict[str, list[float]] = {"remove_s": [], "replace_s": [], "add_s": [], "replace_write_s": [],
                                     "replace_carry_remove_s": []}
    occurrences = []
    with store.lock():
        db = store.db

        def add(path: str, picked: np.ndarray) -> int:
            with db.conn:
                doc = db["documents"].insert({"path": path, "sha256": f"{rng.integers(1 << 62):064x}", "format": "txt",
                                              "status": "partial", "sentences": 0, "added": "2026-01-01T00:00:00+00:00"
                                              }).last_pk
            chunk = doc_chunk(base, zipf, rng, glove, doc, picked, args.noise)
            t = time.perf_counter()
            store.append(chunk)
            store.maintain()
            times["add_s"].append(time.perf_counter() - t)
            return doc

        def labelled(doc: int) -> None:
            ids = [r[0] for r in db.execute("select o.id from occ o join sentences s on s.id = o.sentence_id "
                                            "where s.document_id = ? limit 100", [doc])]
            set_labels(db, [(i, "sense-a") for i in ids], "review")

        for r in range(EDIT_REPEATS):
            picked = rng.integers(0, base.sentences, EDIT_SENTENCES)
            doc = add(f"edit/removed-{r}.txt", picked)
            labelled(doc)
            t = time.perf_counter()
            out = remove_document(db, doc)
            store.maintain()
            times["remove_s"].append(time.perf_counter() - t)
            occurrences.append(out["occurrences"])
            old = add(f"edit/replaced-{r}.txt", picked)
            labelled(old)
            changed = picked.copy()
            changed[rng.choice(EDIT_SENTENCES, EDIT_SENTENCES // 10, replace=False)] = rng.integers(
                0, base.sentences, EDIT_SENTENCES // 10)
            new = add(f"edit/replaced-{r}.txt.new", changed)  # (timed inside, from the chunk written)
            write = times["add_s"][-1]
            t = time.perf_counter()
            with db.conn:
                db.conn.execute("update documents set path = ? where id = ?", [f"edit/replaced-{r}.txt~", old])
                db.conn.execute("update documents set path = ? where id = ?", [f"edit/replaced-{r}.txt", new])
            replace_document(db, old, new)
            store.maintain()
            rest = time.perf_counter() - t
            times["replace_write_s"].append(write)
            times["replace_carry_remove_s"].append(rest)
            times["replace_s"].append(write + rest)
    return {"sentences": EDIT_SENTENCES, "repeats": EDIT_REPEATS, "occurrences_per_document": occurrences,
            **{f"{k[:-2]}_median_s": round(statistics.median(v), 3) for k, v in times.items()},
            "seconds": {k: [round(x, 3) for x in v] for k, v in times.items()},
            "note": "replace = writing the new version (no forward pass) + carrying labels + removing the old one"}


# --- searching (child) ---------------------------------------------------------------------
class FixedVector:
    """An encoder that returns the prepared query vector: contextual_search minus the forward pass."""

    def __init__(self) -> None:
        self.vec = None

    def word_vectors(self, texts, spans):  # noqa: ARG002 (the WordEncoder protocol)
        return [self.vec[None, :]]


def search(args) -> dict:
    """Child: open the index read-only and time searches; report this process's memory."""
    rss_import = proc_status()
    from senseindex.senses.search import Target, contextual_search
    from senseindex.storage.store import Store

    rss_import = {"before_imports": rss_import, "after_imports": proc_status()}
    q = np.load(args.queries_file, allow_pickle=False)
    spec = json.loads(Path(args.queries_file + ".json").read_text())
    store = Store.open(args.index)
    vs = store.vectors
    rss_open = proc_status()
    out = {"lemma": {}, "any_word": {}}
    enc = FixedVector()
    for key, t in spec["targets"].items():
        lid = store.lemma_id(t["lemma"])
        qs = q[f"lemma_{key}"]
        target = Target(t["lemma"], 0, len(t["lemma"]), t["lemma"], t["lemma"], "marked")
        for x in qs[: args.warmup]:
            store.vectors.search(x, k=10, lemma_id=lid, exclude=store.removed(lid))
        lat, full, found = [], [], []
        for x in qs:
            t0 = time.perf_counter()
            hits = store.vectors.search(x, k=10, lemma_id=lid, exclude=store.removed(lid))
            lat.append(1000 * (time.perf_counter() - t0))
            found.append(len(hits))
        for x in qs:
            enc.vec = x
            t0 = time.perf_counter()
            hits = contextual_search(store, enc, target, k=10)
            full.append(1000 * (time.perf_counter() - t0))
        out["lemma"][key] = {**t, "queries": len(qs), "hits_min": min(found),
                             "vectors_p50_ms": pct(lat, 50), "vectors_p99_ms": pct(lat, 99),
                             "full_p50_ms": pct(full, 50), "full_p99_ms": pct(full, 99),
                             "full_hits_example": [(h.occurrence_id, h.word, h.score) for h in hits[:3]]}
    qa = q["any"]
    for nprobe in args.nprobe:
        for x in qa[: args.warmup]:
            vs.search(x, k=10, nprobe=nprobe)
        lat, ids = [], []
        for x in qa:
            t0 = time.perf_counter()
            hits = store.vectors.search(x, k=10, exclude=store.removed(), nprobe=nprobe)
            lat.append(1000 * (time.perf_counter() - t0))
            ids.append([[i, s] for i, s in hits])
        out["any_word"][str(nprobe)] = {"p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99), "hits": ids}
    full = []
    for x in qa:
        enc.vec = x
        t0 = time.perf_counter()
        contextual_search(store, enc, Target("x", 0, 1, "x", "x", "marked"), k=10, any_word=True)
        full.append(1000 * (time.perf_counter() - t0))
    out["any_word_full_default_nprobe"] = {"p50_ms": pct(full, 50), "p99_ms": pct(full, 99)}
    out["rss"] = {**rss_import, "after_open": rss_open, "after_searches": proc_status(), "ru_maxrss_mb": ru_maxrss_mb()}
    return out


# --- the parent -------------------------------------------------------------------------------
def make_queries(base: Base, build_result: dict, path: Path, n: int, seed: int, noise: float, occurrences: int) -> None:
    """Fresh perturbations of lemmas' sense vectors: per target lemma, and for any-word search
    the lemmas of random occurrences (Zipf-distributed, like the corpus)."""
    arrays, rng = {}, np.random.default_rng(seed + 1)
    for key, t in build_result["targets"].items():
        arrays[f"lemma_{key}"] = base.occurrence_vectors(np.full(n, t["rank"]), rng, noise)
    arrays["any"] = base.occurrence_vectors(Zipf(occurrences).sample(rng, n), rng, noise)
    np.savez(path, **arrays)
    Path(str(path) + ".json").write_text(json.dumps({"targets": build_result["targets"]}))


def exhaustive(index: Path, queries: np.ndarray, k: int = 10, rows: int = 1 << 20) -> tuple[list, float]:
    """The exact top k of each query over every stored code (segments and tail), by
    `codec.top` on chunks of `rows` codes: the ground truth of any-word recall."""
    from senseindex.storage.store import Store

    store = Store.open(index)
    vs = store.vectors
    parts = [(run._codes, run._ids) for run in (vs.segment(g)[0] for g in vs.state.segments)]
    tail = vs.tail_codes()
    parts.append((tail, np.arange(len(tail), dtype=np.int64) + vs.state.tail_first_id))
    best = [(np.zeros(0, np.float32), np.zeros(0, np.int64)) for _ in queries]
    t0 = time.perf_counter()
    for codes, ids in parts:
        for lo in range(0, len(codes), rows):
            c = np.ascontiguousarray(codes[lo:lo + rows])
            i = np.asarray(ids[lo:lo + rows], np.int64)
            for j, q in enumerate(queries):
                s, p = vs.codec.top(q, c, k)
                bs, bi = np.concatenate([best[j][0], s]), np.concatenate([best[j][1], i[p]])
                order = np.argsort(-bs, kind="stable")[:k]
                best[j] = (bs[order], bi[order])
    return best, time.perf_counter() - t0


def recall(approx: list, exact: list) -> tuple[float, float]:
    """(strict, tie-aware) recall@k: the share of the exact top k found; tie-aware also counts
    a found hit scoring as high as the exact k-th (equal codes score equally)."""
    strict, ties = [], []
    for hits, (es, ei) in zip(approx, exact, strict=True):
        want = set(ei.tolist())
        got = {int(i) for i, _ in hits}
        kth = float(es[-1]) - 1e-5
        strict.append(len(got & want) / len(want))
        ties.append(min(len(want), sum(1 for i, s in hits if int(i) in want or s >= kth)) / len(want))
    return round(float(np.mean(strict)), 4), round(float(np.mean(ties)), 4)


def folder_bytes(path: Path) -> dict:
    """Bytes of every file in the folder, by kind (generation numbers left out)."""
    kinds = Counter()
    for f in path.rglob("*"):
        if f.is_file():
            kinds[re.sub(r"-\d+", "", f.name)] += f.stat().st_size
    return dict(sorted(kinds.items()))


PHASES = """
import json, sys, time
t0, phases = time.perf_counter(), {}
def mark(name):
    global t0
    t = time.perf_counter()
    phases[name] = round(t - t0, 2)
    t0 = t
import senseindex.cli
mark("import senseindex.cli")
from senseindex import SenseIndex
si = SenseIndex.open(sys.argv[1])
mark("open the index")
import torch
mark("import torch")
import transformers
from transformers import AutoModel
mark("import transformers")
si.encoder
mark("load the model")
si.search(sys.argv[2])
mark("first search (encode the query, search)")
print(json.dumps(phases))
"""


def import_summary(stderr: str, top: int = 8) -> tuple[float, dict[str, int]]:
    """(total ms, ms per top-level package) from `python -X importtime` output: each package's
    largest cumulative time (its first import, which includes its own imports)."""
    per, total = {}, 0.0
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if not m:
            continue
        ms = int(m.group(2)) / 1000
        if not m.group(3):
            total += ms
        root = m.group(4).split(".")[0]
        per[root] = max(per.get(root, 0), ms)
    return round(total), {k: round(v) for k, v in sorted(per.items(), key=lambda x: -x[1])[:top]}


def cold_cli(demo: Path, runs: int = 3) -> dict:
    """`senseindex search` on the demo from a fresh process, `runs` times (the index and model
    files are in the OS page cache: a cold process, not a cold disk), with what the time goes to."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run([str(CLI), "search", str(demo), QUERY], capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if p.returncode != 0:
            raise SystemExit(f"senseindex search failed: {p.stderr.strip()[-500:]}")
    cli_import = subprocess.run([sys.executable, "-X", "importtime", "-c", "import senseindex.cli"],
                                capture_output=True, text=True, check=True).stderr
    full = subprocess.run([sys.executable, "-X", "importtime", "-c", "from senseindex.cli import cli; cli()",
                           "search", str(demo), QUERY], capture_output=True, text=True, check=True).stderr
    phases = subprocess.run([sys.executable, "-c", PHASES, str(demo), QUERY], capture_output=True, text=True, check=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare = time.perf_counter() - t0
    cli_ms, cli_top = import_summary(cli_import)
    all_ms, all_top = import_summary(full)
    return {"query": QUERY, "runs_s": [round(x, 2) for x in times], "median_s": round(statistics.median(times), 2),
            "python_startup_s": round(bare, 3), "import_senseindex_cli_ms": cli_ms, "import_senseindex_cli_top_ms": cli_top,
            "imports_during_search_ms": all_ms, "imports_during_search_top_ms": all_top,
            "phases_s": json.loads(phases.stdout.strip().splitlines()[-1])}


def measure_scale(args, n: int, base: Base, work: Path, log: Path) -> dict:
    index = work / f"idx-{n}"
    if index.exists():
        shutil.rmtree(index)
    say(f"building {n:,} occurrences into {index}")
    built = run_child(["--child", "build", "--index", str(index), "--occurrences", str(n), "--base", str(args.base),
                       "--seed", str(args.seed), "--noise", str(args.noise), "--codec", args.codec]
                      + (["--tail-max", str(args.tail_max)] if args.tail_max else []), log)
    sizes = folder_bytes(index)
    disk = sum(sizes.values())
    say(f"built in {built['build_s']} s, {disk / n:.1f} B/occurrence; searching")
    qpath = work / f"queries-{n}.npz"
    make_queries(base, built, qpath, args.queries, args.seed, args.noise, n)
    found = run_child(["--child", "search", "--index", str(index), "--queries-file", str(qpath), "--warmup",
                       str(args.warmup), "--nprobe", *map(str, args.nprobe)], log)
    say("exhaustive scan for recall")
    exact, scan_s = exhaustive(index, np.load(qpath)["any"])
    for r in found["any_word"].values():
        r["recall_at_10"], r["recall_at_10_ties"] = recall(r.pop("hits"), exact)
    found["exhaustive_scan_s_per_query"] = round(scan_s / len(exact), 3)
    say("removing and replacing a 1,000-sentence document")
    try:  # last, as it changes the index; a failure here keeps the figures above
        edits = run_child(["--child", "edit", "--index", str(index), "--occurrences", str(n), "--base",
                           str(args.base), "--seed", str(args.seed), "--noise", str(args.noise)], log)
    except SystemExit as exc:
        edits = {"error": str(exc)}
    return {"occurrences": n, "build": built, "edit": edits, "disk_bytes": disk, "disk_bytes_by_kind": sizes,
            "bytes_per_occurrence": round(disk / n, 1), "search": found, "index": str(index)}


def goals(big: dict, small: dict | None, cli: dict | None) -> list[dict]:
    g, out = GOALS, []
    n = f"{big['occurrences'] / 1e6:g} M"

    def add(measure, goal, result, met):
        out.append({"measure": measure, "goal": goal, "result": result, "met": bool(met)})

    add("disk per occurrence (whole folder, default codec)", f"<= {g['bytes_per_occurrence']} B",
        f"{big['bytes_per_occurrence']} B", big["bytes_per_occurrence"] <= g["bytes_per_occurrence"])
    for key, t in big["search"]["lemma"].items():
        p50, p99 = t["vectors_p50_ms"], t["vectors_p99_ms"]
        res = f"{t['lemma']} ({t['count']:,}): p50 {p50} ms, p99 {p99} ms (with SQL join: {t['full_p50_ms']} / {t['full_p99_ms']})"
        if key == "1000000":
            add(f"same-lemma search at {n}, lemma of ~1 M", f"p50 <= {g['lemma_1m_p50_ms']} ms", res,
                p50 <= g["lemma_1m_p50_ms"])
        else:
            add(f"same-lemma search at {n}, lemma of ~{int(key):,}",
                f"p50 <= {g['lemma_p50_ms']} ms, p99 <= {g['lemma_p99_ms']} ms", res,
                p50 <= g["lemma_p50_ms"] and p99 <= g["lemma_p99_ms"])
    anyw = big["search"]["any_word"]
    ok = [(int(k), v) for k, v in anyw.items() if v["recall_at_10_ties"] >= g["recall"]]
    best = min(ok, key=lambda x: x[1]["p50_ms"]) if ok else None
    add(f"any-word search at {n}, recall@10 >= {g['recall']}", f"p50 <= {g['any_p50_ms']} ms",
        (f"nprobe {best[0]}: p50 {best[1]['p50_ms']} ms, recall {best[1]['recall_at_10_ties']}" if best else
         "no nprobe reached the recall: " + ", ".join(f"{k}: {v['recall_at_10_ties']}" for k, v in anyw.items())),
        best is not None and best[1]["p50_ms"] <= g["any_p50_ms"])
    rss = big["search"]["rss"]
    add(f"RSS of a searching process at {n} (no model loaded)", f"<= {g['search_rss_mb']} MB",
        f"peak {rss['ru_maxrss_mb']} MB (after searches: {rss['after_searches']['RssAnon']} MB anonymous + "
        f"{rss['after_searches']['RssFile']} MB mapped files)", rss["ru_maxrss_mb"] <= g["search_rss_mb"])
    if small:
        a, b = small["build"], big["build"]
        grow = b["peak_rss_mb"] / a["peak_rss_mb"] - 1
        steady = (b["steady_peak_rss_mb"] / a["steady_peak_rss_mb"] - 1) if a.get("steady_peak_rss_mb") else None
        add(f"RSS while indexing {small['occurrences'] / 1e6:g} M vs {n}", f"within {g['rss_flat']:.0%}",
            f"peak {a['peak_rss_mb']} vs {b['peak_rss_mb']} MB ({grow:+.1%}); after codec training "
            f"{a['steady_peak_rss_mb']} vs {b['steady_peak_rss_mb']} MB"
            + (f" ({steady:+.1%})" if steady is not None else ""),
            grow <= g["rss_flat"] and (steady is None or steady <= g["rss_flat"]))
    for scale in (small, big):
        e = (scale or {}).get("edit")
        if not e:
            continue
        at = f"{scale['occurrences'] / 1e6:g} M"
        if "error" in e:
            add(f"remove / replace a {EDIT_SENTENCES:,}-sentence document at {at}", f"<= {g['edit_s']} s each",
                f"not measured: {e['error']}", False)
            continue
        add(f"remove a {e['sentences']:,}-sentence document at {at}", f"<= {g['edit_s']} s",
            f"median {e['remove_median_s']} s of {e['seconds']['remove_s']}", e["remove_median_s"] <= g["edit_s"])
        add(f"replace a {e['sentences']:,}-sentence document at {at} (no forward pass)", f"<= {g['edit_s']} s",
            f"median {e['replace_median_s']} s of {e['seconds']['replace_s']}", e["replace_median_s"] <= g["edit_s"])
    if cli:
        add("cold CLI search on the demo (process start to result)", f"<= {g['cli_s']} s",
            f"median {cli['median_s']} s of {cli['runs_s']}", cli["median_s"] <= g["cli_s"])
    return out


def markdown(summary: dict) -> str:
    lines = [f"Measured {summary['date']} on {summary['machine']}; reproduce: `{summary['command']}` "
             f"({summary['runtime_s'] / 60:.0f} min).", "", "| measure | goal | result | met |", "|---|---|---|---|"]
    lines += [f"| {g['measure']} | {g['goal']} | {g['result']} | {'yes' if g['met'] else '**no**'} |"
              for g in summary["goals"]]
    big = summary["scales"][-1]
    lines += ["", f"At {big['occurrences']:,} occurrences: build {big['build']['build_s']:,} s "
              f"({big['build']['occurrences_per_s']:,} occurrences/s), any-word search by nprobe:", "",
              "| nprobe | p50 ms | p99 ms | recall@10 (ties) | recall@10 (strict ids) |", "|---:|---:|---:|---:|---:|"]
    lines += [f"| {k} | {v['p50_ms']} | {v['p99_ms']} | {v['recall_at_10_ties']} | {v['recall_at_10']} |"
              for k, v in big["search"]["any_word"].items()]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--occurrences", type=int, default=10_000_000, help="Occurrences in the big index.")
    ap.add_argument("--small", type=int, default=None,
                    help="Occurrences in the index compared for memory (default: a tenth of --occurrences).")
    ap.add_argument("--words", nargs="+", default=None, help="CoarseWSD-20 words to take vectors from (default all 20).")
    ap.add_argument("--base-vectors", type=int, default=None,
                    help="At most this many CoarseWSD-20 vectors per word (uncached ones are encoded, not cached).")
    ap.add_argument("--demo-index", default="/tmp/demo-idx", help="A demo index (built here if missing).")
    ap.add_argument("--workdir", default="/tmp/senseindex-scale", help="Where the indexes are built.")
    ap.add_argument("--codec", default=None, help="Vector codec (default: senseindex's DEFAULT_CODEC).")
    ap.add_argument("--noise", type=float, default=0.5, help="Norm of the noise added to a unit sense vector.")
    ap.add_argument("--tail-max", type=int, default=None,
                    help="Rows in the tail before a segment is written (default: the store's; smaller exercises merges).")
    ap.add_argument("--queries", type=int, default=120, help="Timed queries per measurement.")
    ap.add_argument("--warmup", type=int, default=10, help="Untimed queries before each measurement.")
    ap.add_argument("--nprobe", type=int, nargs="+", default=[8, 16, 32, 64, 128], help="Any-word nprobe values.")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-cli", action="store_true", help="Skip the cold CLI search.")
    ap.add_argument("--cli-only", action="store_true", help="Only the cold CLI search on the demo index.")
    ap.add_argument("--cleanup", action="store_true", help="Delete the indexes at the end.")
    ap.add_argument("--markdown", action="store_true", help="Also print a table for BENCHMARKS.md (before the JSON).")
    ap.add_argument("--markdown-from", metavar="JSON", help="Only print the table of a saved summary (this script's output).")
    ap.add_argument("--child", choices=["base", "build", "search", "edit"], help=argparse.SUPPRESS)
    ap.add_argument("--index", help=argparse.SUPPRESS)
    ap.add_argument("--base", help=argparse.SUPPRESS)
    ap.add_argument("--queries-file", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.markdown_from:
        print(markdown(json.loads(Path(args.markdown_from).read_text().strip().splitlines()[-1])))
        return
    if args.codec is None:
        from senseindex.sense_index import DEFAULT_CODEC

        args.codec = DEFAULT_CODEC
    if args.child:
        result = {"base": prepare_base, "build": build, "search": search, "edit": edit}[args.child](args)
        print(json.dumps(result))
        return

    if args.cli_only:
        print(json.dumps({"date": date.today().isoformat(), "cold_cli": cold_cli(Path(args.demo_index))}))
        return
    from senseindex.evaluation.datasets import COARSEWSD_WORDS

    t0 = time.time()
    args.words = args.words or list(COARSEWSD_WORDS)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    log = work / "children.log"
    log.write_text("")
    args.base = str(work / "base.npz")
    say(f"collecting real vectors ({', '.join(args.words)}); children log to {log}")
    base_args = ["--child", "base", "--base", args.base, "--demo-index", args.demo_index, "--words", *args.words]
    if args.base_vectors is not None:
        base_args += ["--base-vectors", str(args.base_vectors)]
    base_info = run_child(base_args, log)
    base = Base(Path(args.base))
    small_n = args.small if args.small is not None else args.occurrences // 10
    scales = []
    for n in sorted({small_n, args.occurrences}):
        if n > 0:
            scales.append(measure_scale(args, n, base, work, log))
    cli = None
    if not args.skip_cli:
        say("cold CLI search on the demo")
        cli = cold_cli(Path(args.demo_index))
    big = scales[-1]
    small = scales[0] if len(scales) > 1 else None
    command = " ".join(["bench/scale.py", *sys.argv[1:]])
    summary = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
        "command": f".venv/bin/python {command}", "codec": args.codec, "noise": args.noise,
        "queries": args.queries, "base": base_info,
        "goals": goals(big, small, cli), "scales": scales, "cold_cli": cli,
        "runtime_s": round(time.time() - t0),
    }
    if args.cleanup:
        for s in scales:
            shutil.rmtree(s["index"], ignore_errors=True)
    if args.markdown:
        print(markdown(summary))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
