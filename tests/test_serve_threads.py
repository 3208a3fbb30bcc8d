"""`serve --threads`: "auto" (the default) gives OpenVINO and ONNX Runtime one thread per core the
process may use and torch one; a number is used as given. Why: docs/benchmarks/26-runtimes.md
(two OpenVINO threads were faster than one on the quiet 2-core machine and no slower beside a busy
process; two torch threads beside a busy process were 13x slower)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from senseindex import SenseIndex
from senseindex.cli import cli
from senseindex.encoding import encoder, runtimes
from senseindex.testing import HashEncoder
from senseindex.web import app as web_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def index(tmp_path) -> Path:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("I have a mole on my hip.\nThe mole dug a tunnel.\n", encoding="utf-8")
    path = tmp_path / "tiny"
    SenseIndex.open_or_create(path, encoder=HashEncoder()).add([corpus])
    return path


@pytest.fixture
def served(monkeypatch, index):
    """Run `senseindex serve INDEX ARGS...` up to the point where uvicorn would start; return the
    thread settings it left (exported runtimes, torch). The settings are restored afterwards."""
    import uvicorn

    saved = runtimes.threads(), encoder._TORCH_THREADS[0]
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)

    def serve(*args: str):
        result = CliRunner().invoke(cli, ["serve", str(index), *args])
        return result, runtimes.threads(), encoder._TORCH_THREADS[0]

    yield serve
    runtimes.set_threads(saved[0])
    encoder.set_torch_threads(saved[1])


def test_auto_is_the_default_one_thread_per_available_core_and_one_for_torch(served, monkeypatch):
    monkeypatch.setattr(web_app, "available_cores", lambda: 3)
    result, exported, torch_threads = served()
    assert result.exit_code == 0, result.output
    assert (exported, torch_threads) == (3, 1)
    result, exported, torch_threads = served("--threads", "auto")
    assert (result.exit_code, exported, torch_threads) == (0, 3, 1)


def test_a_number_of_threads_is_used_by_every_runtime(served):
    result, exported, torch_threads = served("--threads", "2")
    assert result.exit_code == 0, result.output
    assert (exported, torch_threads) == (2, None)  # torch follows runtimes.threads()


@pytest.mark.parametrize("bad", ["0", "many", "257"])
def test_a_bad_thread_count_is_one_line(served, bad):
    result, _, _ = served("--threads", bad)
    assert result.exit_code == 2 and "use auto or a number" in result.output
    assert "Traceback" not in result.output


def test_available_cores_follows_the_affinity(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert web_app.available_cores() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    assert web_app.available_cores() == 4


@pytest.mark.model
def test_auto_gives_the_torch_encoder_one_thread():
    """In a fresh process (torch's thread count is process-wide): the small packaged model on torch."""
    code = """
from senseindex.web.app import apply_threads
from senseindex.encoding.encoder import Encoder
import torch
apply_threads("auto")
Encoder("minilm")
print("THREADS", torch.get_num_threads())
apply_threads(2)
Encoder("minilm")
print("THREADS", torch.get_num_threads())
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert [line for line in out.stdout.splitlines() if line.startswith("THREADS")] == ["THREADS 1", "THREADS 2"]
