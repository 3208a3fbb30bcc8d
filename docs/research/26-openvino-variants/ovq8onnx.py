"""int8 weights written into the ONNX export (DequantizeLinear, per output channel) and run by
OpenVINO with dynamic int8 activations: does it match the in-memory rewrite (ovint8.py)?"""
import sys, time, statistics, os
here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here, here + '/../../../src', here + '/../../../bench']
import numpy as np, onnx
from onnx import numpy_helper, helper, TensorProto
import openvino as ov
from measure import measure
from indexing import demo_sentences
from senseindex.encoding.checkpoint import Tokenizer
from senseindex.encoding.weights import resolve_model
from senseindex.encoding.subwords import padded
from pathlib import Path
ONNX = '/root/.cache/senseindex/exports/sentence-transformers--all-mpnet-base-v2/layers-12/model.fp32.onnx'

def write(dest, transpose):
    t = time.perf_counter()
    m = onnx.load(ONNX)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    users = {}
    for n in g.node:
        for x in n.input:
            users.setdefault(x, []).append(n)
    new_nodes = []
    for n in list(g.node):
        if n.op_type != 'MatMul' or n.input[1] not in inits:
            continue
        init = inits[n.input[1]]
        W = numpy_helper.to_array(init).astype(np.float32)
        if W.ndim != 2 or len(users[n.input[1]]) != 1:
            continue
        Wt = W.T if transpose else W  # quantise per output channel
        ax = 0 if transpose else 1
        s = np.abs(W).max(0) / 127
        s = np.maximum(s, 1e-12).astype(np.float32)
        q = np.clip(np.round(W / s), -127, 127).astype(np.int8)
        base = init.name
        g.initializer.remove(init)
        qq = q.T.copy() if transpose else q
        g.initializer.extend([numpy_helper.from_array(qq, base + '_q'), numpy_helper.from_array(s, base + '_s'),
                              numpy_helper.from_array(np.zeros_like(s, dtype=np.int8), base + '_z')])
        dq = helper.make_node('DequantizeLinear', [base + '_q', base + '_s', base + '_z'], [base + '_dq'], axis=ax)
        if transpose:
            tr = helper.make_node('Transpose', [base + '_dq'], [base], perm=[1, 0])
            new_nodes += [dq, tr]
        else:
            dq.output[0] = base
            new_nodes.append(dq)
    for nd in reversed(new_nodes):
        g.node.insert(0, nd)
    onnx.save(m, dest)
    print('written', dest, os.path.getsize(dest), '%.1f s' % (time.perf_counter() - t), flush=True)

core = ov.Core()
tok = Tokenizer(Path(resolve_model('mpnet').location))
ids, _ = tok.encode_batch_offsets(demo_sentences()[:256])
batch = [[0] + x + [2] for x in ids]
arr, mask = padded(batch, 1)
ref = core.compile_model(ONNX, "CPU", {"INFERENCE_PRECISION_HINT": "f32"}).create_infer_request().infer({"input_ids": arr, "attention_mask": mask})[0]
for transpose in (False, True):
    dest = f'/work/data/nncf/q8-{int(transpose)}.onnx'
    if not os.path.exists(dest):
        write(dest, transpose)
    for cfg in ({"INFERENCE_PRECISION_HINT": "f32", "DYNAMIC_QUANTIZATION_GROUP_SIZE": 32},
                {"INFERENCE_PRECISION_HINT": "bf16", "DYNAMIC_QUANTIZATION_GROUP_SIZE": 32},
                {"INFERENCE_PRECISION_HINT": "f32", "DYNAMIC_QUANTIZATION_GROUP_SIZE": 0}):
        t = time.perf_counter()
        c = core.compile_model(dest, "CPU", {**cfg, "PERFORMANCE_HINT": "LATENCY"})
        ct = time.perf_counter() - t
        print('transpose', transpose, cfg, 'compile %.1f s' % ct, measure(c, ref, arr, mask, np.array([batch[0]])), flush=True)
