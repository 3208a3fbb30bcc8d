"""OpenVINO experiments: int8 weight compression, hints/threads, forward latency, batch shapes."""
import sys, time, statistics, json, os, gzip
import numpy as np
sys.path.insert(0, ''+__import__('os').path.dirname(__file__)+'/../../../src')
import openvino as ov
from openvino import opset13 as ops
ONNX = '/root/.cache/senseindex/exports/sentence-transformers--all-mpnet-base-v2/layers-12/model.fp32.onnx'
core = ov.Core()

def compress(model, transpose):
    n = 0
    for op in model.get_ordered_ops():
        if op.get_type_name() != 'MatMul':
            continue
        w = op.input(1).get_source_output().get_node()
        if w.get_type_name() != 'Constant' or op.get_attributes()['transpose_b']:
            continue
        W = w.get_data().astype(np.float32)  # [in, out]
        if W.ndim != 2:
            continue
        if transpose:
            Wt = W.T.copy()  # [out, in]
            s = np.abs(Wt).max(1, keepdims=True) / 127
            q = np.clip(np.round(Wt / np.maximum(s, 1e-12)), -127, 127).astype(np.int8)
            dq = ops.multiply(ops.convert(ops.constant(q), ov.Type.f32), ops.constant(s.astype(np.float32)))
            new = ops.matmul(op.input(0).get_source_output(), dq, False, True)
        else:
            s = np.abs(W).max(0, keepdims=True) / 127
            q = np.clip(np.round(W / np.maximum(s, 1e-12)), -127, 127).astype(np.int8)
            dq = ops.multiply(ops.convert(ops.constant(q), ov.Type.f32), ops.constant(s.astype(np.float32)))
            new = ops.matmul(op.input(0).get_source_output(), dq, False, False)
        new.set_friendly_name(op.get_friendly_name())
        for t in op.output(0).get_target_inputs():
            t.replace_source_output(new.output(0))
        n += 1
    return n

def lat(compiled, ids, reps=30):
    req = compiled.create_infer_request()
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    for _ in range(3): req.infer(feed)
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); req.infer(feed); ts.append(time.perf_counter() - t)
    return round(1000 * statistics.median(ts), 2)

def main():
    ids = np.array([[0, 146, 2386, 1041, 10112, 2006, 2023, 9085, 2, ]], dtype=np.int64)
    ids[0,0]=0
    out = {}
    base = core.read_model(ONNX)
    for name, mdl in [("bf16", base)]:
        for cfg in [dict(PERFORMANCE_HINT="LATENCY"), dict(PERFORMANCE_HINT="LATENCY", INFERENCE_NUM_THREADS=1),
                    dict(PERFORMANCE_HINT="THROUGHPUT")]:
            t = time.perf_counter()
            c = core.compile_model(mdl, "CPU", {"INFERENCE_PRECISION_HINT": "bf16", **cfg})
            out[f"{name} {cfg}"] = (lat(c, ids), round(time.perf_counter() - t, 1))
            print(f"{name} {cfg}", out[f"{name} {cfg}"], flush=True)
    ref_c = core.compile_model(base, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    rng = np.random.default_rng(0)
    test_ids = rng.integers(1000, 20000, size=(4, 24)); test_ids[:, 0] = 0; test_ids[:, -1] = 2
    ref = ref_c.create_infer_request().infer({"input_ids": test_ids, "attention_mask": np.ones_like(test_ids)})[0]
    for transpose in (True, False):
        m = core.read_model(ONNX)
        n = compress(m, transpose)
        for cfg in [dict(PERFORMANCE_HINT="LATENCY"), dict(PERFORMANCE_HINT="LATENCY", INFERENCE_NUM_THREADS=1)]:
            c = core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": "bf16", **cfg})
            got = c.create_infer_request().infer({"input_ids": test_ids, "attention_mask": np.ones_like(test_ids)})[0]
            a = ref.reshape(-1, 768); b = np.asarray(got).reshape(-1, 768)
            cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
            key = f"int8w transpose={transpose} {cfg}"
            out[key] = (lat(c, ids), n, round(float(cos.min()), 4), round(float(cos.mean()), 5))
            print(key, out[key], flush=True)
            if transpose and cfg.get("INFERENCE_NUM_THREADS") is None:
                req = c.create_infer_request(); req.infer({"input_ids": ids, "attention_mask": np.ones_like(ids)})
                rt = c.get_runtime_model()
                fc = [(o.get_rt_info()['layerType'].astype(str), o.get_rt_info()['runtimePrecision'].astype(str), o.get_rt_info()['primitiveType'].astype(str)) for o in rt.get_ordered_ops() if 'FullyConnected' in o.get_rt_info()['layerType'].astype(str)]
                print('exec FC', fc[:3], len(fc), flush=True)
    json.dump(out, open('/tmp/rs/ovexp.json', 'w'), indent=1)

if __name__ == "__main__":
    main()
