"""Which runtime runs the encoder (torch, ONNX Runtime, OpenVINO) and the two exported ones.

`choose_runtime` turns --runtime/--precision into what runs. "auto" takes the fastest runtime
measured on a CPU (bench/encoder_runtimes.py, docs/benchmarks/26-runtimes.md) that meets the
sense-quality bound and is installed: OpenVINO in bf16 where the CPU has AMX or AVX512-bf16
(fp32 elsewhere), for a BERT or MPNet checkpoint folder on a CPU; torch for anything else (CUDA,
fp16, other architectures). ONNX Runtime is there when asked for: its fp32 was slower than
torch's bf16 here, and its int8 was faster but lost sense quality (see the benchmark).

`ExportedEncoder` is a `SubwordEncoder` whose forward pass runs the cached ONNX export
(`export`): tokenising with the `tokenizers` library and running the graph never imports torch
or transformers; only making the export, once, does.
"""

from __future__ import annotations

import importlib.util
import threading
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from senseindex.encoding.checkpoint import Config, Tokenizer, read_json, supported
from senseindex.encoding.export import ExportError, discard, ensure_export, recorded_digest
from senseindex.encoding.subwords import SubwordEncoder, padded, parse_layer
from senseindex.encoding.weights import ModelSource
from senseindex.errors import SenseIndexError, SenseIndexWarning

RUNTIMES = ("auto", "torch", "onnx", "openvino")
PRECISIONS = {"torch": ("fp32", "bf16", "fp16"), "onnx": ("fp32", "int8"), "openvino": ("fp32", "bf16", "int8")}
# OpenVINO's int8: int8 weights, activations quantised at run time per group of this many values
INT8_GROUP = 32
PACKAGES = {"torch": "torch", "onnx": "onnxruntime", "openvino": "openvino"}
_THREADS: list[int | None] = [None]


def set_threads(n: int | None) -> None:
    """CPU threads for encoders loaded after this call, whichever runtime (None: its default)."""
    _THREADS[0] = n


