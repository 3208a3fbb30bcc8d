"""The one palette and the one point scaler of every map senseindex draws (PNG, the SVG file of
`senseindex plot`, the workbench's senses page), so a cluster has the same colour everywhere."""

from __future__ import annotations

from collections.abc import Callable, Sequence

# matplotlib's tab10: distinguishable, and the order people know from matplotlib plots
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
           "#7f7f7f"]
UNLABELLED = "(no label)"
UNLABELLED_COLOUR = "#bbbbbb"


def colour(i: int, group: str | None = None) -> str:
    """The colour of the i-th group; the unlabelled group is always grey."""
    return UNLABELLED_COLOUR if group == UNLABELLED else PALETTE[i % len(PALETTE)]


def luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour like #1f77b4."""
    c = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in c)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21; AA asks 4.5 for normal text)."""
    lo, hi = sorted((luminance(a), luminance(b)))
    return (hi + 0.05) / (lo + 0.05)


def text_colour(fill: str) -> str:
    """Black or white, whichever reads better on `fill` (at least 4.58:1 on any colour)."""
    return "#000000" if contrast(fill, "#000000") >= contrast(fill, "#ffffff") else "#ffffff"


def scaler(xs: Sequence[float], ys: Sequence[float], width: int, height: int,
           pad: int) -> Callable[[float, float], tuple[float, float]]:
    """Maps data coordinates into a width×height box with `pad` pixels free on each side, y up
    (SVG's y axis points down), rounded to 0.1 px to keep the SVG text short."""
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = (width - 2 * pad) / ((x1 - x0) or 1.0)
    sy = (height - 2 * pad) / ((y1 - y0) or 1.0)

    def at(x: float, y: float) -> tuple[float, float]:
        return round(pad + (x - x0) * sx, 1), round(height - pad - (y - y0) * sy, 1)

    return at
