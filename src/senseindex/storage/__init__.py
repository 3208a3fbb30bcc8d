"""The index on disk: SQLite metadata (schema, migrations, documents, labels), vector runs and
their codecs, checksums, and the check/repair/upgrade tools. Never imports senses/, output/ or web/."""

from senseindex.text.imports import import_without

import_without("sqlite_utils", "pandas")  # first, for every storage module: see text.imports
