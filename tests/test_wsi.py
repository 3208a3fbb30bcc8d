"""SemEval-2013 Task 13's Fuzzy B-Cubed and Fuzzy NMI (evaluation/wsi.py), on cases checked by hand."""

import math

import numpy as np
import pytest

from senseindex.evaluation.wsi import f_score, fuzzy_bcubed, fuzzy_nmi, graded, hard, score_lemmas


def test_identical_partitions_score_one_whatever_the_names():
    gold = hard(["a", "a", "b", "b", "b", "c", "c"])
    answer = hard([2, 2, 0, 0, 0, 1, 1])
    assert fuzzy_bcubed(gold, answer) == pytest.approx((1.0, 1.0))
    assert fuzzy_nmi(gold, answer) == pytest.approx(1.0)


def test_one_cluster_per_lemma():
    # gold a a a b, everything in one cluster.
    # "recall" (pairs sharing the cluster): each a agrees with 2 of its 3 others, b with none:
    #   (3 * 2/3 + 0) / 4 = 0.5
    # "precision" (pairs sharing a gold sense): each a's two partners are in its cluster (1);
    #   b has no partner (0): 3/4
    gold = hard(["a", "a", "a", "b"])
    answer = hard([0, 0, 0, 0])
    p, r = fuzzy_bcubed(gold, answer)
    assert (p, r) == pytest.approx((0.75, 0.5))
    assert f_score(p, r) == pytest.approx(0.6)
    assert fuzzy_nmi(gold, answer) == pytest.approx(0.0, abs=1e-12)


def test_graded_case_by_hand():
    # i1 {a}, i2 {a, b}, i3 {b}; answer i1 {x}, i2 {x: 1, y: 0.5}, i3 {y}
    gold = [{"a": 1}, {"a": 1, "b": 1}, {"b": 1}]
    answer = [{"x": 1.0}, {"x": 0.8, "y": 0.4}, {"y": 1.0}]  # i2 is divided by its largest: x 1, y 0.5
    # gold agreements: (1,2) = 1, (2,3) = 1; answer agreements: (1,2) = 1, (2,3) = 1 - |0.5 - 1| = 0.5
    # precision: i1 -> 1; i2 -> (1 + 0.5) / 2; i3 -> 0.5: mean 0.75. recall: every ratio is 1.
    p, r = fuzzy_bcubed(gold, answer)
    assert (p, r) == pytest.approx((0.75, 1.0))
    # FNMI: H(a) = H(b) = H(x) = H(2/3, 1/3) =: h3; y's bins are 0, 4, 9: log2(3).
    # H(G|T) = 0 (x = a; b pairs with y, x being b's complement is skipped); H(x|G) = 0;
    # H(y|G) = H(y|b) = log2(3) - h3. MI = (2 h3 + h3 + log2 3 - (log2 3 - h3)) / 2 = 2 h3.
    h3 = math.log2(3) - 2 / 3
    assert fuzzy_nmi(gold, answer) == pytest.approx(2 * h3 / (h3 + math.log2(3)))


def test_singletons_score_zero_recall_and_ordering_does_not_matter():
    gold = hard(["a", "a", "b", "b"])
    p, r = fuzzy_bcubed(gold, hard([0, 1, 2, 3]))
    assert r == 0.0 and p == 0.0  # no pair shares a cluster, so no gold pair agrees either


def test_symmetric_and_invariant():
    rng = np.random.default_rng(3)
    for _ in range(5):
        n = 30
        gold = [{str(s): float(rng.integers(1, 4)) for s in rng.choice(4, rng.integers(1, 3), replace=False)}
                for _ in range(n)]
        answer = graded(rng.dirichlet(np.ones(3) * 0.5, n), floor=0.2)
        p, r = fuzzy_bcubed(gold, answer)
        assert fuzzy_bcubed(answer, gold) == pytest.approx((r, p))  # swapping sides swaps P and R
        assert fuzzy_nmi(answer, gold) == pytest.approx(fuzzy_nmi(gold, answer))
        order = rng.permutation(n)
        renamed = [{f"c{k}": w for k, w in answer[i].items()} for i in order]
        assert fuzzy_bcubed([gold[i] for i in order], renamed) == pytest.approx((p, r))
        assert fuzzy_nmi([gold[i] for i in order], renamed) == pytest.approx(fuzzy_nmi(gold, answer))
        assert 0 <= p <= 1 and 0 <= r <= 1 and -1e-9 <= fuzzy_nmi(gold, answer) <= 1 + 1e-9


def test_graded_keeps_the_top_and_drops_small_memberships():
    rows = graded(np.array([[0.7, 0.25, 0.05], [0.1, 0.1, 0.8]]), floor=0.2)
    assert rows == [{"0": 0.7, "1": 0.25}, {"2": 0.8}]
    assert graded(np.array([[0.5, 0.5]]))[0] == {"0": 0.5, "1": 0.5}


def test_score_lemmas_averages_as_the_scorer_does():
    lemmas = {"perfect": (hard("aabb"), hard("xxyy")), "one": (hard("aaab"), hard("0000"))}
    out = score_lemmas(lemmas)
    # FNMI: mean of 1 and 0; FBC: F of mean precision (1 + .75) / 2 and mean recall (1 + .5) / 2
    assert out["fnmi"] == pytest.approx(50.0)
    assert out["fbc"] == pytest.approx(round(100 * f_score(0.875, 0.75), 2))
    assert out["fbc_mean_f"] == pytest.approx(round(100 * (1 + 0.6) / 2, 2))
    assert out["avg"] == pytest.approx(round(100 * math.sqrt(f_score(0.875, 0.75) * 0.5), 2))
    assert out["lemmas"] == 2 and out["per_lemma"]["one"]["clusters"] == 1
