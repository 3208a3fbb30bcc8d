"""Association scores for collocations: small pure functions, shared by the word sketch by sense
and (later) window collocates in concordances."""

from __future__ import annotations

import math

LOGDICE_MAX = 14.0


def log_dice(f_xy: int, f_x: int, f_y: int) -> float:
    """logDice (Rychlý 2008, Sketch Engine): 14 + log2(2·f_xy / (f_x + f_y)).

    f_xy is how often the two items occur together (in a relation or a window), f_x and f_y how
    often each occurs (in that relation, for a word sketch). At most 14 (the pair only ever occurs
    together); it falls by one each time the pair's share of either item's occurrences halves, and
    it does not depend on the corpus's size, so scores from corpora of any size compare."""
    if f_xy <= 0 or f_x + f_y <= 0:
        return float("-inf")
    if f_xy > min(f_x, f_y):
        raise ValueError(f"a pair cannot occur more often ({f_xy}) than either of its items ({f_x}, {f_y})")
    return LOGDICE_MAX + math.log2(2 * f_xy / (f_x + f_y))
