import sys, time, statistics
sys.path.insert(0, __import__('os').path.dirname(__file__)); sys.path.insert(0, ''+__import__('os').path.dirname(__file__)+'/../../../src'); sys.path.insert(0, ''+__import__('os').path.dirname(__file__)+'/../../../bench')
import numpy as np
from ovexp import compress, ONNX, core
from measure import measure
from indexing import demo_sentences
from senseindex.encoding.checkpoint import Tokenizer
from senseindex.encoding.weights import resolve_model
from senseindex.encoding.subwords import padded
from pathlib import Path
tok = Tokenizer(Path(resolve_model('mpnet').location))
texts = demo_sentences()[:256]
ids, _ = tok.encode_batch_offsets(texts)
batch = [[0] + x + [2] for x in ids]
arr, mask = padded(batch, 1)
ref = core.compile_model(ONNX, "CPU", {"INFERENCE_PRECISION_HINT": "f32"}).create_infer_request().infer({"input_ids": arr, "attention_mask": mask})[0]
m = core.read_model(ONNX); compress(m, True)
variants = {
  'bf16': (core.read_model(ONNX), {"INFERENCE_PRECISION_HINT": "bf16"}),
  'int8w dq32 f32': (m, {"INFERENCE_PRECISION_HINT": "f32", "DYNAMIC_QUANTIZATION_GROUP_SIZE": 32}),
  'int8w dq64 f32': (m, {"INFERENCE_PRECISION_HINT": "f32", "DYNAMIC_QUANTIZATION_GROUP_SIZE": 64}),
}
for name, (mdl, cfg) in variants.items():
    c = core.compile_model(mdl, "CPU", {**cfg, "PERFORMANCE_HINT": "LATENCY"})
    print(name, measure(c, ref, arr, mask, np.array([batch[0]]), reps=30), flush=True)
