"""Would tagging the next chunk while the model encodes this one pay on 2 cores? 400 demo
sentences: the forward pass alone, spaCy tagging alone, and both at once on two threads."""
import os, re, statistics, sys, threading, time
here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here + '/../../../src', here + '/../../../bench']
from indexing import demo_sentences
from senseindex.encoding.encoder import load_encoder
from senseindex.text.tagging import tag_spans
enc = load_encoder('mpnet', runtime='openvino', precision='bf16')
sents = demo_sentences()
A, B = sents[:400], sents[:400][::-1]
spansA = [[m.span() for m in re.finditer(r"\w+", t)] for t in A]
spansB = [[m.span() for m in re.finditer(r"\w+", t)] for t in B]
tag_spans(B[:10], spansB[:10]); enc.word_vectors(A[:10], spansA[:10])
def fwd(): enc.word_vectors(A, spansA)
def tag(): tag_spans(B, spansB)
res = {'fwd': [], 'tag': [], 'both': []}
for _ in range(3):
    t = time.perf_counter(); fwd(); res['fwd'].append(time.perf_counter() - t)
    t = time.perf_counter(); tag(); res['tag'].append(time.perf_counter() - t)
    t = time.perf_counter(); th = threading.Thread(target=tag); th.start(); fwd(); th.join(); res['both'].append(time.perf_counter() - t)
m = {k: statistics.median(v) for k, v in res.items()}
print({k: round(v, 2) for k, v in m.items()}, 'sequential %.2f concurrent %.2f gain %.2fx' % (m['fwd'] + m['tag'], m['both'], (m['fwd'] + m['tag']) / m['both']))
