"""Contextual encoder: one L2-normalised vector per word span, from a transformer's subwords."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from senseindex.encoding.weights import ModelSource, resolve_model
from senseindex.errors import SenseIndexError
from senseindex.storage.vectors import l2_normalise

Spans = Sequence[tuple[int, int]]
POOLING = "mean-subwords-l2"
# Bump when the way word vectors are computed changes (pooling, windowing, normalisation), so
# indexes and cached vectors made the old way are told apart from new ones.
VECTOR_FORMAT = "1"


@runtime_checkable
class WordEncoder(Protocol):
    """What indexing, search and evaluation need from an encoder: one unit vector per word span.

    The transformer-backed `Encoder` below is the real one; tests use a tiny deterministic fake."""

    name: str  # model name recorded in the index manifest
    layer: str  # hidden layer choice, as given ("last", "last4", "middle", "8")
    dim: int
    precision: str  # precision actually used: fp32, bf16 or fp16
    max_length: int  # subword window of the model

    def word_vectors(self, texts: Sequence[str], spans: Sequence[Spans]) -> list[np.ndarray]:
        """One (len(spans[i]), dim) float32 array of L2-normalised vectors per text."""
        ...


def vector_identity(encoder: WordEncoder) -> dict[str, str]:
    """Everything a word vector depends on: recorded in the manifest and in vector cache keys."""
    return {"model": encoder.name, "layer": str(encoder.layer), "pooling": POOLING,
            "precision": encoder.precision, "vector_format": VECTOR_FORMAT}


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' warnings and progress bars while a model loads, then restore them,
    so importing senseindex into a program does not change that program's logging."""
    from transformers.utils import logging as hf_logging

    verbosity, bar = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bar:
            hf_logging.enable_progress_bar()


@lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """AMX or AVX512-bf16 make bf16 autocast about 2x faster than fp32; without them it is slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def parse_layer(layer: str | int, num_layers: int) -> list[int]:
    """'last', 'last4', 'middle' or an index into hidden_states (0 = embeddings)."""
    text = str(layer).strip().lower()
    if text == "last":
        return [num_layers]
    if text.startswith("last") and text[4:].isdigit():
        n = int(text[4:])
        if not 1 <= n <= num_layers:
            raise SenseIndexError(f"layer {layer!r}: the model has {num_layers} layers")
        return list(range(num_layers - n + 1, num_layers + 1))
    if text == "middle":
        return [num_layers // 2]
    try:
        idx = int(text)
    except ValueError:
        raise SenseIndexError(f"layer {layer!r}: use last, lastN, middle or a number 0-{num_layers}") from None
    if idx < 0:
        idx = num_layers + 1 + idx
    if not 0 <= idx <= num_layers:
        raise SenseIndexError(f"layer {layer!r}: the model has layers 0-{num_layers}")
    return [idx]


class Encoder:
    """Loads a transformer once and turns (sentence, word spans) into word vectors (a WordEncoder)."""

    def __init__(
        self,
        model: str | None = None,
        layer: str | int = "last",
        device: str = "auto",
        precision: str = "auto",
        batch_tokens: int | None = None,
        backend: str = "auto",
    ) -> None:
        """backend "auto" runs BERT and MPNet checkpoints through `bert_family` (seconds faster
        to start: transformers is never imported) and anything else through transformers;
        "transformers" always uses transformers (for code that needs its model objects)."""
        import torch

        self.source: ModelSource = resolve_model(model)
        if backend not in ("auto", "transformers"):
            raise SenseIndexError(f"backend {backend!r}: use auto or transformers")
        self.backend = "transformers"
        if backend == "auto" and Path(self.source.location).is_dir():
            from senseindex.encoding import bert_family

            if bert_family.supported(self.source.location):
                self.backend = "bert_family"
                self.tokenizer, self.model = bert_family.load(self.source.location)
        if self.backend == "transformers":
            self.tokenizer, self.model = self._load_transformers()
        self.model.eval()
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cuda" and not torch.cuda.is_available():
            raise SenseIndexError("--device cuda: no CUDA device is available")
        self.device = device
        if precision == "auto":
            precision = "fp16" if device == "cuda" else ("bf16" if cpu_has_bf16() else "fp32")
        self.precision = precision
        self.model.to(device)
        if device == "cuda" and precision == "fp16":
            self.model.half()
        config = self.model.config
        self.num_layers = int(config.num_hidden_layers)
        self.layers = parse_layer(layer, self.num_layers)
        self.layer = str(layer)
        self.dim = int(config.hidden_size)
        self.max_length = self._max_length()
        self.batch_tokens = batch_tokens or (65536 if device == "cuda" else 8192)
        tok = self.tokenizer
        first = tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id
        last = tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id
        self._head = [first] if first is not None else []
        self._tail = [last] if last is not None else []
        self._prefix = len(self._head)
        self._n_special = len(self._head) + len(self._tail)
        self._body = self.max_length - self._n_special
        self._torch = torch

    def _load_transformers(self):
        from transformers import AutoModel, AutoTokenizer

        # packaged models are local folders: never ask the hub about them
        local = {"local_files_only": True} if self.source.packaged else {}
        try:
            with quiet_transformers():
                tokenizer = AutoTokenizer.from_pretrained(self.source.location, use_fast=True, **local)
                model = AutoModel.from_pretrained(self.source.location, use_safetensors=True, **local)
        except OSError as exc:
            raise SenseIndexError(f"cannot load model {self.source.name!r}: {str(exc).splitlines()[0]}") from None
        if not getattr(tokenizer, "is_fast", False):
            raise SenseIndexError(f"model {self.source.name!r} has no fast tokenizer (needed for word offsets)")
        return tokenizer, model

    @property
    def name(self) -> str:
        return self.source.name

    def _max_length(self) -> int:
        limit = 512
        st_config = Path(self.source.location) / "sentence_bert_config.json"
        if st_config.exists():
            limit = int(json.loads(st_config.read_text()).get("max_seq_length", limit))
        tok_max = getattr(self.tokenizer, "model_max_length", limit) or limit
        pos_max = getattr(self.model.config, "max_position_embeddings", limit) or limit
        if getattr(self.model.config, "pad_token_id", None) is not None and pos_max > 512:
            pos_max -= 2  # RoBERTa-style position ids start after the padding index
        return int(min(limit, tok_max, pos_max))

    def tokenize(self, texts: Sequence[str]) -> tuple[list[list[int]], list[np.ndarray]]:
        """Subword ids and character offsets per text, without special tokens."""
        if self.backend == "bert_family":
            return self.tokenizer.encode(texts)
        enc = self.tokenizer(
            list(texts), add_special_tokens=False, return_offsets_mapping=True, return_attention_mask=False
        )
        return enc["input_ids"], [np.asarray(o, dtype=np.int64).reshape(-1, 2) for o in enc["offset_mapping"]]

    def _windows(self, n: int) -> list[int]:
        if n <= self._body:
            return [0]
        stride = max(1, self._body // 2)
        starts = list(range(0, n - self._body, stride))
        starts.append(n - self._body)
        return starts

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        torch = self._torch
        width = max(len(x) for x in batch)
        pad = self.tokenizer.pad_token_id or 0
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, row in enumerate(batch):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        need_hidden = self.layers != [self.num_layers]
        autocast = self.device == "cpu" and self.precision == "bf16"
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            if self.backend == "bert_family":
                return torch.stack(self.model(ids, mask, self.layers)).float().mean(0).cpu().numpy()
            out = self.model(input_ids=ids, attention_mask=mask, output_hidden_states=need_hidden)
            if need_hidden:
                h = torch.stack([out.hidden_states[i] for i in self.layers]).float().mean(0)
            else:
                h = out.last_hidden_state
            return h.float().cpu().numpy()

    def token_vectors(self, ids_list: Sequence[list[int]]) -> list[np.ndarray]:
        """Contextual vector per subword; long inputs are windowed with half overlap and each
        subword keeps the vector from the window where it sits farthest from an edge."""
        segments = []  # (sentence index, window start, window ids)
        for si, ids in enumerate(ids_list):
            for start in self._windows(len(ids)):
                segments.append((si, start, ids[start : start + self._body]))
        order = sorted(range(len(segments)), key=lambda i: -len(segments[i][2]))
        out = [np.zeros((len(ids), self.dim), dtype=np.float32) for ids in ids_list]
        best = [np.full(len(ids), -1, dtype=np.int64) for ids in ids_list]
        pos = 0
        while pos < len(order):
            width = len(segments[order[pos]][2]) + self._n_special
            take = max(1, min(256, self.batch_tokens // max(width, 1)))
            chunk = order[pos : pos + take]
            pos += take
            batch = [self._head + list(segments[i][2]) + self._tail for i in chunk]
            hidden = self._forward(batch)
            for row, seg_i in enumerate(chunk):
                si, start, body = segments[seg_i]
                n, length = len(ids_list[si]), len(body)
                p = np.arange(length)
                left = p if start > 0 else np.full(length, 1 << 30)
                right = (length - 1 - p) if start + length < n else np.full(length, 1 << 30)
                dist = np.minimum(left, right)
                target = slice(start, start + length)
                better = dist > best[si][target]
                vecs = hidden[row, self._prefix : self._prefix + length]
                out[si][target][better] = vecs[better]
                best[si][target][better] = dist[better]
        return out

    def word_vectors(self, texts: Sequence[str], spans: Sequence[Spans]) -> list[np.ndarray]:
        """Mean of each word's subword vectors, L2-normalised: one (n_words, dim) array per text."""
        ids_list, offsets = self.tokenize(texts)
        need = [i for i, s in enumerate(spans) if len(s)]
        token_vecs = self.token_vectors([ids_list[i] for i in need])
        result = [np.zeros((0, self.dim), dtype=np.float32) for _ in texts]
        for i, tv in zip(need, token_vecs, strict=True):
            result[i] = pool_words(tv, offsets[i], spans[i])
        return result


