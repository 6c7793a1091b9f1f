"""Metrics for verifiable multi-turn tasks, each with a bootstrap confidence interval.

Input records are mappings such as ``{"task": "t1", "score": 1.0, "mode": "full"}``,
one per episode. Field names are arguments; a dotted name such as ``"persona.expertise"``
reaches into nested mappings when the record has no key spelled with the dot.
Scores are numbers or bools (``True`` is 1). Intervals resample tasks (all episodes of
a drawn task come along) unless stated otherwise, because episodes of one task are not
independent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from simulacra.errors import ConfigError
from simulacra.stats._bootstrap import (
    DEFAULT_LEVEL,
    DEFAULT_RESAMPLES,
    Estimate,
    cluster_mean_estimate,
    empty_estimate,
    estimate_from_replicates,
    group_rows,
    mean_estimate,
    weighted_estimate,
    weighted_replicates,
)
from simulacra.stats._common import (
    FloatArray,
    as_float,
    check_level,
    check_resamples,
    jsonable,
)
from simulacra.stats._proportion import cluster_score_estimate

Record = Mapping[str, Any]

Interval = Literal["score", "bootstrap"]
"""How a success rate or pass^k interval is made: ``"score"`` (the default), the
cluster-adjusted Wilson interval of :mod:`simulacra.stats._proportion`, which holds its
level with few tasks; ``"bootstrap"``, the percentile bootstrap over tasks, which
under-covers with few tasks (52–87% with 5 tasks of 4 trials in ``benchmarks/coverage.py``)
and is kept for comparison."""

_MISSING = object()


def field_value(record: Record, key: str, index: int) -> Any:
    """Value of ``key`` in a record: the literal key first, else a dotted path."""
    if not isinstance(record, Mapping):
        raise ConfigError(f"record {index} is not a mapping: {record!r}")
    if key in record:
        return record[key]
    node: Any = record
    for part in key.split("."):
        node = node.get(part, _MISSING) if isinstance(node, Mapping) else _MISSING
        if node is _MISSING:
            raise ConfigError(f"record {index} has no field {key!r}", field=key)
    return node


def _scores(records: Sequence[Record], score_key: str, *, unit_range: bool) -> FloatArray:
    scores = np.array(
        [
            as_float(field_value(r, score_key, i), what=f"record {i} {score_key!r}")
            for i, r in enumerate(records)
        ],
        dtype=np.float64,
    )
    if unit_range and scores.size and (scores.min() < 0.0 or scores.max() > 1.0):
        bad = int(np.flatnonzero((scores < 0.0) | (scores > 1.0))[0])
        raise ConfigError(
            f"record {bad} {score_key!r} must lie in [0, 1], got {scores[bad]!r}",
            field=score_key,
        )
    return scores


def _tasks(records: Sequence[Record], task_key: str) -> list[Hashable]:
    return [field_value(r, task_key, i) for i, r in enumerate(records)]


def _scores_by_task(
    records: Sequence[Record], task_key: str, score_key: str, *, unit_range: bool
) -> list[FloatArray]:
    """Scores of each task, tasks in order of first appearance."""
    scores = _scores(records, score_key, unit_range=unit_range)
    keys, codes = group_rows(_tasks(records, task_key))
    return [scores[codes == g] for g in range(len(keys))]


def _options(resamples: int, level: float) -> tuple[int, float]:
    return check_resamples(resamples), check_level(level)


def _check_interval(interval: str) -> None:
    if interval not in ("score", "bootstrap"):
        raise ConfigError(
            f"interval must be 'score' or 'bootstrap', got {interval!r}", field="interval"
        )


def success_rate(
    records: Sequence[Record],
    *,
    task_key: str | None = "task",
    score_key: str = "score",
    interval: Interval = "score",
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Estimate:
    """Mean score over episodes (the success rate when scores are 0/1), with a CI.

    Scores must lie in [0, 1]. With ``task_key`` (the default, ``"task"``) episodes of a
    task count as one cluster; with ``task_key=None`` episodes count as independent.
    ``n`` is the number of units (tasks or episodes).

    The interval (``interval="score"``, the default) is the cluster-adjusted Wilson score
    interval of :mod:`simulacra.stats._proportion`, chosen by simulation because it holds
    its level with few tasks and never has zero width; ``interval="bootstrap"`` gives the
    percentile bootstrap over tasks (``resamples`` and ``seed`` apply only to it).
    """
    resamples, level = _options(resamples, level)
    _check_interval(interval)
    scores = _scores(records, score_key, unit_range=True)
    if task_key is None:
        if interval == "score":
            ones = np.ones_like(scores)
            return cluster_score_estimate(
                scores, ones, cap=float(scores.size), level=level, unit="episodes"
            )
        method = f"percentile bootstrap over episodes, {resamples} resamples"
        return mean_estimate(scores, resamples=resamples, level=level, seed=seed, method=method)
    keys, codes = group_rows(_tasks(records, task_key))
    if interval == "score":
        sums = np.bincount(codes, weights=scores, minlength=len(keys)).astype(np.float64)
        sizes = np.bincount(codes, minlength=len(keys)).astype(np.float64)
        return cluster_score_estimate(
            sums, sizes, cap=float(scores.size), level=level, unit="tasks"
        )
    method = f"cluster percentile bootstrap over tasks, {resamples} resamples"
    return cluster_mean_estimate(
        scores, codes, len(keys), resamples=resamples, level=level, seed=seed, method=method
    )


def _pass_hat_k_of_task(successes: int, trials: int, k: int) -> float:
    """Unbiased estimate of the chance that k trials of a task all succeed."""
    return math.comb(successes, k) / math.comb(trials, k)


def pass_hat_k(
    records: Sequence[Record],
    ks: Iterable[int] | None = None,
    *,
    task_key: str = "task",
    score_key: str = "score",
    threshold: float = 1.0,
    interval: Interval = "score",
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> dict[int, Estimate]:
    """pass^k: the chance that all of k independent trials of a task succeed, over tasks.

    From "τ-bench: A Benchmark for Tool-Agent-User Interaction in Real-World Domains"
    (Yao et al.): with ``n`` trials of a task of which ``c`` succeeded, ``C(c, k) / C(n, k)``
    is an unbiased estimate of that task's pass^k; the metric is its mean over tasks.
    A trial succeeds when its score is at least ``threshold`` (scores in [0, 1]).

    ``ks`` defaults to 1 .. the largest number of trials of any task. Tasks with fewer
    than ``k`` trials are left out of pass^k and counted in ``excluded``.

    The interval (``interval="score"``, the default) is the cluster-adjusted Wilson score
    interval of :mod:`simulacra.stats._proportion` on the per-task values, its effective
    sample size capped at the number of disjoint k-trial blocks the tasks hold
    (``Σ ⌊trials / k⌋``); ``interval="bootstrap"`` resamples tasks instead (and under-covers
    with few tasks). Returns ``{k: Estimate}``.
    """
    resamples, level = _options(resamples, level)
    _check_interval(interval)
    by_task = _scores_by_task(records, task_key, score_key, unit_range=True)
    trials = [len(s) for s in by_task]
    successes = [int(np.count_nonzero(s >= threshold)) for s in by_task]
    wanted = list(range(1, max(trials, default=0) + 1)) if ks is None else list(ks)
    method = f"percentile bootstrap over tasks, {resamples} resamples"
    result: dict[int, Estimate] = {}
    for k in wanted:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"k must be a positive integer, got {k!r}")
        values = np.array(
            [
                _pass_hat_k_of_task(c, n, k)
                for c, n in zip(successes, trials, strict=True)
                if n >= k
            ],
            dtype=np.float64,
        )
        excluded = len(trials) - values.size
        if interval == "score":
            blocks = sum(n // k for n in trials if n >= k)
            result[k] = cluster_score_estimate(
                values,
                np.ones_like(values),
                cap=float(blocks),
                level=level,
                unit="tasks",
                excluded=excluded,
            )
            continue
        result[k] = mean_estimate(
            values, resamples=resamples, level=level, seed=seed, method=method, excluded=excluded
        )
    return result


def _task_percentile_measure(
    records: Sequence[Record],
    measure: Callable[[FloatArray], float],
    *,
    task_key: str,
    score_key: str,
    min_repeats: int,
    resamples: int,
    level: float,
    seed: int,
) -> Estimate:
    resamples, level = _options(resamples, level)
    if isinstance(min_repeats, bool) or not isinstance(min_repeats, int) or min_repeats < 1:
        raise ConfigError(f"min_repeats must be a positive integer, got {min_repeats!r}")
    by_task = _scores_by_task(records, task_key, score_key, unit_range=False)
    kept = [s for s in by_task if s.size >= min_repeats]
    values = np.array([measure(s) for s in kept], dtype=np.float64)
    method = f"percentile bootstrap over tasks, {resamples} resamples"
    return mean_estimate(
        values,
        resamples=resamples,
        level=level,
        seed=seed,
        method=method,
        excluded=len(by_task) - len(kept),
    )


def _p90(scores: FloatArray) -> float:
    return float(np.percentile(scores, 90.0, method="linear"))


def _p90_minus_p10(scores: FloatArray) -> float:
    low, high = np.percentile(scores, [10.0, 90.0], method="linear")
    return float(high - low)


def aptitude(
    records: Sequence[Record],
    *,
    task_key: str = "task",
    score_key: str = "score",
    min_repeats: int = 2,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Estimate:
    """Aptitude: mean over tasks of the 90th percentile of a task's scores over repeats.

    From "LLMs Get Lost In Multi-Turn Conversation" (Laban et al.): how well a system does
    on a task near its best. Percentiles use numpy's linear interpolation between order
    statistics (``numpy.percentile(..., method="linear")``). Tasks with fewer than
    ``min_repeats`` episodes are left out and counted in ``excluded``. Scores may be on
    any scale. The interval resamples tasks.
    """
    return _task_percentile_measure(
        records,
        _p90,
        task_key=task_key,
        score_key=score_key,
        min_repeats=min_repeats,
        resamples=resamples,
        level=level,
        seed=seed,
    )


def unreliability(
    records: Sequence[Record],
    *,
    task_key: str = "task",
    score_key: str = "score",
    min_repeats: int = 2,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Estimate:
    """Unreliability: mean over tasks of the spread (90th − 10th percentile) of its scores.

    From "LLMs Get Lost In Multi-Turn Conversation" (Laban et al.): how far apart the
    best and worst runs of the same task are. Percentiles use numpy's linear
    interpolation (``numpy.percentile(..., method="linear")``). Tasks with fewer than
    ``min_repeats`` episodes are left out and counted in ``excluded``. The interval
    resamples tasks.
    """
    return _task_percentile_measure(
        records,
        _p90_minus_p10,
        task_key=task_key,
        score_key=score_key,
        min_repeats=min_repeats,
        resamples=resamples,
        level=level,
        seed=seed,
    )


def multi_turn_drop(
    records: Sequence[Record],
    *,
    mode_key: str = "mode",
    full: str = "full",
    sharded: str = "sharded",
    task_key: str = "task",
    score_key: str = "score",
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Estimate:
    """Relative drop in percent of the mean score when a task's request is sharded.

    As in "LLMs Get Lost In Multi-Turn Conversation" (Laban et al.): the same tasks are run
    with the whole request in the first turn (mode ``full``) and with it revealed in
    pieces over turns (mode ``sharded``). Per task the scores of each mode are averaged;
    the drop is ``100 · (1 − mean_sharded / mean_full)`` over tasks run in both modes, so
    positive numbers mean the multi-turn setting is worse. Tasks run in only one mode are
    counted in ``excluded``; records in other modes are ignored. The interval resamples
    tasks, keeping each task's two modes paired. The value is NaN when the mean full-mode
    score is 0.
    """
    resamples, level = _options(resamples, level)
    modes = [field_value(r, mode_key, i) for i, r in enumerate(records)]
    chosen = [r for r, m in zip(records, modes, strict=True) if m in (full, sharded)]
    chosen_modes = [m for m in modes if m in (full, sharded)]
    scores = _scores(chosen, score_key, unit_range=False)
    keys, codes = group_rows(_tasks(chosen, task_key))
    is_full = np.array([m == full for m in chosen_modes], dtype=bool)
    full_means, sharded_means = [], []
    for g in range(len(keys)):
        in_full = (codes == g) & is_full
        in_sharded = (codes == g) & ~is_full
        if in_full.any() and in_sharded.any():
            full_means.append(scores[in_full].mean())
            sharded_means.append(scores[in_sharded].mean())
    f = np.array(full_means, dtype=np.float64)
    s = np.array(sharded_means, dtype=np.float64)

    def drop(counts: FloatArray) -> FloatArray:
        full_total = counts @ f
        sharded_total = counts @ s
        safe = np.where(full_total == 0.0, 1.0, full_total)
        return np.where(full_total == 0.0, np.nan, 100.0 * (1.0 - sharded_total / safe))

    method = f"percentile bootstrap over paired tasks, {resamples} resamples"
    return weighted_estimate(
        f,
        drop,
        resamples=resamples,
        level=level,
        seed=seed,
        method=method,
        excluded=len(keys) - f.size,
    )


def breakdown(
    records: Sequence[Record],
    by: str | Callable[[Record], Hashable],
    metric: Callable[..., Estimate] = success_rate,
    **options: Any,
) -> dict[Hashable, Estimate]:
    """Apply ``metric`` to the records of each group, ``{group: Estimate}``.

    ``by`` is a field name (dotted for nested fields, e.g. ``"persona.expertise"`` or
    ``"suite"``) or a function of a record. ``options`` are passed on to ``metric``, e.g.
    ``breakdown(records, "suite", aptitude, min_repeats=5)``. Groups are sorted when their
    keys can be sorted, else kept in order of first appearance.
    """
    groups: dict[Hashable, list[Record]] = {}
    for index, record in enumerate(records):
        key = by(record) if callable(by) else field_value(record, by, index)
        try:
            groups.setdefault(key, []).append(record)
        except TypeError:
            raise ConfigError(f"group of record {index} is not hashable: {key!r}") from None
    try:
        ordered = sorted(groups)  # type: ignore[type-var]
    except TypeError:
        ordered = list(groups)
    return {key: metric(groups[key], **options) for key in ordered}


@dataclass(frozen=True, kw_only=True, slots=True)
class SuccessByTurn:
    """Cumulative success rate by turn, and what each turn added.

    ``cumulative[t - 1]`` is the share of episodes that had succeeded by turn ``t`` and
    ``gain[t - 1]`` the part of it first reached at turn ``t``; both with intervals from
    resampling episodes. ``n`` is the number of episodes.
    """

    turns: tuple[int, ...]
    cumulative: tuple[Estimate, ...]
    gain: tuple[Estimate, ...]
    n: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN numbers become ``None``."""
        result: dict[str, Any] = jsonable(self)
        return result


