"""Tests of prediction-powered inference: hand-computed cases and coverage by simulation."""

from __future__ import annotations

import json
import math
from statistics import NormalDist

import numpy as np
import pytest

from simulacra.errors import ConfigError
from simulacra.stats import MIN_HUMAN_LABELS, classical_mean, ppi_mean, stratified_ppi_mean

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
    result = ppi_mean(Y, F_N, F_UNLABELLED, crossfit=False)
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


def test_cross_fitted_lambda_by_hand() -> None:
    # Items go to folds by position mod 5; each fold's weight is the plug-in PPI++
    # weight computed on the other eight labelled items alone.
    y, f = np.array(Y, dtype=float), np.array(F_N, dtype=float)
    folds = np.arange(10) % 5
    lams = np.empty(10)
    for fold in range(5):
        out = folds != fold
        cov = np.cov(y[out], f[out], ddof=1)[0, 1]
        lams[~out] = np.clip(cov / ((1 + out.sum() / 4) * f[out].var(ddof=1)), 0, 1)
    result = ppi_mean(Y, F_N, F_UNLABELLED)
    assert result.lam == pytest.approx(lams.mean())
    expected = lams.mean() * 0.75 + float(np.mean(y - lams * f))
    assert result.estimate.value == pytest.approx(expected)
    assert "cross-fitted" in result.estimate.method


def test_cross_fitting_removes_the_plug_in_bias() -> None:
    # Success rate 0.2; a rater that says yes 60% of the time when people do and 10%
    # when they do not. With n = 20 the plug-in weight is biased; the cross-fitted is not.
    rng = np.random.default_rng(7)
    plug, cross = [], []
    for _ in range(4000):
        y = (rng.random(520) < 0.2).astype(float)
        f = np.where(y == 1, rng.random(520) < 0.6, rng.random(520) < 0.1).astype(float)
        if len(set(y[:20])) < 2:
            continue
        plug.append(ppi_mean(y[:20], f[:20], f[20:], crossfit=False).estimate.value - 0.2)
        cross.append(ppi_mean(y[:20], f[:20], f[20:]).estimate.value - 0.2)
    se = np.std(cross) / math.sqrt(len(cross))
    assert abs(np.mean(cross)) < 3 * se
    assert np.mean(plug) < -4 * np.std(plug) / math.sqrt(len(plug))


def test_against_ppi_python() -> None:
    ppi_py = pytest.importorskip("ppi_py")
    rng = np.random.default_rng(3)
    y = (rng.random(300) < 0.4).astype(float)
    f = np.where(rng.random(3300) < 0.8, np.concatenate([y, rng.random(3000) < 0.4]), 0.5)
    ours = ppi_mean(y, f[:300], f[300:], method="ppi")
    theirs = float(ppi_py.ppi_mean_pointestimate(y, f[:300], f[300:], lam=1)[0])
    assert ours.estimate.value == pytest.approx(theirs, abs=1e-12)
    low, high = ppi_py.ppi_mean_ci(y, f[:300], f[300:], alpha=0.05, lam=1)
    # ppi_python uses ddof=0 and the unlabelled predictions alone for Var(Y-hat): the
    # intervals agree to well under 1% of their width.
    assert ours.estimate.low == pytest.approx(float(low[0]), abs=0.01 * ours.estimate.width)
    assert ours.estimate.high == pytest.approx(float(high[0]), abs=0.01 * ours.estimate.width)
    # The plug-in PPI++ weight is theirs (up to the same ddof difference).
    plug = ppi_mean(y, f[:300], f[300:], crossfit=False)
    lam = float(ppi_py.ppi_mean_pointestimate(y, f[:300], f[300:], lam=None)[0] - y.mean()) / float(
        f[300:].mean() - f[:300].mean()
    )
    assert plug.lam == pytest.approx(lam, rel=0.01)


def test_stratified_mean_by_hand() -> None:
    # 4 items labelled in full (human values 1, 1, 0, 1) and the 14 others: the random
    # stratum of the hand case above. W = 4 / 18.
    census = [1.0, 1.0, 0.0, 1.0]
    result = stratified_ppi_mean(census, Y, F_N, F_UNLABELLED, method="ppi")
    rest = ppi_mean(Y, F_N, F_UNLABELLED, method="ppi")
    w = 4 / 18
    assert result.estimate.value == pytest.approx(w * 0.75 + (1 - w) * 0.95)
    rest_var = ((rest.estimate.high - rest.estimate.value) / Z95) ** 2
    # Var(census) (ddof 1) = (3 * 0.25^2 + 0.75^2) / 3 = 0.25.
    variance = w**2 * 0.25 / 4 + (1 - w) ** 2 * rest_var
    assert result.estimate.high - result.estimate.value == pytest.approx(Z95 * math.sqrt(variance))
    assert result.classical.value == pytest.approx(w * 0.75 + (1 - w) * 0.7)
    assert (result.n, result.n_census, result.n_unlabelled) == (10, 4, 4)
    json.dumps(result.to_dict(), allow_nan=False)


def test_stratified_design_is_unbiased_where_dropping_the_top_is_not() -> None:
    # 1,000 items, 30% hard: there the rater says yes 80% of the time whatever people
    # say, elsewhere it is right 95% of the time. The K = 200 items the raters disagree
    # on most are mostly the hard ones; people label those and R = 100 drawn at random
    # from the other 800.
    rng = np.random.default_rng(5)
    errors_strat, errors_drop, hits = [], [], 0
    for _ in range(400):
        hard = rng.random(1000) < 0.3
        y = (rng.random(1000) < np.where(hard, 0.5, 0.7)).astype(float)
        right = rng.random(1000) < 0.95
        f = np.where(hard, (rng.random(1000) < 0.8).astype(float), np.where(right, y, 1 - y))
        truth = float(y.mean())
        disagreement = hard + 0.3 * rng.random(1000)
        order = np.argsort(-disagreement)
        top, rest = order[:200], order[200:]
        drawn = rng.choice(rest, size=100, replace=False)
        others = np.setdiff1d(rest, drawn)
        strat = stratified_ppi_mean(y[top], y[drawn], f[drawn], f[others], method="ppi")
        errors_strat.append(strat.estimate.value - truth)
        hits += strat.estimate.low <= truth <= strat.estimate.high
        # What the random items alone give, the top-K treated as unlabelled.
        drop = ppi_mean(y[drawn], f[drawn], np.concatenate([f[others], f[top]]), method="ppi")
        errors_drop.append(drop.estimate.value - truth)
    se = np.std(errors_strat) / math.sqrt(400)
    assert abs(np.mean(errors_strat)) < 3 * se
    assert np.mean(errors_drop) > 6 * np.std(errors_drop) / math.sqrt(400)
    assert hits / 400 >= 0.92
