"""Encoder runtimes (torch, ONNX Runtime, OpenVINO): the same vectors contract, queries without
torch, falling back to torch, and a damaged export reported and rebuilt.

The small packaged model (all-MiniLM-L6-v2) keeps the exports quick; the bounds come from
bench/encoder_runtimes.py (docs/benchmarks/26-runtimes.md)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from senseindex.encoding import export, runtimes
from senseindex.encoding.encoder import Encoder
from senseindex.encoding.weights import resolve_model
from senseindex.errors import SenseIndexError, SenseIndexWarning

ROOT = Path(__file__).resolve().parents[1]
TRICKY = [
    "The well-known state-of-the-art model didn't re-enter the U.S. market in 2019-2020.",
    "Naïve café owners in Zürich paid €3.50 for crème brûlée at 7:45pm.",
    "Visit https://example.org/a_b?c=d or mail jane.o'neil@example.com, ok?!",
    "Antidisestablishmentarianism and pneumonoultramicroscopicsilicovolcanoconiosis are long.",
    "He said \u201cbank\u201d \u2014 not \u2018bench\u2019 \u2026 then left; 東京 is big 👍🏽 .",
    "word " * 300 + "bank at the end of a text longer than one window",
]
# cosine to torch fp32 on these sentences: >= 0.99 for fp32 and bf16 (the bound); ONNX
# Runtime's int8 has its measured bound (minilm: 0.977 at the lowest over every demo word and these
# sentences); OpenVINO's int8 (int8 weights, activations per group of 32) keeps the 0.99 bound
# (minilm: 0.9961 at the lowest over the demo's 6,013 words, 0.9977 on these sentences)
BOUNDS = {("onnx", "fp32"): 0.99, ("openvino", "fp32"): 0.99, ("openvino", "bf16"): 0.99, ("onnx", "int8"): 0.95,
          ("openvino", "int8"): 0.99}
needs_onnx = pytest.mark.skipif(not (runtimes.installed("onnx") and runtimes.installed("openvino")),
                                reason="onnxruntime and openvino are not installed")


def spans_of(text: str) -> list[tuple[int, int]]:
    import re

    return [m.span() for m in re.finditer(r"\S+", text)]


@pytest.fixture(scope="module")
def minilm_fp32():
    return Encoder("minilm", precision="fp32")


@needs_onnx
@pytest.mark.model
@pytest.mark.parametrize("runtime,precision", list(BOUNDS))
def test_each_runtime_agrees_with_torch_fp32_on_tricky_tokenisations(minilm_fp32, runtime, precision):
    enc = runtimes.ExportedEncoder(resolve_model("minilm"), "last", runtime, precision)
    spans = [spans_of(t) for t in TRICKY]
    ref = minilm_fp32.word_vectors(TRICKY, spans)
    got = enc.word_vectors(TRICKY, spans)
    assert (enc.runtime, enc.precision, enc.dim, enc.max_length) == (runtime, precision, minilm_fp32.dim,
                                                                     minilm_fp32.max_length)
    # the same tokenizer: the same subwords and offsets
    ids, offsets = enc.tokenize(TRICKY)
    ref_ids, ref_offsets = minilm_fp32.tokenize(TRICKY)
    assert ids == ref_ids and all(np.array_equal(a, b) for a, b in zip(offsets, ref_offsets, strict=True))
    cos = np.concatenate([(a * b).sum(1) for a, b in zip(got, ref, strict=True)])
    assert len(cos) == sum(len(s) for s in spans)
    assert np.allclose(np.linalg.norm(np.concatenate(got), axis=1), 1, atol=1e-4)
    assert cos.min() >= BOUNDS[runtime, precision], cos.min()


@needs_onnx
@pytest.mark.model
def test_layer_choice_is_part_of_the_export(minilm_fp32):
    enc = runtimes.ExportedEncoder(resolve_model("minilm"), "last2", "openvino", "fp32")
    ref = Encoder("minilm", layer="last2", precision="fp32")
    spans = [spans_of(TRICKY[0])]
    cos = (enc.word_vectors(TRICKY[:1], spans)[0] * ref.word_vectors(TRICKY[:1], spans)[0]).sum(1)
    assert cos.min() >= 0.99
    assert export.export_dir(enc.source, [5, 6]).name == "layers-5-6"


def test_auto_picks_an_installed_exported_runtime_else_torch(monkeypatch):
    source = resolve_model("minilm")
    if not runtimes.exportable(source):
        pytest.skip("the packaged minilm is not installed")
    monkeypatch.setattr(runtimes, "installed", lambda name: True)
    monkeypatch.setattr(runtimes, "cpu_has_bf16", lambda: True)
    assert runtimes.choose_runtime("auto", "auto", "auto", source) == ("openvino", "bf16")
    assert runtimes.choose_runtime("auto", "int8", "cpu", source) == ("openvino", "int8")
    monkeypatch.setattr(runtimes, "installed", lambda name: name != "openvino")
    assert runtimes.choose_runtime("auto", "int8", "cpu", source) == ("onnx", "int8")
    monkeypatch.setattr(runtimes, "installed", lambda name: True)
    assert runtimes.choose_runtime("auto", "fp16", "cpu", source)[0] == "torch"
    assert runtimes.choose_runtime("auto", "auto", "cuda", source)[0] == "torch"
    assert runtimes.choose_runtime("onnx", "auto", "cpu", source) == ("onnx", "fp32")
    monkeypatch.setattr(runtimes, "installed", lambda name: name == "torch")
    assert runtimes.choose_runtime("auto", "auto", "auto", source) == ("torch", "auto")
    with pytest.raises(SenseIndexError, match="onnxruntime package is not installed"):
        runtimes.choose_runtime("onnx", "auto", "cpu", source)
    monkeypatch.setattr(runtimes, "installed", lambda name: True)
    assert runtimes.choose_runtime("openvino", "int8", "cpu", source) == ("openvino", "int8")
    with pytest.raises(SenseIndexError, match="not available with --runtime openvino"):
        runtimes.choose_runtime("openvino", "fp16", "cpu", source)
    with pytest.raises(SenseIndexError, match="only with --runtime openvino or onnx"):
        runtimes.choose_runtime("torch", "int8", "cpu", source)


def test_a_model_that_cannot_be_exported_runs_on_torch(tmp_path, monkeypatch):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    source = resolve_model(str(folder))
    monkeypatch.setattr(runtimes, "installed", lambda name: True)
    assert runtimes.choose_runtime("auto", "auto", "cpu", source)[0] == "torch"
    with pytest.raises(SenseIndexError, match="not a BERT or MPNet"):
        runtimes.choose_runtime("openvino", "auto", "cpu", source)


@pytest.fixture(scope="module")
def fresh_cache(tmp_path_factory):
    """An export cache of its own (the minilm model is read from its package, not the cache)."""
    return tmp_path_factory.mktemp("export-cache")


@needs_onnx
@pytest.mark.model
def test_export_missing_and_unmakeable_falls_back_to_torch(tmp_path, monkeypatch):
    from senseindex.encoding import encoder as encoder_module

    monkeypatch.setenv("SENSEINDEX_CACHE", str(tmp_path))

    def broken(*args, **kwargs):
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(export, "export_onnx", broken)
    with pytest.warns(SenseIndexWarning, match="exporting .* failed: RuntimeError: exporter crashed; using torch"):
        enc = encoder_module._cached_encoder.__wrapped__("minilm", "last", "cpu", "auto", "auto")
    assert isinstance(enc, Encoder) and enc.runtime == "torch"
    assert not (export.export_dir(enc.source, enc.layers) / "model.fp32.onnx").exists()
    with pytest.raises(export.ExportError, match="exporter crashed"):  # asked for by name: an error
        encoder_module._cached_encoder.__wrapped__("minilm", "last", "cpu", "auto", "onnx")


@needs_onnx
@pytest.mark.model
def test_damaged_export_is_reported_and_rebuilt(fresh_cache, monkeypatch, minilm_fp32):
    monkeypatch.setenv("SENSEINDEX_CACHE", str(fresh_cache))
    source = resolve_model("minilm")
    with pytest.warns(SenseIndexWarning, match="exporting"):
        good = runtimes.ExportedEncoder(source, "last", "onnx", "fp32")
    path = export.export_dir(source, good.layers) / "model.fp32.onnx"
    spans = [spans_of(TRICKY[1])]
    expected = good.word_vectors(TRICKY[1:2], spans)[0]

    # overwritten bytes: the digest in export.json no longer matches
    with open(path, "r+b") as fh:
        fh.write(b"\0" * 4096)
    with pytest.warns(SenseIndexWarning, match=r"model\.fp32\.onnx: damaged model export \(its size or digest"):
        again = runtimes.ExportedEncoder(source, "last", "onnx", "fp32")
    assert np.allclose(again.word_vectors(TRICKY[1:2], spans)[0], expected, atol=1e-5)

    # damage the digest cannot see (recorded again after the damage): the runtime's parser fails
    path.write_bytes(b"not an onnx graph" * 100)
    meta = json.loads((path.parent / "export.json").read_text())
    meta["files"][path.name].update(size=path.stat().st_size, digest=export._digest(path))
    (path.parent / "export.json").write_text(json.dumps(meta))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rebuilt = runtimes.ExportedEncoder(source, "last", "onnx", "fp32")
    messages = [str(w.message) for w in caught if issubclass(w.category, SenseIndexWarning)]
    assert any("damaged model export" in m and "rebuilding" in m for m in messages), messages
    assert np.allclose(rebuilt.word_vectors(TRICKY[1:2], spans)[0], expected, atol=1e-5)
    assert path.stat().st_size > 1_000_000


@pytest.fixture(scope="module")
def minilm_index(tmp_path_factory):
    """A small index built with the default runtime (an exported one where installed)."""
    from senseindex import SenseIndex

    corpus = tmp_path_factory.mktemp("corpus") / "bank.txt"
    corpus.write_text("The bank raised its interest rates again.\nWe sat on the river bank and fished.\n"
                      "The bank approved the loan.\nThe grassy bank sloped down to the water.\n", encoding="utf-8")
    path = tmp_path_factory.mktemp("idx") / "bank"
    SenseIndex.open_or_create(path, model="minilm").add([corpus])
    return path


@needs_onnx
@pytest.mark.model
def test_manifest_records_the_runtime_and_another_runtime_can_search(minilm_index):
    from senseindex import SenseIndex

    info = SenseIndex.open(minilm_index).info()
    assert (info["runtime"], info["precision"]) == runtimes.choose_runtime("auto", "auto", "cpu", resolve_model("minilm"))
    hits = {}
    for runtime, precision in (("torch", info["precision"]), ("onnx", "fp32"), ("onnx", "int8"), ("openvino", "int8")):
        si = SenseIndex.open(minilm_index, runtime=runtime, precision=precision)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _, found = si.search("I deposited cash at the [bank]", k=4)
        warned = [str(w.message) for w in caught if issubclass(w.category, SenseIndexWarning)]
        assert bool(warned) == (precision != info["precision"]), warned
        if warned:
            assert f"built at {info['precision']}" in warned[0] and f"encoded at {precision}" in warned[0]
        hits[runtime, precision] = [h.occurrence_id for h in found]
    assert len({tuple(v[:1]) for v in hits.values()}) == 1, hits  # the same best hit whatever runs the query


@needs_onnx
@pytest.mark.model
def test_queries_never_import_torch_or_transformers(minilm_index):
    """search, explain, the CLI's search and the workbench's (serve) in a fresh process, from the
    cached export: no torch, no transformers. (label runs the same encoder on an index with labels.)"""
    code = f"""
