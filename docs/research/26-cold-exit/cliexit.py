"""A cold `senseindex search` in one process, with its exit done one of several ways; phase marks
(monotonic clock) on stderr for timeexit.py.

    python cliexit.py MODE INDEX QUERY   # MODE: plain | release | osexit | freeze | release-freeze
plain: return from main as the entry point does; release: drop the cached encoder (OpenVINO's
compiled model and infer requests) and collect before returning; osexit: os._exit after flushing;
freeze: gc.freeze() before returning (the interpreter's shutdown collections skip every object
alive then).
"""

import os
import sys
import time

t0 = time.monotonic()
mode, index, query = sys.argv[1:4]
from senseindex.cli import cli  # noqa: E402

t_import = time.monotonic()
try:
    cli(["search", index, query, "-k", "5"])
except SystemExit as exc:
    code = exc.code
t_cli = time.monotonic()
sys.stdout.flush()
if mode.startswith("release"):
    import gc

    from senseindex.encoding.encoder import _cached_encoder

    _cached_encoder.cache_clear()
    gc.collect()
if mode.endswith("freeze"):
    import gc

    gc.freeze()
t_end = time.monotonic()
print(f"PHASES import={t_import - t0:.3f} cli={t_cli - t_import:.3f} release={t_end - t_cli:.3f} "
      f"modules={len(sys.modules)} end={t_end:.4f}", file=sys.stderr, flush=True)
if mode == "osexit":
    os._exit(code or 0)
sys.exit(code)
