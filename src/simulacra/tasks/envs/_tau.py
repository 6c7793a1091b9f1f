"""What the τ-bench environments (retail, airline) share: output text, crashes, utilities.

The agent under test reads every tool result, so these environments answer in the
benchmark's own words and layout:

- a record is shown as ``json.dumps`` of the row as the data file holds it (keys in the
  file's order, ``", "`` / ``": "`` separators, non-ASCII escaped);
- a refused request is ``"Error: "`` and the benchmark's sentence (tools raise
  ``ToolError`` with it);
- a tool that crashes answers ``"Error: "`` and the exception's own text, and keeps what
  it wrote before the crash (the benchmark does not roll back);
- a call to a tool the domain does not have answers ``"Unknown action <name>"``.

``calculate``, ``think`` and ``transfer_to_human_agents`` are the same in both domains.
"""

from __future__ import annotations

import ast
import json
import operator
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from simulacra._records import read_json
from simulacra.errors import ConfigError, ToolError
from simulacra.tasks.envs._base import EnvFactory, Environment, tool
from simulacra.tasks.envs._task import Action, EnvTask, validate_tasks

__all__ = ["TauEnv", "dump", "evaluate", "load_tau_domain"]


def dump(value: Any) -> str:
    """A tool result as the benchmark prints it: ``json.dumps`` with its defaults."""
    return json.dumps(value)


_ALLOWED = frozenset("0123456789+-*/(). ")
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_MAX_EXPONENT = 10_000


def evaluate(expression: str) -> str:
    """``expression`` (digits, ``+ - * / ( ) .`` and spaces) computed and rounded to two
    decimals, as text; a ToolError with Python's own message when it cannot be.

    The expression is parsed, never executed: only number literals and the arithmetic
    operators those characters can spell are evaluated, by walking the syntax tree.
    """
    if not all(char in _ALLOWED for char in expression):
        raise ToolError("invalid characters in expression")
    try:
        tree = compile(expression.lstrip(" \t"), "<string>", "eval", ast.PyCF_ONLY_AST)
    except SyntaxError as exc:
        raise ToolError(str(exc)) from None

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > _MAX_EXPONENT:
                raise ToolError(f"exponent {right} is too large")
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](walk(node.operand))
        raise ToolError(f"unsupported expression: {ast.dump(node)[:60]}")

    try:
        return str(round(float(walk(tree)), 2))
    except ToolError:
        raise
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise ToolError(str(exc)) from None


class TauEnv(Environment):
    """Base of the τ-bench environments: benchmark-style crashes and the shared tools."""

    stop_tools = frozenset({"transfer_to_human_agents"})
    rollback_on_crash = False

    def crash_message(self, name: str, exc: Exception) -> str:
        return f"Error: {exc}"

    def unknown_tool_message(self, name: str) -> str:
        return f"Unknown action {name}"

    @tool
    def calculate(self, expression: str) -> str:
        """Compute an arithmetic expression; the result is rounded to 2 decimals.

        Args:
            expression: Numbers, + - * / and parentheses, and spaces, such as
                '(19.99 + 5) * 2'.
        """
        return evaluate(expression)

    @tool
    def think(self, thought: str) -> str:
        """Write down a thought. Changes nothing and shows nothing to the user.

        Args:
            thought: The reasoning to write down.
        """
        return ""

    @tool
    def transfer_to_human_agents(self, summary: str) -> str:
        """Hand the user to a human agent, with a summary of the issue.

        Only when the user asks for a human, or the issue cannot be solved with the
        other tools. This ends the conversation.

        Args:
            summary: A short summary of the user's issue.
        """
        return "Transfer successful"


# --------------------------------------------------------------------------- loading


def load_tau_domain(
    env_cls: type[TauEnv],
    data_dir: str | Path,
    *,
    db_files: Mapping[str, str],
    wiki: str,
    tasks_file: str,
    suite: str | None,
    prefix: str,
    private_details: Callable[[str], dict[str, str]],
    declared_schemas: Sequence[Mapping[str, Any]] = (),
    validate: bool = True,
) -> tuple[EnvFactory, list[EnvTask]]:
    """A τ-bench domain from a directory: its database tables (``db_files``: table →
    file, each an object keyed by id), its policy (``wiki``) and a task file of the
    benchmark's format (``user_id``, ``instruction``, ``actions`` of ``{name, kwargs}``,
    ``outputs``, ``annotator``).

    The tasks' suite is ``suite``, or ``<env name>-<split>`` with the split taken from
    the file name (``<prefix>_tasks_test.json`` → ``test``); ids are ``<suite>-NNN``.
    ``declared_schemas`` replace the generated schemas the agent sees for some tools.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise ConfigError("data directory not found", source=str(root))
    state: dict[str, dict[str, Any]] = {}
    for table, filename in db_files.items():
        data = read_json(root / filename, what="data file")
        if not isinstance(data, dict):
            raise ConfigError("expected an object keyed by id", source=str(root / filename))
        state[table] = data
    policy = root / wiki
    try:
        instructions = policy.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the policy ({exc})", source=str(policy)) from exc
    factory = EnvFactory.from_state(
        env_cls, state, instructions=instructions, declared_schemas=declared_schemas
    )

    tasks_path = root / tasks_file
    raw = read_json(tasks_path, what="data file")
    if not isinstance(raw, list):
        raise ConfigError("expected a list of tasks", source=str(tasks_path))
    if suite is None:
        stem = Path(tasks_file).stem
        split = stem.removeprefix(f"{prefix}_tasks_").removeprefix(f"{prefix}_") or "all"
        suite = f"{env_cls.name}-{split}"
    tasks: list[EnvTask] = []
    for i, item in enumerate(raw):
        field = f"[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("instruction"), str):
            raise ConfigError(
                "a task needs an 'instruction' string", source=str(tasks_path), field=field
            )
        try:
            actions = tuple(
                Action(name=a["name"], arguments=dict(a.get("kwargs") or a.get("arguments") or {}))
                for a in item.get("actions") or []
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"bad action ({exc})", source=str(tasks_path), field=f"{field}.actions"
            ) from exc
        metadata: dict[str, Any] = {"index": i}
        for key in ("user_id", "annotator"):
            if item.get(key):
                metadata[key] = item[key]
        tasks.append(
            EnvTask(
                id=f"{suite}-{i:03d}",
                suite=suite,
                env=env_cls.name,
                instruction=item["instruction"],
                private_details=private_details(item["instruction"]),
                actions=actions,
                outputs=tuple(str(o) for o in item.get("outputs") or []),
                metadata=metadata,
            )
        )
    if validate:
        validate_tasks(factory, tasks, source=str(tasks_path))
    return factory, tasks
