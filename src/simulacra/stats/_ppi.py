"""Prediction-powered inference: unbiased means from a few human labels and many synthetic ones.

A synthetic rater (a model standing in for people) labels every item cheaply, but its
labels are biased. Humans label a random subset. Prediction-powered inference
("Prediction-Powered Inference", Angelopoulos et al.) uses the human-labelled subset to
measure the rater's bias and removes it from the synthetic mean; the result is unbiased
whatever the rater's quality, and its interval is narrower than the human-only one when
the rater is informative. "PPI++: Efficient Prediction-Powered Inference" (Angelopoulos,
Duchi and Zrnic) adds a tuning weight λ that makes it never (asymptotically) worse than
using the human labels alone.

Notation: ``Y`` the human labels on ``n`` items, ``Ŷ_n`` the synthetic labels on the same
items, ``Ŷ_N`` synthetic labels on ``N`` further items without human labels. Labels are
numbers: 0/1 for binary outcomes such as win/loss (ties 0.5), or ratings on any scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Literal

import numpy as np

from simulacra.errors import ConfigError
from simulacra.stats._bootstrap import DEFAULT_LEVEL, Estimate
from simulacra.stats._common import FloatArray, check_level, float_array, jsonable

MIN_HUMAN_LABELS = 10
"""Fewest human labels accepted: below this the normal intervals are not trustworthy."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PPIResult:
    """A prediction-powered mean, with the baselines it should be compared to.

    ``estimate`` is the prediction-powered mean (PPI or PPI++), ``classical`` the mean of
    the human labels alone, and ``synthetic_only`` the naive mean of all synthetic labels
    (biased when the rater is). ``lam`` is the weight λ given to the synthetic labels
    (1 for PPI). ``effective_n`` is the number of human labels a human-only study would
    need for an interval as narrow as ``estimate``'s; ``labels_saved = effective_n − n``,
    and ``labels_saved_pct`` is that saving as a percentage of ``effective_n`` (the share
    of a human-only labelling budget not needed). ``n`` counts human labels and
    ``n_unlabelled`` the synthetic-only items.
    """

    estimate: Estimate
    classical: Estimate
    synthetic_only: Estimate
    lam: float
    n: int
    n_unlabelled: int
    effective_n: float
    labels_saved: float
    labels_saved_pct: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN and infinite numbers become ``None``."""
        result: dict[str, Any] = jsonable(self)
        return result


def _z(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def _normal(value: float, variance: float, *, n: int, level: float, method: str) -> Estimate:
    half = _z(level) * math.sqrt(variance) if math.isfinite(variance) else math.nan
    return Estimate(
        value=value, low=value - half, high=value + half, n=n, level=level, method=method
    )


def _variance(values: FloatArray) -> float:
    return float(np.var(values, ddof=1)) if values.size > 1 else math.nan


def _check_human(human: Sequence[float] | FloatArray) -> FloatArray:
    y = float_array(human, what="human")
    if y.size < MIN_HUMAN_LABELS:
        raise ConfigError(
            f"need at least {MIN_HUMAN_LABELS} human labels for a normal interval, got n={y.size}"
        )
    return y


def classical_mean(
    human: Sequence[float] | FloatArray, *, level: float = DEFAULT_LEVEL
) -> Estimate:
    """Mean of human labels with a normal (CLT) interval: ``ȳ ± z·s/√n``."""
    level = check_level(level)
    y = _check_human(human)
    return _normal(
        float(y.mean()),
        _variance(y) / y.size,
        n=y.size,
        level=level,
        method="classical mean, normal interval",
    )


def _tuned_lambda(y: FloatArray, f_n: FloatArray, var_f: float, n_unlabelled: int) -> float:
    """PPI++ power-tuning weight ``Cov(Y, Ŷ) / ((1 + n/N)·Var(Ŷ))``, clipped to [0, 1]."""
    if not var_f > 0.0:
        return 0.0
    covariance = float(np.cov(y, f_n, ddof=1)[0, 1])
    raw = covariance / ((1.0 + y.size / n_unlabelled) * var_f)
    return float(np.clip(raw, 0.0, 1.0))


def ppi_mean(
    human: Sequence[float] | FloatArray,
    synthetic_labelled: Sequence[float] | FloatArray,
    synthetic_unlabelled: Sequence[float] | FloatArray,
    *,
    method: Literal["ppi", "ppi++"] = "ppi++",
    includes_labelled: bool = False,
    level: float = DEFAULT_LEVEL,
) -> PPIResult:
    """Prediction-powered estimate of the mean human label, with a normal interval.

    ``human[i]`` and ``synthetic_labelled[i]`` are the human and synthetic labels of the
    same item; the human-labelled items must be a random sample of all items.
    ``synthetic_unlabelled`` holds synthetic labels of the ``N`` items without human
    labels; with ``includes_labelled=True`` it covers all items instead, the labelled
    ones included, and their synthetic labels are subtracted to leave the other ``N``.

    The estimator is ``λ·mean(Ŷ_N) + mean(Y − λ·Ŷ_n)``, with variance
    ``Var(Y − λŶ_n)/n + λ²·Var(Ŷ)/N``. PPI uses ``λ = 1``; PPI++ (the default) uses
    ``λ̂ = Cov(Y, Ŷ_n) / ((1 + n/N)·Var(Ŷ))`` clipped to [0, 1], which minimises that
    variance. ``Var(Ŷ)`` is estimated from all ``n + N`` synthetic labels.

    Refuses (``ConfigError``) fewer than ``MIN_HUMAN_LABELS`` (10) human labels or
    fewer than one unlabelled item.
    """
    level = check_level(level)
    if method not in ("ppi", "ppi++"):
        raise ConfigError(f"method must be 'ppi' or 'ppi++', got {method!r}", field="method")
    y = _check_human(human)
    f_n = float_array(synthetic_labelled, what="synthetic_labelled")
    if f_n.size != y.size:
        raise ConfigError(
            f"human and synthetic_labelled must cover the same items, "
            f"got n={y.size} human and {f_n.size} synthetic labels"
        )
    f_all = float_array(synthetic_unlabelled, what="synthetic_unlabelled")
    unlabelled_total = float(f_all.sum())
    n_unlabelled = f_all.size
    if includes_labelled:
        unlabelled_total -= float(f_n.sum())
        n_unlabelled -= y.size
    if n_unlabelled < 1:
        raise ConfigError(
            f"need at least 1 item without a human label, got N={n_unlabelled} "
            f"(n={y.size} labelled, {f_all.size} synthetic labels given)"
        )
    n = y.size
    pooled = np.concatenate([f_all, f_n]) if not includes_labelled else f_all
    var_f = _variance(pooled)
    lam = 1.0 if method == "ppi" else _tuned_lambda(y, f_n, var_f, n_unlabelled)
    rectifier = y - lam * f_n
    value = lam * unlabelled_total / n_unlabelled + float(rectifier.mean())
    variance = _variance(rectifier) / n + lam**2 * var_f / n_unlabelled
    label = "PPI++" if method == "ppi++" else "PPI"
    estimate = _normal(value, variance, n=n, level=level, method=f"{label} mean, normal interval")
    classical = classical_mean(y, level=level)
    synthetic_only = _normal(
        float(pooled.mean()),
        var_f / pooled.size,
        n=pooled.size,
        level=level,
        method="synthetic-only mean, normal interval",
    )
    effective_n = _effective_n(_variance(y), variance)
    saved = effective_n - n
    return PPIResult(
        estimate=estimate,
        classical=classical,
        synthetic_only=synthetic_only,
        lam=lam,
        n=n,
        n_unlabelled=n_unlabelled,
        effective_n=effective_n,
        labels_saved=saved,
        labels_saved_pct=_saved_pct(n, effective_n),
    )


def _saved_pct(n: int, effective_n: float) -> float:
    if math.isinf(effective_n):
        return 100.0
    return 100.0 * (effective_n - n) / effective_n if effective_n > 0.0 else math.nan


def _effective_n(human_variance: float, estimator_variance: float) -> float:
    """Human-only sample size whose interval is as narrow: ``Var(Y) / Var(estimator)``."""
    if estimator_variance > 0.0:
        return human_variance / estimator_variance
    return math.inf if human_variance > 0.0 else math.nan
