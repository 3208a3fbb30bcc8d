"""Absolute frequencies and frequencies per million: per lemma, per label, per sense cluster, per document.

Corpus size is the sum of the documents' token counts (`documents.tokens`, migration m014:
words and numbers, punctuation excluded; see text.words.TOKEN_RE). Occurrence counts are live
occurrences of the lemma (content words as indexed). Per million = count / tokens × 10^6, the
convention of Sketch Engine and CQPweb; a document's figure is relative to that document's size.
An index that no writer has migrated yet has no token counts: its sizes are None ("unknown").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from senseindex.storage.labels import effective_labels


def has_token_counts(db) -> bool:
    return any(r[1] == "tokens" for r in db.execute("pragma table_info(documents)"))


def corpus_tokens(db) -> int | None:
    """Tokens in the whole index (None: unknown, an index from before migration m014)."""
    if not has_token_counts(db):
        return None
    return int(db.execute("select coalesce(sum(tokens), 0) from documents").fetchone()[0])


def per_million(count: int, tokens: int | None) -> float | None:
    return None if not tokens else round(count / tokens * 1e6, 2)


def frequency(store, lemma: str, clusters: Mapping[int, int] | None = None) -> dict:
    """How often a lemma occurs: in all, per label in effect, per document and, given
    `clusters` (occurrence id -> cluster number, 0-based), per sense cluster (shown from 1)."""
    db = store.db
    rows = db.execute("select o.id, s.document_id from occ o join lemmas l on l.id = o.lemma_id "
                      "join sentences s on s.id = o.sentence_id where l.lemma = ?", [lemma]).fetchall()
    removed = store.removed()
    rows = [(oid, doc) for oid, doc in rows if oid not in removed]
    tokens = corpus_tokens(db)
    labels = effective_labels(db, [oid for oid, _ in rows])
    by_label = Counter(labels[oid][0] if oid in labels else None for oid, _ in rows)
    by_doc = Counter(doc for _, doc in rows)
    doc_tokens = dict(db.execute("select id, tokens from documents")) if tokens is not None else {}
    paths = dict(db.execute("select id, path from documents"))
    out = {"lemma": lemma, "count": len(rows), "corpus_tokens": tokens, "per_million": per_million(len(rows), tokens),
           "labels": [{"label": lab, "count": n, "per_million": per_million(n, tokens)}
                      for lab, n in sorted(by_label.items(), key=lambda x: (-x[1], x[0] or ""))],
           "documents": [{"doc": paths[d], "doc_name": Path(paths[d]).name, "tokens": doc_tokens.get(d), "count": n,
                          "per_million": per_million(n, doc_tokens.get(d))}
                         for d, n in sorted(by_doc.items(), key=lambda x: paths[x[0]])]}
    if clusters is not None:
        by_cluster = Counter(clusters[oid] for oid, _ in rows if oid in clusters)
        out["clusters"] = [{"cluster": c + 1, "count": n, "per_million": per_million(n, tokens)}
                           for c, n in sorted(by_cluster.items())]
    return out
