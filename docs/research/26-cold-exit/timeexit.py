"""Run a command N times; per run: wall time, and the time from its last `end=` mark on stderr
(monotonic clock) to the process's end, i.e. the exit.

    python timeexit.py N -- COMMAND...
"""

import re
import statistics
import subprocess
import sys
import time

n = int(sys.argv[1])
cmd = sys.argv[sys.argv.index("--") + 1:]
walls, exits, phases = [], [], []
for _ in range(n):
    t = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True)
    done = time.monotonic()
    m = re.search(r"end=([0-9.]+)", out.stderr)
    walls.append(done - t)
    if m:
        exits.append(done - float(m.group(1)))
    phases.append(next((line for line in out.stderr.splitlines() if line.startswith("PHASES")), out.stderr[-300:]))
print("wall", [round(x, 3) for x in walls], "median", round(statistics.median(walls), 3))
if exits:
    print("exit", [round(x, 3) for x in exits], "median", round(statistics.median(exits), 3))
print(phases[len(phases) // 2])
