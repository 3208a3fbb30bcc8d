"""docs/cli.md is generated from --help; it must match the CLI as it is now (no model is loaded)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "cli_reference", ROOT / "scripts" / "cli_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_up_to_date():
    generator = load_generator()
    doc = ROOT / "docs" / "cli.md"
    current = doc.read_text(encoding="utf-8") if doc.exists() else ""
    assert current == generator.render(), (
        "docs/cli.md is stale: run python scripts/cli_reference.py --write"
    )


def test_cli_reference_lists_every_command():
    generator = load_generator()
    from senseindex.cli import cli

    headings = [line for line in generator.render().splitlines() if line.startswith("## ")]
    paths = [" ".join(("senseindex", *path)) for path, _ in generator.walk(cli)]
    assert headings == [f"## {p}" for p in paths]
    assert "## senseindex eval semcor" in headings and "## senseindex labels import" in headings
