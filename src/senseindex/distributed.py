"""Distributed indexing on Ray: encoder actors on many machines, one index written by the driver.

Why this shape: encoding is almost all of the cost of indexing (BENCHMARKS.md), and it is
embarrassingly parallel; writing the index is cheap and must be ordered. So Ray Data reads the
files and splits them into shards of consecutive sentences (one read task per file), a pool of
encoder actors (one model load each) turns each shard into the rows the local path would write
(`indexer.encode_chunk`, the same function), and the driver stores every finished shard in a
staging folder inside the index. As soon as the next shard in plan order (document, then
sentence, then offset) exists, the driver appends it through `Store.append`, exactly as the
local path does, so ids and the trained codec do not depend on how many workers ran or which
finished first, and the merge overlaps the encoding.

A shard is named by its file's content hash and sentence range, and is written whole or not at
all (its JSON part is renamed into place last), so a killed job keeps its finished shards and the
next run encodes only what is missing. Shards hold npy arrays and JSON, never pickles. The staging
folder is removed when the job has been merged.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from senseindex.encoding.glove import Glove
from senseindex.errors import SenseIndexError
from senseindex.indexer import (
    IndexReport,
    PlannedFile,
    Progress,
    commit_chunk,
    encode_chunk,
    save_vocab_index,
    start_documents,
    stream_sentences,
)
from senseindex.storage.store import Chunk, Store
from senseindex.text.corpus import ReadOptions, Sentence, Token

STAGING = "staging"  # folder inside the index
STAGING_FORMAT = "1"
SHARD_SENTENCES = 256  # small enough to spread a few files over many workers, large enough to batch well
INSTALL_HINT = "--engine ray needs Ray: pip install 'senseindex[ray]' (or: pip install 'ray[data]')"


def require_ray():
    """The ray module, or the one-line install hint (Ray is an optional extra)."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise SenseIndexError(INSTALL_HINT) from None
    return ray


@dataclass
class JobProgress:
    """Where a distributed job stands, for the driver's progress display."""

    stage: str  # "encode" (workers) or "merge" (the driver writes the index)
    files_done: int
    files: int
    sentences: int
    sentences_total: int
    occurrences: int
    tokens: int  # subword tokens the workers encoded
    seconds: float
    merged: int = 0  # sentences already written to the index

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


# --- shards ------------------------------------------------------------------------------
def shard_ranges(item: PlannedFile, shard_sentences: int) -> list[tuple[int, int]]:
    """(first, last) sentence ordinals of a file's shards still to index: fixed boundaries
    (k*size+1 ... (k+1)*size), the first one cut to start after what is already committed."""
    out = []
    for lo in range(0, item.sentences, shard_sentences):
        first, last = lo + 1, min(lo + shard_sentences, item.sentences)
        if last > item.done_before:
            out.append((max(first, item.done_before + 1), last))
    return out


def shard_name(sha256: str, first: int, last: int) -> str:
    return f"{sha256[:32]}-{first:010d}-{last:010d}"


def sentence_json(s: Sentence) -> list:
    tokens = None if s.tokens is None else [[t.start, t.end, t.word, t.lemma, t.sense, t.pos, t.upos]
                                            for t in s.tokens]
    return [s.text, s.line, s.section, tokens, s.meta, s.layout, s.needs_tags]


def sentence_from_json(row: list) -> Sentence:
    text, line, section, tokens, *rest = row
    return Sentence(text, line, section, None if tokens is None else [Token(*t) for t in tokens], *rest)


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def shard_payload(chunk: Chunk, tokens: int, dtype: str) -> dict:
    """A worker's encoded shard as plain bytes and JSON (what travels back to the driver)."""
    meta = {"sentences": chunk.sentences, "occurrences": chunk.occurrences, "gold": chunk.gold,
            "vocab": dict(chunk.vocab), "tokens": tokens}
    return {"vectors": _npy_bytes(np.asarray(chunk.vectors, dtype)),
            "static": _npy_bytes(np.asarray(chunk.static, np.float16)), "meta": json.dumps(meta)}


