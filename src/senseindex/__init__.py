"""senseindex: sense-aware search over text corpora."""

from .errors import SenseIndexError
from .sense_index import SenseIndex

__all__ = ["SenseIndex", "SenseIndexError"]
__version__ = "0.1.0"
