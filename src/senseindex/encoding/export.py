"""The model exported to ONNX once, from the packaged weights, and cached per model, layer and precision.

Why a file: ONNX Runtime and OpenVINO run a graph, not a torch module, and building the graph
needs torch (seconds, once). After that a query loads the graph and the `tokenizers` library
alone. The graph is `bert_family.Model` with the requested hidden layers averaged inside it, so
it returns exactly what `Encoder._forward` returns: (batch, width, dim) float32.

Layout, under the user's cache (`weights.cache_dir()`): exports/<model>/<layers>/ holds
model.fp32.onnx, model.int8.onnx and model.w8.onnx (each made from the fp32 file on first
need) and export.json, which records for each
file its size and a digest of its first and last MiB (read in milliseconds, so a cold query can
afford the check; a truncated or overwritten file fails it, and a file that fails to parse is
caught where it is loaded) and the size and modification time of the weights it came from.
A file that fails either check is reported and rebuilt (`ensure_export`, `discard`).

"int8" (ONNX Runtime's file) is its dynamic quantisation of the weight MatMuls, per channel, except the
feed-forward output projections (the MatMuls whose weight is intermediate x hidden): their
inputs, after GELU, have outliers that per-tensor activation scales cannot hold, and
quantising them brought the mean token cosine to fp32 from 0.99 to 0.84 on all-mpnet-base-v2
(docs/benchmarks/26-runtimes.md).

"w8" (OpenVINO's int8) holds every weight MatMul's weights as int8, symmetric per output channel,
behind a DequantizeLinear: OpenVINO keeps them as int8 in memory and quantises the activations
itself, at run time, per group of 32 values (`runtimes.ExportedEncoder`), so the outliers after
GELU keep their own scales and no projection has to stay in fp32.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import warnings
from pathlib import Path

from senseindex.encoding.weights import ModelSource, cache_dir
from senseindex.errors import SenseIndexError, SenseIndexWarning

EXPORT_FORMAT = "1"
EXPORT_PRECISIONS = ("fp32", "int8", "w8")
DERIVED = ("int8", "w8")  # made from the fp32 file, and removed with it
_EDGE = 1 << 20


class ExportError(SenseIndexError):
    """The model cannot be exported (a needed package is missing, or the export failed)."""


def export_dir(source: ModelSource, layers: list[int]) -> Path:
    """exports/<model>/layers-<i-j>: one folder per model and set of averaged layers."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "--", source.name).strip("-.")[-80:]
    if not source.packaged:  # a folder or hub id: its path can be long or clash after slugging
        slug += "-" + hashlib.sha256(source.location.encode()).hexdigest()[:10]
    return cache_dir() / "exports" / slug / ("layers-" + "-".join(map(str, layers)))


def _weights(source: ModelSource) -> dict:
    st = (Path(source.location) / "model.safetensors").stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _digest(path: Path) -> str:
    """sha256 of the size, the first and the last MiB: cheap enough for every load."""
    size = path.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with open(path, "rb") as fh:
        h.update(fh.read(_EDGE))
        if size > _EDGE:
            fh.seek(max(_EDGE, size - _EDGE))
            h.update(fh.read(_EDGE))
    return h.hexdigest()


def _read_meta(folder: Path) -> dict:
    try:
        return json.loads((folder / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_meta(folder: Path, meta: dict) -> None:
    tmp = folder / "export.json.tmp"
    tmp.write_text(json.dumps(meta, indent=1), encoding="utf-8")
    os.replace(tmp, folder / "export.json")


def file_name(precision: str) -> str:
    return f"model.{precision}.onnx"


def cached_export(source: ModelSource, layers: list[int], precision: str) -> Path | None:
    """The export's path when it is cached and passes the checks; None when it is absent (or
    made from other weights); a damaged one is reported, removed, and None returned."""
    folder = export_dir(source, layers)
    path = folder / file_name(precision)
    meta = _read_meta(folder)
    entry = meta.get("files", {}).get(path.name)
    if not path.exists() or entry is None:
        return None
    if meta.get("format") != EXPORT_FORMAT or meta.get("weights") != _weights(source):
        return None
    if path.stat().st_size != entry["size"] or _digest(path) != entry["digest"]:
        discard(path, "its size or digest differs from export.json")
        return None
    return path


def recorded_digest(path: Path) -> str:
    """The digest export.json records for an export file (names what was compiled from it)."""
    return _read_meta(path.parent).get("files", {}).get(path.name, {}).get("digest", "none")


def discard(path: Path, why: str) -> None:
    """Report a damaged export and remove it (with what was derived from it), so it is rebuilt."""
    warnings.warn(f"{path}: damaged model export ({why}); rebuilding it", SenseIndexWarning, stacklevel=2)
    folder = path.parent
    victims = [path] + ([folder / file_name(p) for p in DERIVED] if path.name == file_name("fp32") else [])
    meta = _read_meta(folder)
    for victim in victims:
        victim.unlink(missing_ok=True)
        meta.get("files", {}).pop(victim.name, None)
    if meta:
        _write_meta(folder, meta)


def ensure_export(source: ModelSource, layers: list[int], precision: str) -> Path:
    """The cached export, made first if absent or damaged (one process at a time: a lock file)."""
    if precision not in EXPORT_PRECISIONS:
        raise SenseIndexError(f"export precision {precision!r}: use {' or '.join(EXPORT_PRECISIONS)}")
    found = cached_export(source, layers, precision)
    if found is not None:
        return found
    from filelock import FileLock

    folder = export_dir(source, layers)
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".lock")):
        found = cached_export(source, layers, precision)  # another process may have made it
        if found is not None:
            return found
        meta = _read_meta(folder)
        if meta.get("format") != EXPORT_FORMAT or meta.get("weights") != _weights(source):
            meta = {"format": EXPORT_FORMAT, "model": source.name, "layers": layers,
                    "weights": _weights(source), "files": {}}
        fp32 = folder / file_name("fp32")
        if precision in DERIVED and fp32.name not in meta["files"]:
            meta = _build(source, layers, "fp32", folder, meta)
        _build(source, layers, precision, folder, meta)
        return folder / file_name(precision)