def pool_words(token_vecs: np.ndarray, offsets: np.ndarray, spans: Spans) -> np.ndarray:
    """Average each word's subwords; a word no subword covers takes the nearest real subword.

    A subword belongs to the first word span it overlaps (a piece that straddles two words,
    e.g. across a zero-width joiner, counts once, for the first). Overlapping spans (a
    hyphenated word and its parts, a multiword target) each average every subword they cover."""
    span_arr = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    n_words, dim = len(span_arr), token_vecs.shape[1]
    sums = np.zeros((n_words, dim), dtype=np.float32)
    counts = np.zeros(n_words, dtype=np.int64)
    if len(offsets) and n_words > 1 and np.any(span_arr[1:, 0] < span_arr[:-1, 1]):
        # overlapping spans (a hyphenated word and its parts): each span averages its own subwords
        a, b = offsets[:, 0], offsets[:, 1]
        for w, (s, e) in enumerate(span_arr):
            inside = (b > a) & (a < e) & (b > s)
            if inside.any():
                sums[w] = token_vecs[inside].sum(axis=0)
                counts[w] = int(inside.sum())
    elif len(offsets):
        a, b = offsets[:, 0], offsets[:, 1]
        j = np.searchsorted(span_arr[:, 1], a, side="right")
        ok = (b > a) & (j < n_words)
        ok[ok] &= span_arr[j[ok], 0] < b[ok]
        np.add.at(sums, j[ok], token_vecs[ok])
        np.add.at(counts, j[ok], 1)
    if len(offsets):
        a = offsets[:, 0]
        real = np.flatnonzero(offsets[:, 1] > a)  # zero-length pieces (special tokens) never stand in for a word
        for w in np.flatnonzero(counts == 0) if len(real) else []:
            nearest = int(real[np.argmin(np.abs(a[real] - span_arr[w, 0]))])
            sums[w] = token_vecs[nearest]
            counts[w] = 1
    return l2_normalise(sums / np.maximum(counts, 1)[:, None])


def load_encoder(model: str | None = None, layer: str | int = "last", device: str = "auto",
                 precision: str = "auto") -> Encoder:
    """One loaded model per configuration and process (loading costs seconds and memory)."""
    from senseindex.encoding.weights import ALIASES, DEFAULT_MODEL

    spec = model or DEFAULT_MODEL
    return _cached_encoder(ALIASES.get(spec.lower(), spec), str(layer), device, precision)


@lru_cache(maxsize=4)
def _cached_encoder(model: str, layer: str, device: str, precision: str) -> Encoder:
    return Encoder(model, layer=layer, device=device, precision=precision)
