"""Where a cold search's process exit goes: OpenVINO alone, compiled from its cache, one
inference, then an exit in one of several ways. Prints phase times (monotonic clock) to stderr;
the caller measures the process's end on the same clock.

    python ovexit.py MODE   # MODE: plain | del | del-core-first | osexit | thread | thread-del | noinfer
"""

import os
import sys
import time

t0 = time.monotonic()
mode = sys.argv[1]
import numpy as np  # noqa: E402
import openvino as ov  # noqa: E402

t_import = time.monotonic()
folder = os.path.expanduser("~/.cache/senseindex/exports/sentence-transformers--all-mpnet-base-v2/layers-12")
holder = {}


def load():
    core = ov.Core()
    core.set_property({"CACHE_DIR": f"{folder}/openvino-bf16-3d49f3c8dd43"})
    holder["core"] = core
    holder["compiled"] = core.compile_model(f"{folder}/model.fp32.onnx", "CPU",
                                            {"INFERENCE_PRECISION_HINT": "bf16", "PERFORMANCE_HINT": "LATENCY"})


if mode.startswith("thread"):
    import threading

    th = threading.Thread(target=load, daemon=True)
    th.start()
    th.join()
else:
    load()
t_load = time.monotonic()
if mode != "noinfer":
    request = holder["compiled"].create_infer_request()
    ids = np.array([[0, 1045, 2031, 1037, 16319, 2006, 2026, 3526, 2]], dtype=np.int64)
    request.infer({"input_ids": ids, "attention_mask": np.ones_like(ids)})
t_infer = time.monotonic()
if mode in ("del", "thread-del"):
    request = None
    holder.pop("compiled")
    holder.pop("core")
elif mode == "del-core-first":
    holder.pop("core")
    request = None
    holder.pop("compiled")
t_del = time.monotonic()
print(f"PHASES start={t0:.4f} import={t_import - t0:.3f} load={t_load - t_import:.3f} "
      f"infer={t_infer - t_load:.3f} del={t_del - t_infer:.3f} end={t_del:.4f}", file=sys.stderr, flush=True)
if mode == "osexit":
    sys.stdout.flush()
    os._exit(0)
