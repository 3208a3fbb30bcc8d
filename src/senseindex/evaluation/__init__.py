"""Sense quality on data nobody here wrote: CoarseWSD-20, SemCor held-out documents, a layer study."""

from .coarsewsd import ANCHORS, METHODS, TARGETS, evaluate_coarsewsd
from .layers import layer_study
from .metrics import macro_f1, nearest_order, precision_at, summarise
from .reports import (
    coarsewsd_markdown,
    coarsewsd_table,
    layer_markdown,
    layer_table,
    semcor_markdown,
    semcor_text,
    summary_rows,
)
from .semcor import evaluate_semcor, heldout_documents, pos_class

__all__ = [
    "ANCHORS", "METHODS", "TARGETS", "coarsewsd_markdown", "coarsewsd_table", "evaluate_coarsewsd",
    "heldout_documents", "layer_markdown", "layer_study", "layer_table", "macro_f1", "nearest_order",
    "pos_class", "precision_at", "semcor_markdown", "semcor_text", "evaluate_semcor", "summarise",
    "summary_rows",
]
