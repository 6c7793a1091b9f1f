"""Environments: stateful worlds an agent acts on through typed tools.

An environment is a subclass of ``Environment`` whose tools are methods marked with
``@tool``. Its state is plain JSON data — tables keyed by id, ``{"orders": {"#1": {...}}}``
— so it can be hashed, diffed and written to a run directory without translation.

A tool is an ordinary typed method with a Google-style docstring. Its OpenAI schema is
generated from the signature when the class is created; a mistake there (a missing type
hint or parameter description, a declared schema that disagrees with the function) is a
``ConfigError`` at import time, not a surprise during a run.

``Environment.call`` is the only way an agent touches the state. It never raises: an
unknown tool, arguments that are not JSON, arguments of the wrong type, a ``ToolError``
raised by the tool, and even a bug in the tool all come back as a result string starting
with ``"Error: "``, and every call is appended to ``env.calls``. A tool that writes and
then fails leaves the state as it was before the call.
"""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, cast, overload

from simulacra.errors import ConfigError, ToolError
from simulacra.tasks.envs._schema import check_value, compare_schemas, function_schema

if TYPE_CHECKING:
    from simulacra.tasks.envs._policy import PolicyRule, PolicyViolation
    from simulacra.tasks.envs._task import EnvScore, EnvTask, JudgedAssertions

__all__ = [
    "DiffRow",
    "EnvFactory",
    "Environment",
    "State",
    "ToolCallRecord",
    "ToolSpec",
    "canonical_json",
    "check_declared_schema",
    "diff_states",
    "state_hash",
    "tool",
]

State = dict[str, dict[str, Any]]
"""An environment's state: table name → row key → row (JSON-like data)."""

F = TypeVar("F", bound=Callable[..., Any])
ErrorKind = Literal["unknown_tool", "bad_arguments", "tool_error", "internal"]

_MARK = "__simulacra_tool__"


def canonical_json(data: Any) -> str:
    """JSON with sorted keys and no whitespace: equal data gives equal text."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def state_hash(state: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``state``."""
    return hashlib.sha256(canonical_json(state).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- tools


@dataclass(frozen=True, kw_only=True)
class _ToolMark:
    name: str | None
    writes: bool
    schema: Mapping[str, Any] | None


@dataclass(frozen=True, kw_only=True)
class ToolSpec:
    """One tool of an environment class: its name, schema and implementing method.

    ``parameters`` is always derived from the function; ``declared`` is an explicit
    OpenAI schema that was checked against it and is what the agent sees, if given.
    ``writes`` marks tools that may change the state (used by policy rules and to
    roll back a failed call).
    """

    name: str
    description: str
    parameters: dict[str, Any]
    func: Callable[..., Any]
    writes: bool = False
    declared: dict[str, Any] | None = None

    def openai_schema(self) -> dict[str, Any]:
        """The tool in OpenAI format: ``{"type": "function", "function": {...}}``."""
        if self.declared is not None:
            return copy.deepcopy(self.declared)
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": copy.deepcopy(self.parameters),
            },
        }


@overload
def tool(func: F, /) -> F: ...


@overload
def tool(
    *, name: str | None = None, writes: bool = False, schema: Mapping[str, Any] | None = None
) -> Callable[[F], F]: ...


def tool(
    func: F | None = None,
    /,
    *,
    name: str | None = None,
    writes: bool = False,
    schema: Mapping[str, Any] | None = None,
) -> F | Callable[[F], F]:
    """Mark a method of an ``Environment`` subclass as a tool.

    ``name`` defaults to the method's name. ``writes=True`` says the tool may change the
    state. ``schema`` is an explicit OpenAI tool schema (or just its ``function`` part);
    it is checked against the method's signature when the class is created.
    """

    def mark(f: F) -> F:
        setattr(f, _MARK, _ToolMark(name=name, writes=writes, schema=schema))
        return f

    return mark(func) if func is not None else mark


