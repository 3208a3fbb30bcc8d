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
    ("gloss_only_token", "gloss vectors only, no labels: the token's cosine, best gloss text"),
    ("gloss_only", "gloss vectors only, no labels: the configuration chosen on development documents"),
    ("gloss_only_label_default", "**gloss only, helped by the lemma's unlabelled usage (the default of `label`)**"),
    ("gloss_only_per_part_of_speech", "gloss only, chosen per part of speech"),
    ("supervised_only", "supervised sense vectors (SemCor centroids + propagation)"),
    ("lmms_like", "supervised + gloss, equal weights (LMMS's concatenation)"),
    ("supervised_and_gloss", "supervised + gloss, weight chosen on development documents"),
    ("fused_synset_centroids", "supervised + gloss + k-NN vote, best with centroids per synset"),
    ("fused_key_centroids", "supervised + gloss + k-NN vote, best with centroids per sense key"),
    ("fused_k10", "supervised + gloss + k-NN vote, best with k = 10"),
    ("fused_with_knn", "supervised + gloss + k-NN vote, the best on development documents"),
    ("fused_per_part_of_speech", "the same, chosen per part of speech"),
    ("label_default", "**supervised + gloss + k-NN vote, the default of `label`**"),
]
GLOSS_TEXTS = {
    "token": "the lemma's token in \"lemma: gloss; examples\"",
    "mean": "the mean over \"lemma: gloss; examples\"",
    "examples": "the lemma's tokens inside the examples",
    "lmms_token": "the lemma's token in \"lemma - synonyms - hypernyms - gloss\"",
    "lmms_mean": "the mean over \"lemma - synonyms - hypernyms - gloss\"",
}


def row(name: str, r: dict) -> str:
    return (f"| {name} | " + " | ".join(f"{r[p]['accuracy']:.2f}" for p in PARTS)
            + f" | {r['all']['coverage']:.1f} % | "
            + " / ".join(f"{r[p]['polysemous_accuracy']:.2f}" for p in ("all", "nouns", "verbs")) + " |")


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT / "dictionary-semcor.json"
    r = json.loads(path.read_text())
    res, configs = r["test"]["results"], r["configs"]
    print("| method | " + " | ".join(PARTS) + " | coverage (all) | polysemous only: all / nouns / verbs |")
    print("|---|" + "---|" * (len(PARTS) + 2))
    for key, name in ROWS:
        if key in res:
            print(row(name, res[key]))
    print()
    a = res["knn_only"]["all"]
    print(f"Instances: {a['instances']:,} (polysemous {a['polysemous']:,}, of which scored "
          f"{a['polysemous_scored']:,}; one WordNet sense {a['only_sense']:,}).")
    print()
    print("Gloss vectors alone (no labels), by gloss text and by what is compared with it:")
    print()
    print("| gloss vector | target token | sentence vector |")
    print("|---|---|---|")
    for v, text in GLOSS_TEXTS.items():
        if f"gloss_only/{v}" in res:
            print(f"| {text} | {res[f'gloss_only/{v}']['all']['accuracy']:.2f} | "
                  f"{res[f'gloss_only/sentence/{v}']['all']['accuracy']:.2f} |")
    print()
    print("`eval semcor` on every test instance of this index, as it answers today (k-NN):")
    print()
    print("| rule | all | nouns | verbs |")
    print("|---|---|---|---|")
    for rule, label in (("no_wordnet", "no WordNet back-off"), ("first_sense_backoff", "first-sense back-off")):
        b = r["eval_semcor_today"][rule]
        print(f"| {label} | " + " | ".join(f"{b[p]['knn_accuracy']:.2f}" for p in ("all", "nouns", "verbs")) + " |")
    print()
    flags = r["test"]["new_sense_flag"]
    clusters = next(iter(flags.values()))["test"]["clusters"]
    print(f"New-sense flag, withholding each gold sense and its labels ({clusters} gold-sense clusters of >= 3 "
          "test occurrences); thresholds chosen on development documents (largest recall at precision >= 0.7):")
    print()
    print("| statistic | one threshold: dev P / R | test P / R | per part of speech: test P / R |")
    print("|---|---|---|---|")
    for statistic, f in flags.items():
        print(f"| {statistic} | {f['dev']['precision']:.2f} / {f['dev']['recall']:.2f} | "
              f"{f['test']['precision']:.2f} / {f['test']['recall']:.2f} | "
              f"{f['test_per_pos_thresholds']['precision']:.2f} / {f['test_per_pos_thresholds']['recall']:.2f} |")
    print()
    naming = r["test"]["naming"]
    print(f"Top WordNet sense = the cluster's gold sense: {naming['test']} % of {naming['clusters']} test clusters "
          f"({naming['dev']} % on development documents).")
    print()
    print("Configurations chosen on development documents:")
    print()
    for name, c in configs.items():
        print(f"- {name}: `{c['name']}`")
    print()
    print("Propagation levels of the candidates' supervised vectors: " + json.dumps(r["test"]["propagation_levels"]))


if __name__ == "__main__":
    main()
