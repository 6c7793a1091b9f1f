"""Named registries: how configs refer to personas, tasks, simulators, raters, metrics.

Built-ins register through the same door as user code: the ``register`` decorator, or an
import path ``package.module:object`` given where a name is expected.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from simulacra.errors import ConfigError

T = TypeVar("T")


def import_object(path: str) -> object:
    """Import ``package.module:attr`` (``attr`` may be dotted) and return the object."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"import path {path!r} must look like 'package.module:object'")
    try:
        obj: object = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import module {module_name!r} ({exc})") from exc
    except SyntaxError as exc:
        where = f"{exc.filename}, line {exc.lineno}" if exc.filename else module_name
        raise ConfigError(
            f"module {module_name!r} has a syntax error ({where}: {exc.msg})"
        ) from None
    except Exception as exc:
        raise ConfigError(
            f"importing module {module_name!r} raised {type(exc).__name__}: {exc}"
        ) from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise ConfigError(f"module {module_name!r} has no attribute {attr!r}") from exc
    return obj


class Registry(Generic[T]):
    """A name → object table for one kind of thing (``kind`` is used in error messages)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorate

    def add(self, name: str, obj: T) -> None:
        if name in self._items and self._items[name] is not obj:
            raise ConfigError(f"{self.kind} {name!r} is already registered")
        self._items[name] = obj

    def get(self, name: str) -> T:
        """Look up ``name``; an import path ``pkg.mod:obj`` is imported instead."""
        if name in self._items:
            return self._items[name]
        if ":" in name:
            return import_object(name)  # type: ignore[return-value]
        known = ", ".join(sorted(self._items)) or "none"
        raise ConfigError(f"unknown {self.kind} {name!r} (known: {known})")

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def names(self) -> list[str]:
        return sorted(self._items)
