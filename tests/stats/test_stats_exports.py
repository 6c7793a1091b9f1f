"""Pin the public surface of ``simulacra.stats``."""

from __future__ import annotations

import dataclasses
import inspect

import simulacra.stats as stats


def test_results_are_frozen_keyword_only_dataclasses_with_to_dict() -> None:
    for name in stats.__all__:
        obj = getattr(stats, name)
        if inspect.isclass(obj):
            assert dataclasses.is_dataclass(obj)
            params = obj.__dataclass_params__  # type: ignore[attr-defined]
            assert params.frozen, name
            assert all(f.kw_only for f in dataclasses.fields(obj)), name
            assert callable(obj.to_dict), name


def test_public_functions_are_documented() -> None:
    for name in stats.__all__:
        obj = getattr(stats, name)
        if callable(obj):
            assert obj.__doc__ and len(obj.__doc__) > 40, name
