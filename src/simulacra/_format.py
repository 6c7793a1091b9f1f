"""How estimates are written for people, the same in every command."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def format_number(
    value: float | None, *, percent: bool = False, digits: int = 3, decimals: int | None = None
) -> str:
    """``12.5%``, ``0.412`` (``digits`` significant) or ``-1250.0`` (fixed ``decimals``);
    ``–`` for a missing or NaN value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if abs(value) < 1e-12:
        value = 0.0
    if percent:
        return f"{value:.1%}"
    return f"{value:.{decimals}f}" if decimals is not None else f"{value:.{digits}g}"


def format_estimate(
    estimate: Any,
    *,
    percent: bool = False,
    digits: int = 3,
    decimals: int | None = None,
    words: bool = False,
) -> str:
    """An ``Estimate`` (or its dict) as ``value [low, high]``, or with ``words`` as
    ``value  (95% CI low to high, n=N)``; ``n/a`` when there is no value. An interval of
    zero width is not shown as one."""
    if hasattr(estimate, "to_dict"):
        estimate = estimate.to_dict()
    elif hasattr(estimate, "model_dump"):  # a record's Estimate
        estimate = estimate.model_dump(mode="json")
    data: Mapping[str, Any] | None = estimate
    if not data or data.get("value") is None:
        return "n/a"

    def number(value: float | None) -> str:
        return format_number(value, percent=percent, digits=digits, decimals=decimals)

    text = number(data["value"])
    low, high = data.get("low"), data.get("high")
    # A zero-width interval is no interval: it says nothing about uncertainty.
    has_ci = low is not None and high is not None and high > low
    if words:
        level = f"{data.get('level', 0.95):.0%}"
        if has_ci:
            return f"{text}  ({level} CI {number(data['low'])} to {number(data['high'])}, n={data.get('n', 0)})"
        return f"{text}  (n={data.get('n', 0)})"
    return f"{text} [{number(data['low'])}, {number(data['high'])}]" if has_ci else text
