"""HTML pages from Jinja2 templates (src/senseindex/output/templates), autoescaped.

Python does the arithmetic and the number formatting here and hands the templates plain values;
the templates do the markup. Corpus text reaches a template only as plain strings (a sentence is
passed as before / word / after), so every piece of it is escaped by the template.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from jinja2 import Environment, PackageLoader

from senseindex.output.palette import colour, scaler

ENV = Environment(
    loader=PackageLoader("senseindex.output", "templates"),
    autoescape=True,  # every template here is HTML; escape all of them, whatever their name
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
ENV.filters["num"] = lambda n: f"{n:,}"

HTML_ROWS_PER_CLUSTER = 300  # the page stays readable; the CSV/JSONL hold every occurrence


def review_page(report, rows_per_cluster: int = HTML_ROWS_PER_CLUSTER) -> str:
    """A self-contained page of a SenseReport: one section per cluster, most representative sentences first."""
    members: dict[int, list] = {s.cluster: [] for s in report.senses}
    for o in report.rows:  # report.rows is most representative first within each cluster
        if o.cluster in members:
            members[o.cluster].append(o)
    names: dict[str, str] = {}  # doc path -> file name, worked out once per document

    def row(o) -> tuple[str, str, str, str, str]:  # plain text pieces: the template escapes each
        t, a, b = o.sentence, o.start, o.end
        doc = names.get(o.doc)
        if doc is None:
            doc = names[o.doc] = Path(o.doc).name
        return f"{o.similarity:.2f}", t[:a], t[a:b], t[b:], f"{doc}:{o.line} #{o.occurrence_id}"

    dictionary = getattr(report, "dictionary", None) or {}  # a report made before the dictionary has none
    wordnet = {c["cluster"]: c for c in dictionary.get("clusters", [])}
    sections = []
    for s in report.senses:
        ms = members[s.cluster]
        found = wordnet.get(s.cluster, {})
        sections.append({"cluster": s.cluster, "name": s.name, "size": s.size, "share": f"{s.share:.1%}",
                         "words": list(s.words), "rows": [row(o) for o in ms[:rows_per_cluster]],
                         "more": max(0, len(ms) - rows_per_cluster),
                         "wordnet": [(w["synset"], w["key"], w["gloss"], f"{w['similarity']:.2f}")
                                     for w in found.get("senses", [])],
                         "new_sense": f"{found['fit']:.2f}" if found.get("new_sense") else None})
    return ENV.get_template("review.html").render(
        lemma=report.lemma, occurrences=report.occurrences, index=str(report.index), k=report.k,
        how=report.how, sections=sections, wordnet_senses=dictionary.get("wordnet_senses"),
        threshold=dictionary.get("threshold"))


PLOT_W, PLOT_H, PLOT_PAD = 760, 560, 30


def plot_page(data: dict) -> str:
    """Self-contained SVG map of plot_data(): hover a point for its sentence, click a legend entry to hide a group."""
    pts = data["points"]
    xs = [p["x"] for p in pts] + [data["mean"][0]]
    ys = [p["y"] for p in pts] + [data["mean"][1]]
    at = scaler(xs, ys, PLOT_W, PLOT_H, PLOT_PAD)
    groups = data["groups"]
    fill = {g: colour(i, g) for i, g in enumerate(groups)}
    number = {g: i for i, g in enumerate(groups)}  # the circles' class (g0, g1, ...) the legend toggles
    counts = Counter(p["group"] for p in pts)
    points = []
    for p in pts:
        t, a, b, g = p["text"], p["start"], p["end"], p["group"]
        cx, cy = at(p["x"], p["y"])
        tip = f"{t[:a]}[{t[a:b]}]{t[b:]} (#{p['id']}, {g})"  # plain text (the hover tooltip)
        points.append((str(cx), str(cy), fill[g], number[g], tip))
    mx, my = at(*data["mean"])
    return ENV.get_template("plot.html").render(
        lemma=data["lemma"], method=data["method"].upper(), color=data["color"], shown=len(pts),
        width=PLOT_W, height=PLOT_H, points=points, mean=(mx, my), mean_label=(mx + 14, my + 18),
        legend=[(number[g], fill[g], g, counts[g]) for g in groups])
