"""Window collocates per sense, scored by logDice (Rychlý 2008, Sketch Engine's association score).

For each group of a lemma's occurrences (a sense cluster or a label), the content words within
`window` tokens left and right of each occurrence are counted. Tokens are text.words.TOKEN_RE
runs (punctuation is not a token, so it does not use up the window); a collocate is the lemma of
an indexed occurrence (content words only: stopwords and numbers are never indexed, so they never
appear as collocates), or its lower-cased form with `by="word"`.

    logDice = 14 + log2(2 · f_xy / (f_x + f_y))

f_xy: co-occurrences of the group's node with the collocate inside the window (each instance
counts); f_x: occurrences in the group (the sense is the node); f_y: the collocate's frequency
in the whole index (occurrences of its lemma, or of its word form). At most 14; independent of
corpus size.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from senseindex.storage.db import select_in
from senseindex.text.words import FILLER, STOPWORDS, TOKEN_RE

DEFAULT_WINDOW = 5


def log_dice(f_xy: int, f_x: int, f_y: int) -> float:
    """Sketch Engine's logDice: 14 + log2(2·f_xy / (f_x + f_y)); -inf when they never co-occur."""
    if f_xy <= 0:
        return -math.inf
    return 14 + math.log2(2 * f_xy / (f_x + f_y))


@dataclass
class Collocate:
    item: str  # lemma (or word form)
    count: int  # f_xy
    frequency: int  # f_y
    log_dice: float

    def to_dict(self) -> dict:
        return {**asdict(self), "log_dice": round(self.log_dice, 3)}


def _token_index(text: str) -> tuple[list[tuple[int, int]], dict[int, int]]:
    spans = [(m.start(), m.end()) for m in TOKEN_RE.finditer(text)]
    return spans, {s: i for i, (s, _) in enumerate(spans)}


def collocates(store, groups: Mapping[Hashable, Sequence[int]], window: int = DEFAULT_WINDOW, by: str = "lemma",
               top: int = 20, min_count: int = 1, sample: int | None = None) -> dict[Hashable, list[Collocate]]:
    """Per group (name -> occurrence ids of one lemma): its window collocates, best logDice first.

    `sample`: a group of more occurrences is counted on a seeded sample of that many, and its
    co-occurrence counts scaled back to the group's size (estimates: enough to name a cluster of
    10,000 occurrences in a fraction of the time; the collocates table counts every one)."""
    if by not in ("lemma", "word"):
        raise ValueError("by must be lemma or word")
    sizes = {g: len(ids) for g, ids in groups.items()}
    if sample is not None:
        rng = np.random.default_rng(0)
        groups = {g: (ids if len(ids) <= sample else [ids[i] for i in np.sort(rng.choice(len(ids), sample, replace=False))])
                  for g, ids in groups.items()}
    node_ids = [int(i) for ids in groups.values() for i in ids]
    nodes = {r[0]: r[1:] for r in select_in(
        store.db, "select o.id, o.sentence_id, o.start, o.end, o.lemma_id from occ o where o.id in ({ids})", node_ids)}
    sids = sorted({v[0] for v in nodes.values()})
    texts = dict(select_in(store.db, "select id, text from sentences where id in ({ids})", sids))
    # every indexed occurrence of those sentences, by (sentence, start): the collocate candidates
    items: dict[tuple[int, int], tuple[int, int, int]] = {}
    for sid, start, end, lemma_id in select_in(
            store.db, "select sentence_id, start, end, lemma_id from occ where sentence_id in ({ids})", sids):
        key = (sid, start)
        if key not in items or end > items[key][0]:  # a hyphenated word whole, not its first part
            items[key] = (end, lemma_id, 0)
    lemma_names = dict(select_in(store.db, "select id, lemma from lemmas where id in ({ids})",
                                 sorted({v[1] for v in items.values()})))
    out: dict[Hashable, list[Collocate]] = {}
    counts_by_group: dict[Hashable, Counter] = {}
    for group, ids in groups.items():
        counts: Counter = Counter()
        for oid in ids:
            if int(oid) not in nodes:
                continue
            sid, start, end, node_lemma = nodes[int(oid)]
            text = texts[sid]
            spans, at = _token_index(text)
            i = at.get(start)
            if i is None:  # the node starts inside a token (a part of a hyphenated word): nearest token
                i = max((j for j, (s, _) in enumerate(spans) if s <= start), default=0)
            for j in range(max(0, i - window), min(len(spans), i + window + 1)):
                if j == i:
                    continue
                s, e = spans[j]
                got = items.get((sid, s))
                if got is None or got[1] == node_lemma:
                    continue
                counts[lemma_names[got[1]] if by == "lemma" else text[s:e].lower()] += 1
        counts_by_group[group] = counts
    wanted = sorted({w for c in counts_by_group.values() for w in c})
    if by == "lemma":
        freq = dict(select_in(store.db, "select lemma, count from lemmas where lemma in ({ids})", wanted))
    else:
        freq = dict(select_in(store.db, "select word, count from vocab where word in ({ids})", wanted))
    for group, counts in counts_by_group.items():
        f_x, scale = sizes[group], sizes[group] / max(1, len(groups[group]))
        if scale != 1:
            counts = Counter({w: max(1, round(n * scale)) for w, n in counts.items()})
        scored = [Collocate(w, n, max(n, int(freq.get(w, n))), log_dice(n, f_x, max(n, int(freq.get(w, n)))))
                  for w, n in counts.items() if n >= min_count]
        scored.sort(key=lambda c: (-c.log_dice, -c.count, c.item))
        out[group] = scored[:top]
    return out


def name_from(cols: Sequence[Collocate], fallback: str, n: int = 2) -> str:
    """A cluster name from its best content-word collocates (stopwords and filler such as *be*,
    *every*, *year*, *keep* left out: an index of SemCor or --all-words stores them too; seen
    twice or more where the cluster allows), e.g. "skin/doctor"."""
    usable = [c for c in cols if c.item not in FILLER and c.item not in STOPWORDS]
    strong = [c for c in usable if c.count >= 2]
    chosen = (strong if len(strong) >= n else usable)[:n]
    return "/".join(c.item for c in chosen) or fallback
