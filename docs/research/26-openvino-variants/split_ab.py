"""Indexing with big batches split across OpenVINO streams (runtimes.SPLIT_TOKENS) against one
request on both cores, alternated in one process: `SenseIndex.add` over demo x COPIES."""
import sys, time, tempfile, statistics, os
here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here + '/../../../src', here + '/../../../bench']
from pathlib import Path
from indexing import make_copies
from senseindex import SenseIndex
from senseindex.encoding import runtimes
from senseindex.encoding.encoder import load_encoder
copies = int(sys.argv[1]) if len(sys.argv) > 1 else 4
tmp = Path(tempfile.mkdtemp())
corpus = make_copies(tmp / 'demo', copies)
enc = load_encoder('mpnet', runtime='openvino', precision='bf16')
default = runtimes.SPLIT_TOKENS
res = {'split': [], 'one request': []}
for r in range(4):
    for name, split in (('split', default), ('one request', 10**12)):
        runtimes.SPLIT_TOKENS = split
        si = SenseIndex.open_or_create(tmp / f'idx-{time.monotonic_ns()}', encoder=enc, codec='Flat')
        t = time.perf_counter(); si.add([corpus]); dt = time.perf_counter() - t
        if r:  # the first round warms both (and compiles the streams)
            res[name].append(dt)
        print(r, name, round(dt, 2), flush=True)
for k, v in res.items():
    print(k, [round(x, 2) for x in v], 'median %.2f' % statistics.median(v))
print('ratio %.3f' % (statistics.median(res['one request']) / statistics.median(res['split'])))
