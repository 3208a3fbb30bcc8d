"""senseindex: sense-aware search over text corpora.

`SenseIndex` is the one entry point for every workflow on an index; `explain` and
`evaluate_coarsewsd` need no index. The command line is a thin layer over these.

Module map, lowest layer first (tests/test_layers.py enforces that no layer imports a later one):

    errors          the exceptions every layer raises
    text/           corpus files, sentences, tagging and lemmas, words, WordNet sense keys
    storage/        SQLite schema and migrations, documents, labels, vector runs and codecs, check/repair
    encoding/       the contextual encoder, BERT-family models, weight sources, GloVe
    senses/         search by sense, k-NN labels, induction, active review, explain
    output/         terminal tables, rows (JSON/CSV/TSV), HTML pages, plots, review files
    evaluation/     CoarseWSD-20, SemCor, layer study
    web/            the Starlette workbench
    indexer.py      corpus -> encoder -> store, resumable
    distributed.py  the same on Ray
    sense_index.py  the facade
    cli.py          the Click commands over the facade
"""

from senseindex.encoding.encoder import WordEncoder
from senseindex.errors import CorpusError, IndexLockedError, SenseIndexError
from senseindex.sense_index import SenseIndex, evaluate_coarsewsd, explain


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
