"""A BERT or MPNet checkpoint folder read without torch: its tokenizer and its configuration.

Kept apart from `bert_family` (the torch modules) so that the exported runtimes (`runtimes`)
tokenise and size their inputs with the `tokenizers` library alone: a query never has to import
torch, whose import is most of a cold `senseindex search`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SUPPORTED = ("bert", "mpnet")


class Tokenizer:
    """A checkpoint's fast tokenizer (tokenizer.json) with the few settings encoding needs.

    Like transformers' fast tokenizer called without truncation or padding: whatever
    truncation or padding tokenizer.json carries is switched off."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer as HFTokenizer

        self._tok = HFTokenizer.from_file(str(folder / "tokenizer.json"))
        self._tok.no_truncation()
        self._tok.no_padding()
        settings = read_json(folder / "tokenizer_config.json")
        settings.update({k: v for k, v in read_json(folder / "special_tokens_map.json").items() if v})
        self.model_max_length = int(settings.get("model_max_length") or 512)
        self.is_fast = True

        def token_id(name: str) -> int | None:
            token = settings.get(name)
            if isinstance(token, dict):
                token = token.get("content")
            return self._tok.token_to_id(token) if isinstance(token, str) else None

        self.pad_token_id = token_id("pad_token")
        self.cls_token_id, self.sep_token_id = token_id("cls_token"), token_id("sep_token")
        self.bos_token_id, self.eos_token_id = token_id("bos_token"), token_id("eos_token")

    def encode_batch_offsets(self, texts: Sequence[str]) -> tuple[list[list[int]], list[np.ndarray]]:
        """Subword ids and (start, end) character offsets per text, no special tokens."""
        encs = self._tok.encode_batch(list(texts), add_special_tokens=False)
        return [e.ids for e in encs], [np.asarray(e.offsets, dtype=np.int64).reshape(-1, 2) for e in encs]


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


class Config:
    def __init__(self, raw: dict) -> None:
        self.raw = raw
        self.model_type = raw.get("model_type")
        self.hidden_size = int(raw["hidden_size"])
        self.num_hidden_layers = int(raw["num_hidden_layers"])
        self.num_attention_heads = int(raw["num_attention_heads"])
        self.intermediate_size = int(raw["intermediate_size"])
        self.vocab_size = int(raw["vocab_size"])
        self.max_position_embeddings = int(raw["max_position_embeddings"])
        self.layer_norm_eps = float(raw.get("layer_norm_eps", 1e-12))
        self.pad_token_id = raw.get("pad_token_id")
        self.type_vocab_size = int(raw.get("type_vocab_size", 0) or 0)
        self.relative_attention_num_buckets = int(raw.get("relative_attention_num_buckets", 32))


def supported(folder: str | Path) -> bool:
    """True when the folder holds a BERT or MPNet checkpoint this module can load."""
    folder = Path(folder)
    if not all((folder / f).is_file() for f in ("config.json", "tokenizer.json", "model.safetensors")):
        return False
    raw = read_json(folder / "config.json")
    return (raw.get("model_type") in SUPPORTED and raw.get("hidden_act", "gelu") == "gelu"
            and raw.get("position_embedding_type", "absolute") == "absolute")
