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

The interval is only meaningful if the human-labelled items are a random sample. Human
labels marked ``selected_by: disagreement`` (picked because raters disagreed, see
:mod:`simulacra.trust._select`) are left out, and the human set must be large enough
for the requested confidence level (see :func:`required_human_items`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from simulacra.errors import ConfigError
from simulacra.stats import MIN_HUMAN_LABELS, PPIResult, jsonable, ppi_mean
from simulacra.trust._labels import (
    LabelKind,
    LabelSet,
    check_compatible,
    check_known_items,
    item_scores,
)

Method = Literal["ppi", "ppi++"]

MIN_MINORITY = 5
"""Fewest expected labels on each side of a 0–1 scale for the normal approximation."""

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
    human labels. ``n_human_items`` and ``n_human_labels`` count the humans' items and
    labels used, ``excluded_active`` the human-labelled items left out because they were
    not chosen at random, ``imputed`` the items whose synthetic value is the scale's
    middle because the rater abstained.
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
    values: Sequence[float], *, level: float, scale: tuple[float, float], source: str
) -> None:
    """Refuse a human sample too small for a meaningful interval at ``level``.

    Three checks: at least :func:`required_human_items` items; labels that are not all
    the same (else the interval has zero width, whatever the truth); and, with the labels
    rescaled to 0–1, at least :data:`MIN_MINORITY` expected on each side
    (``n·p̂ ≥ 5`` and ``n·(1 − p̂) ≥ 5``), the usual condition for the normal
    approximation of a proportion.
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
    minority = n * min(p, 1.0 - p)
    if minority < MIN_MINORITY:
        raise ConfigError(
            f"the human set is too small for a {level:.0%} interval: with n={n} items and a "
            f"mean of {p:.1%} of the scale, only {minority:.1f} item(s) are expected on the "
            f"rarer side (need {MIN_MINORITY}); a normal interval would be unreliable. "
            f"Label at least {math.ceil(MIN_MINORITY / max(min(p, 1.0 - p), 1e-9))} items",
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
    active = {x.item_id for x in human.labels if (x.selected_by or "").lower() in ACTIVE_SELECTIONS}
    kept = [x for x in human.labels if x.item_id not in active]
    human_values = item_scores(kept)
    synthetic_values = item_scores(synthetic.labels)
    imputed = sum(1 for item in items if item not in synthetic_values)

    def synthetic_value(item: str) -> float:
        values = synthetic_values.get(item)
        return sum(values) / len(values) if values else middle

    labelled = [item for item in human.items if item in human_values]
    y = [sum(human_values[item]) / len(human_values[item]) for item in labelled]
    check_human_size(y, level=level, scale=scale, source=human.source)
    f_n = [synthetic_value(item) for item in labelled]
    unlabelled = [synthetic_value(item) for item in items if item not in human_values]
    if not unlabelled:
        raise ConfigError(
            f"every one of the {len(items)} synthetic items has a human label; there is "
            "nothing for synthetic labels to add (the human-only mean is the estimate)",
            source=synthetic.source,
        )
    result = ppi_mean(y, f_n, unlabelled, method=method, level=level)
    return HumanSyntheticEstimate(
        target=_target(kind, dimension),
        method=method,
        rater=rater or ("+".join(synthetic.annotators)),
        result=result,
        n_human_items=len(labelled),
        n_human_labels=len(kept),
        n_synthetic_items=len(items),
        excluded_active=len(active),
        imputed=imputed,
        scale=scale,
    )


__all__ = [
    "ACTIVE_SELECTIONS",
    "MIN_MINORITY",
    "HumanSyntheticEstimate",
    "check_human_size",
    "estimate",
    "required_human_items",
]
