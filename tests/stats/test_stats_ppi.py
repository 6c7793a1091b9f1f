"""Tests of prediction-powered inference: hand-computed cases and coverage by simulation."""

from __future__ import annotations

import json
import math
from statistics import NormalDist

import numpy as np
import pytest

from simulacra.errors import ConfigError
from simulacra.stats import MIN_HUMAN_LABELS, classical_mean, ppi_mean

Z95 = NormalDist().inv_cdf(0.975)

# Ten human labels, the synthetic rater's labels on the same items, and four more
# synthetic labels on items without a human label.
Y = [1, 0, 1, 1, 0, 1, 0, 1, 1, 1]
F_N = [1, 0, 1, 0, 0, 1, 0, 1, 0, 1]
F_UNLABELLED = [1, 1, 0, 1]


def test_classical_mean_normal_interval() -> None:
    # mean 0.7; sample variance (ddof=1) = (7 * 0.09 + 3 * 0.49) / 9 = 2.1 / 9.
    est = classical_mean(Y)
    half = Z95 * math.sqrt(2.1 / 9 / 10)
    assert est.value == pytest.approx(0.7)
    assert (est.low, est.high) == pytest.approx((0.7 - half, 0.7 + half))


def test_ppi_hand_computed() -> None:
    # Rectifier Y - F_N = [0, 0, 0, 1, 0, 0, 0, 0, 1, 0]: mean 0.2, variance
    # (2 * 0.8^2 + 8 * 0.2^2) / 9 = 1.6 / 9.
    # mean(F_UNLABELLED) = 3/4, so PPI = 0.75 + 0.2 = 0.95.
    # Var(Y-hat) from all 14 synthetic labels (8 ones): (8 (3/7)^2 + 6 (4/7)^2) / 13
    #   = 168 / 637 = 24 / 91.
    # Variance of the estimate: (1.6 / 9) / 10 + (24 / 91) / 4.
    result = ppi_mean(Y, F_N, F_UNLABELLED, method="ppi")
    variance = 1.6 / 9 / 10 + 24 / 91 / 4
    half = Z95 * math.sqrt(variance)
    assert result.lam == 1.0
    assert result.estimate.value == pytest.approx(0.95)
    assert (result.estimate.low, result.estimate.high) == pytest.approx((0.95 - half, 0.95 + half))
    assert (result.n, result.n_unlabelled) == (10, 4)
    # Effective labels: Var(Y) / Var(estimate), with Var(Y) = 2.1 / 9.
    assert result.effective_n == pytest.approx((2.1 / 9) / variance)
    assert result.labels_saved == pytest.approx(result.effective_n - 10)
    assert result.synthetic_only.value == pytest.approx(8 / 14)


def test_ppi_plus_plus_hand_computed() -> None:
    # Cov(Y, F_N) (ddof=1): means 0.7 and 0.5; the products of deviations are
    # 0.15 (items 1, 3, 6, 8, 10), 0.35 (items 2, 5, 7), -0.15 (items 4, 9): sum 1.5,
    # so Cov = 1.5 / 9 = 1/6.
    # lambda = (1/6) / ((1 + 10/4) * 24/91) = (1/6) / (12/13) = 13/72.
    # Estimate = lambda * 3/4 + mean(Y) - lambda * mean(F_N) = 0.7 + (13/72) * 0.25.
    result = ppi_mean(Y, F_N, F_UNLABELLED)
    lam = 13 / 72
    assert result.lam == pytest.approx(lam)
    assert result.estimate.value == pytest.approx(0.7 + lam * 0.25)
    rectifier = np.array(Y) - lam * np.array(F_N)
    variance = rectifier.var(ddof=1) / 10 + lam**2 * (24 / 91) / 4
    assert result.estimate.high - result.estimate.value == pytest.approx(Z95 * math.sqrt(variance))
    json.dumps(result.to_dict(), allow_nan=False)


def test_predictions_on_all_items() -> None:
    separate = ppi_mean(Y, F_N, F_UNLABELLED)
    together = ppi_mean(Y, F_N, F_N + F_UNLABELLED, includes_labelled=True)
    assert together.estimate == separate.estimate
    assert together.n_unlabelled == 4


