"""Static int8 (NNCF post-training quantisation, FakeQuantize -> AMX int8) against bf16.

Scratch experiment for issue 26; run with nncf on PYTHONPATH. Prints token cosines to fp32 over
256 demo sentences (calibration on the other demo sentences), a 256-sentence batch's time and
one sentence's latency."""
import sys, time, statistics, os
here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here, here + '/../../../src', here + '/../../../bench']
import numpy as np
import openvino as ov
import nncf
from measure import measure
from indexing import demo_sentences
from senseindex.encoding.checkpoint import Tokenizer
from senseindex.encoding.weights import resolve_model
from senseindex.encoding.subwords import padded
from pathlib import Path
ONNX = '/root/.cache/senseindex/exports/sentence-transformers--all-mpnet-base-v2/layers-12/model.fp32.onnx'
core = ov.Core()
tok = Tokenizer(Path(resolve_model('mpnet').location))
sents = demo_sentences()
ids, _ = tok.encode_batch_offsets(sents)
allb = [[0] + x + [2] for x in ids]
batch, calib = allb[:256], allb[256:]
arr, mask = padded(batch, 1)
ref = core.compile_model(ONNX, "CPU", {"INFERENCE_PRECISION_HINT": "f32"}).create_infer_request().infer({"input_ids": arr, "attention_mask": mask})[0]
items = [{"input_ids": np.array([b]), "attention_mask": np.ones((1, len(b)), dtype=np.int64)} for b in calib]

def quantised(name):
    m = core.read_model(ONNX)
    kw = dict(model_type=nncf.ModelType.TRANSFORMER, subset_size=len(items))
    if 'mixed' in name:
        kw['preset'] = nncf.QuantizationPreset.MIXED
    if 'noffn' in name:
        w = {}
        for op in m.get_ordered_ops():
            if op.get_type_name() == 'MatMul':
                for inp in op.inputs():
                    src = inp.get_source_output().get_node()
                    shp = list(inp.get_partial_shape()) if inp.get_partial_shape().is_static else None
                    if shp and len(shp) == 2 and 3072 in [d.get_length() for d in shp] and [d.get_length() for d in shp].index(3072) == (1 if 'transpose' in name else 1):
                        pass
        # FFN output MatMuls: weight 3072 x 768 (input features 3072)
        names = []
        for op in m.get_ordered_ops():
            if op.get_type_name() == 'MatMul':
                ps = op.input(0).get_partial_shape()
                if ps.rank.is_static and ps[ps.rank.get_length() - 1].is_static and ps[ps.rank.get_length() - 1].get_length() == 3072:
                    names.append(op.get_friendly_name())
        print('ignored', len(names), flush=True)
        kw['ignored_scope'] = nncf.IgnoredScope(names=names)
    if 'sq' in name:
        kw['advanced_parameters'] = nncf.AdvancedQuantizationParameters(smooth_quant_alphas=nncf.AdvancedSmoothQuantParameters(matmul=0.95))
    t = time.perf_counter()
    q = nncf.quantize(m, nncf.Dataset(items), **kw)
    print(name, 'quantise %.1f s' % (time.perf_counter() - t), flush=True)
    return q

variants = sys.argv[1].split(',')
for name in variants:
    if name == 'bf16':
        mdl = core.read_model(ONNX)
    else:
        mdl = quantised(name)
    c = core.compile_model(mdl, "CPU", {"INFERENCE_PRECISION_HINT": "bf16", "PERFORMANCE_HINT": "LATENCY"})
    print(name, measure(c, ref, arr, mask, np.array([batch[0]])), flush=True)
    if len(sys.argv) > 2 and name != 'bf16':
        ov.save_model(mdl, f"{sys.argv[2]}/{name}.xml")
