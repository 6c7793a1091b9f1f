"""Pairwise preferences: win rates, length-controlled win rate, position and verbosity bias.

A verdict says which of two systems, ``"A"`` or ``"B"``, gave the better response to an
item, or ``"tie"`` (case does not matter). A win counts 1, a loss 0 and a tie 0.5.
Inputs are parallel sequences with one entry per judged item; every interval resamples
items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulacra.errors import ConfigError
from simulacra.stats._bootstrap import (
    DEFAULT_LEVEL,
    DEFAULT_RESAMPLES,
    Estimate,
    empty_estimate,
    estimate_from_replicates,
    mean_estimate,
    weighted_replicates,
)
from simulacra.stats._common import (
    FloatArray,
    Values,
    check_level,
    check_resamples,
    check_same_length,
    float_array,
    jsonable,
)

VERDICT_SCORE = {"A": 1.0, "B": 0.0, "tie": 0.5}
"""A verdict as the score of side A: the one map every preference measure uses."""
_VERDICT_SCORE = {label.lower(): score for label, score in VERDICT_SCORE.items()}


def _normalise(verdict: Any, index: int, what: str) -> str:
    label = verdict.strip().lower() if isinstance(verdict, str) else None
    if label not in _VERDICT_SCORE:
        raise ConfigError(f"{what}[{index}] must be 'A', 'B' or 'tie', got {verdict!r}")
    return label


def _verdicts(verdicts: Values, what: str = "verdicts") -> list[str]:
    if isinstance(verdicts, str):
        raise ConfigError(f"{what} must be a sequence of verdicts, got the string {verdicts!r}")
    return [_normalise(v, i, what) for i, v in enumerate(verdicts)]


def _scores(verdicts: Sequence[str]) -> FloatArray:
    return np.array([_VERDICT_SCORE[v] for v in verdicts], dtype=np.float64)


def _options(resamples: int, level: float) -> tuple[int, float]:
    return check_resamples(resamples), check_level(level)


def win_rate(
    verdicts: Values,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Estimate:
    """Share of items on which system A wins, ties counting half, with a bootstrap CI."""
    resamples, level = _options(resamples, level)
    scores = _scores(_verdicts(verdicts))
    method = f"percentile bootstrap over items, {resamples} resamples"
    return mean_estimate(scores, resamples=resamples, level=level, seed=seed, method=method)


# --- weighted logistic regression -------------------------------------------------------


def _sigmoid(x: FloatArray) -> FloatArray:
    result: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * x))
    return result


def _log_likelihood(
    beta: FloatArray, z: FloatArray, y: FloatArray, weights: FloatArray, l2: float
) -> FloatArray:
    """Penalised log-likelihood of each row of ``beta`` (shape ``(b, 2)``)."""
    eta = beta[:, :1] + beta[:, 1:] * z[None, :]
    fit = (weights * (y * eta - np.logaddexp(0.0, eta))).sum(axis=1)
    result: FloatArray = fit - 0.5 * l2 * (beta**2).sum(axis=1)
    return result


def fit_logistic(
    z: FloatArray,
    y: FloatArray,
    weights: FloatArray,
    *,
    l2: float = 0.0,
    fit_slope: bool = True,
    max_iter: int = 100,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Fit ``p = σ(β0 + β1·z)`` to fractional outcomes ``y`` by Newton's method (IRLS).

    ``weights`` has shape ``(b, n)``: ``b`` independent fits sharing ``z`` and ``y``
    (bootstrap resamples are weights that count how often each item was drawn). The
    objective is ``Σ w·[y·log p + (1 − y)·log(1 − p)] − (l2 / 2)·(β0² + β1²)``; an outcome
    of 0.5 is the same as two half-weight observations, one won and one lost. Steps are
    halved until the objective does not decrease. With ``fit_slope=False`` β1 stays 0.
    Returns ``β`` of shape ``(b, 2)`` and whether each fit converged within ``max_iter``.
    """
    rows = weights.shape[0]
    beta = np.zeros((rows, 2))
    converged = np.zeros(rows, dtype=bool)
    active = np.arange(rows)
    for _ in range(max_iter):
        b, w = beta[active], weights[active]
        p = _sigmoid(b[:, :1] + b[:, 1:] * z[None, :])
        residual = w * (y[None, :] - p)
        curvature = w * p * (1.0 - p)
        gradient = np.stack(
            [residual.sum(axis=1) - l2 * b[:, 0], residual @ z - l2 * b[:, 1]], axis=1
        )
        hessian = np.empty((active.size, 2, 2))
        hessian[:, 0, 0] = curvature.sum(axis=1) + l2
        hessian[:, 0, 1] = hessian[:, 1, 0] = curvature @ z
        hessian[:, 1, 1] = curvature @ (z * z) + l2
        if not fit_slope:
            gradient[:, 1] = 0.0
            hessian[:, 0, 1] = hessian[:, 1, 0] = 0.0
            hessian[:, 1, 1] = 1.0
        step = np.einsum("bij,bj->bi", np.linalg.pinv(hessian), gradient)
        current = _log_likelihood(b, z, y, w, l2)
        scale = np.ones(active.size)
        for _ in range(50):
            trial = _log_likelihood(b + scale[:, None] * step, z, y, w, l2)
            worse = trial < current - 1e-12 * np.abs(current)
            if not worse.any():
                break
            scale = np.where(worse, 0.5 * scale, scale)
        moved = scale[:, None] * step
        new = b + moved
        gain = _log_likelihood(new, z, y, w, l2) - current
        beta[active] = new
        done = (np.abs(moved).max(axis=1) < 1e-10) | (
            np.abs(gain) < 1e-13 * (1.0 + np.abs(current))
        )
        converged[active[done]] = True
        active = active[~done]
        if active.size == 0:
            break
    return beta, converged


