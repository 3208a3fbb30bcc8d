"""Unit tests for encoder internals: subword pooling, long-input windowing, layer parsing.

Tests without the `model` marker build token vectors and offsets by hand; the marked ones use the
packaged all-MiniLM-L6-v2 (tokenizer, and for the windowing rule the model itself).
"""

from __future__ import annotations

import re
from itertools import pairwise

import numpy as np
import pytest

from senseindex.encoding.encoder import Encoder, parse_layer, pool_words
from senseindex.errors import SenseIndexError


def unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(unit(a), unit(b)))


def offsets(*pairs: tuple[int, int]) -> np.ndarray:
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def random_vecs(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    """Random, far-from-parallel token vectors: any wrong pooling changes the result visibly."""
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def expected_by_overlap(token_vecs: np.ndarray, offs: np.ndarray, spans) -> tuple[np.ndarray, list[list[int]]]:
    """Independent reference: mean of the non-empty subwords overlapping each span, normalised."""
    out, used = [], []
    for s, e in spans:
        idx = [t for t, (a, b) in enumerate(offs) if b > a and a < e and b > s]
        used.append(idx)
        out.append(unit(token_vecs[idx].mean(0)) if idx else np.zeros(token_vecs.shape[1]))
    return np.asarray(out), used


# --- pool_words, hand-built -------------------------------------------------------------------

def test_pool_single_subword_words_are_their_normalised_token():
    tv = random_vecs(3)
    out = pool_words(tv, offsets((0, 3), (4, 7), (8, 11)), [(0, 3), (4, 7), (8, 11)])
    assert out.shape == (3, 8) and out.dtype == np.float32
    for i in range(3):
        np.testing.assert_allclose(out[i], unit(tv[i]), atol=1e-6)


def test_pool_many_subwords_mean_of_exactly_those():
    # "the antidisestablishmentarianism debate": the long word is pieces 1..8, its neighbours 0 and 9
    tv = random_vecs(10, seed=1)
    offs = offsets((0, 3), (4, 8), (8, 11), (11, 14), (14, 16), (16, 20), (20, 24), (24, 29), (29, 32), (33, 39))
    spans = [(0, 3), (4, 32), (33, 39)]
    out = pool_words(tv, offs, spans)
    np.testing.assert_allclose(out[1], unit(tv[1:9].mean(0)), atol=1e-6)
    np.testing.assert_allclose(out[0], unit(tv[0]), atol=1e-6)
    np.testing.assert_allclose(out[2], unit(tv[9]), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
    # a mean, not a sum of unnormalised pieces that happens to point the same way
    assert cos(out[1], tv[1:9].sum(0)) == pytest.approx(1.0, abs=1e-6)
    assert cos(out[1], tv[1:8].mean(0)) < 0.999  # dropping one piece is visible


def test_pool_subword_spanning_two_words_counts_for_the_first_only():
    """Today's behaviour: a subword whose offsets overlap two word spans is pooled into the first
    word only (each subword is assigned to at most one word). The docstring's "average the
    subwords overlapping each word span" would put it in both."""
    tv = random_vecs(3, seed=2)
    spans = [(0, 3), (3, 6)]
    out = pool_words(tv, offsets((0, 2), (2, 5), (5, 6)), spans)
    np.testing.assert_allclose(out[0], unit(tv[0:2].mean(0)), atol=1e-6)
    np.testing.assert_allclose(out[1], unit(tv[2]), atol=1e-6)

    # the second word has no other subword: it gets the spanning subword through the
    # nearest-subword fallback (what a zero-width space gives: "a\u200bb" -> one token (0, 3))
    tv1 = random_vecs(1, seed=3)
    out = pool_words(tv1, offsets((0, 3)), [(0, 1), (2, 3)])
    np.testing.assert_allclose(out[0], unit(tv1[0]), atol=1e-6)
    np.testing.assert_allclose(out[1], unit(tv1[0]), atol=1e-6)


def test_pool_uncovered_word_takes_nearest_subword():
    tv = random_vecs(3, seed=4)
    offs = offsets((0, 4), (10, 14), (20, 24))
    # words at 5-9 and 16-19 are covered by no subword (e.g. characters the tokenizer dropped)
    out = pool_words(tv, offs, [(0, 4), (9, 10), (18, 19), (20, 24)])
    np.testing.assert_allclose(out[1], unit(tv[1]), atol=1e-6)  # start 9: subword at 10 is nearest
    np.testing.assert_allclose(out[2], unit(tv[2]), atol=1e-6)  # start 18: subword at 20 is nearest
    np.testing.assert_allclose(out[0], unit(tv[0]), atol=1e-6)
    np.testing.assert_allclose(out[3], unit(tv[2]), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)


def test_pool_empty_spans():
    tv = random_vecs(4, seed=5)
    out = pool_words(tv, offsets((0, 1), (2, 3), (4, 5), (6, 7)), [])
    assert out.shape == (0, 8) and out.dtype == np.float32
    # and no tokens at all, no words
    out = pool_words(np.zeros((0, 8), np.float32), offsets(), [])
    assert out.shape == (0, 8)


def test_pool_ignores_zero_length_special_tokens():
    """[CLS]/[SEP]-style tokens carry (0, 0) offsets: they must not join the first word's mean."""
    tv = random_vecs(5, seed=6)
    tv[0] *= 100  # a loud special token would dominate any mean it joined
    tv[4] *= 100
    offs = offsets((0, 0), (0, 3), (3, 5), (6, 9), (0, 0))
    out = pool_words(tv, offs, [(0, 5), (6, 9)])
    np.testing.assert_allclose(out[0], unit(tv[1:3].mean(0)), atol=1e-6)
    np.testing.assert_allclose(out[1], unit(tv[3]), atol=1e-6)
    # a zero-length token elsewhere (an added token with (n, n)) is ignored too
    offs = offsets((0, 3), (3, 3), (3, 5), (6, 9))
    tv2 = random_vecs(4, seed=7)
    out = pool_words(tv2, offs, [(0, 5), (6, 9)])
    np.testing.assert_allclose(out[0], unit(tv2[[0, 2]].mean(0)), atol=1e-6)


def test_pool_fallback_never_picks_a_zero_length_token():
    """An uncovered word near offset 0 must not take the vector of a special token at (0, 0)."""
    tv = random_vecs(3, seed=8)
    offs = offsets((0, 0), (3, 6), (0, 0))  # [CLS] word [SEP]; the word at 0-1 has no subword
    out = pool_words(tv, offs, [(0, 1), (3, 6)])
    np.testing.assert_allclose(out[0], unit(tv[1]), atol=1e-6)


# --- pool_words with a real tokenizer -------------------------------------------------------------

WORD = re.compile(r"\w+")


@pytest.mark.model
@pytest.mark.parametrize(
    "text, spans",
    [
        # hand-split CJK words: the tokenizer gives one piece per character, one of them [UNK]
        ("東京は日本の首都です", [(0, 2), (2, 3), (3, 5), (5, 6), (6, 8), (8, 10)]),
        ("naïve café résumé", None),
        ("antidisestablishmentarianism", None),
        ("the antidisestablishmentarianism of naïve cafés", None),
    ],
)
def test_pool_with_real_tokenizer(minilm_encoder, text, spans):
    if spans is None:
        spans = [m.span() for m in WORD.finditer(text)]
    ids, offs = minilm_encoder.tokenize([text])
    ids, offs = ids[0], offs[0]
    assert len(ids) == len(offs) > 0
    tv = random_vecs(len(ids), dim=16, seed=len(text))
    out = pool_words(tv, offs, spans)
    expected, used = expected_by_overlap(tv, offs, spans)
    assert out.shape == (len(spans), 16)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert all(used), f"every span overlaps some subword here: {used}"
    # no subword of these texts straddles two spans, so the overlap reference is exact
    assert sum(len(u) for u in used) == len({t for u in used for t in u})
    np.testing.assert_allclose(out, expected, atol=1e-5)
    if text == "antidisestablishmentarianism":
        assert len(used[0]) == len(ids) > 3  # split into many pieces, all of them used


# --- Encoder._windows ---------------------------------------------------------------------------

def windowing(body: int) -> Encoder:
    enc = Encoder.__new__(Encoder)  # no model: _windows only reads _body
    enc._body = body
    return enc


@pytest.mark.parametrize("body", [254, 510, 10, 7, 2])
def test_windows_short_input_is_one_window(body):
    enc = windowing(body)
    for n in (0, 1, body // 2, body - 1, body):
        assert enc._windows(n) == [0], n


@pytest.mark.parametrize("body", [254, 510, 10, 7, 2, 1])
@pytest.mark.parametrize("extra", [1, 2, 3, 5, 127, 128, 254, 255, 1000, 2047])
def test_windows_long_input_half_overlap_and_full_cover(body, extra):
    enc = windowing(body)
    n = body + extra
    starts = enc._windows(n)
    stride = max(1, body // 2)
    assert starts[0] == 0
    assert starts[-1] + body == n, "the last window ends exactly at n"
    assert all(s >= 0 and s + body <= n for s in starts), "windows stay inside the input"
    steps = np.diff(starts)
    assert (steps > 0).all(), "strictly increasing starts, no duplicates"
    assert (steps[:-1] == stride).all(), "half-overlapping: every step but the last is body // 2"
    assert steps[-1] <= stride
    covered = np.zeros(n, dtype=int)
    for s in starts:
        covered[s : s + body] += 1
    assert (covered >= 1).all(), "every position covered"
    if body >= 2:  # consecutive windows share at least half a window
        assert all(a + body - b >= body - stride >= body // 2 for a, b in pairwise(starts))


# --- the edge-distance rule in token_vectors ----------------------------------------------------

VOCAB = (
    "river bank money loan water stone garden mole tunnel court judge match fire light paper "
    "table north south market price harbour ship sail wind storm field farmer wheat bread city "
    "train station ticket window door house roof music song voice letter ink pen island bridge"
).split()


def best_window(p: int, starts: list[int], body: int, n: int) -> int:
    """Independent restatement of the rule: the window where position p is farthest from an edge
    (a sentence end is no edge); ties go to the earliest window."""
    best, best_d = -1, -1
    for w, s in enumerate(starts):
        if not s <= p < s + body:
            continue
        left = p - s if s > 0 else 1 << 30
        right = s + body - 1 - p if s + body < n else 1 << 30
        d = min(left, right)
        if d > best_d:
            best, best_d = w, d
    return best


def pooled(vecs: np.ndarray, positions: list[int]) -> np.ndarray:
    return unit(vecs[positions].mean(0))


@pytest.mark.model
def test_long_sentence_word_takes_vector_from_farthest_from_edge_window(minilm_encoder):
    enc = minilm_encoder
    body = enc._body
    assert body == enc.max_length - enc._n_special
    rng = np.random.default_rng(42)
    text = " ".join(rng.choice(VOCAB, size=2000))
    spans = [m.span() for m in WORD.finditer(text)]
    ids, offs = enc.tokenize([text])
    ids, offs = ids[0], offs[0]
    n = len(ids)
    starts = enc._windows(n)
    assert n > 4 * body and len(starts) > 6, "the sentence must be windowed"

    long_vecs = enc.word_vectors([text], [spans])[0]
    assert long_vecs.shape == (len(spans), enc.dim)

    def positions_of(w: int) -> list[int]:
        s, e = spans[w]
        return [t for t, (a, b) in enumerate(offs) if b > a and a < e and b > s]

    # words ~30% and ~50% into some middle windows. At 30% the previous window also covers the
    # word, ~20% from its right edge: the rule must pick window k there, not the first covering one;
    # at 50% the next window has the word at its left edge.
    checked = 0
    for k in (2, len(starts) // 2, len(starts) - 3):
        for frac in (0.3, 0.5):
            target = starts[k] + int(frac * body)
            w = next(i for i, (s, e) in enumerate(spans) if e > offs[target][0])
            pos = positions_of(w)
            chosen = {best_window(p, starts, body, n) for p in pos}
            assert chosen == {k}, (w, pos, chosen)
            start = starts[k]
            alone = enc.token_vectors([ids[start : start + body]])[0]
            expect = pooled(alone, [p - start for p in pos])
            assert cos(long_vecs[w], expect) > 0.999, (k, frac, text[spans[w][0] : spans[w][1]])
            # the test can tell windows apart: the other window covering the word gives another vector
            others = [j for j, s in enumerate(starts) if j != k and s <= pos[0] and pos[-1] < s + body]
            assert others
            for j in others:
                s = starts[j]
                other = pooled(enc.token_vectors([ids[s : s + body]])[0], [p - s for p in pos])
                assert cos(long_vecs[w], other) < cos(long_vecs[w], expect)
                assert cos(other, expect) < 0.999, "windows too alike for this test to discriminate"
            checked += 1
    assert checked == 6


# --- parse_layer ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "spec, layers, expected",
    [
        ("last", 12, [12]),
        ("LAST", 6, [6]),
        (" last ", 6, [6]),
        ("last4", 12, [9, 10, 11, 12]),
        ("last1", 6, [6]),
        ("last6", 6, [1, 2, 3, 4, 5, 6]),
        ("middle", 12, [6]),
        ("middle", 7, [3]),
        ("0", 12, [0]),
        (0, 12, [0]),
        ("12", 12, [12]),
        ("-1", 12, [12]),
        (-1, 6, [6]),
        ("-13", 12, [0]),
    ],
)
def test_parse_layer_valid(spec, layers, expected):
    assert parse_layer(spec, layers) == expected


@pytest.mark.parametrize(
    "spec, layers, must_mention",
    [
        ("13", 12, ["'13'", "0-12"]),
        ("-14", 12, ["'-14'", "0-12"]),
        (99, 6, ["99", "0-6"]),
        ("last0", 12, ["'last0'", "12 layers"]),
        ("last13", 12, ["'last13'", "12 layers"]),
        ("top", 12, ["'top'", "last", "lastN", "middle", "0-12"]),
        ("", 12, ["''", "last", "middle"]),
        ("1.5", 12, ["'1.5'", "lastN"]),
        ("lastx", 12, ["'lastx'", "lastN"]),
        ("last-1", 12, ["'last-1'", "lastN"]),
    ],
)
def test_parse_layer_invalid_raises_helpfully(spec, layers, must_mention):
    with pytest.raises(SenseIndexError) as err:
        parse_layer(spec, layers)
    msg = str(err.value)
    for part in must_mention:
        assert part in msg, (part, msg)


# --- batches cut by length (a lemma's glosses: few rows of mixed lengths) -------------------------
def _chunk_cost(lengths, starts, call_cost):
    bounds = [*starts, len(lengths)]
    return sum(call_cost + (b - a) * lengths[a] for a, b in pairwise(bounds))


@pytest.mark.parametrize("seed", range(20))
def test_length_chunks_are_the_cheapest_cuts_within_the_limits(seed):
    from itertools import combinations

    from senseindex.encoding.subwords import length_chunks

    rng = np.random.default_rng(seed)
    lengths = sorted(rng.integers(5, 80, size=int(rng.integers(1, 11))).tolist(), reverse=True)
    max_tokens, max_rows, call_cost = 300, 4, int(rng.integers(0, 200))
    starts = length_chunks(lengths, max_tokens, max_rows, call_cost)
    bounds = [*starts, len(lengths)]
    assert starts[0] == 0 and all(a < b for a, b in pairwise(bounds))
    for a, b in pairwise(bounds):  # every batch within the limits (a single long row always goes)
        assert b - a == 1 or (b - a <= max_rows and (b - a) * lengths[a] <= max_tokens)
    if call_cost:  # no other cut within the limits costs less (brute force)
        n = len(lengths)
        best = min(_chunk_cost(lengths, [0, *cut], call_cost) for r in range(n) for cut in combinations(range(1, n), r)
                   if all(b - a == 1 or (b - a <= max_rows and (b - a) * lengths[a] <= max_tokens)
                          for a, b in pairwise([0, *cut, n])))
        assert _chunk_cost(lengths, starts, call_cost) == best


def test_length_chunks_without_a_call_cost_fill_every_batch():
    from senseindex.encoding.subwords import length_chunks

    assert length_chunks([69, 40, 12, 12], 8192) == [0]
    assert length_chunks([30] * 10, 100) == [0, 3, 6, 9]
    assert length_chunks([], 100, call_cost=50) == []
    # a small request of mixed lengths is cut where the padding saved outweighs one more call
    assert length_chunks([69, 67, 60, 50, 40, 30, 20, 12, 12, 12], 8192, call_cost=64) == [0, 6]