def _build(source: ModelSource, layers: list[int], precision: str, folder: Path, meta: dict) -> dict:
    """Write one export file beside its final name, then move it in and record it."""
    path = folder / file_name(precision)
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    what = {"int8": "int8 for ONNX Runtime", "w8": "int8 weights for OpenVINO"}.get(precision, precision)
    warnings.warn(f"exporting {source.name} (layers {layers}, {what}) to ONNX once, into {folder} "
                  "(up to a minute; later runs load it in seconds)", SenseIndexWarning, stacklevel=3)
    start = time.perf_counter()
    try:
        if precision == "fp32":
            export_onnx(source, layers, tmp)
        elif precision == "w8":
            int8_weights(folder / file_name("fp32"), tmp)
        else:
            quantise_int8(folder / file_name("fp32"), tmp)
        os.replace(tmp, path)
    except ExportError:
        raise
    except Exception as exc:  # the exporter's own failure, named in one line
        raise ExportError(f"exporting {source.name} to ONNX failed: {type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    meta["files"][path.name] = {"name": path.name, "size": path.stat().st_size, "digest": _digest(path),
                                "seconds": round(time.perf_counter() - start, 1)}
    _write_meta(folder, meta)
    return meta


def export_onnx(source: ModelSource, layers: list[int], dest: Path) -> None:
    """Trace the checkpoint (bert_family) to ONNX with dynamic batch and length axes."""
    try:
        import torch

        from senseindex.encoding import bert_family
    except ImportError as exc:
        raise ExportError(f"exporting needs torch: {exc}") from None
    if not bert_family.supported(source.location):
        raise ExportError(f"{source.name}: only BERT and MPNet checkpoint folders can be exported")

    class Averaged(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.m = model

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            return torch.stack(self.m(ids, mask, layers)).mean(0)

    _, model = bert_family.load(source.location)
    ids = torch.ones((2, 9), dtype=torch.long)
    mask = torch.ones((2, 9), dtype=torch.long)
    mask[1, 6:] = 0
    axes = {"b": 0, "n": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Averaged(model).eval(), (ids, mask), str(dest), dynamo=False, opset_version=17,
                          input_names=["input_ids", "attention_mask"], output_names=["hidden"],
                          dynamic_axes={n: {v: k for k, v in axes.items()} for n in
                                        ("input_ids", "attention_mask", "hidden")})


def quantise_int8(src: Path, dest: Path) -> None:
    """Dynamic int8 (weights per channel, activations per tensor at run time) of every weight
    MatMul but the feed-forward output projections (see the module docstring)."""
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ExportError(f"int8 needs onnx and onnxruntime: {exc}") from None
    graph = onnx.load(str(src), load_external_data=False).graph
    shapes = {i.name: tuple(i.dims) for i in graph.initializer if len(i.dims) == 2}
    weighted = {n.name: shapes[n.input[1]][0] for n in graph.node
                if n.op_type == "MatMul" and len(n.input) == 2 and n.input[1] in shapes}
    widest = max(weighted.values(), default=0)  # the intermediate size: inputs of the FFN outputs
    keep = [name for name, inputs in weighted.items() if inputs < widest]
    import logging

    quiet = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic logs advice at WARNING on the root logger
    try:
        quantize_dynamic(str(src), str(dest), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"], nodes_to_quantize=keep)
    finally:
        logging.getLogger().setLevel(quiet)


def int8_weights(src: Path, dest: Path) -> None:
    """Every 2-D weight of a MatMul stored as int8 (symmetric, one scale per output column) behind
    a DequantizeLinear, which OpenVINO reads as compressed weights (see the module docstring)."""
    try:
        import numpy as np
        import onnx
        from onnx import helper, numpy_helper
    except ImportError as exc:
        raise ExportError(f"int8 weights need onnx: {exc}") from None
    model = onnx.load(str(src))
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    uses: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    dequantise = []
    for node in graph.node:
        name = node.input[1] if node.op_type == "MatMul" and len(node.input) == 2 else None
        if name not in inits or uses[name] != 1 or len(inits[name].dims) != 2:
            continue
        weight = numpy_helper.to_array(inits[name]).astype(np.float32)  # [in, out]
        scale = np.maximum(np.abs(weight).max(0), 1e-12).astype(np.float32) / 127
        q = np.clip(np.round(weight / scale), -127, 127).astype(np.int8)
        graph.initializer.remove(inits[name])
        graph.initializer.extend([numpy_helper.from_array(q, name + ".q"), numpy_helper.from_array(scale, name + ".scale"),
                                  numpy_helper.from_array(np.zeros_like(q[0]), name + ".zero")])
        dequantise.append(helper.make_node("DequantizeLinear", [name + ".q", name + ".scale", name + ".zero"],
                                           [name], axis=1, name=name + ".dequantise"))
    if not dequantise:
        raise ExportError(f"{src}: no MatMul weights to store as int8")
    for node in reversed(dequantise):  # initialisers' consumers first: the graph stays sorted
        graph.node.insert(0, node)
    onnx.save(model, str(dest))