import sys, warnings
from starlette.testclient import TestClient
from senseindex import SenseIndex
from senseindex.cli import cli
from senseindex.web.app import create_app
si = SenseIndex.open({str(minilm_index)!r})
si.search("I deposited cash at the [bank]", k=2)
si.explain(["the [bank] of the river", "the [bank] lent money"])
try:
    cli(["search", {str(minilm_index)!r}, "the river [bank] flooded", "-k", "2"])
except SystemExit as exc:
    assert not exc.code, exc.code
with TestClient(create_app([{str(minilm_index)!r}]), base_url="http://127.0.0.1") as client:
    r = client.get("/api/search", params={{"index": "bank", "q": "a [bank] loan"}})
    assert r.status_code == 200 and r.json()["hits"], r.text
print("MODULES", "torch" in sys.modules, "transformers" in sys.modules, type(si.encoder).__name__)
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "MODULES False False ExportedEncoder" in out.stdout, out.stdout[-500:] + out.stderr[-2000:]


def test_spacy_is_imported_without_torch_in_a_fresh_process():
    code = ("import sys\nfrom senseindex.text.tagging import pipeline\npipeline()\n"
            "print('torch' in sys.modules)\nimport torch\nprint(torch.__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "torch"]  # hidden while spaCy loads, importable afterwards


@needs_onnx
@pytest.mark.model
def test_exports_are_cached_per_model_layer_and_precision(fresh_cache, monkeypatch):
    monkeypatch.setenv("SENSEINDEX_CACHE", str(fresh_cache))
    source = resolve_model("minilm")
    path = export.ensure_export(source, [6], "int8")
    assert path.name == "model.int8.onnx" and (path.parent / "model.fp32.onnx").exists()
    w8 = export.ensure_export(source, [6], "w8")
    assert w8.name == "model.w8.onnx" and w8.parent == path.parent
    meta = json.loads((path.parent / "export.json").read_text())
    assert set(meta["files"]) == {"model.fp32.onnx", "model.int8.onnx", "model.w8.onnx"} and meta["layers"] == [6]
    assert path.parent.is_relative_to(fresh_cache / "exports")
    assert export.cached_export(source, [6], "int8") == path and export.cached_export(source, [6], "w8") == w8
    assert export.cached_export(source, [3], "fp32") is None
    import onnx

    graph = onnx.load(str(w8)).graph  # every weight MatMul reads int8 weights through a DequantizeLinear
    int8 = {i.name for i in graph.initializer if i.data_type == onnx.TensorProto.INT8 and len(i.dims) == 2}
    dequantised = [n for n in graph.node if n.op_type == "DequantizeLinear" and n.input[0] in int8]
    assert len(dequantised) == 6 * 6 and len(int8) == 36  # 6 layers: q, k, v, output, intermediate, output
    # the fp32 file damaged: what was made from it goes too
    with pytest.warns(SenseIndexWarning, match="damaged model export"):
        export.discard(path.parent / "model.fp32.onnx", "a test")
    assert not path.exists() and not w8.exists()
    assert json.loads((path.parent / "export.json").read_text())["files"] == {}
    shutil.rmtree(path.parent)


def test_preload_loads_the_model_once_on_another_thread(tmp_path, hash_encoder, monkeypatch):
    import threading

    from senseindex import SenseIndex
    from senseindex.encoding import encoder as encoder_module

    corpus = tmp_path / "c.txt"
    corpus.write_text("The bank raised its rates.\nThe river bank flooded.\n", encoding="utf-8")
    SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder).add([corpus])
    calls = []
    release = threading.Event()

    def slow_load(*args):
        calls.append(threading.current_thread().name)
        release.wait(10)
        return hash_encoder

    monkeypatch.setattr(encoder_module, "load_encoder", slow_load)
    si = SenseIndex.open(tmp_path / "idx")
    si.preload()
    for _ in range(1000):  # until the background thread is inside the load
        if calls:
            break
        release.wait(0.01)
    release.set()
    assert si.encoder is hash_encoder
    _, hits = si.search("the [bank] of the river", k=2)
    assert hits and calls == ["senseindex-preload"]


