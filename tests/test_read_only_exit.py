"""The end of `senseindex search` (a read-only command): the index's SQLite connection is closed
once the output is written, and the interpreter's exit skips its garbage collection (gc.freeze,
registered with atexit), which was most of a cold search's exit (docs/benchmarks/26-runtimes.md).
Nothing may be lost: every row reaches a pipe, and the process exits cleanly."""

from __future__ import annotations

import atexit
import gc
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from senseindex import SenseIndex
from senseindex.cli import cli
from senseindex.encoding import encoder as encoder_module
from senseindex.testing import HashEncoder

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = [f"Sentence {i}: the {w} was here." for i in range(120) for w in ("mole", "bank")]


@pytest.fixture
def index(tmp_path) -> Path:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    path = tmp_path / "tiny"
    SenseIndex.open_or_create(path, encoder=HashEncoder()).add([corpus])
    return path


def test_search_closes_the_index_and_registers_the_freeze_once(index, monkeypatch):
    opened: list[SenseIndex] = []
    real_open = SenseIndex.open.__func__

    def spy(cls, *args, **kwargs):
        opened.append(real_open(cls, *args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(SenseIndex, "open", classmethod(spy))
    monkeypatch.setattr(encoder_module, "load_encoder", lambda *a, **k: HashEncoder())
    registered: list = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(atexit, "unregister", lambda fn: registered.remove(fn) if fn in registered else None)
    for _ in range(2):
        result = CliRunner().invoke(cli, ["search", str(index), "the [mole] was here", "-k", "3", "--json"])
        assert result.exit_code == 0, result.output
        assert len(json.loads(result.stdout)) == 3
    assert registered == [gc.freeze]  # once, however many searches ran in this process
    assert len(opened) == 2
    for si in opened:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            si.store.db.execute("select 1")


def test_a_search_process_writes_every_row_to_a_pipe_and_exits_cleanly(index):
    """A real process (the model replaced by the hash encoder): 120 rows through a pipe, exit status
    0, nothing on stderr but the command's own lines (no 'Exception ignored', no ResourceWarning)."""
    code = (
        "import sys, warnings\n"
        "warnings.simplefilter('default')\n"
        "import senseindex.encoding.encoder as e\n"
        "from senseindex.testing import HashEncoder\n"
        "e.load_encoder = lambda *a, **k: HashEncoder()\n"
        "from senseindex.cli import cli\n"
        "cli(sys.argv[1:])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONWARNINGS": "default"}
    out = subprocess.run([sys.executable, "-c", code, "search", str(index), "the [mole] was here", "--all", "--nl"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 120 and all("mole" in r["text"] for r in rows)
    assert "Exception ignored" not in out.stderr and "ResourceWarning" not in out.stderr, out.stderr[-2000:]
