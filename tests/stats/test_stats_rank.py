"""Tests of rank correlations between rankings of systems."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import kendalltau, spearmanr

from simulacra.errors import ConfigError
from simulacra.stats import kendall, rank_correlation, spearman
from simulacra.stats._rank import _kendall_rows, _spearman_rows


def test_point_correlations_match_scipy_with_ties() -> None:
    a = {"s1": 0.9, "s2": 0.7, "s3": 0.7, "s4": 0.2, "s5": 0.5}
    b = {"s2": 0.6, "s1": 0.8, "s3": 0.4, "s4": 0.4, "s5": 0.1}
    order = list(a)
    x = [a[s] for s in order]
    y = [b[s] for s in order]
    assert spearman(a, b) == pytest.approx(spearmanr(x, y).statistic)
    assert kendall(a, b) == pytest.approx(kendalltau(x, y).statistic)


def test_hand_computed_orders() -> None:
    a = {"p": 3.0, "q": 2.0, "r": 1.0}
    assert spearman(a, {"p": 30, "q": 20, "r": 10}) == pytest.approx(1.0)
    assert kendall(a, {"p": 1, "q": 2, "r": 3}) == pytest.approx(-1.0)
    # One swapped neighbour among three: ranks (1, 2, 3) vs (2, 1, 3):
    # rho = 1 - 6 * (1 + 1) / (3 * 8) = 0.5; tau = (2 - 1) / 3.
    b = {"p": 2.0, "q": 3.0, "r": 1.0}
    assert spearman(a, b) == pytest.approx(0.5)
    assert kendall(a, b) == pytest.approx(1 / 3)
    assert math.isnan(spearman(a, {"p": 1, "q": 1, "r": 1}))


def test_row_functions_match_scipy() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, size=(20, 7)).astype(float)
    y = rng.integers(0, 4, size=(20, 7)).astype(float)
    rho = _spearman_rows(x, y)
    tau = _kendall_rows(x, y)
    for row in range(20):
        if np.ptp(x[row]) == 0 or np.ptp(y[row]) == 0:
            assert math.isnan(rho[row]) and math.isnan(tau[row])
            continue
        assert rho[row] == pytest.approx(spearmanr(x[row], y[row]).statistic)
        assert tau[row] == pytest.approx(kendalltau(x[row], y[row]).statistic)


def _per_item(
    means: dict[str, float], items: int, noise: float, seed: int
) -> dict[str, list[float]]:
    rng = np.random.default_rng(seed)
    return {s: (m + rng.normal(0.0, noise, size=items)).tolist() for s, m in means.items()}


def test_interval_from_paired_items() -> None:
    means = {f"s{i}": i / 10 for i in range(8)}
    human = _per_item(means, 60, 0.3, seed=1)
    synthetic = _per_item(means, 60, 0.3, seed=2)
    est = rank_correlation(human, synthetic, resamples=500)
    human_means = {s: float(np.mean(v)) for s, v in human.items()}
    synthetic_means = {s: float(np.mean(v)) for s, v in synthetic.items()}
    assert est.value == pytest.approx(spearman(human_means, synthetic_means))
    assert 0 < est.low <= est.value <= est.high <= 1
    assert est.n == 60 and "paired" in est.method
    assert est == rank_correlation(human, synthetic, resamples=500)
    tau = rank_correlation(human, synthetic, method="kendall", resamples=500)
    assert tau.value == pytest.approx(kendall(human_means, synthetic_means))


def test_noisier_items_give_wider_intervals() -> None:
    means = {f"s{i}": i / 10 for i in range(8)}
    fixed = dict(means)
    sharp = rank_correlation(fixed, _per_item(means, 50, 0.05, seed=3), resamples=400)
    blurry = rank_correlation(fixed, _per_item(means, 50, 0.6, seed=3), resamples=400)
    assert blurry.width > sharp.width


def test_unpaired_and_fixed_sides() -> None:
    means = {f"s{i}": float(i) for i in range(5)}
    a = _per_item(means, 30, 1.0, seed=4)
    b = _per_item(means, 45, 1.0, seed=5)
    unpaired = rank_correlation(a, b, paired=False, resamples=300)
    assert unpaired.n == 30 and "independent" in unpaired.method
    with pytest.raises(ConfigError, match="paired=False"):
        rank_correlation(a, b)
    plain = rank_correlation(means, means)
    assert plain.value == pytest.approx(1.0) and math.isnan(plain.low) and plain.n == 5
    one_item = rank_correlation({"x": [1.0], "y": [2.0]}, {"x": 0.0, "y": 1.0})
    assert one_item.n == 1 and math.isnan(one_item.high)


def test_rank_input_errors() -> None:
    with pytest.raises(ConfigError, match="only in the first: \\['c'\\]"):
        spearman({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 2})
    with pytest.raises(ConfigError, match="at least 2 systems"):
        kendall({"a": 1}, {"a": 2})
    with pytest.raises(ConfigError, match="same non-zero number"):
        rank_correlation({"a": [1, 2], "b": [1]}, {"a": 1, "b": 2})
    with pytest.raises(ConfigError, match="method"):
        rank_correlation({"a": 1, "b": 2}, {"a": 1, "b": 2}, method="pearson")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="finite number"):
        spearman({"a": "high", "b": 2}, {"a": 1, "b": 2})  # type: ignore[dict-item]
