"""A generated corpus with a planted drift in the senses of one word: the check that `senses over`
finds a change it did not make up.

The repository cannot ship a large dated corpus, so this one is made to order: per decade,
`per_bin` sentences with *mouse*, the share of its device sense planted (5% in the 1970s, 30%,
60%, 85% in the 2000s by default), each sentence with words of its sense around it (*cheese*,
*tail* for the animal; *click*, *cursor* for the device) and one of neither, a year in the
decade as metadata, and the sense as a gold label. Pre-tokenised JSONL, as `senseindex index`
reads it with `--meta-field year`.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

WORD = "mouse"
# Four of six words of its sense around each occurrence and one of neither: with fewer sense words
# and more filler the tiny test encoder's clusters no longer follow the senses (its vectors are
# hashed words, not a model), and the check would be of that encoder rather than of the table.
CONTEXT = {"animal": "cheese tail whiskers trap cat nest".split(),
           "device": "click cursor screen cable scroll button".split()}
FILLER = "the a quick small old new little grey white we saw it on near under".split()
PLANTED = {1970: 0.05, 1980: 0.30, 1990: 0.60, 2000: 0.85}  # share of the device sense per decade


def write_drift_corpus(path: str | Path, per_bin: int = 500, planted: dict[int, float] | None = None,
                       seed: int = 0) -> dict[int, float]:
    """Write the corpus to `path` (.jsonl); returns the shares actually drawn per decade (the
    planted probabilities give these, up to sampling)."""
    rng = random.Random(seed)
    planted = planted or PLANTED
    drawn = {}
    with open(path, "w", encoding="utf-8") as fh:
        for decade, p in sorted(planted.items()):
            device = 0
            for _ in range(per_bin):
                sense = "device" if rng.random() < p else "animal"
                device += sense == "device"
                tokens = [rng.choice(FILLER), WORD, *rng.sample(CONTEXT[sense], 4), "."]
                record = {"tokens": tokens, "sense": [f"{WORD}.{sense}" if t == WORD else None for t in tokens],
                          "year": decade + rng.randrange(10)}
                fh.write(json.dumps(record) + "\n")
            drawn[decade] = device / per_bin
    return drawn
