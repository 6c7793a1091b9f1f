"""Intervals for success rates and pass^k over few tasks: the formula, checked against
scipy, and coverage by seeded simulation against a known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from simulacra._format import format_estimate
from simulacra.errors import ConfigError
from simulacra.stats import (
    MIN_TASKS,
    Estimate,
    few_tasks_warning,
    pass_hat_k,
    success_rate,
    wilson_bounds,
)


def records(outcomes: list[list[int]]) -> list[dict[str, object]]:
    return [
        {"task": f"t{t}", "score": float(s)} for t, trials in enumerate(outcomes) for s in trials
    ]


@pytest.mark.parametrize(("k", "n"), [(0, 20), (3, 20), (10, 20), (20, 20), (7, 50)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    expected = scipy_stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert wilson_bounds(k / n, n, 0.95) == pytest.approx((expected.low, expected.high))


def test_success_rate_interval_by_formula() -> None:
    # Three tasks of 4 trials with 1, 2 and 4 successes: p = 7/12. Cluster-robust
    # variance 3/2 * sum((s_i - p m_i)^2) / 12^2; effective n = p(1-p)/v; then Wilson
    # at n_eff * (z / t_2)^2.
    est = success_rate(records([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 1]]))
    p = 7 / 12
    residuals = np.array([1, 2, 4]) - p * 4
    v = 1.5 * float((residuals**2).sum()) / 144
    z, t = scipy_stats.norm.ppf(0.975), scipy_stats.t.ppf(0.975, 2)
    n_star = p * (1 - p) / v * (z / t) ** 2
    centre = (p + z * z / (2 * n_star)) / (1 + z * z / n_star)
    half = z * math.sqrt(p * (1 - p) / n_star + z * z / (4 * n_star**2)) / (1 + z * z / n_star)
    assert est.value == pytest.approx(p)
    assert (est.low, est.high) == pytest.approx((centre - half, centre + half))
    assert est.n == 3 and "Wilson" in est.method


def test_independent_episodes_are_near_wilson_on_episodes() -> None:
    # Each episode its own cluster: n_eff = n - 1 and t on n - 1 df, close to Wilson.
    data = [{"task": f"t{i}", "score": float(i < 30)} for i in range(100)]
    est = success_rate(data, task_key=None)
    plain = scipy_stats.binomtest(30, 100).proportion_ci(0.95, method="wilson")
    assert est.n == 100
    assert est.low == pytest.approx(plain.low, abs=0.005)
    assert est.high == pytest.approx(plain.high, abs=0.005)


def test_no_success_over_two_tasks_is_not_a_zero_width_interval() -> None:
    # The case the percentile bootstrap printed as 0.0% [0.0%, 0.0%].
    data = records([[0, 0, 0, 0], [0, 0, 0, 0]])
    est = success_rate(data)
    assert est.value == 0.0 and est.low == 0.0
    assert est.high > 0.5  # two tasks say little
    old = success_rate(data, interval="bootstrap", resamples=200)
    assert old.width == 0.0
    assert format_estimate(old, percent=True) == "0.0%"  # never shown as an interval
    assert "[" not in format_estimate(old, percent=True)
    assert "CI" not in format_estimate(old, percent=True, words=True)
    everything = success_rate(records([[1, 1], [1, 1], [1, 1]]))
    assert everything.high == 1.0 and everything.low < 1.0


def test_one_task_has_no_interval_and_bad_interval_name() -> None:
    est = success_rate(records([[1, 0, 1]]))
    assert est.value == pytest.approx(2 / 3) and math.isnan(est.low)
    with pytest.raises(ConfigError, match="interval"):
        success_rate(records([[1]]), interval="exact")  # type: ignore[arg-type]


def test_pass_hat_k_interval_caps_the_effective_size_at_k_blocks() -> None:
    data = records([[1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 0, 0], [1, 1, 1, 0], [1, 0, 0, 0]])
    result = pass_hat_k(data, [1, 2, 4])
    for k, est in result.items():
        assert est.low <= est.value <= est.high and est.width > 0.0, k
    # All tasks equal: no between-task spread, so n_eff is the number of k-trial blocks.
    same = pass_hat_k(records([[1, 1, 0, 0]] * 6), [2])[2]
    z, t = scipy_stats.norm.ppf(0.975), scipy_stats.t.ppf(0.975, 5)
    assert (same.low, same.high) == pytest.approx(wilson_bounds(1 / 6, 12 * (z / t) ** 2, 0.95))


def _task_outcomes(
    rng: np.random.Generator, tasks: int, trials: int, rate: float
) -> tuple[list[dict[str, object]], float]:
    # Task success probabilities from a beta distribution with mean `rate` (ICC 0.2).
    a, b = 4 * rate, 4 * (1 - rate)
    p = rng.beta(a, b, size=tasks)
    outcomes = (rng.random((tasks, trials)) < p[:, None]).astype(int).tolist()
    return records(outcomes), rate


@pytest.mark.parametrize("rate", [0.05, 0.5])
def test_coverage_with_five_tasks(rate: float) -> None:
    rng = np.random.default_rng(11)
    hits_score = hits_boot = 0
    reps = 300
    for _ in range(reps):
        data, truth = _task_outcomes(rng, 5, 4, rate)
        score = success_rate(data)
        boot = success_rate(data, interval="bootstrap", resamples=300)
        hits_score += score.low <= truth <= score.high
        hits_boot += boot.low <= truth <= boot.high
    assert hits_score / reps >= 0.93
    assert hits_boot / reps < 0.88  # the interval it replaces under-covers here


def test_few_tasks_warning() -> None:
    assert MIN_TASKS == 10
    warning = few_tasks_warning(5)
    assert warning is not None and "too few tasks for a reliable interval" in warning
    assert few_tasks_warning(10) is None and few_tasks_warning(0) is None


def test_zero_width_estimate_words() -> None:
    point = Estimate(value=0.25, low=0.25, high=0.25, n=3)
    assert format_estimate(point, percent=True, words=True) == "25.0%  (n=3)"
