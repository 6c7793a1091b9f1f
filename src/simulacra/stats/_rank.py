"""Rank correlation between two rankings of systems, with a bootstrap CI over items.

A ranking is a mapping ``system → score`` (higher is better on both sides, or lower on
both: the correlation only compares orders). When a side gives per-item scores instead,
``system → [score on item 1, score on item 2, ...]`` (the same items, in the same order,
for every system), a system's score is its mean over items and the interval resamples
items. This is how to ask whether a synthetic rater ranks systems as humans do, and how
sure that answer is given the number of items judged.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Literal

import numpy as np

from simulacra.errors import ConfigError
from simulacra.stats._bootstrap import (
    DEFAULT_LEVEL,
    DEFAULT_RESAMPLES,
    Estimate,
    estimate_from_replicates,
    weighted_replicates,
)
from simulacra.stats._common import FloatArray, as_float, check_level, check_resamples, float_array

Ranking = Mapping[Hashable, float] | Mapping[Hashable, Sequence[float]]
Method = Literal["spearman", "kendall"]

_ROWS_PER_BLOCK = 256


def _pearson_rows(x: FloatArray, y: FloatArray) -> FloatArray:
    """Pearson correlation of matching rows; NaN where a row is constant."""
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    numerator = (xc * yc).sum(axis=1)
    denominator = np.sqrt((xc * xc).sum(axis=1) * (yc * yc).sum(axis=1))
    ok = denominator > 0.0
    return np.where(ok, numerator / np.where(ok, denominator, 1.0), np.nan)


def _spearman_rows(x: FloatArray, y: FloatArray) -> FloatArray:
    """Spearman's rho of matching rows: Pearson correlation of average ranks."""
    from scipy.stats import rankdata

    rx = np.asarray(rankdata(x, axis=1), dtype=np.float64)
    ry = np.asarray(rankdata(y, axis=1), dtype=np.float64)
    return _pearson_rows(rx, ry)


def _kendall_rows(x: FloatArray, y: FloatArray) -> FloatArray:
    """Kendall's tau-b of matching rows: ``Σ s_x·s_y / √(Σ|s_x| · Σ|s_y|)`` over pairs."""
    first, second = np.triu_indices(x.shape[1], k=1)
    out = np.empty(x.shape[0])
    for start in range(0, x.shape[0], _ROWS_PER_BLOCK):
        rows = slice(start, start + _ROWS_PER_BLOCK)
        sx = np.sign(x[rows, first] - x[rows, second])
        sy = np.sign(y[rows, first] - y[rows, second])
        denominator = np.sqrt(np.abs(sx).sum(axis=1) * np.abs(sy).sum(axis=1))
        ok = denominator > 0.0
        out[rows] = np.where(ok, (sx * sy).sum(axis=1) / np.where(ok, denominator, 1.0), np.nan)
    return out


_CORRELATIONS = {"spearman": _spearman_rows, "kendall": _kendall_rows}


def _systems(a: Ranking, b: Ranking) -> list[Hashable]:
    missing_in_b = [s for s in a if s not in b]
    missing_in_a = [s for s in b if s not in a]
    if missing_in_a or missing_in_b:
        raise ConfigError(
            "both rankings must cover the same systems; "
            f"only in the first: {missing_in_b!r}, only in the second: {missing_in_a!r}"
        )
    if len(a) < 2:
        raise ConfigError(f"a rank correlation needs at least 2 systems, got {len(a)}")
    return list(a)


def _side(ranking: Ranking, systems: list[Hashable], name: str) -> FloatArray:
    """Scores as ``(systems,)`` for a plain ranking or ``(systems, items)`` per item."""
    values = [ranking[s] for s in systems]
    if all(isinstance(v, Sequence | np.ndarray) and not isinstance(v, str) for v in values):
        rows = [
            float_array(v, what=f"{name}[{s!r}]")  # type: ignore[arg-type]
            for s, v in zip(systems, values, strict=True)
        ]
        sizes = {row.size for row in rows}
        if len(sizes) != 1 or 0 in sizes:
            raise ConfigError(
                f"per-item scores in {name} must cover the same non-zero number of items "
                f"for every system, got sizes {sorted(sizes)}"
            )
        return np.stack(rows)
    return np.array(
        [as_float(v, what=f"{name}[{s!r}]") for s, v in zip(systems, values, strict=True)]
    )


