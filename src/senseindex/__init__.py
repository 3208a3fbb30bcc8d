"""senseindex: sense-aware search over text corpora.

`SenseIndex` is the one entry point for every workflow on an index; `explain` and
`evaluate_coarsewsd` need no index. The command line is a thin layer over these.
"""

from .encoder import WordEncoder
from .errors import CorpusError, IndexLockedError, SenseIndexError
from .sense_index import SenseIndex, evaluate_coarsewsd, explain


def __getattr__(name: str):
    """`__version__` on demand: reading package metadata costs 0.3 s at every start."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("senseindex")
        except PackageNotFoundError:  # running from a source tree that is not installed
            return "0+unknown"
    raise AttributeError(name)

__all__ = ["CorpusError", "IndexLockedError", "SenseIndex", "SenseIndexError", "WordEncoder", "evaluate_coarsewsd",
           "explain", "__version__"]
