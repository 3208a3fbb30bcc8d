"""The tagger and lemmatiser against SemCor's gold part of speech and lemmas.

Each SemCor sentence is the text the index holds for it (its tokens joined by spaces) and every
token is one span, tagged in its sentence by exactly the code indexing runs
(`tagging.tag_spans`); a multiword token ("took place") is one span, as a marked [took place] is.
Reported:

- lemma agreement with the gold lemma of every sense-tagged token, by gold part of speech:
  simplemma as the project called it before (the whole token) and per word, and the tagger's
  lemmas in context with the lexicon rules (what indexing does). (spaCy's lemmas alone, as
  indexes before the lexicon rules had them, were a column until 2026-12-03: docs/research/lemmas.md.) Proper nouns (NNP) are left out: SemCor lemmatises named entities to their
  class (*Fulton County Grand Jury* -> *group*), which no lemmatiser can.
  A second table leaves out what no lemmatiser of the token can give: a multiword gold lemma of
  a one-word token (the discontinuous phrasal verb "took ... off" -> *take off*).
- tagger accuracy: the coarse class (noun, verb, adjective, adverb, other) of the predicted Penn
  tag against SemCor's, on every token and on the sense-tagged ones.
- tagger throughput (sentences/s, words/s) on this machine, for the indexing cost.
- with --errors: the noun and verb disagreements of the tagger's lemmas sorted into categories
  (what no lemmatiser without WordNet's word list can give, and the rest), with examples.

Usage: python bench/pos_lemmas.py [--every N] [--markdown] [--errors]
(--every 4 tags every 4th document: about a quarter of SemCor).
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections import Counter
from pathlib import Path

from senseindex.text.tagging import pos_class, tag_spans
from senseindex.text.words import simplemma_lemma

SEMCOR = Path(__file__).resolve().parents[1] / "../shared/data/semcor/semcor30.jsonl.gz"
CLASSES = {"n": "nouns", "v": "verbs", "a": "adjectives", "r": "adverbs"}
LABELS = {"simplemma": "simplemma on the token (before the tagger)", "simplemma per word": "simplemma word by word",
          "tagger": "spaCy in context + lemminflect's lexicon and rules (now)"}


def read(path: Path, every: int) -> list[dict]:
    docs: dict[str, int] = {}
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            n = docs.setdefault(rec["doc"], len(docs))
            if n % every == 0:
                out.append(rec)
    return out


def spans(tokens: list[str]) -> list[tuple[int, int]]:
    out, pos = [], 0
    for t in tokens:
        out.append((pos, pos + len(t)))
        pos += len(t) + 1
    return out


def run(records: list[dict]) -> dict:
    texts = [" ".join(r["tokens"]) for r in records]
    all_spans = [spans(r["tokens"]) for r in records]
    start = time.perf_counter()
    tags = tag_spans(texts, all_spans)
    seconds = time.perf_counter() - start
    names = ("simplemma", "simplemma per word", "tagger")
    lem = {name: Counter() for name in names}
    errors: list[tuple[str, str, str, str, str]] = []  # (gold class, token, Penn tag, lemma, gold)
    total = Counter()
    reach = {name: Counter() for name in lem}  # leaving out multiword gold lemmas of one-word tokens
    reach_total = Counter()
    cls_all, cls_tagged = Counter(), Counter()
    for rec, sent_tags in zip(records, tags, strict=True):
        for i, (tok, tag) in enumerate(zip(rec["tokens"], sent_tags, strict=True)):
            gold_pos = rec["pos"][i]
            gold_cls = pos_class(gold_pos)
            right = pos_class(tag.pos) == gold_cls
            cls_all[right] += 1
            gold = rec["lemma"][i]
            if gold is None:
                continue
            cls_tagged[right] += 1
            if gold_pos == "NNP" or gold_cls == "x":
                continue
            gold = gold.lower()
            total[gold_cls] += 1
            got = {"simplemma": simplemma_lemma(tok), "simplemma per word": " ".join(simplemma_lemma(w) for w in tok.split()),
                   "tagger": tag.lemma}
            for name in names:
                lem[name][gold_cls] += got[name] == gold
            if tag.lemma != gold and gold_cls in "nv":
                errors.append((gold_cls, tok, tag.pos, tag.lemma, gold))
            if " " in gold and " " not in tok:
                continue
            reach_total[gold_cls] += 1
            for name in names:
                reach[name][gold_cls] += got[name] == gold
    words = sum(len(t.split()) for t in texts)
    return {
        "sentences": len(records), "documents": len({r["doc"] for r in records}), "words": words,
        "lemma_tokens": dict(total),
        "lemma_agreement": {name: {c: round(100 * hits[c] / total[c], 2) for c in total} for name, hits in lem.items()},
        "lemma_tokens_reachable": dict(reach_total),
        "lemma_agreement_reachable": {name: {c: round(100 * hits[c] / reach_total[c], 2) for c in reach_total}
                                      for name, hits in reach.items()},
        "tagger_class_accuracy_all": round(100 * cls_all[True] / sum(cls_all.values()), 2),
        "tagger_class_accuracy_sense_tagged": round(100 * cls_tagged[True] / sum(cls_tagged.values()), 2),
        "tokens": sum(cls_all.values()), "sense_tagged_tokens": sum(cls_tagged.values()),
        "tagger_seconds": round(seconds, 1), "sentences_per_s": round(len(records) / seconds, 1),
        "words_per_s": round(words / seconds),
        "errors": categorise(errors, total),
    }


# Disagreement categories, the first that applies. The first five need WordNet's own word list
# (which sense a plural or -ing form has, which spelling and which multiword entry WordNet chose).
CATEGORIES = {
    "plural": "gold lemma is the plural form itself (WordNet's *arms*, *glasses*, *means*; sense-dependent)",
    "ing": "gold lemma is the -ing form itself (*drinking*, *shooting*), the lemmatiser gave the verb",
    "form": "gold lemma is the token itself, another inflection (*better*, *found*, *born*)",
    "multiword gold": "multiword gold lemma of a one-word token (*stations* -> *railroad station*, *took ... off*)",
    "spelling": "the same letters, spaced, hyphenated or solid otherwise (*ball player* / *ballplayer*)",
    "abbreviation": "abbreviation written out or spelt otherwise (*Calif.* -> *california*, *B.C.* -> *bc*)",
    "multiword token": "other multiword tokens (*red cells* -> *red blood cell*, *enabling act*)",
    "tag": "the tagger's part of speech is not the gold one (other than the above)",
    "other": "other (misspellings, dialect, lexicon or rule errors)",
}


def category(cls: str, tok: str, tag: str, lemma: str, gold: str) -> str:
    low = tok.lower()
    if gold == low and lemma != gold and " " not in tok:
        if low.endswith("s") and cls == "n":
            return "plural"
        return "ing" if low.endswith("ing") else "form"
    if " " in gold and " " not in tok:
        return "multiword gold"
    if gold.replace(" ", "").replace("-", "") == lemma.replace(" ", "").replace("-", ""):
        return "spelling"
    if "." in tok:
        return "abbreviation"
    if " " in tok:
        return "multiword token"
    return "tag" if pos_class(tag) != cls else "other"


def categorise(errors: list[tuple[str, str, str, str, str]], total: Counter) -> dict:
    out = {}
    for cls in "nv":
        cats = Counter(category(*e) for e in errors if e[0] == cls)
        examples = {c: Counter(f"{tok} ({tag}): {lemma} / {gold}" for e_cls, tok, tag, lemma, gold in errors
                               if e_cls == cls and category(e_cls, tok, tag, lemma, gold) == c).most_common(6)
                    for c in cats}
        out[cls] = {c: {"tokens": n, "points": round(100 * n / total[cls], 2), "examples": [x for x, _ in examples[c]]}
                    for c, n in sorted(cats.items(), key=lambda kv: list(CATEGORIES).index(kv[0]))}
    return out


def markdown(r: dict, errors: bool = False) -> str:
    order = [c for c in CLASSES if c in r["lemma_tokens"]]
    lines = []
    for title, key, counts in (("all sense-tagged tokens", "lemma_agreement", "lemma_tokens"),
                               ("without multiword gold lemmas of one-word tokens", "lemma_agreement_reachable",
                                "lemma_tokens_reachable")):
        lines += [f"| lemmatiser ({title}) | " + " | ".join(f"{CLASSES[c]} ({r[counts][c]:,})" for c in order) + " |",
                  "|---|" + "---:|" * len(order)]
        lines += [f"| {LABELS.get(name, name)} | " + " | ".join(f"{acc[c]:.2f}" for c in order) + " |"
                  for name, acc in r[key].items()]
        lines.append("")
    if errors:
        for cls in ("n", "v"):
            lines += [f"| {CLASSES[cls]}: disagreements ({sum(c['tokens'] for c in r['errors'][cls].values()):,}) "
                      "| tokens | points | examples (token (tag): lemma / gold) |", "|---|---:|---:|---|"]
            lines += [f"| {CATEGORIES[c]} | {v['tokens']:,} | {v['points']:.2f} | {'; '.join(v['examples'][:3])} |"
                      for c, v in r["errors"][cls].items()]
            lines.append("")
    lines.append(f"Tagger, coarse class right: {r['tagger_class_accuracy_all']:.2f}% of {r['tokens']:,} tokens, "
                 f"{r['tagger_class_accuracy_sense_tagged']:.2f}% of {r['sense_tagged_tokens']:,} sense-tagged ones; "
                 f"{r['sentences_per_s']:,} sentences/s ({r['words_per_s']:,} words/s), "
                 f"{r['sentences']:,} sentences of {r['documents']} documents.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--semcor", type=Path, default=SEMCOR)
    ap.add_argument("--every", type=int, default=1, help="use every Nth document (1: all of SemCor)")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--errors", action="store_true", help="with --markdown: the disagreement categories too")
    args = ap.parse_args()
    result = run(read(args.semcor, args.every))
    print(markdown(result, args.errors) if args.markdown else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
