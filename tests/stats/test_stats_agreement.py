"""Tests of the agreement coefficients against cases computed by hand."""

from __future__ import annotations

import math

import pytest

from simulacra.errors import ConfigError
from simulacra.stats import (
    cohen_kappa,
    fleiss_kappa,
    fleiss_kappa_counts,
    krippendorff_alpha,
    percent_agreement,
)

N = None


def test_cohen_kappa_hand_computed() -> None:
    # Items 1-4: Y/Y (agree), 5-6: Y/N, 7-9: N/N (agree), 10: N/Y.
    # p_o = 7 / 10 = 0.7. Rater a: 6 Y, 4 N; rater b: 5 Y, 5 N.
    # p_e = 0.6 * 0.5 + 0.4 * 0.5 = 0.5; kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    a = ["Y"] * 6 + ["N"] * 4
    b = ["Y"] * 4 + ["N"] * 2 + ["N"] * 3 + ["Y"]
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    # Items either rater left missing are dropped, leaving the same ten items.
    assert cohen_kappa([*a, N, "Y"], [*b, "Y", float("nan")]) == pytest.approx(0.4)


def test_cohen_kappa_extremes() -> None:
    assert cohen_kappa([1, 2, 3, 1], [1, 2, 3, 1]) == pytest.approx(1.0)
    # Systematic disagreement on two balanced labels: p_o = 0, p_e = 0.5 -> -1.
    assert cohen_kappa(["x", "y"], ["y", "x"]) == pytest.approx(-1.0)
    # Both raters always say "x": chance agreement is 1 and kappa is undefined.
    assert math.isnan(cohen_kappa(["x", "x"], ["x", "x"]))


def test_cohen_kappa_errors() -> None:
    with pytest.raises(ConfigError, match="3 and 2"):
        cohen_kappa([1, 2, 3], [1, 2])
    with pytest.raises(ConfigError, match="at least one item"):
        cohen_kappa([N, 1], [2, N])


# Three raters (rows) label four items (columns) x or y:
#   item 1: x x x  item 2: x x y  item 3: y y y  item 4: x y y
FLEISS = [["x", "x", "y", "x"], ["x", "x", "y", "y"], ["x", "y", "y", "y"]]


def test_fleiss_kappa_hand_computed() -> None:
    # Agreeing pairs per item with m = 3 raters: P_i = (sum_j n_ij^2 - m) / (m (m - 1)).
    # item 1 (3, 0): (9 - 3) / 6 = 1; item 2 (2, 1): (4 + 1 - 3) / 6 = 1/3;
    # item 3: 1; item 4: 1/3. Mean P = (1 + 1/3 + 1 + 1/3) / 4 = 2/3.
    # Shares: x = 6 / 12, y = 6 / 12 -> P_e = 0.25 + 0.25 = 0.5.
    # kappa = (2/3 - 1/2) / (1 - 1/2) = 1/3.
    assert fleiss_kappa(FLEISS) == pytest.approx(1 / 3)
    assert fleiss_kappa_counts([[3, 0], [2, 1], [0, 3], [1, 2]]) == pytest.approx(1 / 3)


def test_fleiss_kappa_with_two_raters_matches_scotts_pi() -> None:
    # With two raters Fleiss' kappa is Scott's pi: the pooled label shares set chance.
    # Pairs: (x, x), (x, y), (y, y), (y, y). p_o = 3/4. Pooled: x 3/8, y 5/8.
    # P_e = 9/64 + 25/64 = 34/64; pi = (48/64 - 34/64) / (30/64) = 14/30.
    ratings = [["x", "x", "y", "y"], ["x", "y", "y", "y"]]
    assert fleiss_kappa(ratings) == pytest.approx(14 / 30)


def test_fleiss_kappa_errors() -> None:
    with pytest.raises(ConfigError, match="same number"):
        fleiss_kappa([["x", "y"], ["x", N]])
    with pytest.raises(ConfigError, match="same number"):
        fleiss_kappa_counts([[1, 0], [0, 1]])
    with pytest.raises(ConfigError, match="table"):
        fleiss_kappa_counts([1, 2, 3])
    with pytest.raises(ConfigError, match="non-negative"):
        fleiss_kappa_counts([[3, -1], [1, 1]])
    assert math.isnan(fleiss_kappa([["x", "x"], ["x", "x"]]))


