"""Importing a third-party package without the optional heavy packages it would pull in.

spaCy imports thinc, and thinc imports torch when it can (2.3 s on the 2-core machine) only to
offer layers en_core_web_sm does not use; sqlite-utils imports pandas when it can (0.4 s of every
start) only to store its Timestamp type, which senseindex never stores. Hiding them while the
package is imported makes a query that needs neither start seconds sooner. In the lowest layer
(beside `tagging`, its first user) so that storage can use it too.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType


def import_without(name: str, *hidden: str) -> ModuleType:
    """Import `name` with the `hidden` modules unimportable, unless one is imported already (then
    it is left alone: hiding it would change nothing). They stay importable afterwards; the
    imported package alone keeps believing them absent."""
    hide = [h for h in hidden if h not in sys.modules]
    for h in hide:
        sys.modules[h] = None  # type: ignore[assignment]  # `import h` raises ImportError while set
    try:
        return importlib.import_module(name)
    finally:
        for h in hide:
            if h in sys.modules and sys.modules[h] is None:
                del sys.modules[h]
