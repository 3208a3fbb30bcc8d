"""senseindex: sense-aware search over text corpora.

`SenseIndex` is the one entry point for every workflow on an index; `explain` and
`evaluate_coarsewsd` need no index. The command line is a thin layer over these.
"""

from importlib.metadata import PackageNotFoundError, version

from .encoder import WordEncoder
from .errors import CorpusError, IndexLockedError, SenseIndexError
from .sense_index import SenseIndex, evaluate_coarsewsd, explain

try:
    __version__ = version("senseindex")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["CorpusError", "IndexLockedError", "SenseIndex", "SenseIndexError", "WordEncoder", "evaluate_coarsewsd",
           "explain", "__version__"]