def test_queries_go_int8_only_on_an_openvino_index_with_no_precision_asked(monkeypatch):
    monkeypatch.setattr(runtimes, "cpu_has_int8", lambda: True)
    monkeypatch.setattr(runtimes, "installed", lambda name: True)
    rule = runtimes.query_precision
    assert rule("openvino", "bf16", "auto", "auto", "auto") == "int8"
    assert rule("openvino", "fp32", "auto", "openvino", "cpu") == "int8"
    assert rule("openvino", "bf16", "bf16", "auto", "auto") is None  # a precision asked for is used as asked
    assert rule("openvino", "bf16", "auto", "torch", "auto") is None
    assert rule("openvino", "bf16", "auto", "auto", "cuda") is None
    assert rule("torch", "bf16", "auto", "auto", "auto") is None  # measured for OpenVINO's vectors only
    assert rule("openvino", "int8", "auto", "auto", "auto") is None
    monkeypatch.setattr(runtimes, "cpu_has_int8", lambda: False)  # no int8 dot products: no quicker
    assert rule("openvino", "bf16", "auto", "auto", "auto") is None


@needs_onnx
@pytest.mark.model
def test_a_search_encodes_its_query_in_int8_and_finds_the_same_best_hit(minilm_index):
    from senseindex import SenseIndex

    si = SenseIndex.open(minilm_index)
    info = si.info()
    expected = runtimes.query_precision(info["runtime"], info["precision"], "auto", "auto", "auto")
    assert info["query_precision"] == (expected or info["precision"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, hits = si.search("I deposited cash at the [bank]", k=4)
    assert not [w for w in caught if "built at" in str(w.message)]  # the measured pairing is not warned about
    if expected:
        assert (si.query_encoder.runtime, si.query_encoder.precision) == ("openvino", "int8")
    else:
        assert si.query_encoder is si.encoder
    assert si.encoder.precision == info["precision"]  # indexing, labels and glosses keep the index's
    asked = SenseIndex.open(minilm_index, precision=info["precision"])
    _, same = asked.search("I deposited cash at the [bank]", k=4)
    assert asked.query_encoder is asked.encoder
    assert [h.occurrence_id for h in hits][:2] == [h.occurrence_id for h in same][:2]
    assert np.allclose([h.score for h in hits], [h.score for h in same], atol=0.02)


def test_a_query_model_that_cannot_load_falls_back_to_the_index_model(tmp_path, hash_encoder, monkeypatch):
    from senseindex import SenseIndex
    from senseindex.encoding import encoder as encoder_module

    corpus = tmp_path / "c.txt"
    corpus.write_text("The bank raised its rates.\nThe river bank flooded.\n", encoding="utf-8")
    SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder).add([corpus])
    asked = []

    def load(model, layer, device, precision, runtime):
        asked.append(precision)
        if precision == "int8":
            raise PermissionError("read-only cache")
        return hash_encoder

    monkeypatch.setattr(encoder_module, "load_encoder", load)
    monkeypatch.setattr(runtimes, "query_precision", lambda *args: "int8")
    si = SenseIndex.open(tmp_path / "idx")
    assert si.query_encoder is si.encoder is hash_encoder and asked == ["int8", "auto"]
    _, hits = si.search("the [bank] of the river", k=2)
    assert hits