def test_refuses_too_few_labels() -> None:
    assert MIN_HUMAN_LABELS == 10
    with pytest.raises(ConfigError, match="n=9"):
        ppi_mean(Y[:9], F_N[:9], F_UNLABELLED)
    with pytest.raises(ConfigError, match="N=0"):
        ppi_mean(Y, F_N, [])
    with pytest.raises(ConfigError, match="N=0"):
        ppi_mean(Y, F_N, F_N, includes_labelled=True)
    with pytest.raises(ConfigError, match="same items"):
        ppi_mean(Y, F_N[:-1], F_UNLABELLED)
    with pytest.raises(ConfigError, match="n=3"):
        classical_mean([1, 2, 3])
    with pytest.raises(ConfigError, match="method"):
        ppi_mean(Y, F_N, F_UNLABELLED, method="ppi+")  # type: ignore[arg-type]


def test_single_unlabelled_item_is_enough() -> None:
    result = ppi_mean(Y, F_N, [1])
    assert math.isfinite(result.estimate.low)


def test_uninformative_rater_saves_nothing() -> None:
    rng = np.random.default_rng(4)
    y = (rng.random(300) < 0.4).astype(float)
    noise = (rng.random(300) < 0.5).astype(float)
    result = ppi_mean(y, noise, (rng.random(3000) < 0.5).astype(float))
    assert result.lam < 0.2
    assert result.effective_n == pytest.approx(300, rel=0.1)


def test_constant_predictions_give_classical_estimate() -> None:
    result = ppi_mean(Y, [1] * 10, [1] * 5)
    assert result.lam == 0.0
    assert result.estimate.value == pytest.approx(0.7)
    assert result.effective_n == pytest.approx(10)
    assert result.labels_saved_pct == pytest.approx(0.0, abs=1e-9)


def _simulate(kind: str, seed: int, reps: int = 1000) -> dict[str, np.ndarray]:
    """Replicate a study: n human labels, N synthetic-only items, a biased rater."""
    rng = np.random.default_rng(seed)
    n, big_n = 200, 2000
    truth = 0.3 if kind == "binary" else 3.3
    covered: dict[str, list[bool]] = {"ppi": [], "ppi++": [], "naive": []}
    errors: dict[str, list[float]] = {"ppi": [], "ppi++": [], "naive": []}
    for _ in range(reps):
        if kind == "binary":
            # Win (1) with probability 0.3. The rater copies the label with probability
            # 0.8, else flips it, and on top calls 10 % of losses wins (a lenient judge).
            y = (rng.random(n + big_n) < truth).astype(float)
            f = np.where(rng.random(n + big_n) < 0.8, y, 1.0 - y)
            f = np.where((f == 0.0) & (rng.random(n + big_n) < 0.1), 1.0, f)
        else:
            # Ratings 1-5 with mean 3.3; the rater is noisy and half a point too kind.
            y = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], p=[0.1, 0.2, 0.2, 0.3, 0.2], size=n + big_n)
            f = np.clip(np.round(y + 0.5 + rng.normal(0.0, 0.8, size=n + big_n)), 1.0, 5.0)
        for method in ("ppi", "ppi++"):
            result = ppi_mean(y[:n], f[:n], f[n:], method=method)  # type: ignore[arg-type]
            est = result.estimate
            covered[method].append(est.low <= truth <= est.high)
            errors[method].append(est.value - truth)
        naive = result.synthetic_only
        covered["naive"].append(naive.low <= truth <= naive.high)
        errors["naive"].append(naive.value - truth)
    out = {f"cover_{k}": np.array(v) for k, v in covered.items()}
    out.update({f"error_{k}": np.array(v) for k, v in errors.items()})
    return out


@pytest.mark.parametrize(("kind", "tolerance"), [("binary", 0.005), ("ratings", 0.01)])
def test_coverage_and_bias_by_simulation(kind: str, tolerance: float) -> None:
    sim = _simulate(kind, seed=2024)
    for method in ("ppi", "ppi++"):
        coverage = sim[f"cover_{method}"].mean()
        assert 0.93 <= coverage <= 0.97, (method, coverage)
        assert abs(sim[f"error_{method}"].mean()) < tolerance, method
    # Trusting the synthetic rater alone is biased and its interval rarely covers.
    assert sim["cover_naive"].mean() < 0.2
    assert abs(sim["error_naive"].mean()) > 5 * tolerance


def test_informative_rater_saves_labels() -> None:
    rng = np.random.default_rng(8)
    y = rng.normal(size=2200)
    f = y + 0.3 + rng.normal(0.0, 0.3, size=2200)
    result = ppi_mean(y[:200], f[:200], f[200:])
    # With corr(Y, Y-hat) ≈ 0.96 most of the variance is explained: far more than 200
    # human labels would be needed for the same interval.
    assert result.effective_n > 600
    assert result.labels_saved_pct > 60
    assert result.estimate.width < result.classical.width