@dataclass(frozen=True, kw_only=True, slots=True)
class LengthControlledWinRate:
    """Win rate of A at equal response length, from a logistic fit on the length difference.

    ``win_rate`` is ``σ(β0)`` with a bootstrap CI, ``beta1`` the slope per standard
    deviation of the length difference (positive: longer responses tend to win), and
    ``raw_win_rate`` the plain win rate for comparison. ``length_sd`` is the standard
    deviation used to scale the differences, ``converged`` whether the fit on all items
    converged.
    """

    win_rate: Estimate
    beta0: float
    beta1: Estimate
    raw_win_rate: float
    length_sd: float
    l2: float
    converged: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN numbers become ``None``."""
        result: dict[str, Any] = jsonable(self)
        return result


def length_controlled_win_rate(
    verdicts: Values,
    len_a: Values,
    len_b: Values,
    *,
    l2: float = 0.0,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> LengthControlledWinRate:
    """Length-controlled win rate of A: the win rate predicted when both lengths are equal.

    A simplified form of the regression in "Length-Controlled AlpacaEval: A Simple Way to
    Debias Automatic Evaluators" (Dubois et al.): fit ``P(A wins) = σ(β0 + β1·z)`` with
    ``z = (len_a − len_b) / sd`` (``sd`` the sample standard deviation, ddof=1, of the
    differences; not centred, so ``z = 0`` means equal length) and report ``σ(β0)``.
    Ties enter as two half-weight observations, one win for each side. ``l2 > 0`` adds a
    ridge penalty on both coefficients, which keeps them finite when the outcomes are
    perfectly separated (e.g. A wins every item); without it such a fit runs toward
    infinity and the win rate toward 0 or 1. When all differences are equal the slope is
    fixed at 0. The interval refits the model on items resampled with replacement.
    """
    resamples, level = _options(resamples, level)
    if l2 < 0 or not np.isfinite(l2):
        raise ConfigError(f"l2 must be a non-negative number, got {l2!r}", field="l2")
    n = check_same_length(verdicts=verdicts, len_a=len_a, len_b=len_b)
    y = _scores(_verdicts(verdicts))
    difference = float_array(len_a, what="len_a") - float_array(len_b, what="len_b")
    sd = float(np.std(difference, ddof=1)) if n > 1 else 0.0
    fit_slope = sd > 0.0
    z = difference / sd if fit_slope else np.zeros(n)
    method = f"percentile bootstrap over items (refit per resample), {resamples} resamples"
    if n == 0:
        nothing = empty_estimate(level=level, method=method)
        return LengthControlledWinRate(
            win_rate=nothing,
            beta0=float("nan"),
            beta1=nothing,
            raw_win_rate=float("nan"),
            length_sd=0.0,
            l2=float(l2),
            converged=True,
        )

    def fit(counts: FloatArray) -> FloatArray:
        beta, _ = fit_logistic(z, y, counts, l2=l2, fit_slope=fit_slope)
        return np.stack([_sigmoid(beta[:, 0]), beta[:, 1]], axis=1)

    beta, converged = fit_logistic(z, y, np.ones((1, n)), l2=l2, fit_slope=fit_slope)
    replicates = weighted_replicates(n, fit, resamples=resamples, seed=seed) if n > 1 else None
    win = estimate_from_replicates(
        float(_sigmoid(beta[:, 0])[0]),
        None if replicates is None else replicates[:, 0],
        n=n,
        level=level,
        method=method,
    )
    slope = estimate_from_replicates(
        float(beta[0, 1]),
        None if replicates is None or not fit_slope else replicates[:, 1],
        n=n,
        level=level,
        method=method,
    )
    return LengthControlledWinRate(
        win_rate=win,
        beta0=float(beta[0, 0]),
        beta1=slope,
        raw_win_rate=float(y.mean()),
        length_sd=sd,
        l2=float(l2),
        converged=bool(converged[0]),
    )


# --- bias summaries ---------------------------------------------------------------------


def position_bias(
    verdicts: Values,
    first_shown: Values,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Estimate:
    """Share of wins going to whichever response was shown first (ties half).

    ``first_shown[i]`` is ``"A"`` or ``"B"``, the system whose response the judge saw
    first for item ``i``. An unbiased judge, with the order randomised, scores about 0.5;
    see "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena" (Zheng et al.) for
    position bias in model judges.
    """
    resamples, level = _options(resamples, level)
    check_same_length(verdicts=verdicts, first_shown=first_shown)
    judged = _verdicts(verdicts)
    first = _verdicts(first_shown, "first_shown")
    if "tie" in first:
        raise ConfigError("first_shown entries must be 'A' or 'B', not 'tie'")
    scores = np.array(
        [0.5 if v == "tie" else float(v == f) for v, f in zip(judged, first, strict=True)]
    )
    method = f"percentile bootstrap over items, {resamples} resamples"
    return mean_estimate(scores, resamples=resamples, level=level, seed=seed, method=method)


@dataclass(frozen=True, kw_only=True, slots=True)
class SwapConsistency:
    """How often a judge gives the same verdict when the two responses swap places.

    ``consistency`` is the share of items with the same verdict in both orders (with a
    bootstrap CI). Of the inconsistent items, ``first_position`` is the share where the
    first-shown response won both times, ``second_position`` where the second-shown won
    both times, and ``other`` the rest (a tie in one order only).
    """

    consistency: Estimate
    first_position: float
    second_position: float
    other: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN numbers become ``None``."""
        result: dict[str, Any] = jsonable(self)
        return result


