"""Indexing-sized batches: one request on 2 threads (LATENCY, what senseindex runs) against two
requests in parallel, one stream and one thread each (THROUGHPUT hint, AsyncInferQueue)."""
import sys, time, statistics, os
here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here + '/../../../src', here + '/../../../bench']
import numpy as np
import openvino as ov
from indexing import demo_sentences
from senseindex.encoding.checkpoint import Tokenizer
from senseindex.encoding.weights import resolve_model
from senseindex.encoding.subwords import padded
from pathlib import Path
ONNX = '/root/.cache/senseindex/exports/sentence-transformers--all-mpnet-base-v2/layers-12/model.fp32.onnx'
core = ov.Core()
tok = Tokenizer(Path(resolve_model('mpnet').location))
ids, _ = tok.encode_batch_offsets(demo_sentences() * 4)
ids = sorted(ids, key=len)
batches = []  # length-sorted batches of up to 8192 padded tokens, as the encoder makes them
cur = []
for x in ids:
    b = [0] + x + [2]
    if cur and (len(cur) + 1) * len(b) > 8192:
        batches.append(cur); cur = []
    cur.append(b)
batches.append(cur)
arrays = [padded(b, 1) for b in batches]
tokens = sum(len(x) + 2 for x in ids)
print(len(batches), 'batches', tokens, 'tokens', flush=True)
lat = core.compile_model(ONNX, "CPU", {"INFERENCE_PRECISION_HINT": "bf16", "PERFORMANCE_HINT": "LATENCY"})
thr = core.compile_model(ONNX, "CPU", {"INFERENCE_PRECISION_HINT": "bf16", "PERFORMANCE_HINT": "THROUGHPUT",
                                        "NUM_STREAMS": 2})
print('streams', thr.get_property("NUM_STREAMS"), 'threads', thr.get_property("INFERENCE_NUM_THREADS"), flush=True)
req = lat.create_infer_request()
def one():
    for a, m in arrays:
        req.infer({"input_ids": a, "attention_mask": m})
def two():
    q = ov.AsyncInferQueue(thr, 2)
    for a, m in arrays:
        q.start_async({"input_ids": a, "attention_mask": m})
    q.wait_all()
def halves():  # each batch split in two halves run in parallel
    q = ov.AsyncInferQueue(thr, 2)
    for a, m in arrays:
        h = max(1, len(a) // 2)
        q.start_async({"input_ids": a[:h], "attention_mask": m[:h]})
        if len(a) > h:
            q.start_async({"input_ids": a[h:], "attention_mask": m[h:]})
    q.wait_all()
for f in (one, two, halves):
    f()
res = {f.__name__: [] for f in (one, two, halves)}
for _ in range(3):
    for f in (one, two, halves):
        t = time.perf_counter(); f(); res[f.__name__].append(time.perf_counter() - t)
for k, v in res.items():
    print(k, ['%.2f' % x for x in v], '%.0f tokens/s' % (tokens / statistics.median(v)), flush=True)
