"""Tests of the multi-turn task metrics, checked against hand computations."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import pytest

from simulacra.errors import ConfigError
from simulacra.stats import (
    aptitude,
    breakdown,
    multi_turn_drop,
    pass_hat_k,
    success_by_turn,
    success_rate,
    unreliability,
)


def records(task: str, scores: list[float], **extra: Any) -> list[dict[str, Any]]:
    return [{"task": task, "score": s, **extra} for s in scores]


def test_success_rate_is_mean_over_episodes() -> None:
    # t1: 3 of 4 episodes succeed, t2: 0 of 2 -> 3 of 6 overall = 0.5.
    data = records("t1", [1, 1, 1, 0]) + records("t2", [False, False])
    by_task = success_rate(data)
    assert by_task.value == pytest.approx(0.5)
    assert by_task.n == 2
    assert "tasks" in by_task.method
    by_episode = success_rate(data, task_key=None)
    assert by_episode.value == pytest.approx(0.5)
    assert by_episode.n == 6


def test_success_rate_interval_resamples_tasks() -> None:
    rng = np.random.default_rng(0)
    data = [
        {"task": f"t{t}", "score": float(rng.random() < p)}
        for t, p in enumerate(rng.random(40))
        for _ in range(5)
    ]
    est = success_rate(data, resamples=500)
    assert est.low < est.value < est.high
    assert est == success_rate(data, resamples=500)


def test_success_rate_rejects_bad_records() -> None:
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        success_rate(records("t", [1.5]))
    with pytest.raises(ConfigError, match="'score'"):
        success_rate([{"task": "t"}])
    with pytest.raises(ConfigError, match="'task'"):
        success_rate([{"score": 1.0}])
    with pytest.raises(ConfigError, match="finite number"):
        success_rate(records("t", ["yes"]))  # type: ignore[list-item]


def test_success_rate_empty() -> None:
    est = success_rate([])
    assert est.n == 0 and math.isnan(est.value)


def test_pass_hat_k_hand_computed() -> None:
    # t1: n=4 trials, c=3 successes; t2: n=4, c=1; t3: n=2, c=2.
    data = records("t1", [1, 1, 1, 0]) + records("t2", [0, 1, 0, 0]) + records("t3", [1, 1])
    result = pass_hat_k(data, resamples=200)
    assert sorted(result) == [1, 2, 3, 4]
    # k=1: 3/4, 1/4, 2/2 -> (0.75 + 0.25 + 1) / 3 = 2/3
    assert result[1].value == pytest.approx(2 / 3)
    # k=2: C(3,2)/C(4,2) = 3/6, C(1,2)/C(4,2) = 0, C(2,2)/C(2,2) = 1 -> 1.5 / 3 = 0.5
    assert result[2].value == pytest.approx(0.5)
    assert result[2].excluded == 0
    # k=3: C(3,3)/C(4,3) = 1/4, t2 gives 0, t3 has only 2 trials -> excluded; 0.25 / 2
    assert result[3].value == pytest.approx(0.125)
    assert (result[3].n, result[3].excluded) == (2, 1)
    # k=4: C(3,4) = 0 and C(1,4) = 0 -> 0, t3 excluded
    assert result[4].value == 0.0 and result[4].excluded == 1


def test_pass_hat_k_equals_average_over_subsets() -> None:
    # The estimator is the share of k-subsets of the trials in which all succeed.
    outcomes = [1, 0, 1, 1, 0, 1, 1]
    data = records("t", outcomes)
    for k in range(1, len(outcomes) + 1):
        subsets = list(itertools.combinations(outcomes, k))
        brute = sum(all(s) for s in subsets) / len(subsets)
        assert pass_hat_k(data, [k], resamples=10)[k].value == pytest.approx(brute)


def test_pass_hat_k_threshold_and_bad_k() -> None:
    data = records("t", [0.8, 0.4])
    assert pass_hat_k(data, [1], threshold=0.5, resamples=10)[1].value == 0.5
    assert pass_hat_k(data, [1], resamples=10)[1].value == 0.0
    with pytest.raises(ConfigError, match="positive integer"):
        pass_hat_k(data, [0])
    nothing = pass_hat_k(data, [5], resamples=10)[5]
    assert nothing.n == 0 and nothing.excluded == 1 and math.isnan(nothing.value)


def test_aptitude_and_unreliability_hand_computed() -> None:
    # Task a: scores 0, 10, ..., 100 (11 values). With linear interpolation the 90th
    # percentile sits at position 0.9 * 10 = 9 -> 90, the 10th at position 1 -> 10.
    # Task b: 50, 50, 50 -> both percentiles 50.
    # Task c: one episode only: excluded with the default min_repeats=2.
    data = (
        records("a", [float(v) for v in range(0, 101, 10)])
        + records("b", [50.0, 50.0, 50.0])
        + records("c", [100.0])
    )
    apt = aptitude(data, resamples=200)
    unrel = unreliability(data, resamples=200)
    assert apt.value == pytest.approx((90 + 50) / 2)
    assert unrel.value == pytest.approx(((90 - 10) + 0) / 2)
    assert (apt.n, apt.excluded) == (2, 1)
    assert (unrel.n, unrel.excluded) == (2, 1)
    assert aptitude(data, min_repeats=1, resamples=10).value == pytest.approx(80.0)


def test_percentiles_interpolate_linearly() -> None:
    # Scores 0, 1, 1, 1: the 10th percentile sits at position 0.1 * 3 = 0.3 between
    # 0 and 1 -> 0.3; the 90th at position 2.7 between 1 and 1 -> 1. Spread 0.7.
    data = records("t", [0.0, 1.0, 1.0, 1.0])
    assert unreliability(data, resamples=10).value == pytest.approx(0.7)
    assert aptitude(data, resamples=10).value == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="min_repeats"):
        aptitude(data, min_repeats=0)


def test_multi_turn_drop_hand_computed() -> None:
    # t1: full 1, 1 (mean 1), sharded 0, 1 (mean 0.5); t2: full 0.5, sharded 0.5;
    # t3 has only a full run: excluded. A "concat" record is ignored.
    # Means over paired tasks: full (1 + 0.5) / 2 = 0.75, sharded (0.5 + 0.5) / 2 = 0.5.
    # Drop = 100 * (1 - 0.5 / 0.75) = 33.33 %.
    data = (
        records("t1", [1, 1], mode="full")
        + records("t1", [0, 1], mode="sharded")
        + records("t2", [0.5], mode="full")
        + records("t2", [0.5], mode="sharded")
        + records("t3", [1], mode="full")
        + records("t1", [0], mode="concat")
    )
    drop = multi_turn_drop(data, resamples=300)
    assert drop.value == pytest.approx(100 / 3)
    assert (drop.n, drop.excluded) == (2, 1)
    assert drop.low <= drop.value <= drop.high


def test_multi_turn_drop_undefined_when_full_scores_zero() -> None:
    data = records("t", [0], mode="full") + records("t", [0], mode="sharded")
    assert math.isnan(multi_turn_drop(data).value)


def test_multi_turn_drop_custom_modes() -> None:
    data = records("t", [1], setting="single") + records("t", [0.25], setting="multi")
    drop = multi_turn_drop(data, mode_key="setting", full="single", sharded="multi")
    assert drop.value == pytest.approx(75.0)


def test_breakdown_by_nested_field_and_function() -> None:
    data = [
        {"task": "t1", "score": 1, "persona": {"expertise": "novice"}},
        {"task": "t2", "score": 0, "persona": {"expertise": "novice"}},
        {"task": "t1", "score": 1, "persona": {"expertise": "expert"}},
        {"task": "t3", "score": 1, "persona": {"expertise": "expert"}},
    ]
    groups = breakdown(data, "persona.expertise", resamples=50)
    assert list(groups) == ["expert", "novice"]
    assert groups["expert"].value == 1.0
    assert groups["novice"].value == 0.5
    by_task = breakdown(data, "task", task_key=None, resamples=50)
    assert by_task["t1"].n == 2
    custom = breakdown(data, lambda r: r["score"] > 0, aptitude, min_repeats=1, resamples=50)
    assert set(custom) == {False, True}
    with pytest.raises(ConfigError, match=r"persona\.age"):
        breakdown(data, "persona.age")


def test_breakdown_keeps_order_of_unsortable_keys() -> None:
    data = [{"task": "t", "score": 1, "g": 1}, {"task": "t", "score": 0, "g": "x"}]
    assert list(breakdown(data, "g", resamples=10)) == [1, "x"]


def test_success_by_turn_hand_computed() -> None:
    # Six episodes; first success at turns 1, 2, never, 3, 1, never.
    # By turn 1: 2 of 6; by turn 2: 3 of 6; by turn 3: 4 of 6.
    result = success_by_turn([1, 2, None, 3, 1, None], resamples=200)
    assert result.turns == (1, 2, 3)
    assert [e.value for e in result.cumulative] == pytest.approx([2 / 6, 3 / 6, 4 / 6])
    assert [e.value for e in result.gain] == pytest.approx([2 / 6, 1 / 6, 1 / 6])
    assert result.n == 6
    for est in result.cumulative:
        assert est.low <= est.value <= est.high
    json.dumps(result.to_dict(), allow_nan=False)


def test_success_by_turn_horizon_and_errors() -> None:
    longer = success_by_turn([1, None], max_turns=4, resamples=10)
    assert [e.value for e in longer.cumulative] == [0.5] * 4
    assert [e.value for e in longer.gain] == [0.5, 0.0, 0.0, 0.0]
    shorter = success_by_turn([1, 5], max_turns=2, resamples=10)
    assert [e.value for e in shorter.cumulative] == [0.5, 0.5]
    assert success_by_turn([None, None]).turns == ()
    empty = success_by_turn([], max_turns=2)
    assert empty.n == 0 and math.isnan(empty.cumulative[0].value)
    with pytest.raises(ConfigError, match="episode 1"):
        success_by_turn([1, 0])
    with pytest.raises(ConfigError, match="max_turns"):
        success_by_turn([1], max_turns=-1)
