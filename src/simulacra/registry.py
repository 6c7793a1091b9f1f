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
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializeAsAny,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from simulacra._records import format_validation
from simulacra.errors import ConfigError

T = TypeVar("T")

PLUGIN_GROUP = "simulacra.plugins"


class Options(BaseModel):
    """The typed settings of one registry entry; an unknown key is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _context(info: ValidationInfo) -> dict[str, Any]:
    return info.context if isinstance(info.context, dict) else {}


def _resolve(value: str, info: ValidationInfo) -> str:
    base = _context(info).get("base_dir")
    path = Path(value).expanduser()
    if base and not path.is_absolute():
        path = Path(base) / path
    return str(path)


ConfigPath = Annotated[str, AfterValidator(_resolve)]
"""An option that is a path: a relative one resolves against the config file's folder."""

SAVED = "saved"
"""Validation context key: the settings were saved by a run (see ``Entry.validate``)."""
SAVED_CONTEXT: dict[str, Any] = {SAVED: True}
"""The validation context for settings a run saved: options the entry does not read are
dropped (an older version saved every backend's settings on every model)."""


def import_object(path: str, *, search: Iterable[str | Path] = ()) -> object:
    """Import ``package.module:attr`` (``attr`` may be dotted) and return the object.

    When the module itself is not found on the import path, the folders of ``search``
    (say, the config file's folder and the working directory) are appended to
    ``sys.path`` and the import is tried once more; the error names the folders tried.
    """
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"import path {path!r} must look like 'package.module:object'")
    try:
        obj: object = _import_module(module_name, search)
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


def _missing_itself(error: ImportError, module_name: str) -> bool:
    """Whether ``error`` says ``module_name`` (or a package it is in) is not found, rather
    than some module it imports."""
    missing = getattr(error, "name", None)
    return (
        isinstance(error, ModuleNotFoundError)
        and bool(missing)
        and (module_name == missing or module_name.startswith(f"{missing}."))
    )


def _import_module(module_name: str, search: Iterable[str | Path]) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        folders = [str(Path(folder).resolve()) for folder in search]
        if not folders or not _missing_itself(exc, module_name):
            raise
        added = [folder for folder in dict.fromkeys(folders) if folder not in sys.path]
        sys.path.extend(added)
        importlib.invalidate_caches()
        try:
            return importlib.import_module(module_name)
        except ImportError as again:
            if not _missing_itself(again, module_name):
                raise
            tried = ", ".join(dict.fromkeys(folders))
            raise ImportError(
                f"{again}; looked on the import path and in {tried}: run from the folder "
                "that holds it, add that folder to PYTHONPATH, or install the package",
                name=again.name,
            ) from None


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


_OWN_ERRORS = frozenset({"unknown_option", "unknown_name"})


