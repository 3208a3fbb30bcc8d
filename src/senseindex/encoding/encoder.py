"""Contextual encoder: one L2-normalised vector per word span, from a transformer's subwords."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from senseindex.encoding.runtimes import choose_runtime, cpu_has_bf16, load_exported, threads
from senseindex.encoding.subwords import Spans, SubwordEncoder, padded, parse_layer, pool_words
from senseindex.encoding.weights import ModelSource, resolve_model
from senseindex.errors import SenseIndexError

__all__ = ["Encoder", "WordEncoder", "cpu_has_bf16", "load_encoder", "parse_layer", "pool_words", "set_torch_threads",
           "vector_identity"]

_TORCH_THREADS: list[int | None] = [None]


def set_torch_threads(n: int | None) -> None:
    """torch's CPU threads for encoders loaded after this call, where they should differ from
    `runtimes.set_threads` (None: the same). `serve --threads auto` gives torch one: beside another
    busy process its threads wait on each other (two threads: 8 clients' p50 1.9 s against 0.2 s
    with one, docs/benchmarks/26-runtimes.md); OpenVINO's do not."""
    _TORCH_THREADS[0] = n


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
    precision: str  # precision actually used: fp32, bf16, fp16 or int8
    max_length: int  # subword window of the model

    def word_vectors(self, texts: Sequence[str], spans: Sequence[Spans]) -> list[np.ndarray]:
        """One (len(spans[i]), dim) float32 array of L2-normalised vectors per text."""
        ...


def vector_identity(encoder: WordEncoder) -> dict[str, str]:
    """Everything a word vector depends on: recorded in the manifest and in vector cache keys.
    The runtime (onnx, openvino) is part of it: runtimes agree to within their arithmetic, not bit
    for bit, so cached vectors are kept per runtime."""
    identity = {"model": encoder.name, "layer": str(encoder.layer), "pooling": POOLING,
                "precision": encoder.precision, "vector_format": VECTOR_FORMAT}
    runtime = getattr(encoder, "runtime", "torch")
    if runtime != "torch":  # torch's identity is what it was before runtimes existed: its caches stay valid
        identity["runtime"] = runtime
    return identity


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


class Encoder(SubwordEncoder):
    """Loads a transformer into torch once and turns (sentence, word spans) into word vectors
    (a WordEncoder); `runtimes` holds the exported ONNX Runtime and OpenVINO alternatives."""

    runtime = "torch"

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
        if _TORCH_THREADS[0] or threads():
            torch.set_num_threads(_TORCH_THREADS[0] or threads())
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
        self._setup(self.tokenizer, self.model.config, layer)
        self.batch_tokens = batch_tokens or (65536 if device == "cuda" else 8192)
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

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        torch = self._torch
        ids, mask = (torch.from_numpy(a).to(self.device) for a in padded(batch, self.tokenizer.pad_token_id or 0))
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


def load_encoder(model: str | None = None, layer: str | int = "last", device: str = "auto",
                 precision: str = "auto", runtime: str = "auto") -> WordEncoder:
    """One loaded model per configuration and process (loading costs seconds and memory).

    `runtime` "auto" runs an exported graph (`runtimes.choose_runtime`) when it can, exporting it
    once if it is not cached yet, and falls back to torch, with a warning, when the export cannot
    be made; an explicit runtime that cannot run is an error."""
    from senseindex.encoding.weights import ALIASES, DEFAULT_MODEL

    spec = model or DEFAULT_MODEL
    return _cached_encoder(ALIASES.get(spec.lower(), spec), str(layer), device, precision, runtime)


@lru_cache(maxsize=4)
def _cached_encoder(model: str, layer: str, device: str, precision: str, runtime: str) -> WordEncoder:
    source = resolve_model(model)
    chosen, chosen_precision = choose_runtime(runtime, precision, device, source)
    if chosen != "torch":
        encoder = load_exported(source, layer, chosen, chosen_precision, fallback=runtime == "auto")
        if encoder is not None:
            return encoder
        chosen_precision = precision if precision != "int8" else "auto"
    return Encoder(model, layer=layer, device=device, precision=chosen_precision)
