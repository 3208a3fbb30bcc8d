"""User-facing errors: the CLI prints these as one line and exits non-zero."""


class SenseIndexError(Exception):
    """A problem the user can fix (bad input, wrong index, missing word)."""


class CorpusError(SenseIndexError):
    """Input that cannot be read; the message names the file and, where known, the line."""


class IndexLockedError(SenseIndexError):
    """Another process is writing to the same index."""


class SenseIndexWarning(UserWarning):
    """Something the user should know that does not stop the work (the CLI prints it as one line)."""
