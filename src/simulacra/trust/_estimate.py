"""Unbiased estimates from a few human labels and many synthetic ones.

The quantity is the mean human label over all items: the win rate of A for pairwise
labels, the success rate for 0/1 labels, the mean rating for ratings. Humans label a
random sample of the items and a synthetic rater labels every item; the estimate is
prediction-powered ("Prediction-Powered Inference"; with the tuned weight of "PPI++:
Efficient Prediction-Powered Inference"; applied to win rates in "Accelerating Unbiased
LLM Evaluation via Synthetic Feedback"), computed by :func:`simulacra.stats.ppi_mean`.

Per item, the human value is the mean of its human labels and the synthetic value the
mean of the rater's labels (of every rater in the file, unless one is chosen). An item
the rater abstained on gets the middle of the scale as its synthetic value: any fixed
rule keeps the estimate unbiased, the rater just helps less on that item.

The interval is only meaningful when the design of the human labels is known. Two are:

- a random sample of the items (labels without design columns); the estimate is
  :func:`simulacra.stats.ppi_mean`;
- a selection by :func:`simulacra.trust.select_items`: the ``k`` items chosen for
  disagreement labelled in full, plus items drawn at random from the rest; each label
  carries its ``stratum`` and ``stratum_size``. The estimate is
  :func:`simulacra.stats.stratified_ppi_mean`: the chosen items' human mean and a
  prediction-powered mean of the rest, weighted by stratum size.

Anything else is refused with an error naming the human file and line: labels of a
selection without stratum sizes (chosen on purpose, so their weight is unknown, or drawn
at random from outside the chosen items, so not a random sample), a top stratum not
labelled in full, stratum sizes that do not match the synthetic file (it changed since
the selection, or the selection excluded items), or labels of both designs mixed. The
random part must be large enough for the requested confidence level (see
:func:`check_human_size`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from simulacra.errors import ConfigError
from simulacra.stats import MIN_HUMAN_LABELS, PPIResult, jsonable, ppi_mean, stratified_ppi_mean
from simulacra.trust._labels import (
    Label,
    LabelKind,
    LabelSet,
    check_compatible,
    check_known_items,
    item_scores,
)

Method = Literal["ppi", "ppi++"]

MIN_MINORITY = 10
"""Fewest expected labels on each side of a 0–1 scale for the normal approximation.

The common rule of 5 let through samples (p ≈ 0.9, n = 50) whose normal interval
covered 88% in simulation; 10 keeps coverage within 2.5 points of 95% in
``benchmarks/coverage.py``."""

ACTIVE_SELECTIONS = frozenset({"disagreement", "confidence", "uncertainty"})
"""``selected_by`` values of items picked on purpose (not at random)."""


def required_human_items(level: float) -> int:
    """Fewest human-labelled items for an interval at ``level``.

    At least :data:`~simulacra.stats.MIN_HUMAN_LABELS` (10), and at least
    ``1 / (1 − level)`` so that the tail the interval leaves out is worth at least one
    item: 20 at 95%, 100 at 99%.
    """
    tail = 1.0 - level
    return max(MIN_HUMAN_LABELS, math.ceil(round(1.0 / tail, 9)))


@dataclass(frozen=True, kw_only=True, slots=True)
class HumanSyntheticEstimate:
    """A prediction-powered estimate with what it rests on.

    ``target`` names the quantity (e.g. ``"win rate of A"``); ``result`` holds the
    estimate, the human-only and synthetic-only baselines and the effective number of
    human labels. ``design`` is ``"random sample"`` or ``"stratified"`` (a selection:
    ``n_top`` items labelled in full, the rest sampled). ``n_human_items`` and
    ``n_human_labels`` count the humans' items and labels used, ``imputed`` the items
    whose synthetic value is the scale's middle because the rater abstained.
    ``excluded_active`` is kept for compatibility and is always 0: labels chosen on
    purpose are either used by the stratified design or refused.
    """

    target: str
    method: Method
    rater: str
    result: PPIResult
    n_human_items: int
    n_human_labels: int
    n_synthetic_items: int
    excluded_active: int
    imputed: int
    scale: tuple[float, float]
    design: str = "random sample"
    n_top: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN becomes ``None``."""
        result: dict[str, Any] = jsonable(self)
        return result


def _scale(kind: LabelKind, human: LabelSet, synthetic: LabelSet) -> tuple[float, float]:
    if kind != "rating":
        return 0.0, 1.0
    scale = synthetic.scale or human.scale
    if scale is not None:
        return scale
    values = [x.score for x in [*human.labels, *synthetic.labels] if x.score is not None]
    return min(values), max(values)


