"""A simulated user with tools of their own: acting on their device when asked.

In some domains the user, not the agent, must do things: toggle airplane mode, restart
the phone, run a speed test, then say what the screen shows. The episode loop hands
such a user the environment's user-side tools (``give_tools``); the user then plays a
``use_tool`` act whenever the agent's last message asks for something those tools do:
the calls run through the same tool framework as the agent's (they are logged,
checked and scored), and the user reports the results in their own words. The calls
and results are kept in the episode as the user's tool calls, never shown to the agent.

Which calls a message asks for is the environment's to say when it can
(``requested_calls(text)``, which may look at the device before flipping a switch);
otherwise a tool named in the message (``toggle_data()``) is called as written. When
the user's own goal is met by what a call shows (``resolved_by``), they are done.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from simulacra.llm import Message, ToolCall

__all__ = ["ToolActs", "ToolUse", "UserToolbox", "UsesTools", "give_tools", "plain_result"]


class UserToolbox(Protocol):
    """The user's tools: the user side of an environment (``Environment.user_side``)."""

    def tool_names(self) -> list[str]: ...

    def call(self, name: str, arguments: str | dict[str, Any] | None = None) -> str: ...


@runtime_checkable
class UsesTools(Protocol):
    """A user simulator that can be given tools of its own for an episode."""

    def give_tools(self, tools: UserToolbox) -> None: ...


def give_tools(user: object, tools: UserToolbox) -> bool:
    """Hand ``tools`` to ``user`` if it takes tools; whether it did."""
    if isinstance(user, UsesTools):
        user.give_tools(tools)
        return True
    return False


_CALL = re.compile(r"\b([a-z][a-z0-9_]+)\s*\(([^()]*)\)")
_ARGUMENT = re.compile(r"(\w+)\s*[=:]\s*(?:\"([^\"]*)\"|'([^']*)'|([\w./:-]+))")
_SYMBOLS = re.compile(r"[^\x00-\x7f]+")
_READS = ("check", "run", "can", "get", "find", "list", "show")


def named_calls(text: str, names: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """Tools of ``names`` written out in ``text`` as calls, ``name(key="value")``."""
    found: list[tuple[str, dict[str, Any]]] = []
    for match in _CALL.finditer(text):
        if match.group(1) not in names:
            continue
        arguments = {
            m.group(1): next(g for g in m.groups()[1:] if g is not None)
            for m in _ARGUMENT.finditer(match.group(2))
        }
        if (match.group(1), arguments) not in found:
            found.append((match.group(1), arguments))
    return found


def plain_result(result: str) -> str:
    """A tool's result as a person would read it out: icons dropped, one line."""
    text = _SYMBOLS.sub("", result).replace(" | ", ", ")
    text = re.sub(r"\s*\n\s*", ". ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\.\s*\.", ".", text)


@dataclass(kw_only=True)
class ToolUse:
    """What one ``use_tool`` act did: the calls, what the user will say, and whether
    that settled the matter for them."""

    calls: list[tuple[str, dict[str, Any], str]]
    text: str
    resolved: bool = False


@dataclass
class ToolActs:
    """The tool side of a user: calls what a message asks for, remembers the messages."""

    tools: UserToolbox
    max_calls: int = 3
    pending: list[Message] = field(default_factory=list)
    count: int = 0

    def requested(self, text: str) -> list[tuple[str, dict[str, Any]]]:
        asked = getattr(self.tools, "requested_calls", None)
        names = self.tools.tool_names()
        calls = list(asked(text)) if callable(asked) else named_calls(text, names)
        return calls[: self.max_calls]

    def act(self, reply: str) -> ToolUse | None:
        """Do what ``reply`` asks of the user's tools, if anything."""
        requested = self.requested(reply)
        if not requested:
            return None
        done: list[tuple[str, dict[str, Any], str]] = []
        calls: list[ToolCall] = []
        results: list[Message] = []
        for name, arguments in requested:
            result = self.tools.call(name, arguments)
            call_id = f"user_call_{self.count}"
            self.count += 1
            calls.append(ToolCall(id=call_id, name=name, arguments=json.dumps(arguments)))
            results.append(Message(role="tool", content=result, tool_call_id=call_id, name=name))
            done.append((name, arguments, result))
        self.pending.append(Message(role="user", tool_calls=tuple(calls)))
        self.pending.extend(results)
        resolved_by = getattr(self.tools, "resolved_by", None)
        resolved = callable(resolved_by) and any(
            bool(resolved_by(name, result)) for name, _, result in done
        )
        said = " ".join(
            ("I checked: " if name.startswith(_READS) else "Done: ") + plain_result(result)
            for name, _, result in done
        )
        return ToolUse(calls=done, text=said, resolved=resolved)

    def take(self) -> list[Message]:
        """The tool messages since the last call (for this turn's record)."""
        taken, self.pending = self.pending, []
        return taken
