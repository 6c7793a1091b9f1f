"""Inter-rater agreement: percentage agreement, Cohen's and Fleiss' kappa, Krippendorff's alpha.

Rating matrices are laid out raters × items: ``ratings[r][i]`` is rater ``r``'s label for
item ``i``, with ``None`` (or a float NaN) where that rater did not rate the item. Labels
may be any hashable values (strings, ints, bools) for nominal measures.

All functions return a plain float; to get a confidence interval, bootstrap items with
:func:`simulacra.stats.bootstrap`. A chance-corrected coefficient is NaN when chance
agreement is already perfect (every rating the same category), where it is undefined.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from simulacra.errors import ConfigError
from simulacra.stats._common import FloatArray, Values, as_float, is_missing

RatingMatrix = Sequence[Sequence[Any]] | Sequence[NDArray[Any]] | NDArray[Any]


def _chance_corrected(observed: float, expected: float) -> float:
    if expected >= 1.0:
        return math.nan
    return (observed - expected) / (1.0 - expected)


def cohen_kappa(rater_a: Values, rater_b: Values) -> float:
    """Cohen's kappa between two raters labelling the same items with nominal labels.

    From "A Coefficient of Agreement for Nominal Scales" (Cohen, 1960):
    ``κ = (p_o − p_e) / (1 − p_e)``, where ``p_o`` is the observed share of items on which
    the raters agree and ``p_e = Σ_c p_a(c) · p_b(c)`` the agreement expected if each rater
    labelled at random with their own label frequencies. Items that either rater left
    missing are dropped.
    """
    if len(rater_a) != len(rater_b):
        raise ConfigError(
            f"both raters must label the same items, got {len(rater_a)} and {len(rater_b)} labels"
        )
    pairs = [
        (a, b)
        for a, b in zip(rater_a, rater_b, strict=True)
        if not is_missing(a) and not is_missing(b)
    ]
    if not pairs:
        raise ConfigError("Cohen's kappa needs at least one item rated by both raters")
    codes, _ = _codes([label for pair in pairs for label in pair])
    a = codes[0::2]
    b = codes[1::2]
    k = int(codes.max()) + 1
    observed = float(np.mean(a == b))
    expected = float(np.bincount(a, minlength=k) @ np.bincount(b, minlength=k)) / len(pairs) ** 2
    return _chance_corrected(observed, expected)


def _codes(labels: Sequence[Hashable]) -> tuple[NDArray[np.intp], list[Hashable]]:
    """Integer codes of labels and the distinct labels, in order of first appearance."""
    seen: dict[Hashable, int] = {}
    try:
        codes = np.array([seen.setdefault(label, len(seen)) for label in labels], dtype=np.intp)
    except TypeError:
        raise ConfigError("labels must be hashable values such as strings or numbers") from None
    return codes, list(seen)


def _unit_counts(ratings: RatingMatrix) -> tuple[FloatArray, list[Hashable]]:
    """Items × categories table of how many raters gave each item each label."""
    if len(ratings) == 0:
        raise ConfigError("a rating matrix needs at least one rater (rows are raters)")
    n_items = len(ratings[0])
    for rater, row in enumerate(ratings):
        if isinstance(row, str | bytes) or len(row) != n_items:
            raise ConfigError(
                f"rater {rater} has {len(row)} ratings but rater 0 has {n_items}; "
                "every row must cover the same items (None for missing)"
            )
    cells = [
        (item, label) for row in ratings for item, label in enumerate(row) if not is_missing(label)
    ]
    codes, categories = _codes([label for _, label in cells])
    items = np.array([item for item, _ in cells], dtype=np.intp)
    table = np.zeros((n_items, len(categories)))
    np.add.at(table, (items, codes), 1.0)
    return table, categories


def percent_agreement(ratings: RatingMatrix) -> float:
    """Share of agreeing rater pairs, averaged over items rated by at least two raters.

    For two raters this is simply the share of commonly rated items on which they give
    the same label. It does not correct for chance agreement.
    """
    table, _ = _unit_counts(ratings)
    per_item = table.sum(axis=1)
    pairable = per_item >= 2
    if not pairable.any():
        raise ConfigError("percentage agreement needs an item rated by at least two raters")
    t = table[pairable]
    m = per_item[pairable]
    return float(np.mean((t * (t - 1.0)).sum(axis=1) / (m * (m - 1.0))))


def fleiss_kappa_counts(counts: ArrayLike) -> float:
    """Fleiss' kappa from an items × categories table of rating counts.

    From "Measuring Nominal Scale Agreement Among Many Raters" (Fleiss, 1971): every item
    is rated by the same number ``m ≥ 2`` of raters (who need not be the same people).
    ``P̄`` is the mean over items of the share of agreeing rater pairs,
    ``P̄_e = Σ_j p_j²`` with ``p_j`` the overall share of ratings in category ``j``, and
    ``κ = (P̄ − P̄_e) / (1 − P̄_e)``.
    """
    table = np.asarray(counts, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] == 0:
        raise ConfigError(f"counts must be an items × categories table, got shape {table.shape}")
    if np.any(table < 0) or not np.all(np.isfinite(table)):
        raise ConfigError("counts must be finite and non-negative")
    per_item = table.sum(axis=1)
    m = per_item[0]
    if m < 2 or not np.all(per_item == m):
        raise ConfigError(
            "Fleiss' kappa needs the same number (>= 2) of ratings for every item, "
            f"got between {per_item.min():g} and {per_item.max():g}"
        )
    agreement = float(np.mean((table * (table - 1.0)).sum(axis=1) / (m * (m - 1.0))))
    shares = table.sum(axis=0) / table.sum()
    return _chance_corrected(agreement, float(shares @ shares))


def fleiss_kappa(ratings: RatingMatrix) -> float:
    """Fleiss' kappa from a raters × items matrix of nominal labels.

    See :func:`fleiss_kappa_counts`; every item must have the same number of
    non-missing ratings.
    """
    table, _ = _unit_counts(ratings)
    return fleiss_kappa_counts(table)


def krippendorff_alpha(
    ratings: RatingMatrix,
    *,
    level: Literal["nominal", "interval"] = "nominal",
) -> float:
    """Krippendorff's alpha for nominal or interval data with missing ratings.

    From "Computing Krippendorff's Alpha-Reliability" (Krippendorff, 2011):
    ``α = 1 − D_o / D_e``, the observed disagreement within items over the disagreement
    expected from all pairable ratings pooled. Ratings are paired within each item (each
    pair weighted ``1 / (m_u − 1)`` for an item with ``m_u`` ratings) into a coincidence
    matrix; items with fewer than two ratings are not pairable and are dropped. The
    squared difference ``δ²`` is 0/1 for nominal data and ``(c − k)²`` for interval data.
    """
    if level not in ("nominal", "interval"):
        raise ConfigError(f"level must be 'nominal' or 'interval', got {level!r}", field="level")
    table, categories = _unit_counts(ratings)
    per_item = table.sum(axis=1)
    t = table[per_item >= 2]
    if t.shape[0] == 0:
        raise ConfigError("Krippendorff's alpha needs an item rated by at least two raters")
    weighted = t / (per_item[per_item >= 2] - 1.0)[:, None]
    coincidence = weighted.T @ t - np.diag(weighted.sum(axis=0))
    totals = coincidence.sum(axis=1)
    n = float(totals.sum())
    if level == "nominal":
        delta = 1.0 - np.eye(len(categories))
    else:
        values = np.array([as_float(c, what="an interval rating") for c in categories])
        delta = (values[:, None] - values[None, :]) ** 2
    observed = float((coincidence * delta).sum()) / n
    expected = float(totals @ delta @ totals) / (n * (n - 1.0))
    if expected == 0.0:
        return math.nan
    return 1.0 - observed / expected
