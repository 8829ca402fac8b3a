"""The statistics behind the report's verdicts: small pure functions over per-seed results.

Every verdict is one of :data:`VERDICTS`. A rule answers "holds" or "does not hold" only when
the 95 % evidence says so; in between it answers "inconclusive" (within the seeds' noise).

- :func:`welch` / :func:`significantly_greater`: Welch's t-test (unequal variances) of two
  groups of runs; a group of one run with a deterministic result is a known constant.
- :func:`diff_interval`: the 95 % Welch interval of a difference of means (a "+g points" gain).
- :func:`equivalence_verdict`: does that interval lie within ``g ± margin`` (holds), outside it
  (does not hold), or across its edge (inconclusive)?
- :func:`spearman` / :func:`bootstrap_spearman`: the rank correlation of a sweep's means with
  the swept variable, and its percentile interval from resampling the seeds at each value.
- :func:`below_prediction`: is one run below the 95 % prediction interval of a group of runs?
- :func:`separability`: a truth table is one threshold neuron (weights checked exactly) or is
  not, with a Farkas certificate checked exactly in rational arithmetic.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from fractions import Fraction

HOLDS, FAILS, INCONCLUSIVE, NOT_COMPARABLE, NOT_RUN = (
    "holds",
    "does not hold",
    "inconclusive",
    "not comparable",
    "not run",
)
VERDICTS = (HOLDS, FAILS, INCONCLUSIVE, NOT_COMPARABLE, NOT_RUN)
LEVEL = 0.95


def _mean_var(xs: Sequence[float]) -> tuple[float, float, int]:
    n = len(xs)
    mean = math.fsum(xs) / n
    var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1) if n > 1 else 0.0
    return mean, var, n


def welch(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float] | None:
    """(t, degrees of freedom, two-sided p) of Welch's test of mean(a) == mean(b).

    A group of one run counts as a known constant (variance 0). None when neither group has
    two runs. Two groups without spread: p is 0 if the means differ, else 1.

    >>> t, df, p = welch([0.90, 0.91, 0.92], [0.95, 0.96, 0.97])
    >>> round(t, 3), round(df, 1), p < 0.05
    (-6.124, 4.0, True)
    >>> welch([0.9], [0.8]) is None
    True
    >>> welch([0.5, 0.5], [0.4, 0.4])[2]
    0.0
    """
    from scipy import stats

    (ma, va, na), (mb, vb, nb) = _mean_var(a), _mean_var(b)
    if na < 2 and nb < 2:
        return None
    sa, sb = va / na, vb / nb
    se2 = sa + sb
    if se2 == 0:
        return (math.copysign(math.inf, ma - mb) if ma != mb else 0.0, math.inf, 0.0 if ma != mb else 1.0)
    df = se2**2 / ((sa**2 / (na - 1) if na > 1 else 0.0) + (sb**2 / (nb - 1) if nb > 1 else 0.0))
    t = (ma - mb) / math.sqrt(se2)
    return t, df, float(2 * stats.t.sf(abs(t), df))


def significantly_greater(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> bool:
    """mean(a) > mean(b) and Welch's two-sided test rejects equality at ``level``.

    >>> significantly_greater([0.95, 0.96, 0.97], [0.90, 0.91, 0.92])
    True
    >>> significantly_greater([0.90, 0.91, 0.92], [0.95, 0.96, 0.97])
    False
    >>> significantly_greater([0.95, 0.90], [0.91, 0.94])
    False
    """
    test = welch(a, b)
    return test is not None and test[0] > 0 and test[2] < 1 - level


def diff_interval(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> tuple[float, float, float] | None:
    """(mean(a) - mean(b), low, high): Welch's ``level`` interval of the difference of means.

    A group of one run is a known constant. None when neither group has two runs.

    >>> d, lo, hi = diff_interval([0.96, 0.97], [0.9096])
    >>> round(d, 4), round(lo, 4), round(hi, 4)
    (0.0554, -0.0081, 0.1189)
    >>> diff_interval([0.5, 0.5], [0.25])
    (0.25, 0.25, 0.25)
    """
    from scipy import stats

    test = welch(a, b)
    if test is None:
        return None
    (ma, va, na), (mb, vb, nb) = _mean_var(a), _mean_var(b)
    d = ma - mb
    se = math.sqrt(va / na + vb / nb)
    if se == 0:
        return d, d, d
    half = float(stats.t.ppf(0.5 + level / 2, test[1])) * se
    return d, d - half, d + half


def equivalence_verdict(interval: tuple[float, float] | None, target: float, margin: float) -> str:
    """Holds if the interval lies within ``target ± margin``, does not hold if it lies wholly
    outside, else inconclusive (also without an interval).

    >>> equivalence_verdict((0.045, 0.055), 0.052, 0.01)
    'holds'
    >>> equivalence_verdict((0.07, 0.08), 0.052, 0.01)
    'does not hold'
    >>> equivalence_verdict((0.01, 0.09), 0.052, 0.01)
    'inconclusive'
    """
    if interval is None:
        return INCONCLUSIVE
    lo, hi = interval
    if target - margin <= lo and hi <= target + margin:
        return HOLDS
    if hi < target - margin or lo > target + margin:
        return FAILS
    return INCONCLUSIVE


def _ranks(values: Sequence[float]) -> list[float]:
    """Ranks from 1, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Spearman's rank correlation (ties get mean ranks); 0 when either side is constant.

    >>> spearman([1, 2, 3, 4], [0.9, 0.8, 0.85, 0.7])
    -0.8
    >>> spearman([1, 2, 3], [1, 1, 1])
    0.0
    """
    rx, ry = _ranks(list(xs)), _ranks(list(ys))
    mx, my = math.fsum(rx) / len(rx), math.fsum(ry) / len(ry)
    sxy = math.fsum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx, syy = math.fsum((a - mx) ** 2 for a in rx), math.fsum((b - my) ** 2 for b in ry)
    return 0.0 if sxx == 0 or syy == 0 else sxy / math.sqrt(sxx * syy)


def bootstrap_spearman(
    groups: Mapping[float, Sequence[float]], level: float = LEVEL, resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float] | None:
    """(rho, low, high): Spearman's rho of the swept values against their mean over seeds, and
    its percentile interval from resampling each value's seeds with replacement.

    None when no value has two seeds (nothing to resample). Seeded: the same data give the
    same interval.

    >>> groups = {1: [0.97, 0.971], 2: [0.96, 0.962], 3: [0.95, 0.949], 4: [0.93, 0.935]}
    >>> rho, lo, hi = bootstrap_spearman(groups)
    >>> rho, lo, hi
    (-1.0, -1.0, -1.0)
    >>> bootstrap_spearman({1: [0.9], 2: [0.8]}) is None
    True
    """
    xs = sorted(groups)
    if len(xs) < 2 or all(len(groups[x]) < 2 for x in xs):
        return None
    rho = spearman(xs, [math.fsum(groups[x]) / len(groups[x]) for x in xs])
    rng = random.Random(seed)
    draws = []
    for _ in range(resamples):
        means = []
        for x in xs:
            runs = groups[x]
            sample = [runs[rng.randrange(len(runs))] for _ in runs]
            means.append(math.fsum(sample) / len(sample))
        draws.append(spearman(xs, means))
    draws.sort()
    lo = draws[math.floor((1 - level) / 2 * (resamples - 1))]
    hi = draws[math.ceil((0.5 + level / 2) * (resamples - 1))]
    return rho, lo, hi


def sign_verdict(interval: tuple[float, float] | None, sign: int) -> str:
    """For "rho < 0" (sign -1) or "rho > 0" (+1): holds if the interval lies strictly on that
    side of 0, does not hold if it lies strictly on the other, else inconclusive.

    >>> sign_verdict((-0.9, -0.4), -1), sign_verdict((0.1, 0.5), -1), sign_verdict((-0.5, 0.2), -1)
    ('holds', 'does not hold', 'inconclusive')
    """
    if interval is None:
        return INCONCLUSIVE
    lo, hi = sorted((interval[0] * sign, interval[1] * sign))
    if lo > 0:
        return HOLDS
    if hi < 0:
        return FAILS
    return INCONCLUSIVE


def below_prediction(value: float, runs: Sequence[float], level: float = LEVEL) -> str:
    """Is one run ``value`` lower than a new run of the group ``runs`` would be?

    Holds if it lies below the group's ``level`` prediction interval
    (mean ± t * s * sqrt(1 + 1/n)), does not hold if it lies above it, else inconclusive
    (also with fewer than two runs).

    >>> below_prediction(0.95, [0.981, 0.983, 0.982])
    'holds'
    >>> below_prediction(0.99, [0.981, 0.983, 0.982])
    'does not hold'
    >>> below_prediction(0.98, [0.97, 0.99])
    'inconclusive'
    """
    from scipy import stats

    mean, var, n = _mean_var(runs)
    if n < 2:
        return INCONCLUSIVE
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * math.sqrt(var * (1 + 1 / n))
    if value < mean - half:
        return HOLDS
    if value > mean + half:
        return FAILS
    return INCONCLUSIVE


def combine(*verdicts: str) -> str:
    """A conjunction of rules: fails if one fails, holds if all hold, else inconclusive.

    >>> combine('holds', 'holds'), combine('holds', 'inconclusive'), combine('inconclusive', 'does not hold')
    ('holds', 'inconclusive', 'does not hold')
    """
    if FAILS in verdicts:
        return FAILS
    return HOLDS if all(v == HOLDS for v in verdicts) else INCONCLUSIVE


# --- one threshold neuron or not: an exact proof either way ------------------------------------

Row = tuple[Sequence[int], int]


def _signed_rows(table: Sequence[Row]) -> list[list[Fraction]]:
    """Row i as s_i * (x_i, 1) with s_i = +1 where the output is 1, -1 where it is 0."""
    return [[Fraction(1 if out else -1) * v for v in (*map(Fraction, x), Fraction(1))] for x, out in table]


def neuron_computes(weights: Sequence, bias, table: Sequence[Row]) -> bool:
    """Does θ(w·x + b), θ(z) = [z >= 0], give every output of ``table``? Exact (fractions).

    >>> neuron_computes([1, 1], -1.5, [((0, 0), 0), ((0, 1), 0), ((1, 0), 0), ((1, 1), 1)])
    True
    >>> neuron_computes([1, 1], -0.5, [((0, 0), 0), ((0, 1), 0), ((1, 0), 0), ((1, 1), 1)])
    False
    """
    w, b = [Fraction(v) for v in weights], Fraction(bias)
    return all((sum((wi * xi for wi, xi in zip(w, x, strict=True)), b) >= 0) == bool(out) for x, out in table)


def check_certificate(lam: Sequence, table: Sequence[Row]) -> bool:
    """Is ``lam`` a Farkas certificate that no threshold neuron computes ``table``?

    It is if lam >= 0, lam != 0 and sum_i lam_i s_i (x_i, 1) = 0 exactly, s_i = ±1 the row's
    required sign. Then, for any (w, b), sum_i lam_i s_i (w·x_i + b) = 0, while a neuron
    computing the table makes every term s_i (w·x_i + b) >= 0 (outputs 1) or > 0 (outputs 0);
    the last component (the bias column) forces as much weight on 0-rows as on 1-rows, so some
    term is strictly positive and the sum is > 0: a contradiction. (The same holds under the
    other convention θ(z) = [z > 0], with the roles of strict and non-strict swapped.)

    >>> xor = [((0, 0), 0), ((0, 1), 1), ((1, 0), 1), ((1, 1), 0)]
    >>> check_certificate([1, 1, 1, 1], xor), check_certificate([1, 0, 0, 1], xor)
    (True, False)
    """
    lam = [Fraction(v) for v in lam]
    if len(lam) != len(table) or any(v < 0 for v in lam) or not any(lam):
        return False
    rows = _signed_rows(table)
    return all(sum(l_i * r[j] for l_i, r in zip(lam, rows, strict=True)) == 0 for j in range(len(rows[0])))


def _rational(values, denominator: int = 1000) -> list[Fraction]:
    return [Fraction(float(v)).limit_denominator(denominator) for v in values]


def separability(table: Sequence[Row]) -> dict:
    """Prove that one threshold neuron computes ``table``, or that none does.

    An LP (scipy's ``linprog``) proposes either weights with margin 1 (s_i (w·x_i + b) >= 1),
    or, when those are infeasible, a Farkas certificate (lam >= 0, sum lam = 1,
    sum_i lam_i s_i (x_i, 1) = 0). The proposal is rounded to small fractions and checked
    exactly (:func:`neuron_computes`, :func:`check_certificate`): the floating-point LP only
    finds the proof, it is no part of it. Returns ``{"separable": True, "weights", "bias"}``
    or ``{"separable": False, "certificate"}`` (integers, smallest), with ``"checked": True``.

    >>> xor = [((0, 0), 0), ((0, 1), 1), ((1, 0), 1), ((1, 1), 0)]
    >>> separability(xor)
    {'separable': False, 'certificate': [1, 1, 1, 1], 'checked': True}
    >>> proof = separability([((0, 0), 0), ((0, 1), 1), ((1, 0), 1), ((1, 1), 1)])
    >>> proof["separable"], proof["checked"]
    (True, True)
    """
    import numpy as np
    from scipy.optimize import linprog

    rows = np.array([[float(v) for v in r] for r in _signed_rows(table)])
    m, k = rows.shape
    fit = linprog(np.zeros(k), A_ub=-rows, b_ub=-np.ones(m), bounds=[(None, None)] * k, method="highs")
    if fit.status == 0:
        for denominator in (1, 10, 1000, 10**6):
            *w, b = _rational(fit.x, denominator)
            if neuron_computes(w, b, table):
                return {"separable": True, "weights": [_num(v) for v in w], "bias": _num(b), "checked": True}
    cert = linprog(
        np.zeros(m),
        A_eq=np.vstack([rows.T, np.ones(m)]),
        b_eq=np.append(np.zeros(k), 1.0),
        bounds=[(0, None)] * m,
        method="highs",
    )
    if cert.status == 0:
        for denominator in (10, 1000, 10**6):
            lam = _rational(cert.x, denominator)
            if check_certificate(lam, table):
                scale = math.lcm(*(v.denominator for v in lam))
                ints = [int(v * scale) for v in lam]
                g = math.gcd(*ints)
                return {"separable": False, "certificate": [v // g for v in ints], "checked": True}
    raise ArithmeticError("the LP found neither weights nor a certificate that check exactly")


def _num(v: Fraction) -> int | float:
    return int(v) if v.denominator == 1 else float(v)
