"""The user documentation cannot drift: the README's headline table is what the benchmarks last
saved, its links lead somewhere, and it stays short enough to read (the walk-throughs live in docs/)."""

from __future__ import annotations

import re

from scripts import readme_numbers

from helpers import ROOT

README = ROOT / "README.md"


def test_readme_headline_numbers_are_the_saved_benchmark_results():
    text = README.read_text(encoding="utf-8")
    assert readme_numbers.render(text) == text, "stale: run python scripts/readme_numbers.py --write"


def test_every_saved_result_says_when_where_and_how():
    import json

    for path in sorted((ROOT / "bench" / "out").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert {"date", "machine", "command"} <= set(data), path.name


def test_readme_is_short_and_its_links_resolve():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if not target.startswith(("http://", "https://", "mailto:")):
            assert (ROOT / target).exists(), target
    for doc in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if not target.startswith(("http://", "https://", "mailto:")):
                assert (doc.parent / target).exists(), f"{doc.name}: {target}"
    assert (ROOT / "CHANGELOG.md").exists()
