"""Pairwise preferences: win rates, length-controlled win rate, position and verbosity bias.

A verdict says which of two systems, ``"A"`` or ``"B"``, gave the better response to an
item, or ``"tie"`` (case does not matter). A win counts 1, a loss 0 and a tie 0.5.
Inputs are parallel sequences with one entry per judged item; every interval resamples
items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

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


def _fit_value(
    eta: FloatArray, beta: FloatArray, weights: FloatArray, linear: FloatArray, l2: float
) -> FloatArray:
    """Penalised log-likelihood of each row, from its linear predictor ``eta``.

    ``Σ w·[y·η − log(1 + e^η)]``: the first part is ``β0·Σ w·y + β1·Σ w·y·z``, so
    ``linear`` holds each row's ``(Σ w·y, Σ w·y·z)`` and only the softplus is summed
    over items (computed as ``max(η, 0) + log1p(e^−|η|)``, stable for any η).
    """
    softplus = np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta)))
    fit = (beta * linear).sum(axis=1) - np.einsum("ij,ij->i", weights, softplus)
    result: FloatArray = fit - 0.5 * l2 * (beta**2).sum(axis=1)
    return result


def _linear(beta: FloatArray, z: FloatArray) -> FloatArray:
    result: FloatArray = beta[:, :1] + beta[:, 1:] * z[None, :]
    return result


def fit_logistic(
    z: FloatArray,
    y: FloatArray,
    weights: FloatArray,
    *,
    l2: float = 0.0,
    fit_slope: bool = True,
    max_iter: int = 100,
    start: FloatArray | None = None,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Fit ``p = σ(β0 + β1·z)`` to fractional outcomes ``y`` by Newton's method (IRLS).

    ``weights`` has shape ``(b, n)``: ``b`` independent fits sharing ``z`` and ``y``
    (bootstrap resamples are weights that count how often each item was drawn). The
    objective is ``Σ w·[y·log p + (1 − y)·log(1 − p)] − (l2 / 2)·(β0² + β1²)``; an outcome
    of 0.5 is the same as two half-weight observations, one won and one lost. Steps are
    halved (for the fits that need it) until the objective does not decrease. With
    ``fit_slope=False`` β1 stays 0. ``start`` (shape ``(2,)`` or ``(b, 2)``) warm-starts
    every fit, e.g. bootstrap refits from the fit on all items; the optimum is the same,
    only fewer steps are needed. Returns ``β`` of shape ``(b, 2)`` and whether each fit
    converged within ``max_iter``.
    """
    rows = weights.shape[0]
    beta = np.zeros((rows, 2))
    if start is not None:
        beta[:] = np.asarray(start, dtype=np.float64)
    if not fit_slope:
        beta[:, 1] = 0.0
    converged = np.zeros(rows, dtype=bool)
    active = np.arange(rows)
    eta = _linear(beta, z)
    linear = np.stack([weights @ y, weights @ (y * z)], axis=1)
    value = _fit_value(eta, beta, weights, linear, l2)
    for _ in range(max_iter):
        b, w, e, current = beta[active], weights[active], eta, value
        lin = linear[active]
        p = _sigmoid(e)
        residual = w * (y[None, :] - p)
        curvature = w * p * (1.0 - p)
        g0 = residual.sum(axis=1) - l2 * b[:, 0]
        h00 = curvature.sum(axis=1) + l2
        if fit_slope:
            g1 = residual @ z - l2 * b[:, 1]
            h01 = curvature @ z
            h11 = curvature @ (z * z) + l2
            det = h00 * h11 - h01 * h01
            safe = np.where(det > 0.0, det, 1.0)
            step = np.stack([(h11 * g0 - h01 * g1) / safe, (h00 * g1 - h01 * g0) / safe], axis=1)
            singular = ~(det > 0.0)
            if singular.any():  # flat directions: the minimum-norm step, as a pseudo-inverse
                hessian = np.empty((int(singular.sum()), 2, 2))
                hessian[:, 0, 0], hessian[:, 1, 1] = h00[singular], h11[singular]
                hessian[:, 0, 1] = hessian[:, 1, 0] = h01[singular]
                gradient = np.stack([g0[singular], g1[singular]], axis=1)
                step[singular] = np.einsum("bij,bj->bi", np.linalg.pinv(hessian), gradient)
        else:
            step = np.stack([np.where(h00 > 0.0, g0 / np.where(h00 > 0.0, h00, 1.0), 0.0),
                             np.zeros_like(g0)], axis=1)  # fmt: skip
        scale = np.ones(active.size)
        new = b + step
        new_eta = _linear(new, z)
        new_value = _fit_value(new_eta, new, w, lin, l2)
        for _ in range(50):
            worse = new_value < current - 1e-12 * np.abs(current)
            if not worse.any():
                break
            scale[worse] *= 0.5
            new[worse] = b[worse] + scale[worse, None] * step[worse]
            new_eta[worse] = _linear(new[worse], z)
            new_value[worse] = _fit_value(new_eta[worse], new[worse], w[worse], lin[worse], l2)
        moved = new - b
        gain = new_value - current
        beta[active] = new
        done = (np.abs(moved).max(axis=1) < 1e-10) | (
            np.abs(gain) < 1e-13 * (1.0 + np.abs(current))
        )
        converged[active[done]] = True
        keep = ~done
        active, eta, value = active[keep], new_eta[keep], new_value[keep]
        if active.size == 0:
            break
    return beta, converged


