"""Paths the tests share (the demo corpus and its gold labels, the benchmark data beside the
checkout). Code helpers are in `senseindex.testing`."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "corpora" / "demo"
DEMO_GOLD = ROOT / "corpora" / "demo.gold.tsv"
DEMO_QUERIES = ROOT / "corpora" / "demo.queries.tsv"
SHARED = Path(os.environ.get("SENSEINDEX_DATA") or ROOT.parent / "shared" / "data")
