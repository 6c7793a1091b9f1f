"""Tests of the percentile bootstrap, its cluster variant and the Estimate type."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from simulacra.errors import ConfigError
from simulacra.stats import Estimate, bootstrap, cluster_bootstrap, cohen_kappa


def test_estimate_is_frozen_keyword_only_and_json_ready() -> None:
    est = Estimate(value=0.5, low=float("nan"), high=float("inf"), n=3, method="m")
    with pytest.raises(TypeError):
        Estimate(0.5, 0.1, 0.9, 3)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        est.value = 1.0  # type: ignore[misc]
    data = est.to_dict()
    assert data == {
        "value": 0.5,
        "low": None,
        "high": None,
        "n": 3,
        "level": 0.95,
        "method": "m",
        "excluded": 0,
    }
    json.dumps(data, allow_nan=False)
    assert "n=3" in str(est)


def test_mean_interval_is_seeded_and_sensible() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(10.0, 1.0, size=400)
    first = bootstrap(x, seed=3)
    again = bootstrap(x.tolist(), seed=3)
    other = bootstrap(x, seed=4)
    assert first == again
    assert (first.low, first.high) != (other.low, other.high)
    assert first.value == pytest.approx(x.mean())
    assert first.low < first.value < first.high
    # The normal-theory width is 2 * 1.96 * s / sqrt(n) ≈ 0.196 for s ≈ 1, n = 400.
    expected = 2 * 1.96 * x.std(ddof=1) / math.sqrt(x.size)
    assert first.width == pytest.approx(expected, rel=0.12)
    assert first.n == 400 and first.level == 0.95


def test_level_changes_width() -> None:
    x = np.arange(50.0)
    assert bootstrap(x, level=0.5).width < bootstrap(x, level=0.99).width


def test_small_samples() -> None:
    empty = bootstrap([])
    assert empty.n == 0 and all(math.isnan(v) for v in (empty.value, empty.low, empty.high))
    one = bootstrap([0.25])
    assert one.value == 0.25 and one.n == 1
    assert math.isnan(one.low) and math.isnan(one.high)
    one_generic = bootstrap([0.25], np.median)
    assert one_generic.value == 0.25 and math.isnan(one_generic.low)


def test_vectorized_and_plain_statistics_agree() -> None:
    rng = np.random.default_rng(1)
    x = rng.exponential(size=60)
    plain = bootstrap(x, np.median, resamples=300, seed=5)
    fast = bootstrap(x, lambda s: np.median(s, axis=-1), vectorized=True, resamples=300, seed=5)
    assert plain == fast
    # The default mean uses draw counts instead of copies but the same draws.
    mean_generic = bootstrap(x, np.mean, resamples=300, seed=5)
    mean_default = bootstrap(x, resamples=300, seed=5)
    assert mean_generic.low == pytest.approx(mean_default.low)
    assert mean_generic.high == pytest.approx(mean_default.high)


def test_bootstrap_over_rows_of_pairs() -> None:
    a = ["y", "y", "n", "n", "y", "n", "y", "y", "n", "y"] * 3
    b = ["y", "n", "n", "n", "y", "n", "y", "y", "y", "y"] * 3
    pairs = list(zip(a, b, strict=True))
    est = bootstrap(pairs, lambda rows: cohen_kappa(rows[:, 0], rows[:, 1]), resamples=200)
    assert est.value == pytest.approx(cohen_kappa(a, b))
    assert est.low <= est.value <= est.high


def test_nan_replicates_are_ignored() -> None:
    # The statistic is undefined (NaN) on resamples without a 1; bounds use the rest.
    x = np.array([0.0] * 9 + [1.0])

    def odd(sample: np.ndarray) -> float:
        return float(sample.mean()) if sample.max() > 0 else float("nan")

    est = bootstrap(x, odd, resamples=300)
    assert math.isfinite(est.low) and est.low > 0


def test_cluster_mean_matches_generic_and_counts_groups() -> None:
    rng = np.random.default_rng(2)
    groups = [f"t{i % 12}" for i in range(60)]
    x = rng.random(60)
    default = cluster_bootstrap(x, groups, resamples=400, seed=9)
    generic = cluster_bootstrap(x, groups, np.mean, resamples=400, seed=9)
    assert default.n == 12
    assert default.value == pytest.approx(x.mean())
    assert default.low == pytest.approx(generic.low)
    assert default.high == pytest.approx(generic.high)


def test_cluster_interval_reflects_within_group_dependence() -> None:
    # Ten tasks whose twenty episodes all score the same: there are really only ten
    # independent observations, so resampling episodes understates the uncertainty.
    task_scores = np.linspace(0.0, 1.0, 10)
    x = np.repeat(task_scores, 20)
    groups = np.repeat(np.arange(10), 20).tolist()
    by_episode = bootstrap(x)
    by_task = cluster_bootstrap(x, groups)
    assert by_task.width > 3 * by_episode.width


def test_cluster_small_and_bad_inputs() -> None:
    one = cluster_bootstrap([1.0, 0.0], ["a", "a"])
    assert one.value == 0.5 and one.n == 1 and math.isnan(one.high)
    assert cluster_bootstrap([], []).n == 0
    with pytest.raises(ConfigError, match="same length"):
        cluster_bootstrap([1.0, 2.0], ["a"])
    with pytest.raises(ConfigError, match="hashable"):
        cluster_bootstrap([1.0], [["a"]])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level": 1.0}, "level"),
        ({"level": 0}, "level"),
        ({"resamples": 0}, "resamples"),
        ({"resamples": 2.5}, "resamples"),
    ],
)
def test_bad_options(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        bootstrap([1.0, 2.0], **kwargs)  # type: ignore[arg-type]


def test_bad_data() -> None:
    with pytest.raises(ConfigError, match="scalar"):
        bootstrap(3.0)
    with pytest.raises(ConfigError, match="flat sequence"):
        bootstrap(["a", "b"])


def test_large_sample_is_fast_enough() -> None:
    # 2,000 resamples of 20,000 units: processed in blocks to bound memory.
    x = np.random.default_rng(0).random(20_000)
    est = bootstrap(x)
    expected = 2 * 1.96 * x.std(ddof=1) / math.sqrt(x.size)
    assert est.width == pytest.approx(expected, rel=0.12)
