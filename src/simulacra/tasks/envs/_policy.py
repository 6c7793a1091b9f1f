"""Policy rules checked by code over an environment's call log.

A rule looks at the tool calls of one episode (and the environment they ran on) and
returns structured violations. Only what the calls themselves show can be checked this
way: that a user was authenticated before a write, that the calls touched only that
user's records, that only one user was served. Rules about the conversation — "ask for
explicit confirmation before a consequential write", "do not make things up", "one tool
call per turn", "transfer only when the request is out of scope" — need the messages
and judgement; they are deliberately not attempted here and are left to raters.

Violations are reported next to the score; they do not change the reward.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from simulacra.tasks.envs._base import Environment, ToolCallRecord

__all__ = [
    "FunctionRule",
    "OneSubjectOnly",
    "OwnRecordsOnly",
    "PolicyRule",
    "PolicyViolation",
    "RequirePriorCall",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class PolicyViolation:
    """One breach of a rule: which rule, at which call (if any), and why."""

    rule: str
    message: str
    call_index: int | None = None
    tool: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "message": self.message,
            "call_index": self.call_index,
            "tool": self.tool,
        }


@runtime_checkable
class PolicyRule(Protocol):
    """Anything with an id, a description and ``check(calls, env) -> violations``."""

    @property
    def id(self) -> str: ...

    @property
    def description(self) -> str: ...

    def check(self, calls: Sequence[ToolCallRecord], env: Environment) -> list[PolicyViolation]: ...


@dataclass(frozen=True, kw_only=True)
class RequirePriorCall:
    """Every call to a guarded tool must come after a successful call to a prerequisite.

    ``guarded=None`` guards every tool marked ``writes=True``. Only successful guarded
    calls count unless ``include_failed`` is set (a failed write changed nothing).
    """

    id: str
    description: str
    prerequisites: frozenset[str]
    guarded: frozenset[str] | None = None
    include_failed: bool = False

    def check(self, calls: Sequence[ToolCallRecord], env: Environment) -> list[PolicyViolation]:
        found: list[PolicyViolation] = []
        satisfied = False
        for call in calls:
            if call.name in self.prerequisites and call.ok:
                satisfied = True
                continue
            guarded = call.writes if self.guarded is None else call.name in self.guarded
            if not guarded or satisfied or (call.error and not self.include_failed):
                continue
            needed = " or ".join(sorted(self.prerequisites))
            found.append(
                PolicyViolation(
                    rule=self.id,
                    message=f"{call.name} was called before any successful {needed}",
                    call_index=call.index,
                    tool=call.name,
                )
            )
        return found


def subject_from_result(result: str) -> str:
    """The id an authentication tool returned: its result text, unquoted if JSON."""
    text = result.strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return value if isinstance(value, str) else text


@dataclass(frozen=True, kw_only=True)
class OwnRecordsOnly:
    """Calls about a person's records must concern the person authenticated earlier.

    ``auth_tools`` return the authenticated subject's id as their result.
    ``subject_of(call, env)`` says whose records a successful call touched (``None``
    for calls that concern nobody, such as a product lookup). A call about someone
    other than the authenticated subject is a violation; so is a read of someone's
    records before anyone was authenticated (writes before authentication are left
    to a ``RequirePriorCall`` rule, to avoid reporting them twice).
    """

    id: str
    description: str
    auth_tools: frozenset[str]
    subject_of: Callable[[ToolCallRecord, Environment], str | None]

    def check(self, calls: Sequence[ToolCallRecord], env: Environment) -> list[PolicyViolation]:
        found: list[PolicyViolation] = []
        authenticated: set[str] = set()
        for call in calls:
            if call.error:
                continue
            if call.name in self.auth_tools:
                authenticated.add(subject_from_result(call.result))
                continue
            subject = self.subject_of(call, env)
            if subject is None:
                continue
            if not authenticated:
                if call.writes:
                    continue
                message = f"{call.name} read records of {subject!r} before authentication"
            elif subject not in authenticated:
                who = ", ".join(sorted(authenticated))
                message = f"{call.name} touched records of {subject!r}, not of {who}"
            else:
                continue
            found.append(
                PolicyViolation(
                    rule=self.id, message=message, call_index=call.index, tool=call.name
                )
            )
        return found


@dataclass(frozen=True, kw_only=True)
class OneSubjectOnly:
    """At most one person may be authenticated in one conversation."""

    id: str
    description: str
    auth_tools: frozenset[str]

    def check(self, calls: Sequence[ToolCallRecord], env: Environment) -> list[PolicyViolation]:
        found: list[PolicyViolation] = []
        first: str | None = None
        for call in calls:
            if call.error or call.name not in self.auth_tools:
                continue
            subject = subject_from_result(call.result)
            if first is None:
                first = subject
            elif subject != first:
                found.append(
                    PolicyViolation(
                        rule=self.id,
                        message=f"a second user {subject!r} was authenticated after {first!r}",
                        call_index=call.index,
                        tool=call.name,
                    )
                )
        return found


@dataclass(frozen=True, kw_only=True)
class FunctionRule:
    """A rule made from a plain function ``(calls, env) -> list[str | PolicyViolation]``.

    Strings become violations of this rule with no call index.
    """

    id: str
    description: str
    func: Callable[[Sequence[ToolCallRecord], Environment], Sequence[str | PolicyViolation]]

    def check(self, calls: Sequence[ToolCallRecord], env: Environment) -> list[PolicyViolation]:
        return [
            item
            if isinstance(item, PolicyViolation)
            else PolicyViolation(rule=self.id, message=item)
            for item in self.func(calls, env)
        ]
