"""The few statistical tests behind the report's verdicts.

Seeds pair the runs: a method's run with seed s and another method's run with seed s share the
data split and differ in the model (and its random initialisation), so differences are taken seed
by seed and tested with a paired (one-sample) t-test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class PairedTest:
    """A two-sided paired t-test of differences against zero, and a t confidence interval."""

    n: int
    mean: float
    std: float
    p_value: float
    low: float
    high: float

    @property
    def testable(self) -> bool:
        return self.n >= 2 and math.isfinite(self.p_value)


def paired_test(differences: np.ndarray, confidence: float = 0.95) -> PairedTest:
    """Test the mean of seed-paired ``differences`` against zero.

    With fewer than two differences nothing is testable (p is NaN). When every difference is the
    same the t statistic is infinite: p is 0 for a non-zero difference and 1 for none.
    """
    d = np.asarray(differences, dtype=float)
    d = d[np.isfinite(d)]
    n = len(d)
    if n == 0:
        return PairedTest(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    mean = float(d.mean())
    if n < 2:
        return PairedTest(n, mean, math.nan, math.nan, math.nan, math.nan)
    if np.ptp(d) == 0.0:
        return PairedTest(n, mean, 0.0, 0.0 if mean != 0.0 else 1.0, mean, mean)
    std = float(d.std(ddof=1))
    p_value = float(stats.ttest_1samp(d, 0.0).pvalue)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * std / math.sqrt(n)
    return PairedTest(n, mean, std, p_value, mean - half, mean + half)


def holm(p_values: list[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (NaN stays NaN), in the input's order."""
    finite = [(p, i) for i, p in enumerate(p_values) if math.isfinite(p)]
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(finite)):
        running = max(running, min(1.0, (len(finite) - rank) * p))
        adjusted[i] = running
    return adjusted


def dependent_correlations_test(r_a: float, r_b: float, r_ab_other: float, n: int) -> float:
    """Two-sided p-value that two correlations sharing one variable are equal.

    ``r_a`` = corr(x, y), ``r_b`` = corr(z, y), ``r_ab_other`` = corr(x, z), all on the same
    ``n`` rows: the Z test of Meng, Rosenthal and Rubin (1992), on Fisher-transformed values.
    """
    values = (r_a, r_b, r_ab_other)
    if n <= 3 or not all(math.isfinite(v) and abs(v) < 1.0 for v in values):
        return math.nan
    z_a, z_b = math.atanh(r_a), math.atanh(r_b)
    mean_square = (r_a**2 + r_b**2) / 2
    f = min(1.0, (1 - r_ab_other) / (2 * (1 - mean_square)))
    h = (1 - f * mean_square) / (1 - mean_square)
    z = (z_a - z_b) * math.sqrt((n - 3) / (2 * (1 - r_ab_other) * h))
    return float(2 * stats.norm.sf(abs(z)))
