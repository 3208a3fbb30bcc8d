"""Who runs what: every index is served by two threads ("lanes"), each owning its own SenseIndex.

An SQLite connection may only be used by the thread that opened it, and the model is best run one
call at a time (it already uses every core), so all work on an index goes through a lane:

* the **model lane** runs what needs the encoder: search, compare, explain. When several
  searches are waiting, their query words are encoded in one batch first (`PrimedEncoder`), then
  each search runs as usual and finds its vector ready. A lone search is encoded on its own, as
  the command line does, and in the same precision (int8 where `SenseIndex.query_encoder` says
  so); a batch of more than SINGLE_UP_TO queries runs at the index's precision, which is the
  quicker there (docs/runtimes.md, "Queries in int8").
* the **data lane** runs everything else: senses, plots, info, label reads and writes, exports.
  A slow clustering never holds up a search.

The web server's event loop only waits on lanes, so it keeps answering other requests meanwhile.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

MAX_BATCH = 16  # waiting searches encoded together
SINGLE_UP_TO = 3  # batches up to this size run on the query model: int8 is quicker up to 3 sentences
CACHE_SECONDS = 60.0  # results are reused this long (paging, sorting), then recomputed


class PrimedEncoder:
    """A WordEncoder that answers from vectors computed ahead in one batch, else asks the real one:
    `few` (the query model) for up to SINGLE_UP_TO sentences, `inner` (the index's) for more."""

    def __init__(self, inner, few=None) -> None:
        self.inner = inner
        self.few = few or inner
        self.name, self.layer, self.dim = inner.name, inner.layer, inner.dim
        self.precision, self.max_length = inner.precision, inner.max_length
        self.runtime = getattr(inner, "runtime", "torch")
        self._ready: dict[tuple[str, int, int], np.ndarray] = {}
        self.batches = 0  # batched forward passes (for tests and the load benchmark)

    def prime(self, items: Sequence[tuple[str, int, int]]) -> None:
        items = list(dict.fromkeys(items))
        if len(items) < 2:
            return
        vecs = self._encoder(len(items)).word_vectors([t for t, _, _ in items], [[(s, e)] for _, s, e in items])
        self._ready.update({key: v[0] for key, v in zip(items, vecs, strict=True)})
        self.batches += 1

    def forget(self) -> None:
        self._ready.clear()

    def _encoder(self, sentences: int):
        return self.few if sentences <= SINGLE_UP_TO else self.inner

    def word_vectors(self, texts, spans):
        keys = [[(t, s, e) for s, e in sp] for t, sp in zip(texts, spans, strict=True)]
        if keys and all(k in self._ready for ks in keys for k in ks):
            return [np.stack([self._ready[k] for k in ks]) if ks else np.zeros((0, self.dim), np.float32)
                    for ks in keys]
        return self._encoder(len(texts)).word_vectors(texts, spans)


class Job:
    __slots__ = ("fn", "prime", "future")

    def __init__(self, fn: Callable[[Any], Any], prime: Callable[[Any], list] | None) -> None:
        self.fn, self.prime, self.future = fn, prime, Future()


class Lane:
    """One thread owning one SenseIndex (opened in that thread); jobs run one after another.

    `opener()` returns (sense_index, primed_encoder or None)."""

    def __init__(self, name: str, opener: Callable[[], tuple[Any, PrimedEncoder | None]]) -> None:
        self.name = name
        self._opener = opener
        self._si = None
        self._primed: PrimedEncoder | None = None
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"senseindex-{name}", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[Any], Any], prime: Callable[[Any], list] | None = None) -> Future:
        """Run fn(sense_index) in the lane; `prime(sense_index)` names the (text, start, end) spans
        fn will encode, so that waiting jobs can share one forward pass."""
        job = Job(fn, prime)
        self._queue.put(job)
        return job.future

    def close(self, timeout: float = 5.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _open(self):
        if self._si is None:
            self._si, self._primed = self._opener()
        return self._si

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            jobs = [job]
            while len(jobs) < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    break
                jobs.append(more)
            try:
                si = self._open()
            except BaseException as exc:  # the index cannot be opened: every waiting job says why
                for j in jobs:
                    if j.future.set_running_or_notify_cancel():
                        j.future.set_exception(exc)
                continue
            if self._primed is not None:
                self._prime(si, jobs, self._primed)
            for j in jobs:
                if not j.future.set_running_or_notify_cancel():
                    continue
                try:
                    j.future.set_result(j.fn(si))
                except BaseException as exc:
                    j.future.set_exception(exc)
            if self._primed is not None:
                self._primed.forget()

    @staticmethod
    def _prime(si, jobs: list[Job], encoder: PrimedEncoder) -> None:
        primers = [j for j in jobs if j.prime is not None]
        if len(primers) < 2:
            return
        items = []
        for j in primers:
            try:
                items.extend(j.prime(si))
            except Exception:  # the job itself will raise the same error, with its message
                continue
        try:
            encoder.prime(items)
        except Exception:  # never fatal: each job encodes on its own instead
            return


class TTLCache:
    """A small LRU of results that also expire, so an index grown by a writer shows up soon."""

    def __init__(self, size: int = 128, seconds: float = CACHE_SECONDS) -> None:
        self.size, self.seconds = size, seconds
        self._data: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            hit = self._data.get(key)
            if hit is None or time.monotonic() - hit[0] > self.seconds:
                self._data.pop(key, None)
                return None
            self._data.move_to_end(key)
            return hit[1]

    def put(self, key, value) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = (time.monotonic(), value)
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class IndexHandle:
    """One served index: its name in URLs, its two lanes and its caches. The path comes from the
    command line only; requests name an index by `name`."""

    def __init__(self, name: str, path: Path, *, encoder=None, device: str = "auto", precision: str = "auto",
                 cache: int = 128, runtime: str = "auto") -> None:
        self.name, self.path = name, Path(path)
        self.generation = 0  # bumped by every label write: cached search results carry labels
        self.index_id: str | None = None
        self._encoder, self._device, self._precision, self._runtime = encoder, device, precision, runtime
        self.searches = TTLCache(cache)
        self.reports = TTLCache(min(cache, 48))  # per word: its clustering, collocates and map points
        self.model = Lane(f"{name}-model", self._open_model)
        self.data = Lane(f"{name}-data", self._open_data)

    def _open_data(self):
        from senseindex.sense_index import SenseIndex

        # the same runtime as the model lane: the senses page's gloss vectors are cached per runtime
        return SenseIndex.open(self.path, encoder=self._encoder, device=self._device, precision=self._precision,
                               runtime=self._runtime), None

    def _open_model(self):
        from senseindex.sense_index import SenseIndex

        inner = few = self._encoder
        if inner is None:  # the index's model and the one for its queries, loaded once per process
            si = SenseIndex.open(self.path, device=self._device, precision=self._precision, runtime=self._runtime)
            inner, few = si.encoder, si.query_encoder
        primed = PrimedEncoder(inner, few)
        # queries go through the primed encoder; explain and the dictionary's glosses use the index's model
        return SenseIndex.open(self.path, encoder=inner, query_encoder=primed), primed

    def labels_changed(self) -> None:
        """Cached search results carry labels: drop them after a write."""
        self.generation += 1
        self.searches.clear()

    def close(self) -> None:
        self.model.close()
        self.data.close()