def _normalise_declared(declared: Mapping[str, Any], *, tool_name: str) -> dict[str, Any]:
    """Accept a full OpenAI tool schema or its ``function`` part; return the full form."""
    data = dict(declared)
    if data.get("type") == "function" and isinstance(data.get("function"), Mapping):
        function = dict(data["function"])
    elif "parameters" in data or "name" in data:
        function = data
    else:
        raise ConfigError(
            f"tool {tool_name!r}: a declared schema needs a 'function' object or "
            f"'name'/'parameters' keys"
        )
    if not isinstance(function.get("parameters", {}), Mapping):
        raise ConfigError(f"tool {tool_name!r}: declared 'parameters' must be an object")
    function.setdefault("parameters", {"type": "object", "properties": {}})
    return {"type": "function", "function": copy.deepcopy(function)}


def check_declared_schema(
    spec: ToolSpec, declared: Mapping[str, Any], *, source: str | None = None
) -> dict[str, Any]:
    """Check a declared schema against ``spec``'s function; return it in full OpenAI form.

    Raises ConfigError naming the tool and every mismatch (name, parameter names,
    required-ness, types, enumerations).
    """
    full = _normalise_declared(declared, tool_name=spec.name)
    function = full["function"]
    problems: list[str] = []
    declared_name = function.get("name", spec.name)
    if declared_name != spec.name:
        problems.append(f"declared name {declared_name!r} differs from the tool name")
    problems.extend(compare_schemas(function["parameters"], spec.parameters))
    if problems:
        raise ConfigError(
            f"tool {spec.name!r}: declared schema does not match the function: "
            + "; ".join(problems),
            source=source,
            field=f"tools.{spec.name}",
        )
    function["name"] = spec.name
    function.setdefault("description", spec.description)
    return full


def _build_spec(attr: str, func: Callable[..., Any], mark: _ToolMark) -> ToolSpec:
    name = mark.name or attr
    description, parameters = function_schema(func, name=name, skip_first=True)
    spec = ToolSpec(
        name=name, description=description, parameters=parameters, func=func, writes=mark.writes
    )
    if mark.schema is not None:
        declared = check_declared_schema(spec, mark.schema, source=func.__qualname__)
        spec = ToolSpec(
            name=name,
            description=description,
            parameters=parameters,
            func=func,
            writes=mark.writes,
            declared=declared,
        )
    return spec


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCallRecord:
    """One call the agent made: what it asked for and what came back.

    ``arguments`` is the decoded argument object, or the raw text when it was not valid
    JSON. ``error_kind`` says which of the four failure paths produced an error result.
    """

    index: int
    name: str
    arguments: dict[str, Any] | str
    result: str
    error: bool = False
    error_kind: ErrorKind | None = None
    writes: bool = False

    @property
    def ok(self) -> bool:
        return not self.error

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "arguments": self.arguments,
            "result": self.result,
            "error": self.error,
            "error_kind": self.error_kind,
            "writes": self.writes,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class DiffRow:
    """One difference between an expected and an actual state.

    ``field`` is a dotted path inside the row (``None`` when the whole row is missing on
    one side); ``expected`` / ``actual`` are the values there (``None`` when absent).
    """

    table: str
    key: str
    field: str | None
    expected: Any
    actual: Any

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": self.key,
            "field": self.field,
            "expected": self.expected,
            "actual": self.actual,
        }


_MISSING: Any = object()