def swap_consistency(
    verdicts_ab: Values,
    verdicts_ba: Values,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> SwapConsistency:
    """Agreement of a judge with itself across both presentation orders of each pair.

    ``verdicts_ab[i]`` is the verdict with A's response shown first and ``verdicts_ba[i]``
    the verdict with B's shown first, both naming systems (not positions). Shares of all
    items are reported; see :class:`SwapConsistency`.
    """
    resamples, level = _options(resamples, level)
    n = check_same_length(verdicts_ab=verdicts_ab, verdicts_ba=verdicts_ba)
    ab = np.array(_verdicts(verdicts_ab, "verdicts_ab"), dtype=object)
    ba = np.array(_verdicts(verdicts_ba, "verdicts_ba"), dtype=object)
    same = (ab == ba).astype(np.float64)
    method = f"percentile bootstrap over items, {resamples} resamples"
    consistency = mean_estimate(same, resamples=resamples, level=level, seed=seed, method=method)
    if n == 0:
        nan = float("nan")
        return SwapConsistency(
            consistency=consistency, first_position=nan, second_position=nan, other=nan, n=0
        )
    first = float(np.mean((ab == "a") & (ba == "b")))
    second = float(np.mean((ab == "b") & (ba == "a")))
    return SwapConsistency(
        consistency=consistency,
        first_position=first,
        second_position=second,
        other=float(1.0 - same.mean() - first - second),
        n=n,
    )


def length_preference(
    verdicts: Values,
    len_a: Values,
    len_b: Values,
    *,
    correct_a: Values | None = None,
    correct_b: Values | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Estimate:
    """Share of wins going to the longer response (ties half), a measure of verbosity bias.

    Only pairs of different length count. Given ``correct_a`` and ``correct_b`` (whether
    each response is correct), only pairs with equal correctness count, so that a
    preference for the longer one cannot be explained by it being right. Pairs left out
    are counted in ``excluded``. A judge without verbosity bias scores about 0.5 on
    pairs of equal quality; see "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena"
    (Zheng et al.).
    """
    resamples, level = _options(resamples, level)
    n = check_same_length(verdicts=verdicts, len_a=len_a, len_b=len_b)
    judged = _scores(_verdicts(verdicts))
    difference = float_array(len_a, what="len_a") - float_array(len_b, what="len_b")
    keep = difference != 0.0
    if (correct_a is None) != (correct_b is None):
        raise ConfigError("give both correct_a and correct_b, or neither")
    if correct_a is not None and correct_b is not None:
        check_same_length(verdicts=verdicts, correct_a=correct_a, correct_b=correct_b)
        ca = float_array(correct_a, what="correct_a")
        cb = float_array(correct_b, what="correct_b")
        keep &= ca == cb
    longer_won = np.where(difference > 0.0, judged, 1.0 - judged)[keep]
    method = f"percentile bootstrap over items, {resamples} resamples"
    return mean_estimate(
        longer_won,
        resamples=resamples,
        level=level,
        seed=seed,
        method=method,
        excluded=n - int(keep.sum()),
    )