def _target(kind: LabelKind, dimension: str | None) -> str:
    if kind == "pairwise":
        return "win rate of A (ties half)"
    if kind == "binary":
        return "success rate"
    return f"mean rating ({dimension})" if dimension else "mean rating"


def check_human_size(
    values: Sequence[float],
    *,
    level: float,
    scale: tuple[float, float],
    source: str,
    n_labels: int | None = None,
) -> None:
    """Refuse a human sample too small for a meaningful interval at ``level``.

    Three checks: at least :func:`required_human_items` items; labels that are not all
    the same (else the interval has zero width, whatever the truth); and, with the labels
    rescaled to 0–1, at least :data:`MIN_MINORITY` (10) expected on each side
    (``n·p̂ ≥ 10`` and ``n·(1 − p̂) ≥ 10``, ``n`` the number of human labels,
    ``n_labels``, when items carry several, else of items). The common rule of 5 let
    through samples whose normal interval covered 88–90% (p ≈ 0.9, n = 50).
    """
    n = len(values)
    need = required_human_items(level)
    if n < need:
        raise ConfigError(
            f"the human set is too small for a {level:.0%} interval: n={n} human-labelled "
            f"item(s), need at least {need}; label more items or lower --level",
            source=source,
        )
    if len(set(values)) == 1:
        raise ConfigError(
            f"all {n} human-labelled items have the same value ({values[0]:g}); an interval "
            "from them would have zero width. Label more items",
            source=source,
        )
    low, high = scale
    p = (float(np.mean(values)) - low) / (high - low)
    counted = max(n, n_labels or 0)
    minority = counted * min(p, 1.0 - p)
    if minority < MIN_MINORITY:
        raise ConfigError(
            f"the human set is too small for a {level:.0%} interval: with n={counted} "
            f"label(s) and a mean of {p:.1%} of the scale, only {minority:.1f} are expected "
            f"on the rarer side (need {MIN_MINORITY}); a normal interval would be "
            f"unreliable. Label at least "
            f"{math.ceil(MIN_MINORITY / max(min(p, 1.0 - p), 1e-9))} items",
            source=source,
        )


def estimate(
    human: LabelSet,
    synthetic: LabelSet,
    *,
    method: Method = "ppi++",
    rater: str | None = None,
    dimension: str | None = None,
    level: float = 0.95,
) -> HumanSyntheticEstimate:
    """Estimate the mean human label over all synthetic items without the rater's bias.

    ``rater`` picks one rater of the synthetic file (default: all raters, averaged per
    item). Raises :class:`~simulacra.errors.ConfigError` for labels of different kinds or
    scales, human items missing from the synthetic file, an unknown rater, no synthetic
    item without a human label, or a human set too small for ``level``.
    """
    if method not in ("ppi", "ppi++"):
        raise ConfigError(f"method must be 'ppi' or 'ppi++', got {method!r}")
    check_compatible(human, synthetic)
    if human.kind == "rating":
        human = human.select_dimension(dimension)
        synthetic = synthetic.select_dimension(dimension)
        dimension = dimension or next(iter(human.dimensions), None)
    check_known_items(human, synthetic)
    items = synthetic.items
    if rater is not None:
        if rater not in synthetic.annotators:
            raise ConfigError(
                f"no rater {rater!r} (raters: {', '.join(synthetic.annotators)})",
                source=synthetic.source,
            )
        synthetic = synthetic.only(annotators=[rater])
    kind = human.kind
    scale = _scale(kind, human, synthetic)
    middle = (scale[0] + scale[1]) / 2.0
    synthetic_values = item_scores(synthetic.labels)
    imputed = sum(1 for item in items if item not in synthetic_values)

    def synthetic_value(item: str) -> float:
        values = synthetic_values.get(item)
        return sum(values) / len(values) if values else middle

    top = _design(human, n_items=len(items))
    human_values = item_scores(human.labels)
    labelled = [item for item in human.items if item in human_values]
    y = [sum(human_values[item]) / len(human_values[item]) for item in labelled if item not in top]
    f_n = [synthetic_value(item) for item in labelled if item not in top]
    if top and len(y) < required_human_items(level):
        raise ConfigError(
            f"the selection has {len(top)} items chosen on purpose but only {len(y)} drawn "
            f"at random from the rest; the rest needs at least {required_human_items(level)} "
            "random items for an interval (select again with a larger --random)",
            source=human.source,
        )
    rest_labels = sum(len(human_values[item]) for item in labelled if item not in top)
    check_human_size(y, level=level, scale=scale, source=human.source, n_labels=rest_labels)
    unlabelled = [synthetic_value(item) for item in items if item not in human_values]
    if not unlabelled:
        raise ConfigError(
            f"every one of the {len(items)} synthetic items has a human label; there is "
            "nothing for synthetic labels to add (the human-only mean is the estimate)",
            source=synthetic.source,
        )
    if top:
        census = [sum(human_values[item]) / len(human_values[item]) for item in top]
        result = stratified_ppi_mean(
            census,
            y,
            f_n,
            unlabelled,
            synthetic_census=[synthetic_value(item) for item in top],
            method=method,
            level=level,
        )
    else:
        result = ppi_mean(y, f_n, unlabelled, method=method, level=level)
    return HumanSyntheticEstimate(
        target=_target(kind, dimension),
        method=method,
        rater=rater or ("+".join(synthetic.annotators)),
        result=result,
        n_human_items=len(labelled),
        n_human_labels=len(human.labels),
        n_synthetic_items=len(items),
        excluded_active=0,
        imputed=imputed,
        scale=scale,
        design="stratified" if top else "random sample",
        n_top=len(top),
    )