class Staging:
    """Finished shards of one job inside the index folder; a job with other settings (model,
    layer, reading options, shard size) starts from an empty folder."""

    def __init__(self, index: Path, job: dict) -> None:
        self.path = index / STAGING
        job_file = self.path / "job.json"
        job = json.loads(json.dumps(job))  # as it reads back (a tuple option is a list in JSON)
        if self.path.exists() and (not job_file.is_file() or json.loads(job_file.read_text()) != job):
            shutil.rmtree(self.path)
        self.path.mkdir(exist_ok=True)
        if not job_file.is_file():
            _write_atomic(job_file, json.dumps(job).encode())

    def done(self, name: str) -> bool:
        return (self.path / f"{name}.json").is_file()

    def write(self, name: str, payload: dict) -> None:
        """Arrays first, the JSON last: a shard without its JSON is unfinished and ignored."""
        _write_atomic(self.path / f"{name}.vectors.npy", payload["vectors"])
        _write_atomic(self.path / f"{name}.static.npy", payload["static"])
        _write_atomic(self.path / f"{name}.json", payload["meta"].encode())

    def read(self, name: str, doc_id: int, first: int, finished: bool, glove: Glove) -> Chunk:
        meta = json.loads((self.path / f"{name}.json").read_text())
        sentences = [(doc_id, first + i, *row) for i, row in enumerate(meta["sentences"])]
        return Chunk(
            sentences=sentences,
            static=np.load(self.path / f"{name}.static.npy", allow_pickle=False),
            occurrences=[tuple(o) for o in meta["occurrences"]],
            vectors=np.load(self.path / f"{name}.vectors.npy", allow_pickle=False).astype(np.float32),
            gold=[tuple(g) for g in meta["gold"]], vocab=Counter(meta["vocab"]),
            documents={doc_id: (first + len(sentences) - 1, finished)}, in_glove=glove.__contains__)

    def discard(self, name: str) -> None:
        for suffix in (".json", ".vectors.npy", ".static.npy"):  # the JSON first: never half a finished shard
            (self.path / f"{name}{suffix}").unlink(missing_ok=True)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def join_chunks(chunks: list[Chunk]) -> Chunk:
    """Consecutive shards as one chunk, so the merge commits as few, large transactions as the
    local path does (row indices inside the chunk are shifted, order is kept)."""
    if len(chunks) == 1:
        return chunks[0]
    sentences, occurrences, gold, vocab, documents = [], [], [], Counter(), {}
    n_sent = n_occ = 0
    for c in chunks:
        sentences += c.sentences
        occurrences += [(i + n_sent, *rest) for i, *rest in c.occurrences]
        gold += [(j + n_occ, sense) for j, sense in c.gold]
        vocab.update(c.vocab)
        documents.update(c.documents)  # shards come in order: a document's last shard wins
        n_sent += len(c.sentences)
        n_occ += len(c.occurrences)
    return Chunk(sentences, np.concatenate([c.static for c in chunks]), occurrences,
                 np.concatenate([c.vectors for c in chunks]), gold, vocab, documents, chunks[0].in_glove)


# --- the Ray stages (run on workers) ----------------------------------------------------------
def _read_shards(batch: dict, opts: dict) -> Iterator[dict]:
    """Ray Data read stage: one file in, its missing shards out (sentences as JSON), streamed so
    a large file never sits whole in memory."""
    for path, sha, n, done_before, todo in zip(batch["path"], batch["sha256"], batch["sentences"],
                                               batch["done_before"], batch["todo"], strict=True):
        item = PlannedFile(Path(path), str(sha), int(n), None, int(done_before))
        wanted = {first: last for first, last in json.loads(todo)}
        rows, current = [], None
        for ordinal, sent in stream_sentences(item, ReadOptions(**opts)):
            if current is None and ordinal in wanted:
                current, rows = (ordinal, wanted[ordinal]), []
            if current is not None:
                rows.append(sentence_json(sent))
                if ordinal == current[1]:
                    yield {"name": [shard_name(item.sha256, *current)], "sentences": [json.dumps(rows)]}
                    current = None


class _EncodeShards:
    """Ray Data actor: loads the model once, then encodes shard after shard."""

    def __init__(self, model: str, layer: str, device: str, precision: str, all_words: bool, dtype: str) -> None:
        from senseindex.encoding.encoder import load_encoder
        from senseindex.encoding.glove import load_glove

        self.encoder = load_encoder(model, layer, device, precision)
        self.glove = load_glove()
        self.all_words = all_words
        self.dtype = dtype

    def __call__(self, batch: dict) -> dict:
        out: dict[str, list] = {"name": [], "vectors": [], "static": [], "meta": []}
        for name, rows in zip(batch["name"], batch["sentences"], strict=True):
            sentences = [sentence_from_json(r) for r in json.loads(rows)]
            chunk = encode_chunk(sentences, self.encoder, self.glove, self.all_words)
            tokens = sum(len(ids) for ids in self.encoder.tokenize([s.text for s in sentences])[0])
            out["name"].append(str(name))
            for key, value in shard_payload(chunk, tokens, self.dtype).items():
                out[key].append(value)
        return out


def _encoder_actor(*args) -> type:
    """_EncodeShards with its settings built in (Ray keeps constructor arguments in its object
    store and warns that restarting such an actor may fail; a class carries them by value)."""

    class EncodeShards(_EncodeShards):
        def __init__(self) -> None:
            super().__init__(*args)

    return EncodeShards