def test_krippendorff_alpha_nominal_hand_computed() -> None:
    # Two raters, three items: (a, a), (a, b), (b, b). Each item has m_u = 2 ratings,
    # so each ordered pair has weight 1 / (m_u - 1) = 1. Coincidences:
    #   o_aa = 2, o_ab = o_ba = 1, o_bb = 2; n_a = n_b = 3, n = 6.
    # D_o = (o_ab + o_ba) / n = 2/6; D_e = (n_a n_b + n_b n_a) / (n (n - 1)) = 18/30.
    # alpha = 1 - (1/3) / (3/5) = 1 - 5/9 = 4/9.
    ratings = [["a", "a", "b"], ["a", "b", "b"]]
    assert krippendorff_alpha(ratings) == pytest.approx(4 / 9)
    # An item with a single rating is not pairable and changes nothing.
    with_lonely = [["a", "a", "b", "b"], ["a", "b", "b", N]]
    assert krippendorff_alpha(with_lonely) == pytest.approx(4 / 9)


def test_krippendorff_alpha_interval_hand_computed() -> None:
    # Items (1, 1), (2, 3), (3, 3). Coincidences: o_11 = 2, o_23 = o_32 = 1, o_33 = 2;
    # n_1 = 2, n_2 = 1, n_3 = 3, n = 6.
    # D_o = (o_23 + o_32) * (3 - 2)^2 / n = 2/6.
    # D_e = 2 * [n_1 n_2 (1)^2 + n_1 n_3 (2)^2 + n_2 n_3 (1)^2] / (n (n - 1))
    #     = 2 * [2 + 24 + 3] / 30 = 58/30.
    # alpha = 1 - (2/6) / (58/30) = 1 - 10/58 = 24/29.
    ratings = [[1, 2, 3], [1.0, 3.0, 3.0]]
    assert krippendorff_alpha(ratings, level="interval") == pytest.approx(24 / 29)


def test_krippendorff_alpha_published_example_with_missing_data() -> None:
    # The four-observer, twelve-unit example of "Computing Krippendorff's
    # Alpha-Reliability" (Krippendorff, 2011), reported as 0.743 (nominal) and
    # 0.849 (interval).
    ratings = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
        [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, float("nan")],
    ]
    assert krippendorff_alpha(ratings) == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(ratings, level="interval") == pytest.approx(0.849, abs=5e-4)


def test_krippendorff_alpha_edge_cases() -> None:
    assert krippendorff_alpha([[1, 2], [1, 2]]) == pytest.approx(1.0)
    assert math.isnan(krippendorff_alpha([["x", "x"], ["x", "x"]]))
    with pytest.raises(ConfigError, match="two raters"):
        krippendorff_alpha([[1, N], [N, 2]])
    with pytest.raises(ConfigError, match="interval rating"):
        krippendorff_alpha([["a", "b"], ["a", "a"]], level="interval")
    with pytest.raises(ConfigError, match="level"):
        krippendorff_alpha([[1]], level="ordinal")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="rater 1"):
        krippendorff_alpha([[1, 2], [1]])
    with pytest.raises(ConfigError, match="at least one rater"):
        krippendorff_alpha([])


def test_percent_agreement() -> None:
    # Two raters: items 1-3 rated by both, agreeing on 1 and 3 -> 2/3.
    assert percent_agreement([["a", "a", "b", "b"], ["a", "b", "b", N]]) == pytest.approx(2 / 3)
    # Three raters on one item (a, a, b): 2 of 6 ordered pairs agree -> 1/3.
    assert percent_agreement([["a"], ["a"], ["b"]]) == pytest.approx(1 / 3)
    with pytest.raises(ConfigError, match="two raters"):
        percent_agreement([["a", N]])


@pytest.mark.parametrize("level", ["nominal", "interval"])
def test_krippendorff_alpha_matches_the_krippendorff_package(level: str) -> None:
    reference = pytest.importorskip("krippendorff")
    import numpy as np

    rng = np.random.default_rng(4)
    truth = rng.integers(1, 6, size=40)
    ratings = np.where(rng.random((4, 40)) < 0.7, truth, rng.integers(1, 6, size=(4, 40)))
    ratings = ratings.astype(float)
    ratings[rng.random((4, 40)) < 0.15] = np.nan  # missing ratings
    ours = krippendorff_alpha(
        [[None if math.isnan(v) else v for v in row] for row in ratings.tolist()],
        level=level,  # type: ignore[arg-type]
    )
    theirs = reference.alpha(reliability_data=ratings, level_of_measurement=level)
    assert ours == pytest.approx(theirs, abs=1e-12)