LengthForm = Literal["tanh", "linear"]
"""How the length difference enters the length-controlled fit (see
:func:`length_controlled_win_rate`)."""

EXTRAPOLATION_WARNING = (
    "one system is longer in every pair: the length-controlled win rate extrapolates to "
    "equal lengths, which no pair has"
)


@dataclass(frozen=True, kw_only=True, slots=True)
class LengthControlledWinRate:
    """Win rate of A at equal response length, from a logistic fit on the length difference.

    ``win_rate`` is ``σ(β0)`` with a bootstrap CI, ``beta1`` the slope on the length
    term (``tanh`` of, or equal to, the difference in standard deviations; positive:
    longer responses tend to win), and ``raw_win_rate`` the plain win rate for
    comparison. ``length_sd`` is the standard deviation used to scale the differences,
    ``form`` the length term (``"tanh"`` or ``"linear"``), ``converged`` whether the fit
    on all items converged. ``extrapolates`` is true when one system is longer in every
    pair, so that equal length lies outside the data; ``warning`` then says so.
    """

    win_rate: Estimate
    beta0: float
    beta1: Estimate
    raw_win_rate: float
    length_sd: float
    l2: float
    converged: bool
    form: str = "tanh"
    extrapolates: bool = False
    warning: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN numbers become ``None``."""
        result: dict[str, Any] = jsonable(self)
        return result


def length_controlled_win_rate(
    verdicts: Values,
    len_a: Values,
    len_b: Values,
    *,
    form: LengthForm = "tanh",
    l2: float = 0.0,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> LengthControlledWinRate:
    """Length-controlled win rate of A: the win rate predicted when both lengths are equal.

    After "Length-Controlled AlpacaEval: A Simple Way to Debias Automatic Evaluators"
    (Dubois et al.): fit ``P(A wins) = σ(β0 + β1·x)`` and report ``σ(β0)``, the win rate
    at ``x = 0``, i.e. at equal length. With ``d = (len_a − len_b) / sd`` (``sd`` the
    sample standard deviation, ddof=1, of the differences; not centred, so ``d = 0``
    means equal length), ``form="tanh"`` (the default, AlpacaEval 2's length term) uses
    ``x = tanh(d)``, which bounds the influence of very long answers, and
    ``form="linear"`` uses ``x = d``. Without AlpacaEval's per-instruction terms this is
    a simplified form of their model. On data generated with a tanh length effect the
    linear fit is biased (about +0.018 in ``benchmarks/coverage.py``).

    Ties enter as two half-weight observations, one win for each side. ``l2 > 0`` adds a
    ridge penalty on both coefficients, which keeps them finite when the outcomes are
    perfectly separated (e.g. A wins every item); without it such a fit runs toward
    infinity and the win rate toward 0 or 1. When all differences are equal the slope is
    fixed at 0. When one system is longer in every pair the result says it extrapolates
    (``extrapolates``, ``warning``). The interval refits the model on items resampled
    with replacement, all refits at once and each started from the fit on all items.
    """
    resamples, level = _options(resamples, level)
    if form not in ("tanh", "linear"):
        raise ConfigError(f"form must be 'tanh' or 'linear', got {form!r}", field="form")
    if l2 < 0 or not np.isfinite(l2):
        raise ConfigError(f"l2 must be a non-negative number, got {l2!r}", field="l2")
    n = check_same_length(verdicts=verdicts, len_a=len_a, len_b=len_b)
    y = _scores(_verdicts(verdicts))
    difference = float_array(len_a, what="len_a") - float_array(len_b, what="len_b")
    sd = float(np.std(difference, ddof=1)) if n > 1 else 0.0
    fit_slope = sd > 0.0
    scaled = difference / sd if fit_slope else np.zeros(n)
    z = np.tanh(scaled) if form == "tanh" else scaled
    extrapolates = n > 1 and bool(np.all(difference > 0.0) or np.all(difference < 0.0))
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
            form=form,
        )

    beta, converged = fit_logistic(z, y, np.ones((1, n)), l2=l2, fit_slope=fit_slope)

    def fit(counts: FloatArray) -> FloatArray:
        refit, _ = fit_logistic(z, y, counts, l2=l2, fit_slope=fit_slope, start=beta[0])
        return np.stack([_sigmoid(refit[:, 0]), refit[:, 1]], axis=1)

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
        form=form,
        extrapolates=extrapolates,
        warning=EXTRAPOLATION_WARNING if extrapolates else None,
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
