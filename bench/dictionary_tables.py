"""Markdown tables from bench/out/dictionary-semcor.json (written by bench/eval_dictionary.py).

    .venv/bin/python bench/dictionary_tables.py > bench/out/dictionary-semcor.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
PARTS = ("all", "nouns", "verbs", "adjectives", "adverbs")
ROWS = [
    ("knn_only", "k-NN vote of labelled occurrences (+ the only sense of lemmas WordNet gives one)"),
    ("gloss_only", "gloss vectors only, no labels at all"),
    ("gloss_only/token", "gloss only: lemma token in \"lemma: gloss; examples\""),
    ("gloss_only/mean", "gloss only: mean over that text"),
    ("gloss_only/examples", "gloss only: the lemma inside the examples"),
    ("supervised_only", "supervised sense vectors (SemCor centroids + propagation)"),
    ("lmms_like", "supervised + gloss, equal weights (LMMS's concatenation)"),
    ("supervised_and_gloss", "supervised + gloss, weight chosen on development documents"),
    ("fused_with_knn", "supervised + gloss + k-NN vote (chosen on development documents)"),
    ("fused_per_part_of_speech", "the same, weights chosen per part of speech on development documents"),
]


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT / "dictionary-semcor.json"
    r = json.loads(path.read_text())
    res = r["test"]["results"]
    print("| method | " + " | ".join(PARTS) + " | coverage (all) | polysemous only: all / nouns / verbs |")
    print("|---|" + "---|" * (len(PARTS) + 2))
    for key, name in ROWS:
        if key in res:
            print(f"| {name} | " + " | ".join(f"{res[key][p]['accuracy']:.2f}" for p in PARTS)
                  + f" | {res[key]['all']['coverage']:.1f} % | "
                  + " / ".join(f"{res[key][p]['polysemous_accuracy']:.2f}" for p in ("all", "nouns", "verbs")) + " |")
    print()
    a = res["knn_only"]["all"]
    print(f"Instances: {a['instances']:,} (polysemous {a['polysemous']:,}, of which scored "
          f"{a['polysemous_scored']:,}; one WordNet sense {a['only_sense']:,}).")
    print()
    print("`eval semcor` on every test instance of this index, as it answers today (k-NN):")
    print()
    print("| rule | all | nouns | verbs |")
    print("|---|---|---|---|")
    for rule, label in (("no_wordnet", "no WordNet back-off"), ("first_sense_backoff", "first-sense back-off")):
        b = r["eval_semcor_today"][rule]
        print(f"| {label} | " + " | ".join(f"{b[p]['knn_accuracy']:.2f}" for p in ("all", "nouns", "verbs")) + " |")
    print()
    for statistic, flag in r["test"]["new_sense_flag"].items():
        t = f"{flag['chosen_threshold']:.3f}"
        chosen = flag["thresholds"].get(t, {})
        print(f"New-sense flag by the {statistic} score (withholding each gold sense; {flag['clusters']} "
              f"gold-sense clusters of >= 3 occurrences): threshold {t} chosen on development documents -> "
              f"precision {chosen.get('precision')}, recall {chosen.get('recall')}.")
        print()
    print(f"Top WordNet sense = the cluster's gold sense: {flag['named_right']} %.")
    print()
    print("Development choices: " + json.dumps(r["development"]["chosen"]))
    print()
    print("Propagation levels of the candidates' supervised vectors: " + json.dumps(r["test"]["propagation_levels"]))


if __name__ == "__main__":
    main()
