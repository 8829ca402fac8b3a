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

The proofs that a truth table is, or is not, one threshold neuron live with the other proofs of
boolean functions, in :mod:`logicnets.prove.neuron`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

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


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Spearman's rank correlation (``scipy.stats.spearmanr``: ties get mean ranks); 0 when
    either side is constant (scipy: undefined).

    >>> spearman([1, 2, 3, 4], [0.9, 0.8, 0.85, 0.7])
    -0.8
    >>> spearman([1, 2, 3], [1, 1, 1])
    0.0
    """
    from scipy.stats import spearmanr

    if len(set(xs)) < 2 or len(set(ys)) < 2:
        return 0.0
    return round(float(spearmanr(xs, ys).statistic), RHO_DIGITS)


# Ranks are half-integers, so rho is a fraction of small integers: rounding off float noise keeps
# an exact 0 (no trend) exactly 0, whichever way it was computed.
RHO_DIGITS = 12


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
    means = []
    for _ in range(resamples):
        row = []
        for x in xs:
            runs = groups[x]
            sample = [runs[rng.randrange(len(runs))] for _ in runs]
            row.append(math.fsum(sample) / len(sample))
        means.append(row)
    draws = sorted(_spearman_rows(xs, means))
    lo = draws[math.floor((1 - level) / 2 * (resamples - 1))]
    hi = draws[math.ceil((0.5 + level / 2) * (resamples - 1))]
    return rho, lo, hi


def _spearman_rows(xs: Sequence[float], rows: Sequence[Sequence[float]]) -> list[float]:
    """:func:`spearman` of ``xs`` against each row, at once (scipy's ``rankdata`` ranks them all)."""
    import numpy as np
    from scipy.stats import rankdata

    rx = rankdata(xs) - (len(xs) + 1) / 2
    ry = rankdata(np.asarray(rows, dtype=float), axis=1)
    ry -= ry.mean(axis=1, keepdims=True)
    norm = np.sqrt((rx @ rx) * np.einsum("ij,ij->i", ry, ry))
    rho = np.divide(ry @ rx, norm, out=np.zeros(len(ry)), where=norm > 0)
    return [round(float(v), RHO_DIGITS) for v in rho]


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
