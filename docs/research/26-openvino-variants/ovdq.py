import sys, time, statistics
sys.path.insert(0, __import__('os').path.dirname(__file__))
import numpy as np
import openvino as ov
from openvino import opset13 as ops
from ovexp import compress, lat, ONNX, core
ids = np.array([[0, 146, 2386, 1041, 10112, 2006, 2023, 9085, 2]], dtype=np.int64)
m = core.read_model(ONNX); compress(m, True)
for gs in (32, 128, 0xFFFFFFFFFFFFFFFF):
    try:
        c = core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": "bf16", "PERFORMANCE_HINT": "LATENCY", "DYNAMIC_QUANTIZATION_GROUP_SIZE": gs})
        print('dq', gs, lat(c, ids), flush=True)
    except Exception as e:
        print('dq', gs, 'failed', str(e)[:200])
c = core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY", "DYNAMIC_QUANTIZATION_GROUP_SIZE": 32})
print('dq f32 32', lat(c, ids), flush=True)