def _design(human: LabelSet, *, n_items: int) -> list[str]:
    """The items of the fully labelled top stratum (empty for a random sample).

    Raises naming the human file and line when the labels' design cannot be accounted
    for (see the module docstring).
    """
    designed = [x for x in human.labels if x.stratum is not None]
    active = [
        x
        for x in human.labels
        if x.stratum is None and (x.selected_by or "").lower() in ACTIVE_SELECTIONS
    ]
    if active:
        raise _refuse(
            active[0],
            f"the label was chosen for {active[0].selected_by} but carries no stratum_size, "
            "so its weight in the estimate is unknown (items chosen on purpose are not a "
            "random sample). Make the selection again with `simulacra select` and ingest "
            "the sheet it writes, or remove the labels chosen on purpose",
        )
    drawn = [
        x for x in human.labels if x.stratum is None and (x.selected_by or "").lower() == "random"
    ]
    if drawn:
        raise _refuse(
            drawn[0],
            "the label was drawn at random by a selection but carries no stratum_size: such "
            "items were drawn from outside the items chosen on purpose, so they are not a "
            "random sample of all items. Make the selection again with `simulacra select` "
            "and ingest the sheet it writes",
        )
    if not designed:
        return []
    plain = [x for x in human.labels if x.stratum is None]
    if plain:
        raise _refuse(
            plain[0],
            "labels of a selection (with stratum columns) are mixed with labels of unknown "
            "design (without them); estimate from one design at a time",
        )
    strata: dict[str, list[Label]] = {}
    for label in designed:
        if label.stratum not in ("top", "rest"):
            raise _refuse(label, f"unknown stratum {label.stratum!r}; expected top or rest")
        if label.stratum_size is None:
            raise _refuse(label, f"stratum {label.stratum!r} without a stratum_size")
        strata.setdefault(label.stratum, []).append(label)
    sizes: dict[str, int] = {}
    for name, labels in strata.items():
        found = {int(x.stratum_size or 0) for x in labels}
        if len(found) > 1:
            raise _refuse(labels[0], f"stratum {name!r} has different sizes {sorted(found)}")
        sizes[name] = found.pop()
    top = list(dict.fromkeys(x.item_id for x in strata.get("top", [])))
    if len(top) != sizes.get("top", 0):
        first = strata["top"][0]
        raise _refuse(
            first,
            f"the selection's top stratum has {sizes['top']} items but only {len(top)} have "
            "human labels; the design needs every chosen item labelled (a partly labelled "
            "top stratum is not a random sample of it)",
        )
    rest = n_items - len(top)
    if "rest" in sizes and sizes["rest"] != rest:
        raise _refuse(
            strata["rest"][0],
            f"the random items were drawn from {sizes['rest']} items outside the top "
            f"stratum, but the synthetic file has {rest}; estimate with the synthetic labels "
            "the selection was made from (a selection with --exclude cannot be weighted "
            "against the full file)",
        )
    return top


def _refuse(label: Label, message: str) -> ConfigError:
    return ConfigError(message, source=label.source, field=f"line {label.line}")


__all__ = [
    "ACTIVE_SELECTIONS",
    "MIN_MINORITY",
    "HumanSyntheticEstimate",
    "check_human_size",
    "estimate",
    "required_human_items",
]
