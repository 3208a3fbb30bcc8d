"""The plain-torch BERT/MPNet path (bert_family) against transformers on the packaged models:
the same subwords and offsets, and the same vectors up to float rounding."""

from pathlib import Path

import numpy as np
import pytest

from senseindex.encoding.encoder import Encoder

DEMO = Path(__file__).resolve().parents[1] / "corpora" / "demo"


def _texts() -> list[str]:
    lines = [line for f in sorted(DEMO.glob("*.txt")) for line in f.read_text().splitlines() if line.strip()]
    # a sentence past the model's window exercises the windowing; odd characters the offsets
    return lines[:60] + ["Ünïcode café naïve — “quotes” and <mask> tokens, e-mail: a@b.c", "long " * 700]


@pytest.mark.parametrize("layer", ["last", "last4"])
def test_same_subwords_and_vectors_as_transformers(minilm_encoder, layer):
    native = Encoder("minilm", layer=layer, precision="fp32")
    reference = Encoder("minilm", layer=layer, precision="fp32", backend="transformers")
    assert (native.backend, reference.backend) == ("bert_family", "transformers")
    assert native.max_length == reference.max_length and native.dim == reference.dim
    texts = _texts()
    ids_a, off_a = native.tokenize(texts)
    ids_b, off_b = reference.tokenize(texts)
    assert ids_a == ids_b
    assert all(np.array_equal(a, b) for a, b in zip(off_a, off_b, strict=True))
    for a, b in zip(native.token_vectors(ids_a), reference.token_vectors(ids_b), strict=True):
        cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        assert cos.min() > 0.99999


def test_mpnet_matches_transformers(mpnet_encoder):
    native = Encoder(precision="fp32")
    reference = Encoder(precision="fp32", backend="transformers")
    assert native.backend == "bert_family"
    texts = _texts()[:8] + ["long " * 700]
    ids_a, _ = native.tokenize(texts)
    ids_b, _ = reference.tokenize(texts)
    assert ids_a == ids_b
    for a, b in zip(native.token_vectors(ids_a), reference.token_vectors(ids_b), strict=True):
        cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        assert cos.min() > 0.99999


def test_unknown_backend_is_refused():
    from senseindex.errors import SenseIndexError

    with pytest.raises(SenseIndexError, match="backend"):
        Encoder("minilm", backend="onnx")