# --- the driver ---------------------------------------------------------------------------------
@dataclass
class RayEngine:
    """Index with Ray: `address` of a running cluster (None: start a local instance with one CPU
    per worker, or use the Ray instance this process already initialised), `workers` encoder
    actors, each with `gpus_per_worker` GPUs (0: CPU workers)."""

    address: str | None = None
    workers: int = 2
    gpus_per_worker: float = 0.0
    shard_sentences: int = SHARD_SENTENCES
    chunk_sentences: int = 1024  # sentences per merge transaction (the local path's chunk)
    on_progress: Callable[[JobProgress], None] | None = None
    stats: dict = field(default_factory=dict)  # what the last run did (shards encoded, reused; seconds)

    def __post_init__(self) -> None:
        require_ray()  # before anything is read or created: say how to install it
        if self.workers < 1:
            raise SenseIndexError("--workers must be at least 1")
        if self.gpus_per_worker < 0:
            raise SenseIndexError("--gpus-per-worker must be 0 or more")

    def run(self, store: Store, planned: list[PlannedFile], opts: ReadOptions, all_words: bool, glove: Glove,
            progress: Progress | None = None) -> IndexReport:
        ray = require_ray()
        report = IndexReport(files=len(planned))
        start = time.perf_counter()
        try:
            m = store.manifest
            job = {"staging_format": STAGING_FORMAT, "all_words": all_words, "read": asdict(opts),
                   "shard_sentences": self.shard_sentences,
                   **{k: m.get(k) for k in ("model", "layer", "pooling", "precision", "vector_format")}}
            staging = Staging(store.path, job)
            items = list(start_documents(store, planned, report))  # document ids before any worker starts
            shards = {id(item): shard_ranges(item, self.shard_sentences) for item in items}
            missing = [(item, [r for r in shards[id(item)] if not staging.done(shard_name(item.sha256, *r))])
                       for item in items]
            # shards: what this run had to index (committed sentences excluded); reused: already staged
            self.stats = {"shards": sum(len(s) for s in shards.values()),
                          "shards_reused": sum(len(shards[id(i)]) - len(r) for i, r in missing)}
            merge = _OrderedMerge(store, [(i, r) for i in items for r in shards[id(i)]], staging, glove, report,
                                  progress, self.chunk_sentences)
            if any(r for _, r in missing):
                t = time.perf_counter()
                self._encode(ray, store, [(i, r) for i, r in missing if r], len(items), opts, all_words, staging,
                             merge)
                self.stats["encode_seconds"] = round(time.perf_counter() - t, 2)
            t = time.perf_counter()
            merge.finish()
            self.stats["merge_seconds"] = round(time.perf_counter() - t, 2)  # what was left after encoding
            if self.on_progress:
                self.on_progress(JobProgress("merge", len(items), len(items), report.sentences, merge.total,
                                             report.occurrences, self.stats.get("tokens", 0),
                                             time.perf_counter() - start, report.sentences))
            staging.remove()
        finally:
            save_vocab_index(store, glove)
            report.seconds = time.perf_counter() - start
        return report

    def _connect(self, ray) -> bool:
        """Join the cluster (True: this call started Ray, so it shuts it down)."""
        if ray.is_initialized():
            return False
        # Ray's own notices (token set-up, progress-bar hints) are not this command's output
        logging.getLogger("ray").setLevel(logging.ERROR)
        kwargs = {"include_dashboard": False, "logging_level": logging.ERROR, "log_to_driver": False}
        try:
            if self.address:
                ray.init(address=self.address, **kwargs)
            else:
                ray.init(num_cpus=self.workers if not self.gpus_per_worker else None, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = self.address or "a local Ray instance"
            raise SenseIndexError(f"cannot start Ray on {where}: {str(exc).splitlines()[0]}") from None
        return True

    def _encode(self, ray, store: Store, todo: list[tuple[PlannedFile, list[tuple[int, int]]]], n_files: int,
                opts: ReadOptions, all_words: bool, staging: Staging, merge: _OrderedMerge) -> None:
        started = self._connect(ray)
        try:
            ctx = ray.data.DataContext.get_current()
            ctx.enable_progress_bars = False  # the driver shows one display for the whole job
            ctx.print_on_execution_start = False
            for handler in logging.getLogger("ray.data").handlers:  # its log file keeps everything
                if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
                    handler.setLevel(logging.ERROR)
            m = store.manifest
            device = "cuda" if self.gpus_per_worker else "cpu"
            dtype = "float32" if m.get("keep_vectors") == "fp32" else "float16"
            files = [{"path": str(item.path), "sha256": item.sha256, "sentences": item.sentences,
                      "done_before": item.done_before, "todo": json.dumps(r)} for item, r in todo]
            ds = ray.data.from_items(files, override_num_blocks=len(files))
            # readers reserve no CPU (the encoders need every core) but are capped: splitting runs
            # hundreds of times faster than encoding, and each task is a worker process to start
            readers = ray.data.TaskPoolStrategy(size=max(1, (self.workers + 1) // 2))
            ds = ds.map_batches(_read_shards, batch_size=1, num_cpus=0, compute=readers,
                                fn_kwargs={"opts": asdict(opts)})
            worker = _encoder_actor(m["model"], m["layer"], device, m["precision"], all_words, dtype)
            pool = ray.data.ActorPoolStrategy(size=min(self.workers, sum(len(r) for _, r in todo)))
            ds = ds.map_batches(worker, batch_size=1, compute=pool,
                                num_cpus=0 if self.gpus_per_worker else 1, num_gpus=self.gpus_per_worker or None)
            left = {item.sha256: len(r) for item, r in todo}  # shards to go, per file
            owner = {shard_name(item.sha256, *x): item.sha256 for item, r in todo for x in r}
            state = JobProgress("encode", n_files - len(todo), n_files, 0,
                                sum(r[1] - r[0] + 1 for _, rs in todo for r in rs), 0, 0, 0.0, 0)
            t0 = time.perf_counter()
            for row in ds.iter_rows():
                name = row["name"]
                staging.write(name, row)
                meta = json.loads(row["meta"])
                state.sentences += len(meta["sentences"])
                state.occurrences += len(meta["occurrences"])
                state.tokens += meta["tokens"]
                sha = owner[name]
                left[sha] -= 1
                state.files_done += left[sha] == 0
                merge.advance()
                state.merged = merge.report.sentences
                state.seconds = time.perf_counter() - t0
                if self.on_progress:
                    self.on_progress(state)
            self.stats["tokens"] = state.tokens
        except Exception as exc:  # a worker's error, as Ray wraps it (Ray Data re-raises it with notes added)
            raise _user_error(exc) from None
        finally:
            if started:
                ray.shutdown()


class _OrderedMerge:
    """Appends finished shards to the index in plan order as soon as the next one exists, so the
    merge overlaps the encoding and the staging folder holds only shards that came early; a
    transaction takes about `chunk_sentences` sentences, as in the local path."""

    def __init__(self, store: Store, order: list[tuple[PlannedFile, tuple[int, int]]], staging: Staging,
                 glove: Glove, report: IndexReport, progress: Progress | None, chunk_sentences: int) -> None:
        self.store, self.staging, self.glove = store, staging, glove
        self.report, self.progress, self.chunk_sentences = report, progress, chunk_sentences
        self.queue = deque(order)
        self.total = sum(last - first + 1 for _, (first, last) in order)
        self.buffer: list[Chunk] = []
        self.names: list[str] = []

    def advance(self) -> None:
        while self.queue:
            item, (first, last) = self.queue[0]
            name = shard_name(item.sha256, first, last)
            if not self.staging.done(name):
                return
            self.queue.popleft()
            self.buffer.append(self.staging.read(name, item.doc_id, first, last == item.sentences, self.glove))
            self.names.append(name)
            if sum(len(c.sentences) for c in self.buffer) >= self.chunk_sentences:
                self._commit()

    def finish(self) -> None:
        self.advance()
        if self.queue:
            item, (first, last) = self.queue[0]
            raise SenseIndexError(f"{item.path}: sentences {first}-{last} were not encoded (run again to resume)")
        if self.buffer:
            self._commit()

    def _commit(self) -> None:
        commit_chunk(self.store, join_chunks(self.buffer), self.report, self.progress)
        for name in self.names:  # committed: the index has them now (a crash here leaves harmless files)
            self.staging.discard(name)
        self.buffer.clear()
        self.names.clear()


def _user_error(exc: BaseException) -> SenseIndexError:
    """A worker's failure as one line: the SenseIndexError a worker raised (a file that changed
    since it was planned, say), found in Ray's chain of wrappers or in its text; else Ray's last line."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        cause = getattr(e, "cause", None)
        if isinstance(cause, SenseIndexError):
            return SenseIndexError((str(cause.args[0]) if cause.args else str(cause)).strip().splitlines()[0])
        todo += [cause if isinstance(cause, BaseException) else None, e.__cause__, e.__context__]
    text = str(exc).strip()
    if isinstance(exc, SenseIndexError) and text:  # Ray's copy of the class: the message, then Ray's notes
        return SenseIndexError(text.splitlines()[0])
    # Ray Data keeps only the text of a worker's exception: "senseindex.errors.CorpusError: message"
    found = re.findall(r"senseindex\.errors\.\w+: (.+)", text)
    if found:
        return SenseIndexError(found[-1].strip())
    return SenseIndexError(f"the Ray job failed: {text.splitlines()[-1] if text else type(exc).__name__}")
