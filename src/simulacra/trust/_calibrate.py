"""Rater fidelity: how closely a synthetic rater reproduces human labels.

Measured on the items both humans and the rater labelled, every interval a percentile
bootstrap over items:

- agreement with the human majority: 1 when the rater's label is the most frequent
  human label; when several labels tie for most frequent, the share of them it matches
  (the expected agreement under a random tie-break);
- leave-one-out agreement, as AlpacaEval ("AlpacaFarm: A Simulation Framework for
  Methods that Learn from Human Feedback", and its evaluator leaderboard) defines it: on
  items with two or more human labels, each human in turn is held out, and both the
  held-out human and the rater are scored against the mode of the *remaining* humans
  (the share of the tied modes matched when several tie), averaged over the held-out
  choices. Because the two are scored against the same reference, a rater that is
  statistically one more human has an expected gap of exactly 0; the rater is as good
  as a person when its agreement reaches the humans' own;
- Cohen's kappa and Krippendorff's alpha between the rater and the human majority
  (items with a unique majority), and alpha among the humans themselves;
- bias: the mean difference between the rater's score and the humans' (A wins 1, B 0,
  tie 0.5; ratings as given), the preference for the longer response compared with the
  humans' on the same items, the preference for the response shown first, and the
  differences per segment when items carry one;
- system-level rank agreement: Spearman's rho and Kendall's tau between systems ranked
  by the humans' and by the rater's labels, when items name their systems.

With more than one rater in the synthetic file, each is measured, and so is the pool:
the mean of its raters' scores per item.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from simulacra.errors import ConfigError
from simulacra.stats import (
    Estimate,
    bootstrap,
    cohen_kappa,
    jsonable,
    kendall,
    krippendorff_alpha,
    length_preference,
    position_bias,
    spearman,
)
from simulacra.trust._labels import (
    Label,
    LabelKind,
    LabelSet,
    check_compatible,
    check_known_items,
)

POOL = "pool"
"""Name of the combined rater (the mean of every rater's scores) in a report."""

NAN = float("nan")


def _empty(method: str = "no items") -> Estimate:
    return Estimate(value=NAN, low=NAN, high=NAN, n=0, method=method)


def _category(score: float, kind: LabelKind) -> str:
    """The nominal label of a (possibly averaged) score."""
    if kind == "pairwise":
        return "A" if score > 0.5 else "B" if score < 0.5 else "tie"
    return f"{math.floor(score + 0.5):g}"


def _modes(categories: Sequence[str]) -> list[str]:
    counts = Counter(categories)
    top = max(counts.values())
    return sorted(c for c, n in counts.items() if n == top)


def _match(category: str, modes: Sequence[str]) -> float:
    return (category in modes) / len(modes)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Item:
    """One item's human labels and one rater's combined judgement."""

    item_id: str
    human: list[Label]
    score: float
    category: str
    segment: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class SegmentFidelity:
    """Agreement and bias of a rater on the items of one segment."""

    segment: str
    n_items: int
    agreement: Estimate
    bias: Estimate

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN becomes ``None``."""
        result: dict[str, Any] = jsonable(self)
        return result


@dataclass(frozen=True, kw_only=True, slots=True)
class SystemRanking:
    """Systems scored by humans and by a rater, and the rank agreement of the two.

    A system's score is its mean over the items it appears in: its share of wins for
    pairwise items (as A or as B), its mean rating or success otherwise.
    """

    human: Mapping[str, float]
    synthetic: Mapping[str, float]
    spearman: Estimate
    kendall: Estimate

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN becomes ``None``."""
        result: dict[str, Any] = jsonable(self)
        return result


@dataclass(frozen=True, kw_only=True, slots=True)
class RaterFidelity:
    """Every fidelity measure of one rater (see the module docstring).

    ``held_out_gap`` is the rater's leave-one-out agreement minus the humans' on the
    same items (negative: worse than a person). ``length_bias`` is the rater's share of
    wins for the longer response minus the humans' on the same pairs, ``mean_bias`` its
    mean score minus the humans'. Measures that need data the labels lack are ``None``.
    """

    rater: str
    n_items: int
    abstentions: int
    majority_agreement: Estimate
    rater_vs_held_out: Estimate | None
    human_vs_held_out: Estimate | None
    held_out_gap: Estimate | None
    kappa: Estimate
    alpha: Estimate
    mean_bias: Estimate
    length_preference: Estimate | None
    human_length_preference: Estimate | None
    length_bias: Estimate | None
    position_preference: Estimate | None
    segments: Sequence[SegmentFidelity] = field(default_factory=list)
    ranking: SystemRanking | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN becomes ``None``."""
        result: dict[str, Any] = jsonable(self)
        return result


@dataclass(frozen=True, kw_only=True, slots=True)
class CalibrationReport:
    """Rater fidelity for every rater of a synthetic label file against human labels.

    ``human_alpha`` is Krippendorff's alpha among the human annotators and
    ``human_vs_held_out`` their leave-one-out agreement on all items with two or more
    human labels: the reference a rater is measured against.
    """

    kind: LabelKind
    scale: tuple[float, float] | None
    human_source: str
    synthetic_source: str
    n_items: int
    n_human_labels: int
    n_annotators: int
    human_position_preference: Estimate | None
    human_alpha: Estimate
    human_vs_held_out: Estimate | None
    raters: Mapping[str, RaterFidelity]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN becomes ``None``."""
        result: dict[str, Any] = jsonable(self)
        return result


# --- pieces -----------------------------------------------------------------------------


def _mean_ci(values: Sequence[float], *, resamples: int, seed: int) -> Estimate:
    if not values:
        return _empty()
    return bootstrap(np.asarray(values, dtype=np.float64), resamples=resamples, seed=seed)


def _index_ci(
    n: int,
    statistic: Callable[[NDArray[np.intp]], float],
    *,
    resamples: int,
    seed: int,
    what: str,
) -> Estimate:
    """Bootstrap a statistic of item indices (for measures that are not means)."""
    if n == 0:
        return _empty()
    try:
        return bootstrap(np.arange(n), statistic, resamples=resamples, seed=seed)
    except ConfigError as exc:
        return _empty(f"{what} undefined: {exc}")


def _loo(items: Sequence[_Item]) -> tuple[list[float], list[float]]:
    """Per-item leave-one-out agreement of the rater and of the other humans."""
    rater_scores: list[float] = []
    human_scores: list[float] = []
    for item in items:
        categories = [label.category for label in item.human if label.category is not None]
        if len(categories) < 2:
            continue
        rater_hits = []
        human_hits = []
        for held in range(len(categories)):
            rest = categories[:held] + categories[held + 1 :]
            modes = _modes(rest)
            human_hits.append(_match(categories[held], modes))
            rater_hits.append(_match(item.category, modes))
        rater_scores.append(float(np.mean(rater_hits)))
        human_scores.append(float(np.mean(human_hits)))
    return rater_scores, human_scores


def _human_mean(item: _Item) -> float:
    return float(np.mean([label.score for label in item.human if label.score is not None]))


def _lengths(item: _Item, rater_labels: Sequence[Label]) -> tuple[float, float] | None:
    for label in [*rater_labels, *item.human]:
        if label.len_a is not None and label.len_b is not None:
            return label.len_a, label.len_b
    return None


def _systems_of(
    labels: Sequence[Label], episodes: Mapping[str, str] | None
) -> tuple[str | None, str | None, str | None]:
    """``(system_a, system_b, system)`` from the labels or the run's episodes."""
    found: dict[str, str | None] = {"a": None, "b": None, "one": None}
    for label in labels:
        found["a"] = found["a"] or label.system_a
        found["b"] = found["b"] or label.system_b
        found["one"] = found["one"] or label.system
        if episodes:
            if label.episode_a and not found["a"]:
                found["a"] = episodes.get(label.episode_a)
            if label.episode_b and not found["b"]:
                found["b"] = episodes.get(label.episode_b)
            if label.episode and not found["one"]:
                found["one"] = episodes.get(label.episode)
    return found["a"], found["b"], found["one"]


def _ranking(
    items: Sequence[_Item],
    rater_labels: Mapping[str, list[Label]],
    kind: LabelKind,
    episodes: Mapping[str, str] | None,
    *,
    resamples: int,
    seed: int,
) -> SystemRanking | None:
    item_index: list[int] = []
    system_index: list[int] = []
    human_values: list[float] = []
    rater_values: list[float] = []
    names: dict[str, int] = {}
    for position, item in enumerate(items):
        sys_a, sys_b, sys_one = _systems_of(
            [*item.human, *rater_labels.get(item.item_id, [])], episodes
        )
        h = _human_mean(item)
        if kind == "pairwise" and sys_a and sys_b:
            parts = [(sys_a, h, item.score), (sys_b, 1.0 - h, 1.0 - item.score)]
        elif kind != "pairwise" and sys_one:
            parts = [(sys_one, h, item.score)]
        else:
            continue
        for system, human_value, rater_value in parts:
            item_index.append(position)
            system_index.append(names.setdefault(system, len(names)))
            human_values.append(human_value)
            rater_values.append(rater_value)
    if len(names) < 2:
        return None
    systems = list(names)
    c_item = np.array(item_index, dtype=np.intp)
    c_sys = np.array(system_index, dtype=np.intp)
    c_h = np.array(human_values)
    c_r = np.array(rater_values)

    def scores(weights: NDArray[np.float64]) -> tuple[dict[str, float], dict[str, float]] | None:
        w = weights[c_item]
        count = np.bincount(c_sys, weights=w, minlength=len(systems))
        if np.any(count == 0):
            return None
        h_sum = np.bincount(c_sys, weights=w * c_h, minlength=len(systems))
        r_sum = np.bincount(c_sys, weights=w * c_r, minlength=len(systems))
        return (
            dict(zip(systems, (h_sum / count).tolist(), strict=True)),
            dict(zip(systems, (r_sum / count).tolist(), strict=True)),
        )

    def correlation(method: Callable[[Any, Any], float]) -> Callable[[NDArray[np.intp]], float]:
        def statistic(indices: NDArray[np.intp]) -> float:
            both = scores(np.bincount(indices, minlength=len(items)).astype(np.float64))
            return NAN if both is None else method(both[0], both[1])

        return statistic

    full = scores(np.ones(len(items)))
    assert full is not None
    return SystemRanking(
        human=full[0],
        synthetic=full[1],
        spearman=_index_ci(
            len(items), correlation(spearman), resamples=resamples, seed=seed, what="spearman"
        ),
        kendall=_index_ci(
            len(items), correlation(kendall), resamples=resamples, seed=seed, what="kendall"
        ),
    )


def _rater_items(
    human: Mapping[str, list[Label]],
    labels: Mapping[str, list[Label]],
    kind: LabelKind,
) -> list[_Item]:
    items = []
    for item_id, human_labels in human.items():
        scores = [label.score for label in labels.get(item_id, []) if label.score is not None]
        if not scores:
            continue
        score = float(np.mean(scores))
        segment = next(
            (x.segment for x in [*human_labels, *labels.get(item_id, [])] if x.segment), None
        )
        items.append(
            _Item(
                item_id=item_id,
                human=human_labels,
                score=score,
                category=_category(score, kind),
                segment=segment,
            )
        )
    return items


def rater_fidelity(
    human: LabelSet,
    synthetic: LabelSet,
    *,
    rater: str,
    labels: Mapping[str, list[Label]] | None = None,
    episodes: Mapping[str, str] | None = None,
    resamples: int = 2000,
    seed: int = 0,
) -> RaterFidelity:
    """Fidelity of one rater of ``synthetic`` (or of :data:`POOL`, every rater together).

    ``labels`` overrides the rater's labels grouped by item (used for the pool).
    ``episodes`` maps episode ids to system names for the ranking.
    """
    kind = human.kind
    if labels is None:
        chosen = [x for x in synthetic.labels if x.annotator == rater]
        if not chosen:
            raise ConfigError(f"no labels by rater {rater!r}", source=synthetic.source)
        grouped: dict[str, list[Label]] = defaultdict(list)
        for label in chosen:
            grouped[label.item_id].append(label)
        labels = grouped
    abstentions = sum(1 for group in labels.values() for x in group if x.value is None)
    items = _rater_items(human.by_item(), labels, kind)
    options = {"resamples": resamples, "seed": seed}
    human_cats = [[x.category for x in item.human if x.category is not None] for item in items]
    majority = [
        _match(item.category, _modes(cats)) for item, cats in zip(items, human_cats, strict=True)
    ]
    rater_loo, human_loo = _loo(items)
    unique = [
        (item, _modes(cats)[0])
        for item, cats in zip(items, human_cats, strict=True)
        if len(_modes(cats)) == 1
    ]
    rater_cat = np.array([item.category for item, _ in unique], dtype=object)
    human_cat = np.array([cat for _, cat in unique], dtype=object)
    if kind == "rating":
        rater_num = np.array([item.score for item, _ in unique], dtype=object)
        human_num = np.array([float(cat) for _, cat in unique], dtype=object)
    else:
        rater_num, human_num = rater_cat, human_cat
    level: Literal["nominal", "interval"] = "interval" if kind == "rating" else "nominal"
    bias = [item.score - _human_mean(item) for item in items]
    length_rater: list[str] = []
    length_a: list[float] = []
    length_b: list[float] = []
    length_diff: list[float] = []
    human_longer: list[float] = []
    if kind == "pairwise":
        for item in items:
            lengths = _lengths(item, labels.get(item.item_id, []))
            if lengths is None or lengths[0] == lengths[1]:
                continue
            a_longer = lengths[0] > lengths[1]
            rater_longer = item.score if a_longer else 1.0 - item.score
            human_value = _human_mean(item) if a_longer else 1.0 - _human_mean(item)
            length_rater.append(item.category)
            length_a.append(lengths[0])
            length_b.append(lengths[1])
            length_diff.append(rater_longer - human_value)
            human_longer.append(human_value)
    shown = [
        x
        for group in labels.values()
        for x in group
        if x.first_shown is not None and isinstance(x.value, str)
    ]
    segments = []
    by_segment: dict[str, list[int]] = defaultdict(list)
    for position, item in enumerate(items):
        if item.segment is not None:
            by_segment[item.segment].append(position)
    for segment, members in sorted(by_segment.items()):
        segments.append(
            SegmentFidelity(
                segment=segment,
                n_items=len(members),
                agreement=_mean_ci([majority[i] for i in members], **options),
                bias=_mean_ci([bias[i] for i in members], **options),
            )
        )
    has_loo = bool(rater_loo)
    return RaterFidelity(
        rater=rater,
        n_items=len(items),
        abstentions=abstentions,
        majority_agreement=_mean_ci(majority, **options),
        rater_vs_held_out=_mean_ci(rater_loo, **options) if has_loo else None,
        human_vs_held_out=_mean_ci(human_loo, **options) if has_loo else None,
        held_out_gap=(
            _mean_ci([r - h for r, h in zip(rater_loo, human_loo, strict=True)], **options)
            if has_loo
            else None
        ),
        kappa=_index_ci(
            len(unique),
            lambda idx: cohen_kappa(rater_cat[idx], human_cat[idx]),
            what="kappa",
            **options,
        ),
        alpha=_index_ci(
            len(unique),
            lambda idx: krippendorff_alpha([rater_num[idx], human_num[idx]], level=level),
            what="alpha",
            **options,
        ),
        mean_bias=_mean_ci(bias, **options),
        length_preference=(
            length_preference(length_rater, length_a, length_b, resamples=resamples, seed=seed)
            if length_rater
            else None
        ),
        human_length_preference=_mean_ci(human_longer, **options) if human_longer else None,
        length_bias=_mean_ci(length_diff, **options) if length_diff else None,
        position_preference=(
            position_bias([x.value for x in shown], [x.first_shown for x in shown], **options)
            if shown
            else None
        ),
        segments=segments,
        ranking=_ranking(items, labels, kind, episodes, **options),
    )


def _human_alpha(human: LabelSet, *, resamples: int, seed: int) -> Estimate:
    annotators = human.annotators
    by_item = human.by_item()
    row = {name: i for i, name in enumerate(annotators)}
    matrix = np.full((len(annotators), len(by_item)), None, dtype=object)
    for column, labels in enumerate(by_item.values()):
        for label in labels:
            matrix[row[label.annotator], column] = (
                label.score if human.kind == "rating" else label.category
            )
    level: Literal["nominal", "interval"] = "interval" if human.kind == "rating" else "nominal"
    return _index_ci(
        len(by_item),
        lambda idx: krippendorff_alpha(matrix[:, idx], level=level),
        resamples=resamples,
        seed=seed,
        what="alpha",
    )


def calibrate(
    human: LabelSet,
    synthetic: LabelSet,
    *,
    dimension: str | None = None,
    episodes: Mapping[str, str] | None = None,
    resamples: int = 2000,
    seed: int = 0,
) -> CalibrationReport:
    """Measure every rater of ``synthetic`` (and their pool) against ``human`` labels.

    Both sets must hold the same kind and scale of label, and every human-labelled item
    must be in the synthetic file. For ratings of several dimensions pick one with
    ``dimension``. ``episodes`` maps episode ids to system names (from a run directory)
    for items that name episodes rather than systems.
    """
    check_compatible(human, synthetic)
    if human.kind == "rating":
        human = human.select_dimension(dimension)
        synthetic = synthetic.select_dimension(dimension)
    check_known_items(human, synthetic)
    raters = synthetic.annotators
    reports = {
        name: rater_fidelity(
            human, synthetic, rater=name, episodes=episodes, resamples=resamples, seed=seed
        )
        for name in raters
    }
    if len(raters) > 1:
        pooled: dict[str, list[Label]] = defaultdict(list)
        for label in synthetic.labels:
            pooled[label.item_id].append(label)
        reports[POOL] = rater_fidelity(
            human,
            synthetic,
            rater=POOL,
            labels=pooled,
            episodes=episodes,
            resamples=resamples,
            seed=seed,
        )
    if all(report.n_items == 0 for report in reports.values()):
        raise ConfigError(
            "no item has both a human label and a (non-abstaining) synthetic label",
            source=synthetic.source,
        )
    _, human_loo = _loo(
        [
            _Item(item_id=i, human=labels, score=0.0, category="", segment=None)
            for i, labels in human.by_item().items()
        ]
    )
    shown = [x for x in human.labels if x.first_shown is not None and isinstance(x.value, str)]
    return CalibrationReport(
        kind=human.kind,
        scale=synthetic.scale or human.scale,
        human_source=human.source,
        synthetic_source=synthetic.source,
        n_items=len(set(human.items) & set(synthetic.items)),
        n_human_labels=len(human.labels),
        n_annotators=len(human.annotators),
        human_position_preference=(
            position_bias(
                [x.value for x in shown],
                [x.first_shown for x in shown],
                resamples=resamples,
                seed=seed,
            )
            if shown
            else None
        ),
        human_alpha=_human_alpha(human, resamples=resamples, seed=seed),
        human_vs_held_out=(
            _mean_ci(human_loo, resamples=resamples, seed=seed) if human_loo else None
        ),
        raters=reports,
    )


__all__ = [
    "POOL",
    "CalibrationReport",
    "RaterFidelity",
    "SegmentFidelity",
    "SystemRanking",
    "calibrate",
    "rater_fidelity",
]
