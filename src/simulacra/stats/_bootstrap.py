"""Percentile bootstrap confidence intervals and the ``Estimate`` result type.

The percentile bootstrap (Efron and Tibshirani, "An Introduction to the Bootstrap")
resamples the units of a data set with replacement, recomputes the statistic on each
resample, and takes the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of those
replicates as the interval. The cluster variant resamples whole groups (for example
tasks, each with several episodes), which keeps the dependence inside a group intact.

Every resampling here is seeded with ``numpy.random.default_rng(seed)``: the same data,
statistic and seed always give the same interval.

Small samples: with no units the value and both bounds are NaN; with one unit the value
is the statistic of that unit and both bounds are NaN, because a single unit says nothing
about sampling variability.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from simulacra.errors import ConfigError
from simulacra.stats._common import FloatArray, check_level, check_resamples, jsonable

NAN = float("nan")
DEFAULT_RESAMPLES = 2000
DEFAULT_LEVEL = 0.95

# Upper bound on the cells of one (resamples x units) block, to bound memory use.
_MAX_CELLS = 2_000_000


@dataclass(frozen=True, kw_only=True, slots=True)
class Estimate:
    """A point estimate with a confidence interval.

    ``n`` is the number of units the estimate rests on (the resampled units when the
    interval is a bootstrap: items, episodes or tasks), ``level`` the confidence level,
    ``method`` how the interval was made, and ``excluded`` the number of units left out
    because they lacked the data the measure needs (for example tasks with too few trials).
    Bounds are NaN when no interval can be computed.
    """

    value: float
    low: float
    high: float
    n: int
    level: float = DEFAULT_LEVEL
    method: str = ""
    excluded: int = 0

    @property
    def width(self) -> float:
        """The width ``high - low`` of the interval (NaN when there is none)."""
        return self.high - self.low

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN and infinite numbers become ``None``."""
        result: dict[str, Any] = jsonable(self)
        return result

    def __str__(self) -> str:
        return (
            f"{self.value:.4g} [{self.low:.4g}, {self.high:.4g}] ({self.level:.0%} CI, n={self.n})"
        )


def empty_estimate(*, level: float, method: str, excluded: int = 0) -> Estimate:
    """The estimate of a measure over no units: everything NaN."""
    return Estimate(
        value=NAN, low=NAN, high=NAN, n=0, level=level, method=method, excluded=excluded
    )


def percentile_bounds(replicates: FloatArray, level: float) -> tuple[float, float]:
    """Percentile interval of 1-D bootstrap replicates; NaN replicates are ignored."""
    finite = replicates[~np.isnan(replicates)]
    if finite.size == 0:
        return NAN, NAN
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return float(low), float(high)


