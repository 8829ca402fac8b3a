"""The statistical rules on synthetic per-seed data whose answer is known, and the exact proofs."""

from __future__ import annotations

import random

import pytest

from lightning_mnist.study import stats

ROWS = [(0, 0), (0, 1), (1, 0), (1, 1)]


def seeds(mean, std, n, seed=0):
    rng = random.Random(seed)
    return [rng.gauss(mean, std) for _ in range(n)]


def test_welch_finds_a_real_difference_and_not_a_fake_one():
    a, b = seeds(0.97, 0.001, 5, 1), seeds(0.96, 0.001, 5, 2)
    assert stats.significantly_greater(a, b) and not stats.significantly_greater(b, a)
    same = seeds(0.96, 0.01, 5, 3), seeds(0.96, 0.01, 5, 4)
    assert not stats.significantly_greater(*same) and not stats.significantly_greater(*same[::-1])
    # Welch's t agrees with scipy's
    from scipy.stats import ttest_ind

    t, _, p = stats.welch(a, b)
    ref = ttest_ind(a, b, equal_var=False)
    assert (t, p) == pytest.approx((ref.statistic, ref.pvalue))


def test_gain_interval_covers_the_true_gain_and_rules_follow():
    base = [0.9096]  # deterministic: a constant
    runs = seeds(0.9096 + 0.052, 0.001, 4, 5)
    _, lo, hi = stats.diff_interval(runs, base)
    assert lo < 0.052 < hi and hi - lo < 0.01
    assert stats.equivalence_verdict((lo, hi), 0.052, 0.01) == "holds"
    assert stats.equivalence_verdict((lo, hi), 0.0233, 0.01) == "does not hold"
    wide = stats.diff_interval(seeds(0.96, 0.03, 2, 6), base)
    assert stats.equivalence_verdict(wide[1:], 0.052, 0.01) == "inconclusive"
    assert stats.diff_interval([0.9], [0.8]) is None


def test_spearman_interval_sees_a_falling_sweep_and_no_trend():
    falling = {x: seeds(0.97 - 0.003 * x, 0.0005, 3, x) for x in range(1, 11)}
    rho, lo, hi = stats.bootstrap_spearman(falling)
    assert rho < -0.9 and hi < 0
    assert stats.sign_verdict((lo, hi), -1) == "holds"
    flat = {x: seeds(0.96, 0.005, 3, 100 + x) for x in range(1, 11)}
    _, lo, hi = stats.bootstrap_spearman(flat)
    assert lo < 0 < hi and stats.sign_verdict((lo, hi), -1) == "inconclusive"
    assert stats.bootstrap_spearman(flat) == stats.bootstrap_spearman(flat)  # seeded
    assert stats.spearman([1, 2, 3], [3, 2, 1]) == -1.0


def test_one_run_below_a_group():
    group = seeds(0.985, 0.001, 3, 7)
    assert stats.below_prediction(0.97, group) == "holds"
    assert stats.below_prediction(0.985, group) == "inconclusive"
    assert stats.below_prediction(0.97, [0.985]) == "inconclusive"