def _check_method(method: str) -> Method:
    if method not in _CORRELATIONS:
        raise ConfigError(f"method must be 'spearman' or 'kendall', got {method!r}", field="method")
    return method  # type: ignore[return-value]


def _point(a: FloatArray, b: FloatArray, method: Method) -> float:
    x = a.mean(axis=1) if a.ndim == 2 else a
    y = b.mean(axis=1) if b.ndim == 2 else b
    return float(_CORRELATIONS[method](x[None, :], y[None, :])[0])


def spearman(a: Ranking, b: Ranking) -> float:
    """Spearman's rank correlation between two rankings of the same systems.

    From "The Proof and Measurement of Association between Two Things" (Spearman, 1904):
    the Pearson correlation of the two sides' ranks, tied scores sharing their average
    rank. NaN when one side gives every system the same score.
    """
    systems = _systems(a, b)
    return _point(_side(a, systems, "a"), _side(b, systems, "b"), "spearman")


def kendall(a: Ranking, b: Ranking) -> float:
    """Kendall's tau-b between two rankings of the same systems.

    From "A New Measure of Rank Correlation" (Kendall, 1938), with the tie correction
    (tau-b): concordant minus discordant pairs of systems, over the geometric mean of the
    numbers of pairs not tied on each side. NaN when one side ties every system.
    """
    systems = _systems(a, b)
    return _point(_side(a, systems, "a"), _side(b, systems, "b"), "kendall")


def _mean_replicates(scores: FloatArray, *, resamples: int, seed: int) -> FloatArray:
    """Bootstrap replicates of each system's mean score: ``(resamples, systems)``."""
    items = scores.shape[1]
    return weighted_replicates(
        items, lambda counts: (counts @ scores.T) / items, resamples=resamples, seed=seed
    )


def rank_correlation(
    a: Ranking,
    b: Ranking,
    *,
    method: Method = "spearman",
    paired: bool = True,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Estimate:
    """Rank correlation between two rankings of the same systems, with a bootstrap CI.

    Each side is ``system → score`` or ``system → per-item scores`` (see the module
    docstring). Sides with per-item scores are resampled over items: with
    ``paired=True`` (the default) and per-item scores on both sides, both are scored on
    the same items (e.g. humans and a synthetic rater judging the same conversations)
    and one resample of items serves both; with ``paired=False`` each side is resampled
    on its own. A side given as plain scores is held fixed. With no per-item scores at
    all the bounds are NaN. ``n`` is the number of resampled items (the smaller side's
    when unpaired), or the number of systems when nothing is resampled. ``method`` is
    ``"spearman"`` (:func:`spearman`) or ``"kendall"`` (:func:`kendall`).
    """
    method = _check_method(method)
    resamples = check_resamples(resamples)
    level = check_level(level)
    systems = _systems(a, b)
    x = _side(a, systems, "a")
    y = _side(b, systems, "b")
    value = _point(x, y, method)
    per_item = [side for side in (x, y) if side.ndim == 2]
    if not per_item:
        return estimate_from_replicates(
            value,
            None,
            n=len(systems),
            level=level,
            method=f"{method}; no per-item scores, no interval",
        )
    n_items = min(side.shape[1] for side in per_item)
    if n_items < 2:
        return estimate_from_replicates(
            value, None, n=n_items, level=level, method=f"{method}; one item, no interval"
        )
    if paired and len(per_item) == 2:
        if x.shape[1] != y.shape[1]:
            raise ConfigError(
                f"paired per-item scores must cover the same items, got {x.shape[1]} "
                f"and {y.shape[1]} items (pass paired=False for independent item sets)"
            )
        both = _mean_replicates(np.concatenate([x, y]), resamples=resamples, seed=seed)
        rx, ry = both[:, : len(systems)], both[:, len(systems) :]
    else:
        rx = (
            _mean_replicates(x, resamples=resamples, seed=seed)
            if x.ndim == 2
            else np.broadcast_to(x, (resamples, x.size))
        )
        ry = (
            _mean_replicates(y, resamples=resamples, seed=seed + 1)
            if y.ndim == 2
            else np.broadcast_to(y, (resamples, y.size))
        )
    replicates = _CORRELATIONS[method](np.asarray(rx), np.asarray(ry))
    how = "paired" if paired and len(per_item) == 2 else "independent"
    return estimate_from_replicates(
        value,
        replicates,
        n=n_items,
        level=level,
        method=f"{method}; percentile bootstrap over items ({how}), {resamples} resamples",
    )