def diff_states(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[DiffRow]:
    """The rows where two states differ, sorted by table, key and field.

    Values that Python finds equal but JSON writes differently (``1`` and ``1.0``) count
    as different, as they do for ``state_hash``.
    """
    rows = _diff_tables(expected, actual, typed=False)
    if not rows and canonical_json(expected) != canonical_json(actual):
        rows = _diff_tables(expected, actual, typed=True)
    return rows


def _diff_tables(
    expected: Mapping[str, Any], actual: Mapping[str, Any], *, typed: bool
) -> list[DiffRow]:
    rows: list[DiffRow] = []
    for table in sorted(set(expected) | set(actual)):
        exp_table = expected.get(table, {})
        act_table = actual.get(table, {})
        if not isinstance(exp_table, Mapping) or not isinstance(act_table, Mapping):
            if exp_table != act_table:
                rows.append(
                    DiffRow(table=table, key="", field=None, expected=exp_table, actual=act_table)
                )
            continue
        for key in sorted(set(exp_table) | set(act_table), key=str):
            exp_row = exp_table.get(key, _MISSING)
            act_row = act_table.get(key, _MISSING)
            if exp_row is _MISSING or act_row is _MISSING:
                rows.append(
                    DiffRow(
                        table=table,
                        key=str(key),
                        field=None,
                        expected=None if exp_row is _MISSING else exp_row,
                        actual=None if act_row is _MISSING else act_row,
                    )
                )
            elif exp_row != act_row or (typed and _typed(exp_row) != _typed(act_row)):
                _diff_values(table, str(key), "", exp_row, act_row, rows)
    return rows


def _typed(value: Any) -> str:
    # 1 == 1.0 and True == 1 in Python but not in canonical JSON; compare the text.
    return canonical_json(value)


def _diff_values(table: str, key: str, path: str, exp: Any, act: Any, out: list[DiffRow]) -> None:
    if isinstance(exp, Mapping) and isinstance(act, Mapping):
        for name in sorted(set(exp) | set(act), key=str):
            sub = f"{path}.{name}" if path else str(name)
            e, a = exp.get(name, _MISSING), act.get(name, _MISSING)
            if e is _MISSING or a is _MISSING:
                out.append(
                    DiffRow(
                        table=table,
                        key=key,
                        field=sub,
                        expected=None if e is _MISSING else e,
                        actual=None if a is _MISSING else a,
                    )
                )
            elif _typed(e) != _typed(a):
                _diff_values(table, key, sub, e, a, out)
        return
    out.append(DiffRow(table=table, key=key, field=path or None, expected=exp, actual=act))


# --------------------------------------------------------------------------- environment


class Environment:
    """Base class of every environment.

    Subclasses mark tool methods with ``@tool`` and may set:

    - ``name``: the registry name, used in task files and reports;
    - ``tables``: table names the state must contain (checked when an instance is made);
    - ``policy_rules``: rules checked over the call log by ``check_policy``;
    - ``stop_tools``: tools that end the conversation when they succeed (e.g. a transfer
      to a human); ``env.stopped`` turns true after one of them.

    Tools read and write ``self.state`` and raise ``ToolError`` for anything the agent
    did wrong; they return a string, or JSON-like data that ``call`` serialises.

    An environment in which the simulated user acts too (on their own device, say)
    gives the user's tools as a second environment over the same state, ``user_side``;
    a task that starts from a state of its own sets it up in ``start``; a domain that
    scores in its own way answers ``score_task``.
    """

    name: ClassVar[str] = "environment"
    tables: ClassVar[tuple[str, ...]] = ()
    rollback_on_crash: ClassVar[bool] = True
    """Undo the writes of a tool that raised an unexpected exception. A ``ToolError`` is
    always undone; an environment that mirrors one whose tools keep what they wrote
    before crashing sets this to False."""
    policy_rules: ClassVar[tuple[PolicyRule, ...]] = ()
    stop_tools: ClassVar[frozenset[str]] = frozenset()
    _tool_specs: ClassVar[dict[str, ToolSpec]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        specs: dict[str, ToolSpec] = {}
        by_attr: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                mark = getattr(value, _MARK, None)
                if attr in by_attr:  # overridden: the subclass's definition decides
                    specs.pop(by_attr.pop(attr), None)
                if isinstance(mark, _ToolMark) and callable(value):
                    spec = _build_spec(attr, value, mark)
                    specs.pop(spec.name, None)
                    specs[spec.name] = spec
                    by_attr[attr] = spec.name
        unknown_stops = sorted(cls.stop_tools - set(specs))
        if unknown_stops:
            raise ConfigError(f"environment {cls.name!r}: stop_tools {unknown_stops} are not tools")
        cls._tool_specs = specs

    def __init__(
        self,
        state: Mapping[str, Mapping[str, Any]],
        *,
        instructions: str = "",
        declared_schemas: Sequence[Mapping[str, Any]] = (),
        copy_state: bool = True,
    ) -> None:
        """Make an environment over ``state`` (deep-copied unless ``copy_state=False``).

        ``instructions`` is the policy the agent must follow (its system prompt).
        ``declared_schemas`` are explicit OpenAI schemas for some tools; each is checked
        against its function and replaces the generated schema in ``tools()``.
        """
        if not isinstance(state, Mapping) or not all(
            isinstance(t, Mapping) for t in state.values()
        ):
            raise ConfigError(f"environment {self.name!r}: state must map table names to objects")
        missing = [t for t in self.tables if t not in state]
        if missing:
            raise ConfigError(f"environment {self.name!r}: state lacks table(s) {missing}")
        self.state: State = (
            copy.deepcopy({k: dict(v) for k, v in state.items()})
            if copy_state
            else cast(State, state)
        )
        self.instructions = instructions
        self.calls: list[ToolCallRecord] = []
        self.stopped = False
        self.user_side: Environment | None = None
        """The simulated user's own tools over the same state (none for most domains)."""
        self._specs = dict(self._tool_specs)
        for declared in declared_schemas:
            self._declare(declared)

    def _declare(self, declared: Mapping[str, Any]) -> None:
        function = declared.get("function", declared)
        name = function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(name, str):
            raise ConfigError(f"environment {self.name!r}: a declared tool schema has no name")
        spec = self._specs.get(name)
        if spec is None:
            raise ConfigError(
                f"environment {self.name!r}: declared tool {name!r} is not implemented "
                f"(tools: {', '.join(sorted(self._specs))})"
            )
        full = check_declared_schema(spec, declared)
        self._specs[name] = ToolSpec(
            name=spec.name,
            description=spec.description,
            parameters=spec.parameters,
            func=spec.func,
            writes=spec.writes,
            declared=full,
        )

    # -- tasks -------------------------------------------------------------------------

    def start(self, task: EnvTask) -> None:
        """Set up the state ``task`` starts from (nothing to do for most domains)."""

    def score_task(
        self,
        task: EnvTask,
        expected: Environment,
        assistant_messages: Sequence[str],
        *,
        judged: JudgedAssertions | None = None,
    ) -> EnvScore | None:
        """This domain's own verdict on an episode that ended in this environment, given
        the replayed ground truth ``expected`` and, for a task with ``assertions``, a
        judge's verdicts on them (``judged``; None: no judge was asked); ``None`` (the
        default) scores it by state hash and required outputs (see ``score_episode``)."""
        return None

    # -- introspection -----------------------------------------------------------------

    @classmethod
    def tool_specs(cls) -> dict[str, ToolSpec]:
        """The class's tools by name (schemas as generated from the functions)."""
        return dict(cls._tool_specs)

    def tool_names(self) -> list[str]:
        return list(self._specs)

    def tools(self) -> list[dict[str, Any]]:
        """Every tool in OpenAI format, in definition order."""
        return [spec.openai_schema() for spec in self._specs.values()]

    # -- calling -----------------------------------------------------------------------

    def call(self, name: str, arguments: str | Mapping[str, Any] | None = None) -> str:
        """Run one tool call and return its result text; never raises.

        ``arguments`` is the JSON text the model wrote (or an already-decoded object).
        Failures come back as ``"Error: ..."`` and are logged with ``error=True``.
        """
        spec = self._specs.get(name)
        if spec is None:
            return self._log(
                name, _raw(arguments), self.unknown_tool_message(name), "unknown_tool", writes=False
            )
        if arguments is None or (isinstance(arguments, str) and not arguments.strip()):
            decoded: Any = {}
        elif isinstance(arguments, str):
            try:
                decoded = json.loads(arguments)
            except json.JSONDecodeError as exc:
                return self._log(
                    name,
                    arguments,
                    f"Error: arguments are not valid JSON ({exc.msg} at position {exc.pos})",
                    "bad_arguments",
                    writes=spec.writes,
                )
        else:
            decoded = copy.deepcopy(dict(arguments))
        if not isinstance(decoded, dict):
            return self._log(
                name,
                _raw(arguments),
                "Error: arguments must be a JSON object",
                "bad_arguments",
                writes=spec.writes,
            )
        problems = check_value(decoded, spec.parameters)
        if problems:
            return self._log(
                name,
                decoded,
                f"Error: invalid arguments for {name}: " + "; ".join(problems),
                "bad_arguments",
                writes=spec.writes,
            )
        before = pickle.dumps(self.state, pickle.HIGHEST_PROTOCOL) if spec.writes else None
        try:
            result = _render(spec.func(self, **copy.deepcopy(decoded)))
        except ToolError as exc:
            self._restore(before)
            return self._log(name, decoded, f"Error: {exc}", "tool_error", writes=spec.writes)
        except Exception as exc:
            if self.rollback_on_crash:
                self._restore(before)
            return self._log(
                name, decoded, self.crash_message(name, exc), "internal", writes=spec.writes
            )
        if name in self.stop_tools:
            self.stopped = True
        return self._log(name, decoded, result, None, writes=spec.writes)

    def unknown_tool_message(self, name: str) -> str:
        """The result text of a call to a tool this environment does not have."""
        return f"Error: unknown tool {name!r} (tools: {', '.join(self._specs)})"

    def crash_message(self, name: str, exc: Exception) -> str:
        """The result text of a tool that raised an unexpected exception."""
        return f"Error: internal error in tool {name}: {type(exc).__name__}: {exc}"

    def _restore(self, before: bytes | None) -> None:
        """Undo a failed write; the state object is only replaced if the tool changed it."""
        if before is not None and pickle.dumps(self.state, pickle.HIGHEST_PROTOCOL) != before:
            self.state = pickle.loads(before)

    def _log(
        self,
        name: str,
        arguments: dict[str, Any] | str,
        result: str,
        kind: ErrorKind | None,
        *,
        writes: bool,
    ) -> str:
        self.calls.append(
            ToolCallRecord(
                index=len(self.calls),
                name=name,
                arguments=arguments,
                result=result,
                error=kind is not None,
                error_kind=kind,
                writes=writes,
            )
        )
        return result

    # -- state -------------------------------------------------------------------------

    def snapshot(self) -> State:
        """A deep copy of the current state."""
        return copy.deepcopy(self.state)

    def state_hash(self) -> str:
        """SHA-256 of the canonical JSON of the current state."""
        return state_hash(self.state)

    def diff(self, expected: Environment | Mapping[str, Any]) -> list[DiffRow]:
        """Rows where this (actual) state differs from ``expected``."""
        other = expected.state if isinstance(expected, Environment) else expected
        return diff_states(other, self.state)

    def check_policy(self) -> list[PolicyViolation]:
        """Violations of ``policy_rules`` found in the call log so far."""
        found: list[PolicyViolation] = []
        for rule in self.policy_rules:
            found.extend(rule.check(self.calls, self))
        return sorted(found, key=lambda v: v.call_index if v.call_index is not None else -1)

    # -- helpers for tool authors --------------------------------------------------------

    def row(self, table: str, key: str, *, what: str | None = None) -> dict[str, Any]:
        """The row ``key`` of ``table``, or a ToolError saying it was not found."""
        found = self.state[table].get(key)
        if not isinstance(found, dict):
            raise ToolError(f"{what or table.rstrip('s')} not found: {key!r}")
        return found


def _raw(arguments: str | Mapping[str, Any] | None) -> dict[str, Any] | str:
    if arguments is None:
        return {}
    if isinstance(arguments, str):
        return arguments
    return dict(arguments)


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------- factory


@dataclass(frozen=True, kw_only=True)
class EnvFactory:
    """Makes fresh environments of one class over one initial state.

    The state is kept as JSON text in the order it was given (a tool that shows a row
    shows its keys in the data file's order), so every environment starts from an
    identical, independent copy. Call the factory to get one.
    """

    env_cls: type[Environment]
    state_json: str
    instructions: str = ""
    declared_schemas: tuple[Mapping[str, Any], ...] = field(default=())

    @classmethod
    def from_state(
        cls,
        env_cls: type[Environment],
        state: Mapping[str, Mapping[str, Any]],
        *,
        instructions: str = "",
        declared_schemas: Sequence[Mapping[str, Any]] = (),
    ) -> EnvFactory:
        """Freeze ``state``; check it (and any declared schemas) by making one instance."""
        factory = cls(
            env_cls=env_cls,
            state_json=json.dumps(state, separators=(",", ":"), ensure_ascii=False),
            instructions=instructions,
            declared_schemas=tuple(declared_schemas),
        )
        factory()
        return factory

    @property
    def name(self) -> str:
        return self.env_cls.name

    def initial_state(self) -> State:
        state: State = json.loads(self.state_json)
        return state

    def initial_hash(self) -> str:
        return state_hash(self.initial_state())

    def __call__(self) -> Environment:
        return self.env_cls(
            self.initial_state(),
            instructions=self.instructions,
            declared_schemas=self.declared_schemas,
            copy_state=False,
        )
