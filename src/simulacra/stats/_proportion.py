"""Intervals for a share estimated from a few clusters (tasks), chosen by simulation.

A success rate over tasks is a ratio ``p̂ = Σ s_i / Σ m_i`` of the score sums ``s_i``
and episode counts ``m_i`` of the ``T`` tasks; pass^k is a plain mean of per-task values
(``m_i = 1``). Episodes of one task are not independent, and with a handful of tasks a
percentile bootstrap over tasks is too narrow: with 5 tasks of 4 trials it covered 87%
at a rate of 0.5 and 52% near 0 or 1 (``benchmarks/coverage.py``), where many resamples
see no success at all and the interval collapses to a point.

The interval used instead is the Wilson score interval at an effective sample size,
adjusted for the degrees of freedom of the between-task variance, after Korn and
Graubard ("Confidence intervals for proportions with small expected number of positive
counts estimated from survey data", Survey Methodology 24(2), 1998), with Wilson's score
interval ("Probable inference, the law of succession, and statistical inference",
JASA 22, 1927) in place of their Clopper–Pearson one:

1. the cluster-robust variance ``v = T / (T − 1) · Σ (s_i − p̂·m_i)² / (Σ m_i)²``;
2. the effective number of independent trials ``n_eff = p̂(1 − p̂) / v``, capped at
   ``cap`` (the number of episodes for a success rate: clustering never adds
   information); when ``v`` is 0 or ``p̂`` is 0 or 1 the data cannot show the clustering
   and ``n_eff = cap``;
3. ``n* = n_eff · (z / t_{T−1})²``, so that in the middle of the range the half-width is
   ``t_{T−1}·√v``, a t interval on ``T − 1`` degrees of freedom;
4. the Wilson interval for ``p̂`` at ``n*``.

It never has zero width and stays inside [0, 1]. ``benchmarks/coverage.py`` measures
its coverage (docs/trust.md has the table): within 2.5 points of 95% from 20 tasks on,
and conservative (98–100%) with 5 tasks, where no interval can be both honest and
narrow. With one task there is no interval (NaN bounds).
"""

from __future__ import annotations

import math

from simulacra.stats._bootstrap import Estimate, empty_estimate
from simulacra.stats._common import FloatArray

NAN = float("nan")

MIN_TASKS = 10
"""Fewest tasks for which an interval over tasks is reliable enough to report plainly."""

FEW_TASKS_WARNING = "too few tasks for a reliable interval"
"""The words shown beside an interval over fewer than :data:`MIN_TASKS` tasks."""


def few_tasks_warning(n_tasks: int) -> str | None:
    """The warning for an interval over ``n_tasks`` tasks, or ``None`` when they suffice."""
    if 0 < n_tasks < MIN_TASKS:
        return f"{FEW_TASKS_WARNING} ({n_tasks} task(s); {MIN_TASKS} or more advised)"
    return None


def _quantile(level: float, df: int | None = None) -> float:
    """The normal quantile, or Student's t on ``df`` degrees of freedom, for ``level``."""
    from scipy import stats

    tail = 0.5 + level / 2.0
    return float(stats.norm.ppf(tail) if df is None else stats.t.ppf(tail, df))


def wilson_bounds(p: float, n: float, level: float) -> tuple[float, float]:
    """Wilson score interval for a share ``p`` observed on ``n`` (possibly fractional) trials."""
    if not n > 0.0 or math.isnan(p):
        return NAN, NAN
    z = _quantile(level)
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denominator
    half = z * math.sqrt(max(p * (1.0 - p), 0.0) / n + z2 / (4.0 * n * n)) / denominator
    low = 0.0 if p <= 0.0 else max(0.0, centre - half)
    high = 1.0 if p >= 1.0 else min(1.0, centre + half)
    return low, high


def cluster_score_bounds(
    sums: FloatArray, sizes: FloatArray, *, cap: float, level: float
) -> tuple[float, float]:
    """Bounds of the cluster-adjusted Wilson interval (see the module docstring)."""
    clusters = int(sums.size)
    total = float(sizes.sum())
    if clusters < 2 or not total > 0.0:
        return NAN, NAN
    p = float(sums.sum()) / total
    variance = clusters / (clusters - 1) * float(((sums - p * sizes) ** 2).sum()) / total**2
    spread = p * (1.0 - p)
    n_eff = min(spread / variance, cap) if variance > 0.0 and spread > 0.0 else cap
    z = _quantile(level)
    t = _quantile(level, clusters - 1)
    return wilson_bounds(min(max(p, 0.0), 1.0), n_eff * (z / t) ** 2, level)


def cluster_score_estimate(
    sums: FloatArray,
    sizes: FloatArray,
    *,
    cap: float,
    level: float,
    unit: str,
    excluded: int = 0,
) -> Estimate:
    """``Σ sums / Σ sizes`` over clusters with the cluster-adjusted Wilson interval.

    ``n`` of the result is the number of clusters; ``cap`` bounds the effective sample
    size (the number of independent trials the data could at most hold).
    """
    method = f"cluster-adjusted Wilson score interval over {unit} (t, clusters − 1 df)"
    if sums.size == 0 or not float(sizes.sum()) > 0.0:
        return empty_estimate(level=level, method=method, excluded=excluded)
    value = float(sums.sum() / sizes.sum())
    low, high = cluster_score_bounds(sums, sizes, cap=cap, level=level)
    return Estimate(
        value=value,
        low=low,
        high=high,
        n=int(sums.size),
        level=level,
        method=method,
        excluded=excluded,
    )
