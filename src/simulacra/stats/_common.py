"""Small helpers shared by the stats modules: input checks and JSON conversion."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulacra.errors import ConfigError

FloatArray = NDArray[np.float64]
Values = Sequence[Any] | NDArray[Any]
"""A flat sequence of values: a list, a tuple or a 1-D numpy array."""


def check_level(level: float) -> float:
    """Return ``level`` as a float, or raise if it is not strictly between 0 and 1."""
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0.0 < level < 1.0:
        raise ConfigError(f"confidence level must be strictly between 0 and 1, got {level!r}")
    return float(level)


def check_resamples(resamples: int) -> int:
    """Return ``resamples``, or raise if it is not a positive integer."""
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 1:
        raise ConfigError(f"resamples must be a positive integer, got {resamples!r}")
    return resamples


def check_same_length(**named: Sequence[Any] | NDArray[Any]) -> int:
    """Return the common length of the named sequences, or raise naming the mismatch."""
    lengths = {name: len(values) for name, values in named.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}={size}" for name, size in lengths.items())
        raise ConfigError(f"inputs must have the same length, got {shown}")
    return next(iter(lengths.values()), 0)


def as_float(value: Any, *, what: str) -> float:
    """Convert a bool or real number to a finite float; raise naming ``what`` otherwise."""
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating):
        result = float(value)
        if math.isfinite(result):
            return result
    raise ConfigError(f"{what} must be a finite number or bool, got {value!r}")


def float_array(values: Sequence[Any] | NDArray[Any], *, what: str) -> FloatArray:
    """Convert a sequence of numbers (or bools) to a finite 1-D float array."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ConfigError(f"{what} must be a flat sequence of numbers, got shape {array.shape}")
    if array.dtype.kind in "biuf":
        result = array.astype(np.float64)
        if not np.all(np.isfinite(result)):
            bad = int(np.flatnonzero(~np.isfinite(result))[0])
            raise ConfigError(f"{what}[{bad}] is not a finite number: {result[bad]!r}")
        return result
    return np.array(
        [as_float(v, what=f"{what}[{i}]") for i, v in enumerate(array.tolist())],
        dtype=np.float64,
    )


def is_missing(value: Any) -> bool:
    """True for ``None`` and for a float NaN, the two spellings of a missing value."""
    if value is None:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def jsonable(value: Any) -> Any:
    """Convert results to JSON-ready data: dataclasses become dicts, NaN and inf become None."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    return value