def threads() -> int | None:
    return _THREADS[0]


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's instruction-set flags (/proc/cpuinfo; empty where it cannot be read)."""
    try:
        return frozenset(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return frozenset()


def cpu_has_bf16() -> bool:
    """AMX or AVX512-bf16 make bf16 about 2x faster than fp32; without them it is slower."""
    return bool({"amx_bf16", "avx512_bf16"} & cpu_flags())


def cpu_has_int8() -> bool:
    """AMX-int8 or AVX512-VNNI: int8 dot products in hardware, without which dynamic int8 is no
    faster than fp32 (measured only on a CPU with both: docs/benchmarks/26-runtimes.md)."""
    return bool({"amx_int8", "avx512_vnni"} & cpu_flags())


def query_precision(built_runtime: str, built_precision: str, asked_precision: str, asked_runtime: str,
                    device: str) -> str | None:
    """The precision a search encodes its query at when none is asked for, if not the index's own
    (None). OpenVINO's int8 for an index OpenVINO built in bf16 or fp32, on a CPU with int8 dot
    products: one sentence's forward pass streams half the weights, and measured against the
    index's own precision its queries find the same hits (docs/runtimes.md, "Queries in int8")."""
    if asked_precision != "auto" or asked_runtime not in ("auto", "openvino") or device not in ("auto", "cpu"):
        return None
    if built_runtime != "openvino" or built_precision not in ("bf16", "fp32"):
        return None
    return "int8" if cpu_has_int8() and installed("openvino") else None


def installed(runtime: str) -> bool:
    """Whether the runtime's package can be imported (found, not imported: that costs time)."""
    return importlib.util.find_spec(PACKAGES[runtime]) is not None


def exportable(source: ModelSource) -> bool:
    """Only local BERT/MPNet checkpoint folders (every packaged model) can be exported."""
    return Path(source.location).is_dir() and supported(source.location)


def choose_runtime(runtime: str, precision: str, device: str, source: ModelSource) -> tuple[str, str]:
    """(runtime, precision) to load: "auto" resolved, an impossible explicit choice refused."""
    if runtime not in RUNTIMES:
        raise SenseIndexError(f"--runtime {runtime!r}: use {', '.join(RUNTIMES)}")
    if runtime == "auto":
        cpu = device in ("auto", "cpu")
        if cpu and precision in ("auto", "fp32", "bf16") and installed("openvino") and exportable(source):
            if precision == "auto":
                precision = "bf16" if cpu_has_bf16() else "fp32"
            return "openvino", precision
        if cpu and precision == "int8" and exportable(source):
            for name in ("openvino", "onnx"):  # OpenVINO's int8 is the closer to fp32 (docs/runtimes.md)
                if installed(name):
                    return name, precision
        return "torch", precision
    if runtime == "torch":
        if precision == "int8":
            raise SenseIndexError("--precision int8: only with --runtime openvino or onnx")
        return runtime, precision
    if device == "cuda":
        raise SenseIndexError(f"--runtime {runtime} runs on the CPU; use --runtime torch with --device cuda")
    if not installed(runtime):
        raise SenseIndexError(f"--runtime {runtime}: the {PACKAGES[runtime]} package is not installed "
                              f"(pip install {PACKAGES[runtime]})")
    if not exportable(source):
        raise SenseIndexError(f"--runtime {runtime}: {source.name} is not a BERT or MPNet checkpoint folder; "
                              "use --runtime torch")
    if precision == "auto":
        precision = "bf16" if runtime == "openvino" and cpu_has_bf16() else "fp32"
    if precision not in PRECISIONS[runtime]:
        raise SenseIndexError(f"--precision {precision} is not available with --runtime {runtime} "
                              f"(use {' or '.join(PRECISIONS[runtime])})")
    return runtime, precision


class ExportedEncoder(SubwordEncoder):
    """A WordEncoder running the cached ONNX export with ONNX Runtime or OpenVINO."""

    def __init__(self, source: ModelSource, layer: str | int = "last", runtime: str = "openvino",
                 precision: str = "bf16", batch_tokens: int | None = None, threads: int | None = None) -> None:
        self.source, self.runtime, self.precision, self.device = source, runtime, precision, "cpu"
        folder = Path(source.location)
        config = Config(read_json(folder / "config.json"))
        self._setup(Tokenizer(folder), config, layer)
        self.batch_tokens = batch_tokens or 8192
        self.threads = threads or _THREADS[0]
        self._run = self._load()

    def _file_precision(self) -> str:
        """The export file: OpenVINO makes bf16 from the fp32 graph itself; each runtime has its int8."""
        if self.precision != "int8":
            return "fp32"
        return "w8" if self.runtime == "openvino" else "int8"

    def _load(self):
        """Load the export; one that fails to load is reported, rebuilt and loaded again."""
        layers, precision = parse_layer(self.layer, self.num_layers), self._file_precision()
        path = ensure_export(self.source, layers, precision)
        try:
            return self._open(path)
        except Exception as exc:  # the runtime's parser: a damaged file says so in its own words
            discard(path, f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ''}")
        path = ensure_export(self.source, layers, precision)
        try:
            return self._open(path)
        except Exception as exc:
            raise ExportError(f"{path}: the rebuilt export does not load either: {exc}") from None

    def _open(self, path: Path):
        if self.runtime == "onnx":
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            if self.threads:
                options.intra_op_num_threads = self.threads
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            return lambda ids, mask: session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        import openvino as ov

        core = ov.Core()
        # Compiled blobs are cached beside the export, so a second process compiles in a fraction
        # of the time; one folder per precision and export file, because OpenVINO 2026.4 gives
        # fp32 and bf16 compilations the same cache key (and a bf16 load of the fp32 blob gave NaN).
        cache = path.parent / f"openvino-{self.precision}-{recorded_digest(path)[:12]}"
        core.set_property({"CACHE_DIR": str(cache)})
        config = {"INFERENCE_PRECISION_HINT": "bf16" if self.precision == "bf16" else "f32",
                  "PERFORMANCE_HINT": "LATENCY"}
        if self.precision == "int8":  # int8 x int8 matrix products on the int8 weights of model.w8.onnx
            config["DYNAMIC_QUANTIZATION_GROUP_SIZE"] = INT8_GROUP
        if self.threads:
            config["INFERENCE_NUM_THREADS"] = self.threads
        compiled = core.compile_model(str(path), "CPU", config)
        local = threading.local()  # not on self: a closure over self would keep the encoder in a cycle

        def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
            request = getattr(local, "request", None)  # one infer request per thread
            if request is None:
                request = local.request = compiled.create_infer_request()
            return np.array(request.infer({"input_ids": ids, "attention_mask": mask})[0], dtype=np.float32)

        return run

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        ids, mask = padded(batch, self.tokenizer.pad_token_id or 0)
        return self._run(ids, mask)


def load_exported(source: ModelSource, layer: str, runtime: str, precision: str, fallback: bool):
    """An ExportedEncoder, or None (with a warning) when `fallback` and it cannot be made, so
    the caller loads torch instead."""
    try:
        return ExportedEncoder(source, layer, runtime, precision)
    except ExportError as exc:
        if not fallback:
            raise
        warnings.warn(f"{exc}; using torch instead", SenseIndexWarning, stacklevel=3)
        return None
