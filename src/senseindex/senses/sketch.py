"""A word sketch by sense: for each sense of a word, its collocates in each grammatical relation
(object of, subject of, modifier, modifies, and/or, prepositional phrases), with count and logDice.

The relations come from `index --parse` (text/parsing.py names them), stored per occurrence in
`deps`. For a sense S, relation R and collocate c: f_xy is how many occurrences of S stand in R to
c, f_x how many relations R occurrences of S have, f_y how many times c is the R-collocate of any
word in the index (Sketch Engine's choice, with the headword's frequency in the relation). A
sense is the label in effect or a sense cluster, as for `senses over`.
"""

from __future__ import annotations

from collections import Counter

from senseindex.errors import SenseIndexError
from senseindex.storage.db import select_in
from senseindex.storage.labels import effective_labels
from senseindex.text.association import log_dice


def word_sketch(store, lemma: str, of: str = "label", senses_of: dict[int, str] | None = None, where=None,
                min_count: int = 1, top: int = 10) -> dict:
    """Per sense and relation, the `top` collocates by logDice seen at least `min_count` times."""
    if "deps" not in store.db.table_names() or not store.db.execute("select 1 from deps limit 1").fetchone():
        raise SenseIndexError(f"{store.path} holds no grammatical relations: index with --parse")
    cond, params = (f" and {where.sql}", list(where.params)) if where is not None else ("", [])
    ids = [r[0] for r in store.db.execute(
        "select o.id from occ o join lemmas l on l.id = o.lemma_id join sentences s on s.id = o.sentence_id "
        f"where l.lemma = ?{cond}", [lemma, *params])]
    if of == "label":
        labels = effective_labels(store.db, ids)
        sense = {oid: lab[0] for oid, lab in labels.items()}
    else:
        sense = {oid: name for oid, name in (senses_of or {}).items() if oid in set(ids)}
    pairs: Counter = Counter()
    per_rel: Counter = Counter()
    for oid, rel, coll in select_in(store.db, "select occurrence_id, rel, lemma from deps where occurrence_id in ({ids})",
                                    list(sense)):
        pairs[(sense[oid], rel, coll)] += 1
        per_rel[(sense[oid], rel)] += 1
    f_y: dict[tuple[str, str], int] = {}
    for rel in {r for _, r, _ in pairs}:
        colls = sorted({c for _, r, c in pairs if r == rel})
        f_y.update(((rel, c), n) for c, n in select_in(
            store.db, "select lemma, count(*) from deps where rel = ? and lemma in ({ids}) group by lemma", colls,
            before=[rel]))
    rows = []
    for (s, rel, coll), n in pairs.items():
        if n >= min_count:
            rows.append({"lemma": lemma, "sense": s, "relation": rel, "collocate": coll, "count": n,
                         "sense_in_relation": per_rel[(s, rel)], "collocate_in_relation": f_y[(rel, coll)],
                         "logdice": round(log_dice(n, per_rel[(s, rel)], f_y[(rel, coll)]), 3)})
    rows.sort(key=lambda r: (r["sense"], r["relation"], -r["logdice"], -r["count"], r["collocate"]))
    kept, seen = [], Counter()
    for r in rows:
        seen[(r["sense"], r["relation"])] += 1
        if seen[(r["sense"], r["relation"])] <= top:
            kept.append(r)
    senses = Counter(sense.values())
    return {"lemma": lemma, "of": of, "where": where.expr if where is not None else None,
            "senses": [{"sense": s, "occurrences": n} for s, n in senses.most_common()], "rows": kept}
