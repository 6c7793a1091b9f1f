"""Named registries: how configs refer to simulators, targets, backends, raters, suites.

One door for every kind of extension. A ``Registry`` maps a name to an object and to the
``Options`` model that the object's settings are validated with when a config is loaded
(unknown keys are errors). Built-ins register through this door exactly as user code
does: ``registry.add(name, obj, options=...)`` or the ``register`` decorator. Where a
name is expected, an import path ``package.module:object`` works too.

Third-party packages register through the entry-point group ``simulacra.plugins``: each
entry point names a module (importing it registers things) or a callable (called with
no arguments, it registers things). Plugins are loaded once, the first time a lookup
misses, so importing simulacra stays fast and a run that uses only built-ins never
imports them.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from simulacra.errors import ConfigError

T = TypeVar("T")

PLUGIN_GROUP = "simulacra.plugins"


class Options(BaseModel):
    """The typed settings of one registry entry; an unknown key is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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


_plugins_lock = threading.RLock()
_plugins_loaded = False


def load_plugins(*, again: bool = False) -> list[str]:
    """Load every ``simulacra.plugins`` entry point (once; ``again`` rescans, for tests).

    Returns the names of the entry points loaded by this call. A plugin that fails to
    import or to register is a ``ConfigError`` naming it.
    """
    global _plugins_loaded
    with _plugins_lock:
        if _plugins_loaded and not again:
            return []
        _plugins_loaded = True
        importlib.invalidate_caches()
        loaded: list[str] = []
        seen: set[str] = set()
        for point in importlib.metadata.entry_points(group=PLUGIN_GROUP):
            if point.value in seen:  # one distribution found twice on sys.path
                continue
            seen.add(point.value)
            try:
                obj = point.load()
                if callable(obj) and not isinstance(obj, ModuleType):
                    obj()
            except ConfigError as exc:
                raise ConfigError(f"plugin {point.name!r} ({point.value}): {exc}") from None
            except Exception as exc:
                raise ConfigError(
                    f"plugin {point.name!r} ({point.value}) failed: {type(exc).__name__}: {exc}"
                ) from None
            loaded.append(point.name)
        return loaded


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered object and the model its options are validated with."""

    name: str
    value: T
    options: type[Options]

    def validate(
        self,
        data: Mapping[str, Any] | None,
        *,
        kind: str,
        loc: tuple[str, ...] = (),
        lenient: bool = False,
        beside: Iterable[str] = (),
    ) -> Options:
        """``data`` as this entry's options, from inside a pydantic validator: a problem
        is a ``ValidationError`` whose places start at ``loc``, and an unknown key is
        reported with the options that are known. ``lenient`` drops unknown keys instead
        (for settings saved by an older version, which ignored them). ``beside`` are the
        settings written next to the options (listed as known too)."""
        data = dict(data or {})
        known = self.options.model_fields
        if lenient:
            data = {key: value for key, value in data.items() if key in known}
        try:
            return self.options.model_validate(data)
        except ValidationError as exc:
            listed = ", ".join(sorted({*known, *beside})) or "none"
            errors: list[InitErrorDetails] = []
            for error in exc.errors():
                place = (*loc, *error["loc"])
                if error["type"] == "extra_forbidden":
                    unknown = PydanticCustomError(
                        "unknown_option",
                        "unknown option of {kind} {name} (known: {known})",
                        {"kind": kind, "name": repr(self.name), "known": listed},
                    )
                    errors.append({"type": unknown, "loc": place, "input": error["input"]})
                else:
                    detail: InitErrorDetails = {
                        "type": error["type"],
                        "loc": place,
                        "input": error["input"],
                    }
                    if "ctx" in error:
                        detail["ctx"] = error["ctx"]
                    errors.append(detail)
            raise ValidationError.from_exception_data(exc.title, errors) from None


class Registry(Generic[T]):
    """A name → object table for one kind of thing (``kind`` is used in error messages).

    ``options`` is the kind's default options model, used for entries that declare none
    (the base ``Options`` allows no settings at all).
    """

    def __init__(self, kind: str, *, options: type[Options] = Options) -> None:
        self.kind = kind
        self.default_options = options
        self._items: dict[str, Entry[T]] = {}

    def register(self, name: str, *, options: type[Options] | None = None) -> Callable[[T], T]:
        def decorate(obj: T) -> T:
            self.add(name, obj, options=options)
            return obj

        return decorate

    def add(self, name: str, obj: T, *, options: type[Options] | None = None) -> None:
        entry = Entry(name=name, value=obj, options=options or self.default_options)
        known = self._items.get(name)
        if known is not None and (known.value is not obj or known.options is not entry.options):
            raise ConfigError(f"{self.kind} {name!r} is already registered")
        self._items[name] = entry

    def entry(self, name: str) -> Entry[T]:
        """Look up ``name``, loading plugins on a miss; an import path ``pkg.mod:obj`` is
        imported instead (with the options it was registered with, if it was)."""
        if name in self._items:
            return self._items[name]
        if ":" in name:
            obj: Any = import_object(name)
            for entry in self._items.values():
                if entry.value is obj:
                    return entry
            return Entry(name=name, value=obj, options=self.default_options)
        if load_plugins() and name in self._items:
            return self._items[name]
        known = ", ".join(self.names()) or "none"
        raise ConfigError(f"unknown {self.kind} {name!r} (known: {known})")

    def get(self, name: str) -> T:
        """The object registered as ``name`` (see ``entry``)."""
        return self.entry(name).value

    def checked(self, name: str, *, loc: tuple[str, ...]) -> Entry[T]:
        """``entry(name)`` from inside a pydantic validator: a miss is a
        ``ValidationError`` at ``loc`` (the field that names the entry)."""
        try:
            return self.entry(name)
        except ConfigError as exc:
            error = PydanticCustomError("unknown_name", "{message}", {"message": exc.message})
            raise ValidationError.from_exception_data(
                self.kind, [{"type": error, "loc": loc, "input": name}]
            ) from None

    def __contains__(self, name: object) -> bool:
        if name not in self._items:
            load_plugins()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def names(self) -> list[str]:
        """Every registered name, plugins' included."""
        load_plugins()
        return sorted(self._items)
