"""Where the indexing pipeline's time goes, per runtime, on a SemCor sample and the demo."""
import sys, time, statistics, json, tempfile, os
from collections import defaultdict
from pathlib import Path
sys.path.insert(0, ''+__import__('os').path.dirname(__file__)+'/../../../src'); sys.path.insert(0, ''+__import__('os').path.dirname(__file__)+'/../../../bench')
import numpy as np
from senseindex import SenseIndex
import senseindex.indexer as indexer
from senseindex.encoding.encoder import load_encoder
from senseindex.encoding import runtimes
from encoder_runtimes import semcor_sample
from indexing import make_copies

acc = defaultdict(float); shapes = defaultdict(list)
def wrap(obj, name, key):
    f = getattr(obj, name)
    def g(*a, **k):
        t = time.perf_counter(); r = f(*a, **k); acc[key] += time.perf_counter() - t; return r
    setattr(obj, name, g)
wrap(indexer, 'tag_spans', 'tag')
from senseindex.storage.store import Store
wrap(Store, 'append', 'append')

variants = sys.argv[1].split(',')
n = int(sys.argv[2]) if len(sys.argv) > 2 else 600
tmp = Path(tempfile.mkdtemp())
corpora = {'semcor': semcor_sample(tmp / 'semcor', n), 'demo x2': make_copies(tmp / 'demo', 2)}
encs = {}
for v in variants:
    r, p = v.split(':')[:2]
    e = load_encoder('mpnet', runtime=r, precision=p)
    encs[v] = e
res = {}
for rnd in range(2):
    for cname, folder in corpora.items():
        for v, e in encs.items():
            acc.clear()
            fwd = e._forward
            def timed(batch, fwd=fwd):
                t = time.perf_counter(); out = fwd(batch); dt = time.perf_counter() - t
                acc['forward'] += dt; shapes[v].append((len(batch), max(map(len, batch)), dt)); return out
            e._forward = timed
            wv = e.word_vectors
            def twv(*a, wv=wv, **k):
                t = time.perf_counter(); out = wv(*a, **k); acc['word_vectors'] += time.perf_counter() - t; return out
            e.word_vectors = twv
            si = SenseIndex.open_or_create(tmp / f'idx-{time.monotonic_ns()}', encoder=e, codec='Flat')
            t = time.perf_counter(); si.add([folder]); total = time.perf_counter() - t
            del e._forward, e.word_vectors
            row = {'total': round(total, 2), **{k: round(x, 2) for k, x in acc.items()}}
            print(rnd, cname, v, row, flush=True)
            res.setdefault(f'{cname} {v}', []).append(row)
json.dump(res, open('/tmp/rs/pipe.json', 'w'), indent=1)
