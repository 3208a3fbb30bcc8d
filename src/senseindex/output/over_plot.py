"""Senses over metadata as a PNG: each sense's share per bin with its confidence band, and the
word's frequency per million words below (the table is `senses.over`)."""

from __future__ import annotations

from pathlib import Path

from senseindex.output.palette import colour
from senseindex.output.rows import check_extension


def write_over_png(report: dict, path: str | Path) -> dict:
    """Draw a senses-over-metadata report (OverReport.to_dict()) to a .png file."""
    path = Path(path)
    check_extension(path, (".png",), "plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = [b["bin"] for b in report["bins"]]
    xs = list(range(len(bins)))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.5), dpi=110, sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1]})
    for i, sense in enumerate(report["senses"]):
        rows = {r["bin"]: r for r in report["rows"] if r["sense"] == sense}
        share = [100 * rows[b]["share"] if rows.get(b) and rows[b]["share"] is not None else float("nan") for b in bins]
        lo = [100 * rows[b]["ci_low"] if rows.get(b) else float("nan") for b in bins]
        hi = [100 * rows[b]["ci_high"] if rows.get(b) else float("nan") for b in bins]
        c = colour(i, sense)
        top.plot(xs, share, marker="o", color=c, label=sense)
        top.fill_between(xs, lo, hi, color=c, alpha=0.15, linewidth=0)
    top.set_ylabel("share of occurrences (%), 95% Wilson interval")
    top.set_ylim(0, 100)
    top.legend(loc="best", fontsize=8, framealpha=0.85)
    where = f", where {report['where']}" if report.get("where") else ""
    top.set_title(f"“{report['lemma']}”: senses ({report['of']}s) by {report['by']}{where}", fontsize=10)
    bottom.bar(xs, [b["per_million"] or 0 for b in report["bins"]], color="#888888")
    bottom.set_ylabel("per million words", fontsize=8)
    bottom.set_xticks(xs, [f"{b}\n(n={x['with_sense']})" for b, x in zip(bins, report["bins"], strict=True)],
                      fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return {"path": str(path), "bins": len(bins), "senses": len(report["senses"])}