def relocated(
    error: ValidationError,
    loc: tuple[str | int, ...],
    *,
    unknown: PydanticCustomError | None = None,
) -> ValidationError:
    """``error`` with every place prefixed by ``loc``, to re-raise from inside a pydantic
    validator; ``unknown`` replaces the "extra inputs are not permitted" message, and
    those come first (a misspelt option is also a missing one: the misspelling is news)."""
    errors: list[InitErrorDetails] = []
    items = error.errors()
    if unknown is not None:
        items = sorted(items, key=lambda item: item["type"] != "extra_forbidden")
    for item in items:
        place = (*loc, *item["loc"])
        if item["type"] == "extra_forbidden" and unknown is not None:
            errors.append({"type": unknown, "loc": place, "input": item["input"]})
            continue
        if item["type"] in _OWN_ERRORS:  # already relocated once: its message is made
            made = PydanticCustomError(item["type"], "{message}", {"message": item["msg"]})
            errors.append({"type": made, "loc": place, "input": item["input"]})
            continue
        detail: InitErrorDetails = {"type": item["type"], "loc": place, "input": item["input"]}
        if "ctx" in item:
            detail["ctx"] = item["ctx"]
        errors.append(detail)
    return ValidationError.from_exception_data(error.title, errors)


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered object and the model its options are validated with; ``kind`` is
    what its registry holds (``"model backend"``), for messages."""

    kind: str
    name: str
    value: T
    options: type[Options]

    def validate(
        self,
        data: Mapping[str, Any] | None,
        *,
        loc: tuple[str, ...] = (),
        lenient: bool = False,
        beside: Iterable[str] = (),
        context: Mapping[str, Any] | None = None,
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
        listed = ", ".join(sorted({*known, *beside})) or "none"
        unknown = PydanticCustomError(
            "unknown_option",
            "unknown option of {kind} {name} (known: {known})",
            {"kind": self.kind, "name": repr(self.name), "known": listed},
        )
        try:
            return self.options.model_validate(data, context=context)
        except ValidationError as exc:
            raise relocated(exc, loc, unknown=unknown) from None

    def parse(
        self,
        data: Mapping[str, Any] | None,
        *,
        source: str | None = None,
        field: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Options:
        """``validate`` outside a pydantic model: a problem is a ``ConfigError`` naming
        ``source`` and ``field.<option>``."""
        try:
            return self.validate(data, context=context)
        except ValidationError as exc:
            where, message = format_validation(exc)
            place = where if where != "(top level)" else ""
            raise ConfigError(
                message, source=source, field=".".join(p for p in (field, place) if p) or None
            ) from None


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
        entry = Entry(self.kind, name, obj, options or self.default_options)
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
            return Entry(self.kind, name, obj, self.default_options)
        if load_plugins() and name in self._items:
            return self._items[name]
        known = ", ".join(self.names()) or "none"
        raise ConfigError(f"unknown {self.kind} {name!r} (known: {known})")

    def get(self, name: str) -> T:
        """The object registered as ``name`` (see ``entry``)."""
        return self.entry(name).value

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


class Chosen(BaseModel):
    """A config entry that names a registered thing and writes its options beside the name.

    A subclass declares the naming field (``key``, a ``str`` field with a default) and the
    ``registry``; every other key of the mapping is validated by the entry's options
    model into ``options``, and written back beside the name when dumped, so the file
    form stays flat: ``{backend: openai, base_url: ..., model: ...}``. With ``nested``
    the options are written under ``options:`` instead.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    registry: ClassVar[Registry[Any]]
    key: ClassVar[str]
    nested: ClassVar[bool] = False

    options: SerializeAsAny[Options] = Field(default_factory=Options)

    @classmethod
    def name_of(cls, data: dict[str, Any]) -> Any:
        """The entry a mapping names (a subclass may infer it from other keys)."""
        return data.get(cls.key, cls.model_fields[cls.key].default)

    @classmethod
    def lookup(cls, name: str) -> Entry[Any]:
        """The entry ``name`` refers to (a subclass may look in more than one place)."""
        return cls.registry.entry(name)

    @model_validator(mode="before")
    @classmethod
    def _split_options(cls, data: Any, info: ValidationInfo) -> Any:
        name = cls.name_of(data) if isinstance(data, dict) else None
        if not isinstance(name, str):
            return data  # the fields' own checks report it
        try:
            entry = cls.lookup(name)
        except ConfigError as exc:
            error = PydanticCustomError("unknown_name", "{message}", {"message": exc.message})
            raise ValidationError.from_exception_data(
                cls.__name__, [{"type": error, "loc": (cls.key,), "input": name}]
            ) from None
        own = {k: v for k, v in data.items() if k in cls.model_fields and k != "options"}
        own[cls.key] = name
        given = data.get("options")
        if isinstance(given, BaseModel):
            if isinstance(given, entry.options) and len(own) == len(data) - 1:
                return data
            given = given.model_dump()
        if given is not None and not isinstance(given, dict):
            return data
        context = _context(info)
        if cls.nested:
            own["options"] = entry.validate(
                given, loc=("options",), lenient=bool(context.get(SAVED)), context=context
            )
            return {**data, **own}  # unknown keys are the model's own to report
        rest = {k: v for k, v in data.items() if k not in cls.model_fields}
        own["options"] = entry.validate(
            {**(given or {}), **rest},
            lenient=bool(context.get(SAVED)),
            beside=[name for name in cls.model_fields if name != "options"],
            context=context,
        )
        return own

    @model_serializer(mode="wrap")
    def _flat(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        data = handler(self)
        if not self.nested and isinstance(data, dict) and isinstance(data.get("options"), dict):
            data = {**data.pop("options"), **data}
        return data
