"""A 2-D map of one word's occurrences, coloured by sense cluster or label, with the static view marked.

The mean of all occurrence vectors is what one vector per word would be; on the map it sits
between the sense clusters, close to none of them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from senseindex.errors import SenseIndexError
from senseindex.output import html as pages
from senseindex.output.palette import colour
from senseindex.output.rows import check_extension
from senseindex.storage.labels import effective_labels

MAX_POINTS = 5000  # a seeded sample beyond this keeps files small and drawing fast


def project(X: np.ndarray, method: str = "pca", seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """2-D coordinates of the rows and of their mean (the one-vector-per-word point)."""
    mean = X.mean(0, keepdims=True)
    if method == "umap":
        try:
            import umap
        except ImportError:
            raise SenseIndexError("--projection umap needs the umap-learn package (pip install umap-learn)") from None
        reducer = umap.UMAP(n_components=2, random_state=seed, n_neighbors=min(15, max(2, len(X) - 1)))
        xy = reducer.fit_transform(X)
        return xy, reducer.transform(mean)
    if method != "pca":
        raise SenseIndexError(f"unknown projection {method!r} (use pca or umap)")
    centred = X - mean
    if len(X) < 2:
        return np.zeros((len(X), 2)), np.zeros((1, 2))
    _, _, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    axes = vt[:2]
    if len(axes) < 2:
        axes = np.vstack([axes, np.zeros_like(axes)])
    for a in axes:  # fix the sign so the picture is the same every run
        if a[np.argmax(np.abs(a))] < 0:
            a *= -1
    return centred @ axes.T, np.zeros((1, 2))


def plot_data(store, report, color: str = "cluster", method: str = "pca", seed: int = 0) -> dict:
    """Points (x, y, group, sentence) for a SenseReport's occurrences."""
    if color not in ("cluster", "label"):
        raise SenseIndexError("--color must be cluster or label")
    rows = report.rows
    if len(rows) > MAX_POINTS:
        pick = np.sort(np.random.default_rng(seed).choice(len(rows), MAX_POINTS, replace=False))
        rows = [rows[i] for i in pick]
    ids = np.array([o.occurrence_id for o in rows], dtype=np.int64)
    X = store.take(ids)
    xy, mean_xy = project(X, method, seed)
    names = report.names()
    if color == "label":
        labs = effective_labels(store.db, ids.tolist())
        groups = [labs[o.occurrence_id][0] if o.occurrence_id in labs else "(no label)" for o in rows]
    else:
        groups = [f"{o.cluster}: {names[o.cluster]}" for o in rows]
    order = sorted(set(groups), key=lambda g: (g == "(no label)", -groups.count(g), g))
    return {"lemma": report.lemma, "method": method, "color": color, "groups": order,
            "points": [{"x": float(x), "y": float(y), "group": g, "text": o.sentence, "start": o.start, "end": o.end,
                        "id": o.occurrence_id} for (x, y), g, o in zip(xy, groups, rows, strict=True)],
            "mean": [float(mean_xy[0, 0]), float(mean_xy[0, 1])], "total": report.occurrences}


def check_plot_path(path: str | Path) -> str:
    """The plot format from the file name (.png, .html), checked before any clustering work."""
    return check_extension(path, (".png", ".html", ".htm"), "plot")


def write_plot(data: dict, path: str | Path) -> dict:
    path = Path(path)
    fmt = check_plot_path(path)
    if fmt == ".png":
        _png(data, path)
    else:
        path.write_text(pages.plot_page(data), encoding="utf-8")
    return {"path": str(path), "format": fmt[1:], "points": len(data["points"]), "groups": data["groups"]}


def _png(data: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 6.5), dpi=110)
    pts = data["points"]
    for i, g in enumerate(data["groups"]):
        xs = [p["x"] for p in pts if p["group"] == g]
        ys = [p["y"] for p in pts if p["group"] == g]
        ax.scatter(xs, ys, s=14, alpha=0.7, color=colour(i, g), label=f"{g} ({len(xs)})", linewidths=0)
    mx, my = data["mean"]
    ax.scatter([mx], [my], marker="*", s=420, color="black", edgecolors="white", linewidths=1.2, zorder=5,
               label="mean of all occurrences = one vector per word")
    ax.annotate("one vector per word", (mx, my), xytext=(10, -16), textcoords="offset points", fontsize=9)
    shown = len(pts)
    sub = f" (sample of {shown:,} of {data['total']:,})" if shown < data["total"] else ""
    ax.set_title(f"“{data['lemma']}”: {shown:,} occurrences{sub}, {data['method'].upper()} of contextual vectors,"
                 f" coloured by {data['color']}", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="best", fontsize=8, framealpha=0.85)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
