"""Refresh the worked example in README.md with real output.

Every ```bash block of the README that holds one `senseindex` command and is followed by
`<!-- output -->` and a ``` block gets that block replaced by what the command prints now, run
from the repository root with the project's .venv (the demo index must exist: `make setup`).
`--check` exits 1 when an output differs, without writing."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"(```bash\n)(senseindex [^`]*?)(\n```\n\n<!-- output -->\n```\n)(.*?)(```)", re.S)
SHOWN_ONLY = ("senseindex index ",)  # commands shown for the reader, not re-run (the demo exists)


def run(command: str) -> str:
    args = shlex.split(command.replace("\\\n", " "))
    exe = ROOT / ".venv" / "bin" / "senseindex"
    proc = subprocess.run([str(exe), *args[1:]], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "130", "HF_HUB_OFFLINE": "1"})
    if proc.returncode != 0:
        sys.exit(f"{command!r} failed: {proc.stderr.strip()}")
    return proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if an output is stale; write nothing")
    args = ap.parse_args()
    text = README.read_text(encoding="utf-8")
    stale = []

    def refresh(m: re.Match) -> str:
        commands = [c for c in re.split(r"\n(?=senseindex )", m.group(2)) if not c.startswith(SHOWN_ONLY)]
        out = "".join(run(c) for c in commands)
        if out != m.group(4):
            stale.append(m.group(2).splitlines()[0])
        return m.group(1) + m.group(2) + m.group(3) + out + m.group(5)

    new = BLOCK.sub(refresh, text)
    if args.check:
        for c in stale:
            print(f"stale: {c}")
        sys.exit(1 if stale else 0)
    README.write_text(new, encoding="utf-8")
    print(f"{len(BLOCK.findall(text))} example(s), {len(stale)} refreshed")


if __name__ == "__main__":
    main()