def _index_blocks(rng: np.random.Generator, n: int, resamples: int) -> Iterator[NDArray[np.intp]]:
    """Yield blocks of bootstrap index rows, shape ``(block, n)``, ``resamples`` rows in all."""
    per_block = max(1, _MAX_CELLS // max(n, 1))
    done = 0
    while done < resamples:
        size = min(per_block, resamples - done)
        yield rng.integers(0, n, size=(size, n))
        done += size


def _counts(indices: NDArray[np.intp], n: int) -> FloatArray:
    """Turn index rows into rows of draw counts per unit (each row sums to ``n``)."""
    rows = indices.shape[0]
    flat = (indices + np.arange(rows)[:, None] * n).ravel()
    return np.bincount(flat, minlength=rows * n).reshape(rows, n).astype(np.float64)


def weighted_replicates(
    n: int,
    statistic: Callable[[FloatArray], ArrayLike],
    *,
    resamples: int,
    seed: int,
) -> FloatArray:
    """Bootstrap replicates of a statistic written in terms of per-unit draw counts.

    ``statistic`` receives a ``(block, n)`` array of counts (how often each unit was drawn
    in each resample) and returns ``block`` replicates, or a ``(block, k)`` array for ``k``
    statistics sharing the same resamples. Means, ratios of sums and weighted fits are all
    cheap to write this way, and need no copy of the data per resample.
    """
    rng = np.random.default_rng(seed)
    blocks = [
        np.asarray(statistic(_counts(indices, n)), dtype=np.float64)
        for indices in _index_blocks(rng, n, resamples)
    ]
    return np.concatenate(blocks, axis=0)


def estimate_from_replicates(
    value: float,
    replicates: FloatArray | None,
    *,
    n: int,
    level: float,
    method: str,
    excluded: int = 0,
) -> Estimate:
    """Assemble an ``Estimate``; no replicates (``None``) means NaN bounds."""
    low, high = (NAN, NAN) if replicates is None else percentile_bounds(replicates, level)
    return Estimate(
        value=float(value), low=low, high=high, n=n, level=level, method=method, excluded=excluded
    )


def weighted_estimate(
    values: FloatArray,
    statistic: Callable[[FloatArray], ArrayLike],
    *,
    resamples: int,
    level: float,
    seed: int,
    method: str,
    excluded: int = 0,
) -> Estimate:
    """Estimate a statistic of ``values``' units written in terms of draw counts.

    The point value is the statistic with every unit counted once. Units are the entries
    of ``values`` along its first axis; ``values`` itself is only used for its length.
    """
    n = int(values.shape[0])
    if n == 0:
        return empty_estimate(level=level, method=method, excluded=excluded)
    value = float(np.asarray(statistic(np.ones((1, n))), dtype=np.float64).reshape(-1)[0])
    replicates = (
        weighted_replicates(n, statistic, resamples=resamples, seed=seed) if n > 1 else None
    )
    return estimate_from_replicates(
        value, replicates, n=n, level=level, method=method, excluded=excluded
    )


def mean_estimate(
    values: FloatArray,
    *,
    resamples: int,
    level: float,
    seed: int,
    method: str,
    excluded: int = 0,
) -> Estimate:
    """Percentile-bootstrap estimate of the mean of ``values`` (one entry per unit)."""
    n = values.shape[0]

    def mean(counts: FloatArray) -> FloatArray:
        result: FloatArray = (counts @ values) / n
        return result

    return weighted_estimate(
        values, mean, resamples=resamples, level=level, seed=seed, method=method, excluded=excluded
    )


def _method(resamples: int, unit: str) -> str:
    return f"percentile bootstrap over {unit}, {resamples} resamples"


def bootstrap(
    data: ArrayLike,
    statistic: Callable[[NDArray[Any]], Any] | None = None,
    *,
    vectorized: bool = False,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Estimate:
    """Percentile bootstrap confidence interval of a statistic over resampled units.

    ``data`` holds one unit per entry along its first axis (a list of numbers, or rows
    such as ``(label_a, label_b)`` pairs). ``statistic`` maps an array shaped like ``data``
    to a number; the default is the mean. With ``vectorized=True`` it instead receives a
    stack of resamples shaped ``(r, n, ...)`` and must return ``r`` numbers, which is much
    faster; the point value is then computed from ``data[None]``.

    Resamples on which the statistic is NaN are left out of the interval. With no units
    everything is NaN; with one unit the bounds are NaN (see the module docstring).

    Example: an interval for Cohen's kappa between two raters::

        pairs = list(zip(rater_a, rater_b))
        bootstrap(pairs, lambda rows: cohen_kappa(rows[:, 0], rows[:, 1]))
    """
    level = check_level(level)
    resamples = check_resamples(resamples)
    array = np.asarray(data)
    if array.ndim == 0:
        raise ConfigError("bootstrap data must be a sequence of units, got a scalar")
    n = int(array.shape[0])
    method = _method(resamples, "units")
    if statistic is None:
        values = array.astype(np.float64) if array.dtype.kind in "biuf" else None
        if values is None or values.ndim != 1:
            raise ConfigError("the default statistic (the mean) needs a flat sequence of numbers")
        return mean_estimate(values, resamples=resamples, level=level, seed=seed, method=method)
    if n == 0:
        return empty_estimate(level=level, method=method)
    if vectorized:
        value = float(np.asarray(statistic(array[None]), dtype=np.float64).reshape(-1)[0])
    else:
        value = float(statistic(array))
    if n == 1:
        return estimate_from_replicates(value, None, n=n, level=level, method=method)
    rng = np.random.default_rng(seed)
    parts: list[FloatArray] = []
    for indices in _index_blocks(rng, n, resamples):
        if vectorized:
            parts.append(np.asarray(statistic(array[indices]), dtype=np.float64).reshape(-1))
        else:
            parts.append(np.array([float(statistic(array[row])) for row in indices]))
    replicates = np.concatenate(parts)
    if replicates.shape[0] != resamples:
        raise ConfigError(
            f"a vectorized statistic must return one number per resample, "
            f"got {replicates.shape[0]} for {resamples} resamples"
        )
    return estimate_from_replicates(value, replicates, n=n, level=level, method=method)


def group_rows(groups: Sequence[Hashable]) -> tuple[list[Hashable], NDArray[np.intp]]:
    """Group keys in order of first appearance, and each row's group number."""
    order: dict[Hashable, int] = {}
    codes = np.empty(len(groups), dtype=np.intp)
    for row, key in enumerate(groups):
        try:
            codes[row] = order.setdefault(key, len(order))
        except TypeError:
            raise ConfigError(f"group key of row {row} is not hashable: {key!r}") from None
    return list(order), codes


def cluster_bootstrap(
    data: ArrayLike,
    groups: Sequence[Hashable],
    statistic: Callable[[NDArray[Any]], Any] | None = None,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Estimate:
    """Cluster bootstrap: resample whole groups and recompute the statistic on their rows.

    ``data`` holds one row per entry and ``groups`` the group (e.g. the task) of each row.
    Each resample draws as many groups as there are, with replacement, and evaluates
    ``statistic`` on all rows of the drawn groups (a group drawn twice contributes its rows
    twice). The default statistic is the mean over rows, computed without copying rows.
    ``n`` of the result is the number of groups; with one group the bounds are NaN.
    """
    level = check_level(level)
    resamples = check_resamples(resamples)
    array = np.asarray(data)
    if array.ndim == 0:
        raise ConfigError("bootstrap data must be a sequence of rows, got a scalar")
    if len(groups) != array.shape[0]:
        raise ConfigError(
            f"data and groups must have the same length, got {array.shape[0]} and {len(groups)}"
        )
    keys, codes = group_rows(groups)
    n_groups = len(keys)
    method = _method(resamples, "groups")
    if statistic is None:
        if array.dtype.kind not in "biuf" or array.ndim != 1:
            raise ConfigError("the default statistic (the mean) needs a flat sequence of numbers")
        return cluster_mean_estimate(
            array.astype(np.float64),
            codes,
            n_groups,
            resamples=resamples,
            level=level,
            seed=seed,
            method=method,
        )
    if n_groups == 0:
        return empty_estimate(level=level, method=method)
    value = float(statistic(array))
    if n_groups == 1:
        return estimate_from_replicates(value, None, n=1, level=level, method=method)
    members = [np.flatnonzero(codes == g) for g in range(n_groups)]
    rng = np.random.default_rng(seed)
    replicates = np.array(
        [
            float(statistic(array[np.concatenate([members[g] for g in row])]))
            for indices in _index_blocks(rng, n_groups, resamples)
            for row in indices
        ]
    )
    return estimate_from_replicates(value, replicates, n=n_groups, level=level, method=method)


def cluster_mean_estimate(
    values: FloatArray,
    codes: NDArray[np.intp],
    n_groups: int,
    *,
    resamples: int,
    level: float,
    seed: int,
    method: str,
    excluded: int = 0,
) -> Estimate:
    """Mean over all rows, with an interval from resampling groups (rows coded by group)."""
    sums = np.bincount(codes, weights=values, minlength=n_groups).astype(np.float64)
    sizes = np.bincount(codes, minlength=n_groups).astype(np.float64)

    def row_mean(counts: FloatArray) -> FloatArray:
        return (counts @ sums) / (counts @ sizes)

    return weighted_estimate(
        sums,
        row_mean,
        resamples=resamples,
        level=level,
        seed=seed,
        method=method,
        excluded=excluded,
    )
