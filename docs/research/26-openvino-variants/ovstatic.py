import sys, time, statistics
import numpy as np
import openvino as ov
ONNX = '/root/.cache/senseindex/exports/sentence-transformers--all-mpnet-base-v2/layers-12/model.fp32.onnx'
core = ov.Core()
def lat(c, ids, reps=40):
    r = c.create_infer_request(); f = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    for _ in range(3): r.infer(f)
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); r.infer(f); ts.append(time.perf_counter() - t)
    return round(1000 * statistics.median(ts), 2)
cfg = {"INFERENCE_PRECISION_HINT": "bf16", "PERFORMANCE_HINT": "LATENCY"}
c = core.compile_model(ONNX, "CPU", cfg)
for n in (9, 16, 32, 64):
    ids = np.full((1, n), 1000, dtype=np.int64); ids[0, 0] = 0; ids[0, -1] = 2
    print('dynamic', n, lat(c, ids), flush=True)
ids8 = np.full((8, 16), 1000, dtype=np.int64)
print('dynamic 8x16', lat(c, ids8), flush=True)
for n in (16,):
    m = core.read_model(ONNX); m.reshape({"input_ids": [1, n], "attention_mask": [1, n]})
    cs = core.compile_model(m, "CPU", cfg)
    ids = np.full((1, n), 1000, dtype=np.int64)
    print('static', n, lat(cs, ids), flush=True)
    m = core.read_model(ONNX); m.reshape({"input_ids": [1, n], "attention_mask": [1, n]})
    cs = core.compile_model(m, "CPU", {**cfg, "INFERENCE_NUM_THREADS": 1})
    print('static 1 thread', n, lat(cs, ids), flush=True)
# memory bandwidth
a = np.ones(64 * 1024 * 1024 // 2, dtype=np.float32)
t = time.perf_counter(); 
for _ in range(5): a.sum()
print('numpy read GB/s', round(5 * a.nbytes / (time.perf_counter() - t) / 1e9, 1))
