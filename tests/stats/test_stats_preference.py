"""Tests of win rates, the length-controlled GLM and the judge-bias summaries."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.optimize import minimize

from simulacra.errors import ConfigError
from simulacra.stats import (
    length_controlled_win_rate,
    length_preference,
    position_bias,
    swap_consistency,
    win_rate,
)
from simulacra.stats._preference import fit_logistic


def test_win_rate_counts_ties_half() -> None:
    # 1 + 0 + 0.5 + 1 = 2.5 of 4.
    est = win_rate(["A", "B", "tie", " a "], resamples=100)
    assert est.value == pytest.approx(0.625)
    assert est.n == 4
    with pytest.raises(ConfigError, match=r"verdicts\[1\]"):
        win_rate(["A", "C"])
    with pytest.raises(ConfigError, match="string"):
        win_rate("AB")


def test_length_controlled_symmetric_data_has_zero_intercept() -> None:
    # Every item has a mirror image with the lengths swapped and the verdict flipped,
    # so the likelihood is symmetric under (b0, b1) -> (-b0, b1) and b0 = 0 exactly:
    # the length-controlled win rate is 1/2.
    len_a = [300, 100, 250, 200, 400, 100, 150, 120, 90]
    len_b = [100, 300, 200, 250, 100, 400, 150, 90, 120]
    verdicts = ["A", "B", "B", "A", "A", "B", "tie", "tie", "tie"]
    result = length_controlled_win_rate(verdicts, len_a, len_b, resamples=200)
    assert abs(result.beta0) < 1e-12
    assert result.win_rate.value == pytest.approx(0.5, abs=1e-12)
    assert result.beta1.value > 0  # longer responses win more often
    assert result.converged


def test_length_controlled_saturated_hand_computed() -> None:
    # Two length differences only, +100 (four items, A wins three) and -100 (four
    # items, A wins two). With two distinct z the two-parameter model is saturated:
    # it fits p(+z1) = 3/4 and p(-z1) = 1/2 exactly, so
    #   b0 + b1 z1 = logit(3/4) = ln 3,  b0 - b1 z1 = logit(1/2) = 0
    #   -> b0 = ln(3) / 2, win rate sigma(b0) = sqrt(3) / (1 + sqrt(3)).
    # sd of the differences (ddof=1) = 100 * sqrt(8/7), so z1 = sqrt(7/8) and
    # b1 = ln(3) / (2 z1).
    len_a = [200] * 4 + [100] * 4
    len_b = [100] * 4 + [200] * 4
    verdicts = ["A", "A", "A", "B", "A", "A", "B", "B"]
    result = length_controlled_win_rate(verdicts, len_a, len_b, form="linear", resamples=100)
    assert result.beta0 == pytest.approx(math.log(3) / 2, abs=1e-8)
    assert result.win_rate.value == pytest.approx(math.sqrt(3) / (1 + math.sqrt(3)), abs=1e-8)
    assert result.length_sd == pytest.approx(100 * math.sqrt(8 / 7))
    assert result.beta1.value == pytest.approx(math.log(3) / (2 * math.sqrt(7 / 8)), abs=1e-8)
    assert result.raw_win_rate == pytest.approx(5 / 8)
    # The tanh form (the default) is saturated too: same b0, slope on tanh(z1).
    bounded = length_controlled_win_rate(verdicts, len_a, len_b, resamples=100)
    assert bounded.form == "tanh"
    assert bounded.beta0 == pytest.approx(math.log(3) / 2, abs=1e-8)
    assert bounded.beta1.value == pytest.approx(
        math.log(3) / (2 * math.tanh(math.sqrt(7 / 8))), abs=1e-8
    )
    assert not bounded.extrapolates and bounded.warning is None


def _negative_log_likelihood(
    beta: np.ndarray, z: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float
) -> float:
    eta = beta[0] + beta[1] * z
    fit = np.sum(w * (y * eta - np.logaddexp(0.0, eta)))
    return float(-(fit - 0.5 * l2 * np.sum(beta**2)))


@pytest.mark.parametrize("l2", [0.0, 0.5])
def test_fit_matches_scipy_on_the_same_likelihood(l2: float) -> None:
    rng = np.random.default_rng(11)
    n = 80
    z = rng.normal(size=n)
    y = rng.choice([0.0, 0.5, 1.0], size=n, p=[0.35, 0.2, 0.45])
    w = rng.integers(1, 4, size=n).astype(float)
    beta, converged = fit_logistic(z, y, w[None, :], l2=l2)
    reference = minimize(
        _negative_log_likelihood,
        np.zeros(2),
        args=(z, y, w, l2),
        method="BFGS",
        options={"gtol": 1e-10},
    )
    assert converged[0]
    np.testing.assert_allclose(beta[0], reference.x, atol=1e-6)


def test_ties_equal_two_half_weight_observations() -> None:
    # A tie (y = 0.5, weight 1) contributes what a win and a loss of weight 1/2 do.
    z = np.array([-1.0, 0.3, 1.2, 2.0])
    y = np.array([0.0, 0.5, 1.0, 1.0])
    beta, _ = fit_logistic(z, y, np.ones((1, 4)))
    z_split = np.array([-1.0, 0.3, 0.3, 1.2, 2.0])
    y_split = np.array([0.0, 1.0, 0.0, 1.0, 1.0])
    w_split = np.array([[1.0, 0.5, 0.5, 1.0, 1.0]])
    beta_split, _ = fit_logistic(z_split, y_split, w_split)
    np.testing.assert_allclose(beta, beta_split, atol=1e-9)


def test_batched_fits_equal_single_fits() -> None:
    rng = np.random.default_rng(3)
    z = rng.normal(size=30)
    y = (rng.random(30) < 0.6).astype(float)
    weights = rng.integers(0, 3, size=(5, 30)).astype(float)
    batched, _ = fit_logistic(z, y, weights)
    for row in range(5):
        single, _ = fit_logistic(z, y, weights[row : row + 1])
        np.testing.assert_allclose(batched[row], single[0], atol=1e-9)


def test_separation_and_penalty() -> None:
    verdicts = ["A"] * 6
    len_a = [100, 200, 300, 150, 250, 120]
    len_b = [110, 180, 320, 150, 200, 160]
    free = length_controlled_win_rate(verdicts, len_a, len_b, resamples=50)
    assert free.win_rate.value > 0.999
    ridge = length_controlled_win_rate(verdicts, len_a, len_b, l2=1.0, resamples=50)
    assert 0.5 < ridge.win_rate.value < 0.99
    assert math.isfinite(ridge.beta0)
    with pytest.raises(ConfigError, match="l2"):
        length_controlled_win_rate(verdicts, len_a, len_b, l2=-1.0)


def test_equal_lengths_fall_back_to_raw_win_rate() -> None:
    result = length_controlled_win_rate(["A", "B", "A", "tie"], [5] * 4, [5] * 4, resamples=50)
    assert result.win_rate.value == pytest.approx(0.625)
    assert result.beta1.value == 0.0 and math.isnan(result.beta1.low)


def test_length_control_removes_a_pure_length_preference() -> None:
    # A judge that only likes length, with A usually longer: the raw win rate of A is
    # high, but at equal length A and B are equally good.
    rng = np.random.default_rng(5)
    n = 400
    len_a = rng.normal(600, 120, size=n)
    len_b = rng.normal(450, 120, size=n)
    p_a = 1 / (1 + np.exp(-(len_a - len_b) / 60))
    draw = rng.random(n)
    verdicts = np.where(draw < p_a, "A", "B").astype(object)
    verdicts[np.abs(draw - p_a) < 0.05] = "tie"
    result = length_controlled_win_rate(list(verdicts), len_a, len_b, resamples=400)
    assert result.raw_win_rate > 0.7
    assert result.win_rate.low < 0.5 < result.win_rate.high
    assert result.beta1.low > 0
    json.dumps(result.to_dict(), allow_nan=False)


def test_length_controlled_input_checks() -> None:
    with pytest.raises(ConfigError, match="same length"):
        length_controlled_win_rate(["A"], [1, 2], [1, 2])
    with pytest.raises(ConfigError, match=r"len_a\[1\]"):
        length_controlled_win_rate(["A", "B"], [1, float("nan")], [1, 2])
    empty = length_controlled_win_rate([], [], [])
    assert empty.win_rate.n == 0 and math.isnan(empty.win_rate.value)


def test_position_bias() -> None:
    # The first-shown response won items 1 and 3, lost item 2, tied item 4:
    # (1 + 0 + 1 + 0.5) / 4 = 0.625.
    est = position_bias(["A", "A", "B", "tie"], ["A", "B", "B", "B"], resamples=100)
    assert est.value == pytest.approx(0.625)
    with pytest.raises(ConfigError, match="not 'tie'"):
        position_bias(["A"], ["tie"])
    with pytest.raises(ConfigError, match="same length"):
        position_bias(["A"], ["A", "B"])


def test_swap_consistency() -> None:
    # Same verdict in both orders on items 1 and 4 -> 0.4. Item 2: the first-shown
    # response won both times (A, then B); item 3: the second-shown won both times;
    # item 5: a tie in one order only.
    result = swap_consistency(
        ["A", "A", "B", "tie", "A"], ["A", "B", "A", "tie", "tie"], resamples=100
    )
    assert result.consistency.value == pytest.approx(0.4)
    assert result.first_position == pytest.approx(0.2)
    assert result.second_position == pytest.approx(0.2)
    assert result.other == pytest.approx(0.2)
    assert result.n == 5
    json.dumps(result.to_dict(), allow_nan=False)
    assert swap_consistency([], []).n == 0


def test_length_preference() -> None:
    # Differences a - b: +5, -10, -5, +4, 0. The equal-length item 5 is left out.
    # Longer won: item 1 (A longer, A won) 1; item 2 (B longer, B won) 1;
    # item 3 (B longer, A won) 0; item 4 (A longer, tie) 0.5 -> 2.5 / 4.
    verdicts = ["A", "B", "A", "tie", "B"]
    len_a = [10, 10, 5, 8, 7]
    len_b = [5, 20, 10, 4, 7]
    est = length_preference(verdicts, len_a, len_b, resamples=100)
    assert est.value == pytest.approx(0.625)
    assert (est.n, est.excluded) == (4, 1)
    # Requiring equal correctness also drops item 2 -> (1 + 0 + 0.5) / 3 = 0.5.
    same = length_preference(
        verdicts,
        len_a,
        len_b,
        correct_a=[True, True, False, True, True],
        correct_b=[True, False, False, True, True],
        resamples=100,
    )
    assert same.value == pytest.approx(0.5)
    assert (same.n, same.excluded) == (3, 2)
    with pytest.raises(ConfigError, match="both"):
        length_preference(verdicts, len_a, len_b, correct_a=[True] * 5)


def test_tanh_form_removes_a_tanh_shaped_length_bias_the_linear_form_keeps() -> None:
    # A wins with P = sigma(2 tanh(d / sd)): an even match at equal length (0.5), and A
    # longer on average by one sd. Linear extrapolation to d = 0 misses the truth.
    rng = np.random.default_rng(8)
    errors: dict[str, list[float]] = {"tanh": [], "linear": []}
    for _ in range(150):
        d = rng.normal(1.0, 1.0, 800) * 300
        p = 1 / (1 + np.exp(-2.0 * np.tanh(d / d.std(ddof=1))))
        verdicts = np.where(rng.random(800) < p, "A", "B").tolist()
        for form, found in errors.items():
            fit = length_controlled_win_rate(
                verdicts,
                d + 1000,
                [1000.0] * 800,
                form=form,
                resamples=1,  # type: ignore[arg-type]
            )
            found.append(fit.win_rate.value - 0.5)
    se = {form: np.std(e) / math.sqrt(len(e)) for form, e in errors.items()}
    assert abs(np.mean(errors["tanh"])) < 3 * se["tanh"]
    assert np.mean(errors["linear"]) > 5 * se["linear"]


def test_one_side_longer_in_every_pair_is_flagged_as_extrapolation() -> None:
    verdicts = ["A", "B", "A", "A", "B", "A"]
    fit = length_controlled_win_rate(verdicts, [300, 320, 500, 410, 390, 600], [100] * 6,
                                     l2=1e-3, resamples=50)  # fmt: skip
    assert fit.extrapolates and fit.warning is not None and "extrapolates" in fit.warning
    mixed = length_controlled_win_rate(verdicts, [300, 50, 500, 410, 390, 600], [100] * 6,
                                       l2=1e-3, resamples=50)  # fmt: skip
    assert not mixed.extrapolates and mixed.warning is None
    assert fit.to_dict()["warning"] == fit.warning
    with pytest.raises(ConfigError, match="form"):
        length_controlled_win_rate(verdicts, [1] * 6, [2] * 6, form="cubic")  # type: ignore[arg-type]


def test_warm_started_fits_reach_the_same_optimum() -> None:
    rng = np.random.default_rng(2)
    z = rng.normal(size=300)
    y = (rng.random(300) < 1 / (1 + np.exp(-(0.3 + 0.8 * z)))).astype(float)
    weights = rng.poisson(1.0, size=(50, 300)).astype(float)
    cold, cold_ok = fit_logistic(z, y, weights)
    start, _ = fit_logistic(z, y, np.ones((1, 300)))
    warm, warm_ok = fit_logistic(z, y, weights, start=start[0])
    assert cold_ok.all() and warm_ok.all()
    np.testing.assert_allclose(warm, cold, atol=1e-8)