def success_by_turn(
    first_success_turns: Sequence[int | None],
    *,
    max_turns: int | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> SuccessByTurn:
    """Cumulative success rate at turns 1..T from each episode's first successful turn.

    ``first_success_turns`` has one entry per episode: the 1-based turn at which the task
    was first solved, or ``None`` if it never was. ``max_turns`` (T) defaults to the
    latest turn seen. Successes after T count as failures within the horizon.
    """
    resamples, level = _options(resamples, level)
    turns = []
    for index, turn in enumerate(first_success_turns):
        if turn is None:
            turns.append(math.inf)
        elif isinstance(turn, bool) or not isinstance(turn, int | np.integer) or turn < 1:
            raise ConfigError(
                f"episode {index}: first success turn must be an integer >= 1 or None, got {turn!r}"
            )
        else:
            turns.append(float(turn))
    first = np.array(turns, dtype=np.float64)
    seen = [t for t in turns if math.isfinite(t)]
    horizon = max_turns if max_turns is not None else int(max(seen, default=0))
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 0:
        raise ConfigError(f"max_turns must be a non-negative integer, got {max_turns!r}")
    steps = np.arange(1, horizon + 1, dtype=np.float64)
    reached = (first[:, None] <= steps[None, :]).astype(np.float64)  # episodes x turns
    n = first.size
    method = f"percentile bootstrap over episodes, {resamples} resamples"

    if n == 0:
        nothing = empty_estimate(level=level, method=method)
        return SuccessByTurn(
            turns=tuple(range(1, horizon + 1)),
            cumulative=(nothing,) * horizon,
            gain=(nothing,) * horizon,
            n=0,
        )
    cumulative_value = reached.mean(axis=0)
    gain_value = np.diff(cumulative_value, prepend=0.0)
    replicates = None
    if n > 1 and horizon > 0:
        replicates = weighted_replicates(
            n, lambda counts: (counts @ reached) / n, resamples=resamples, seed=seed
        )

    def column(values: FloatArray, reps: FloatArray | None, t: int) -> Estimate:
        return estimate_from_replicates(
            float(values[t]), None if reps is None else reps[:, t], n=n, level=level, method=method
        )

    gain_reps = None if replicates is None else np.diff(replicates, axis=1, prepend=0.0)
    return SuccessByTurn(
        turns=tuple(range(1, horizon + 1)),
        cumulative=tuple(column(cumulative_value, replicates, t) for t in range(horizon)),
        gain=tuple(column(gain_value, gain_reps, t) for t in range(horizon)),
        n=n,
    )
