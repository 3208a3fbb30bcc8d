"""BERT and MPNet encoders in plain torch, loaded straight from a checkpoint folder.

Why not transformers here: importing it (version 5) to build any model pulls in
torch.distributed, torch._dynamo and scipy, 2.5-4 s before the first weight is read; a cold
`senseindex search` spends most of its life there. The two architectures our packaged models
use (all-mpnet-base-v2: MPNet; all-MiniLM-L6-v2: BERT) are small enough to write out, and
loading them is then: torch, the `tokenizers` library, one memory-mapped safetensors file.
tests/test_bert_family.py holds both to transformers' outputs (same subwords and offsets,
hidden states within float rounding); any other architecture, and any folder without a
`tokenizer.json` or `model.safetensors`, goes through transformers as before.

The modules mirror transformers' parameter names, so a checkpoint's state dict loads as is.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from senseindex.encoding.checkpoint import Config as _Config
from senseindex.encoding.checkpoint import Tokenizer, read_json, supported

__all__ = ["Model", "Tokenizer", "load", "supported"]


class _Embeddings(nn.Module):
    def __init__(self, c: _Config) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        if c.model_type == "bert":
            self.token_type_embeddings = nn.Embedding(max(c.type_vocab_size, 1), c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.mpnet = c.model_type == "mpnet"

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.mpnet:  # positions count real tokens after the padding index (1), as in RoBERTa
            positions = torch.cumsum(mask, dim=1) * mask + 1
        else:
            positions = torch.arange(ids.shape[1], device=ids.device)[None, :]
        x = self.word_embeddings(ids) + self.position_embeddings(positions)
        if not self.mpnet:
            x = x + self.token_type_embeddings.weight[0]
        return self.LayerNorm(x)


class _Layer(nn.Module):
    def __init__(self, c: _Config) -> None:
        super().__init__()
        h, self.heads = c.hidden_size, c.num_attention_heads
        self.mpnet = c.model_type == "mpnet"
        self.attention = nn.Module()
        if self.mpnet:
            self.attention.attn = nn.Module()
            for name in ("q", "k", "v", "o"):
                setattr(self.attention.attn, name, nn.Linear(h, h))
            self.attention.LayerNorm = nn.LayerNorm(h, eps=c.layer_norm_eps)
        else:
            self.attention.self = nn.Module()
            for name in ("query", "key", "value"):
                setattr(self.attention.self, name, nn.Linear(h, h))
            self.attention.output = nn.Module()
            self.attention.output.dense = nn.Linear(h, h)
            self.attention.output.LayerNorm = nn.LayerNorm(h, eps=c.layer_norm_eps)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(h, c.intermediate_size)
        self.output = nn.Module()
        self.output.dense = nn.Linear(c.intermediate_size, h)
        self.output.LayerNorm = nn.LayerNorm(h, eps=c.layer_norm_eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        a = self.attention
        if self.mpnet:
            q, k, v, o, norm = a.attn.q, a.attn.k, a.attn.v, a.attn.o, a.LayerNorm
        else:
            q, k, v = a.self.query, a.self.key, a.self.value
            o, norm = a.output.dense, a.output.LayerNorm
        b, n, h = x.shape

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, h // self.heads).transpose(1, 2)

        qh = heads(q(x))
        ctx = F.scaled_dot_product_attention(qh, heads(k(x)), heads(v(x)), attn_mask=bias.to(qh.dtype))
        x = norm(o(ctx.transpose(1, 2).reshape(b, n, h)) + x)
        return self.output.LayerNorm(self.output.dense(F.gelu(self.intermediate.dense(x))) + x)


class Model(nn.Module):
    """The encoder stack; `forward` returns every hidden state (embeddings first), like
    transformers' `output_hidden_states=True`, or only those asked for."""

    def __init__(self, c: _Config) -> None:
        super().__init__()
        self.config = c
        self.embeddings = _Embeddings(c)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList([_Layer(c) for _ in range(c.num_hidden_layers)])
        if c.model_type == "mpnet":
            self.encoder.relative_attention_bias = nn.Embedding(c.relative_attention_num_buckets, c.num_attention_heads)

    def _bias(self, mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """Additive attention mask (padding keys get the dtype's minimum), plus MPNet's relative
        position bias: (batch, heads or 1, n, n)."""
        pad = (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min
        if self.config.model_type != "mpnet":
            return pad
        n = mask.shape[1]
        pos = torch.arange(n, device=mask.device)
        buckets = _relative_buckets(pos[None, :] - pos[:, None], self.config.relative_attention_num_buckets)
        rel = self.encoder.relative_attention_bias(buckets).permute(2, 0, 1)[None].to(dtype)
        return pad + rel

    def forward(self, ids: torch.Tensor, mask: torch.Tensor, layers: Sequence[int] | None = None) -> list[torch.Tensor]:
        x = self.embeddings(ids, mask)
        bias = self._bias(mask, torch.float32)
        states = [x]
        last = max(layers) if layers else self.config.num_hidden_layers
        for layer in self.encoder.layer[:last]:
            x = layer(x, bias)
            states.append(x)
        return [states[i] for i in layers] if layers is not None else states


def _relative_buckets(relative: torch.Tensor, num_buckets: int = 32, max_distance: int = 128) -> torch.Tensor:
    """MPNet's (T5's) bucketing of relative positions: exact below 8, log-spaced to 128."""
    half = num_buckets // 2
    n = -relative
    ret = (n < 0).long() * half
    n = n.abs()
    exact = half // 2
    large = exact + (torch.log(n.float().clamp(min=1) / exact) / math.log(max_distance / exact) * (half - exact)).long()
    large = large.clamp(max=half - 1)
    return ret + torch.where(n < exact, n, large)


@contextmanager
def _no_init() -> Iterator[None]:
    """Skip random initialisation while the module is built on the meta device: the checkpoint
    replaces every tensor, and initialising meta tensors imports torch._dynamo (about 1 s)."""
    names = ("normal_", "uniform_", "kaiming_uniform_", "ones_", "zeros_")
    saved = {n: getattr(nn.init, n) for n in names}
    for n in names:
        setattr(nn.init, n, lambda tensor, *args, **kwargs: tensor)
    try:
        yield
    finally:
        for n, fn in saved.items():
            setattr(nn.init, n, fn)


def load(folder: str | Path) -> tuple[Tokenizer, Model]:
    """Tokenizer and model (eval mode, float32, CPU) from a checkpoint folder; the weights are
    read from the memory-mapped safetensors file straight into the module's tensors."""
    from safetensors.torch import load_file

    folder = Path(folder)
    config = _Config(read_json(folder / "config.json"))
    with torch.device("meta"), _no_init():
        model = Model(config)
    state = load_file(str(folder / "model.safetensors"))
    prefix = next((p for p in ("mpnet.", "bert.") if any(k.startswith(p) for k in state)), "")
    state = {k[len(prefix):]: v.float() for k, v in state.items() if k.startswith(prefix)}
    wanted = model.state_dict().keys()
    missing = [k for k in wanted if k not in state]
    if missing:
        raise ValueError(f"{folder}: checkpoint lacks {', '.join(missing[:3])}")
    model.load_state_dict({k: state[k] for k in wanted}, assign=True)
    return Tokenizer(folder), model.eval()
