"""From subwords to word vectors, whatever runs the model: the one encoding step every runtime shares.

`SubwordEncoder` holds everything but the forward pass: tokenising (without special tokens),
windowing long inputs, batching by length, pooling each word's subwords and L2-normalising.
A runtime (torch in `encoder.Encoder`, ONNX Runtime and OpenVINO in `runtimes`) supplies only
`_forward`, so the same sentence gives the same subwords, the same windows and the same pooling
in every runtime and the vectors differ by the runtime's arithmetic alone. Nothing here imports
torch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from senseindex.encoding.weights import ModelSource
from senseindex.errors import SenseIndexError
from senseindex.storage.vectors import l2_normalise

Spans = Sequence[tuple[int, int]]


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


def padded(batch: Sequence[Sequence[int]], pad: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, attention mask) as int64 arrays, right-padded to the longest row."""
    width = max(len(x) for x in batch)
    ids = np.full((len(batch), width), pad, dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=np.int64)
    for i, row in enumerate(batch):
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return ids, mask


def length_chunks(lengths: Sequence[int], max_tokens: int, max_rows: int = 256, call_cost: int = 0) -> list[int]:
    """Where to cut rows sorted longest first into forward-pass batches: the start of each chunk.

    A batch costs about rows x (its longest row) padded token slots, plus a fixed cost per call
    (CALL_COST, in token slots). Cutting a small request of mixed lengths (a lemma's glosses:
    12 to 70 subwords) into a few batches of similar lengths saves the padding; too many cuts
    pay the per-call cost instead. With a call cost, the cuts minimise the total exactly (dynamic
    programming over the sorted rows, for up to DP_ROWS rows); without one, or for more rows
    (indexing, where lengths lie dense and batches are full), every batch takes as many rows as
    `max_tokens` allows."""
    n = len(lengths)
    if n == 0:
        return []
    if not call_cost or n > DP_ROWS:
        starts, pos = [], 0
        while pos < n:
            starts.append(pos)
            pos += max(1, min(max_rows, max_tokens // max(lengths[pos], 1)))
        return starts
    best = [0.0] + [float("inf")] * n  # best[j]: least cost of the first j rows
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j - 1, -1, -1):  # the last chunk is rows i..j-1, as wide as row i
            rows, width = j - i, max(lengths[i], 1)
            if i < j - 1 and (rows > max_rows or rows * width > max_tokens):
                break
            cost = best[i] + call_cost + rows * width
            if cost < best[j]:
                best[j], cut[j] = cost, i
    starts, j = [], n
    while j > 0:
        starts.append(cut[j])
        j = cut[j]
    return starts[::-1]


DP_ROWS = 512  # requests up to this many rows are cut by length_chunks' dynamic programme
# Token slots one more forward call is counted as. Measured with OpenVINO bf16 on a 2-core CPU
# (bench/dictionary_latency.py, docs/benchmarks/22-dictionary.md): a 1x10 batch takes about 15 ms
# and a padded slot 0.2-0.27 ms, but at 64 the lemmas with 8-18 glosses were cut in two and came
# out 5-10 % slower; at 192 they stay one batch while a lemma with 36-57 glosses is cut in three.
CALL_COST_TOKENS = 192


class SubwordEncoder:
    """A WordEncoder without its forward pass: subclasses set the attributes in `_setup`'s
    arguments and implement `_forward(batch) -> (batch, width, dim) float32`, the mean of the
    requested hidden layers for right-padded rows of subword ids with special tokens."""

    source: ModelSource
    runtime: str = "torch"
    batch_tokens: int = 8192
    call_cost_tokens: int = CALL_COST_TOKENS  # 0: fill every batch (the rule before length_chunks)

    def _setup(self, tokenizer, config, layer: str | int) -> None:
        """Layer choice, sizes and special tokens from a tokenizer and a config (transformers'
        or checkpoint.Config: both have the few attributes read here)."""
        self.tokenizer = tokenizer
        self.num_layers = int(config.num_hidden_layers)
        self.layers = parse_layer(layer, self.num_layers)
        self.layer = str(layer)
        self.dim = int(config.hidden_size)
        self.max_length = self._max_length(config)
        tok = tokenizer
        first = tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id
        last = tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id
        self._head = [first] if first is not None else []
        self._tail = [last] if last is not None else []
        self._prefix = len(self._head)
        self._n_special = len(self._head) + len(self._tail)
        self._body = self.max_length - self._n_special

    @property
    def name(self) -> str:
        return self.source.name

    def _max_length(self, config) -> int:
        limit = 512
        st_config = Path(self.source.location) / "sentence_bert_config.json"
        if st_config.exists():
            limit = int(json.loads(st_config.read_text()).get("max_seq_length", limit))
        tok_max = getattr(self.tokenizer, "model_max_length", limit) or limit
        pos_max = getattr(config, "max_position_embeddings", limit) or limit
        if getattr(config, "pad_token_id", None) is not None and pos_max > 512:
            pos_max -= 2  # RoBERTa-style position ids start after the padding index
        return int(min(limit, tok_max, pos_max))

    def tokenize(self, texts: Sequence[str]) -> tuple[list[list[int]], list[np.ndarray]]:
        """Subword ids and character offsets per text, without special tokens."""
        if hasattr(self.tokenizer, "encode_batch_offsets"):
            return self.tokenizer.encode_batch_offsets(texts)
        enc = self.tokenizer(
            list(texts), add_special_tokens=False, return_offsets_mapping=True, return_attention_mask=False
        )
        return enc["input_ids"], [np.asarray(o, dtype=np.int64).reshape(-1, 2) for o in enc["offset_mapping"]]

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        raise NotImplementedError

    def _windows(self, n: int) -> list[int]:
        if n <= self._body:
            return [0]
        stride = max(1, self._body // 2)
        starts = list(range(0, n - self._body, stride))
        starts.append(n - self._body)
        return starts

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
        widths = [len(segments[i][2]) + self._n_special for i in order]
        cuts = length_chunks(widths, self.batch_tokens, 256, self.call_cost_tokens)
        for lo, hi in zip(cuts, [*cuts[1:], len(order)], strict=True):
            chunk = order[lo:hi]
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
