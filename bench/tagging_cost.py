"""What tagging costs indexing: the tagger beside the encoder on the demo corpus.

Indexing plain text now tags every sentence (part of speech and lemmas in context) before the
encoder runs. This times, on the same sentences, in one warm process: the word finding and
lemmatising indexing did before (regular expression + simplemma), the tagging path that replaced
it (`indexer.sentence_spans`), and the encoder's forward pass over the same word spans. The
slowdown of indexing is (tagging - old) / (old + encoder); writing rows and vectors, the same
either way, is left out, so it is an upper bound.

Usage: python bench/tagging_cost.py [--model mpnet] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from senseindex.encoding.encoder import load_encoder
from senseindex.indexer import sentence_spans
from senseindex.text.corpus import read_sentences, resolve_sources
from senseindex.text.tagging import pipeline
from senseindex.text.words import find_words, simplemma_lemma

DEMO = Path(__file__).resolve().parents[1] / "corpora" / "demo"


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="mpnet")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sentences = [s for f in resolve_sources([DEMO]) for s in read_sentences(f)]
    texts = [s.text for s in sentences]
    encoder = load_encoder(args.model)
    pipeline()
    spans = sentence_spans(sentences, False)
    old = best(lambda: [[simplemma_lemma(w) for *_, w in find_words(t)] for t in texts], args.repeat)
    tagging = best(lambda: sentence_spans(sentences, False), args.repeat)
    encoding = best(lambda: encoder.word_vectors(texts, [[(s, e) for s, e, *_ in sp] for sp in spans]), args.repeat)
    n = len(texts)
    print(json.dumps({
        "sentences": n, "words": sum(len(t.split()) for t in texts), "model": encoder.name,
        "old_words_and_lemmas_s": round(old, 3), "tagging_s": round(tagging, 3), "encoder_s": round(encoding, 3),
        "tagger_sentences_per_s": round(n / tagging, 1), "encoder_sentences_per_s": round(n / encoding, 1),
        "indexing_slowdown_percent": round(100 * (tagging - old) / (old + encoding), 1),
    }, indent=2))


if __name__ == "__main__":
    main()
