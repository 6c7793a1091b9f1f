"""JSON schemas for tools: built from a function's signature, checked against declarations.

Three jobs, all on plain JSON-schema dicts:

- ``function_schema`` turns a typed function with a Google-style docstring (a summary,
  then an ``Args:`` section with one description per parameter) into the ``parameters``
  schema and description of an OpenAI function tool.
- ``compare_schemas`` checks that a schema declared elsewhere (e.g. loaded from a file)
  describes the same parameters as the function that implements the tool.
- ``check_value`` checks a tool call's decoded arguments against a schema, so a bad call
  becomes an error message for the agent instead of an exception in the tool.
"""

from __future__ import annotations

import collections.abc as cabc
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from simulacra.errors import ConfigError

__all__ = [
    "check_value",
    "compare_schemas",
    "function_schema",
    "parse_docstring",
    "typeddict_schema",
]

_SCALARS: dict[type, str] = {str: "string", bool: "boolean", int: "integer", float: "number"}
_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Attributes|Returns|Return|Raises|Yields|Examples?|Notes?):\s*$"
)
_ARG_LINE = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (description, {parameter: description}).

    The description is everything before the first section header; parameter lines in the
    ``Args:`` section look like ``name: text`` (an optional ``(type)`` after the name is
    ignored), and more-indented lines continue the previous parameter's text.
    """
    lines = inspect.cleandoc(doc or "").splitlines()
    summary: list[str] = []
    params: dict[str, list[str]] = {}
    section: str | None = None
    current: str | None = None
    arg_indent: int | None = None
    for raw in lines:
        stripped = raw.strip()
        header = _SECTION.match(stripped)
        if header and raw == raw.lstrip():
            section = header.group(1)
            current, arg_indent = None, None
            continue
        if section is None:
            summary.append(stripped)
            continue
        if section not in ("Args", "Arguments", "Parameters", "Attributes") or not stripped:
            continue
        indent = len(raw) - len(raw.lstrip())
        match = _ARG_LINE.match(stripped)
        if match and (arg_indent is None or indent <= arg_indent):
            arg_indent = indent
            current = match.group(1).lstrip("*")
            params[current] = [match.group(2).strip()]
        elif current is not None:
            params[current].append(stripped)
    description = _join_paragraphs(summary)
    return description, {name: " ".join(p for p in parts if p) for name, parts in params.items()}


def _join_paragraphs(lines: list[str]) -> str:
    paragraphs: list[str] = []
    block: list[str] = []
    for line in [*lines, ""]:
        if line:
            block.append(line)
        elif block:
            paragraphs.append(" ".join(block))
            block = []
    return "\n\n".join(paragraphs)


def type_schema(annotation: Any, *, where: str) -> dict[str, Any]:
    """The JSON schema of one Python type annotation (JSON-compatible types only)."""
    if annotation is Any:
        return {}
    if annotation is type(None):
        return {"type": "null"}
    if annotation in _SCALARS:
        return {"type": _SCALARS[annotation]}
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_schema(args[0], where=where)
    if origin is typing.Literal:
        kinds = {type(value) for value in args}
        if len(kinds) != 1 or next(iter(kinds)) not in _SCALARS:
            raise ConfigError(f"{where}: Literal values must all be str, int, float or bool")
        return {"type": _SCALARS[next(iter(kinds))], "enum": list(args)}
    if origin is typing.Union or origin is types.UnionType:
        members = [a for a in args if a is not type(None)]
        nullable = len(members) < len(args)
        if len(members) == 1:
            inner = type_schema(members[0], where=where)
            if not nullable:
                return inner
            if set(inner) == {"type"} and isinstance(inner["type"], str):
                return {"type": [inner["type"], "null"]}
            return {"anyOf": [inner, {"type": "null"}]}
        options = [type_schema(a, where=where) for a in members]
        if nullable:
            options.append({"type": "null"})
        return {"anyOf": options}
    if origin in (list, cabc.Sequence, cabc.Iterable, set, frozenset):
        return {"type": "array", "items": type_schema(args[0], where=where) if args else {}}
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": type_schema(args[0], where=where)}
        raise ConfigError(f"{where}: only variable-length tuples (tuple[T, ...]) are supported")
    if origin in (dict, cabc.Mapping):
        if args and args[0] is not str:
            raise ConfigError(f"{where}: dictionary keys must be str")
        value = type_schema(args[1], where=where) if args else {}
        return {"type": "object", "additionalProperties": value}
    if typing.is_typeddict(annotation):
        return typeddict_schema(annotation, where=where)
    if annotation in (list, tuple, set, frozenset):
        return {"type": "array"}
    if annotation is dict:
        return {"type": "object"}
    raise ConfigError(f"{where}: type {annotation!r} cannot be expressed as JSON")


def typeddict_schema(cls: Any, *, where: str) -> dict[str, Any]:
    """The object schema of a ``TypedDict``: its fields as properties (described in an
    ``Attributes:`` section of its docstring), the required ones listed.

    Extra fields are allowed (the schema says nothing against them), as a record passed
    to a tool is often stored whole.
    """
    here = f"{where}, {cls.__name__}"
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception as exc:
        raise ConfigError(f"{here}: cannot resolve type hints ({exc})") from exc
    _, docs = parse_docstring(cls.__doc__)
    properties: dict[str, Any] = {}
    required_keys = set(cls.__required_keys__)
    for name, hint in hints.items():
        inner = hint
        while typing.get_origin(inner) in (typing.Required, typing.NotRequired):
            # an explicit marker decides (string annotations hide it from the class)
            marked = typing.get_origin(inner) is typing.Required
            required_keys = required_keys | {name} if marked else required_keys - {name}
            inner = typing.get_args(inner)[0]
        schema = type_schema(inner, where=f"{here}.{name}")
        if not docs.get(name):
            raise ConfigError(f"{here}: field {name!r} is not described in 'Attributes:'")
        schema["description"] = docs[name]
        properties[name] = schema
    unknown = sorted(set(docs) - set(properties))
    if unknown:
        raise ConfigError(f"{here}: docstring describes unknown field(s) {unknown}")
    required = [name for name in properties if name in required_keys]
    return {"type": "object", "properties": properties, "required": required}


def function_schema(
    func: Callable[..., Any], *, name: str, skip_first: bool = False
) -> tuple[str, dict[str, Any]]:
    """(description, parameters schema) of ``func``; ``skip_first`` drops ``self``.

    Raises ConfigError naming the tool when a parameter has no type hint, no description
    in the docstring, or a type that JSON cannot carry, and when the docstring describes
    a parameter that does not exist.
    """
    where = f"tool {name!r}"
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception as exc:  # a NameError from an unresolvable annotation, typically
        raise ConfigError(f"{where}: cannot resolve type hints ({exc})") from exc
    description, param_docs = parse_docstring(func.__doc__)
    if not description:
        raise ConfigError(f"{where}: the function needs a docstring describing the tool")
    params = list(inspect.signature(func).parameters.values())
    if skip_first:
        params = params[1:]
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise ConfigError(f"{where}: parameter {param.name!r} must be a plain named one")
        if param.name not in hints:
            raise ConfigError(f"{where}: parameter {param.name!r} has no type hint")
        doc = param_docs.get(param.name, "")
        if not doc:
            raise ConfigError(f"{where}: parameter {param.name!r} is not described in 'Args:'")
        schema = type_schema(hints[param.name], where=f"{where}, parameter {param.name!r}")
        schema["description"] = doc
        if param.default is param.empty:
            required.append(param.name)
        elif _is_json(param.default):
            schema["default"] = param.default
        properties[param.name] = schema
    unknown = sorted(set(param_docs) - set(properties))
    if unknown:
        raise ConfigError(f"{where}: docstring describes unknown parameter(s) {unknown}")
    parameters: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    return description, parameters


def _is_json(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


# --------------------------------------------------------------------------- comparing


def _types_of(schema: Mapping[str, Any]) -> frozenset[str] | None:
    """The set of JSON types a schema admits, or None when it does not constrain them."""
    if "anyOf" in schema or "oneOf" in schema:
        found: set[str] = set()
        for option in schema.get("anyOf", schema.get("oneOf", [])):
            inner = _types_of(option)
            if inner is None:
                return None
            found |= inner
        return frozenset(found)
    kind = schema.get("type")
    if kind is None:
        if "enum" in schema:
            return frozenset(_json_type(v) for v in schema["enum"])
        return None
    kinds = {kind} if isinstance(kind, str) else set(kind)
    if "number" in kinds:
        kinds.add("integer")
    return frozenset(kinds)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _items_of(schema: Mapping[str, Any]) -> Mapping[str, Any] | None:
    items = schema.get("items")
    if isinstance(items, Mapping):
        return items
    for option in schema.get("anyOf", []):
        if isinstance(option, Mapping) and isinstance(option.get("items"), Mapping):
            inner: Mapping[str, Any] = option["items"]
            return inner
    return None


def compare_schemas(
    declared: Mapping[str, Any], actual: Mapping[str, Any], *, path: str = ""
) -> list[str]:
    """Human-readable mismatches between a declared and a function-derived schema.

    Compares what matters for calling the function: the parameter names, which are
    required, the JSON types (recursively into array items and object properties) and
    enumerations. Descriptions and defaults may differ freely.
    """
    problems: list[str] = []
    here = path or "parameters"
    declared_types, actual_types = _types_of(declared), _types_of(actual)
    if declared_types is not None and actual_types is not None and declared_types != actual_types:
        problems.append(
            f"{here}: declared type {sorted(declared_types)} but the function takes "
            f"{sorted(actual_types)}"
        )
    if "enum" in declared and "enum" in actual and list(declared["enum"]) != list(actual["enum"]):
        problems.append(
            f"{here}: declared values {declared['enum']!r} but the function takes "
            f"{actual['enum']!r}"
        )
    declared_props = declared.get("properties")
    actual_props = actual.get("properties")
    if isinstance(actual_props, Mapping) or isinstance(declared_props, Mapping):
        d_props: Mapping[str, Any] = declared_props if isinstance(declared_props, Mapping) else {}
        a_props: Mapping[str, Any] = actual_props if isinstance(actual_props, Mapping) else {}
        prefix = f"{path}." if path else ""
        for key in sorted(set(a_props) - set(d_props)):
            problems.append(f"parameter {prefix}{key!r} of the function is not declared")
        for key in sorted(set(d_props) - set(a_props)):
            problems.append(
                f"declared parameter {prefix}{key!r} is not a parameter of the function"
            )
        d_req = set(declared.get("required", []))
        a_req = set(actual.get("required", []))
        for key in sorted((a_req - d_req) & set(d_props)):
            problems.append(f"parameter {prefix}{key!r} is required but declared optional")
        for key in sorted((d_req - a_req) & set(a_props)):
            problems.append(f"parameter {prefix}{key!r} is declared required but has a default")
        for key in sorted(set(d_props) & set(a_props)):
            problems.extend(compare_schemas(d_props[key], a_props[key], path=f"{prefix}{key}"))
    d_items, a_items = _items_of(declared), _items_of(actual)
    if d_items is not None and a_items is not None:
        problems.extend(compare_schemas(d_items, a_items, path=f"{here}[]"))
    return problems


# --------------------------------------------------------------------------- checking


def check_value(value: Any, schema: Mapping[str, Any], *, path: str = "arguments") -> list[str]:
    """Problems with ``value`` against ``schema`` (the subset of JSON schema we generate)."""
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf", schema.get("oneOf", []))
        if any(not check_value(value, option, path=path) for option in options):
            return []
        return [f"{path}: {_describe(value)} does not match any allowed type"]
    kind = schema.get("type")
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        if not any(_is_type(value, k) for k in kinds):
            expected = " or ".join(kinds)
            return [f"{path}: expected {_article(expected)}, got {_describe(value)}"]
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(repr(v) for v in schema["enum"])
        return [f"{path}: {value!r} is not one of {allowed}"]
    problems: list[str] = []
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for i, item in enumerate(value):
            problems.extend(check_value(item, schema["items"], path=f"{path}[{i}]"))
    if isinstance(value, dict):
        props: Mapping[str, Any] = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                problems.append(
                    f"missing required argument {key!r}"
                    if path == "arguments"
                    else f"{path}: missing field {key!r}"
                )
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                problems.extend(check_value(item, props[key], path=_join(path, key)))
            elif extra is False:
                problems.append(
                    f"unexpected argument {key!r}"
                    if path == "arguments"
                    else f"{path}: unexpected field {key!r}"
                )
            elif isinstance(extra, Mapping):
                problems.extend(check_value(item, extra, path=_join(path, key)))
    return problems


def _join(path: str, key: str) -> str:
    return key if path == "arguments" else f"{path}.{key}"


def _is_type(value: object, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "null":
        return value is None
    return True


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _describe(value: object) -> str:
    text = json.dumps(value) if _is_json(value) else repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{_json_type(value)} {text}"
