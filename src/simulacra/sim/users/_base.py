"""What every user simulator is: a strategy that writes the next user turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from simulacra.llm import ChatModel, Message, Usage
from simulacra.people import Persona
from simulacra.registry import Registry
from simulacra.sim.users._guards import GuardEvent
from simulacra.tasks import Task

SATISFIED = "satisfied"
GAVE_UP = "gave_up"


@dataclass(kw_only=True)
class UserTurn:
    """The next user message, or the end of the conversation.

    ``stop`` is the explicit stop signal: the user is done (``stop_reason`` says why).
    A stopping turn may still carry a last message ("thanks!"), which is kept in the
    transcript but not answered.
    """

    text: str
    stop: bool = False
    stop_reason: str | None = None
    act: str = ""
    guard_events: list[GuardEvent] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    meta: dict[str, Any] = field(default_factory=dict)


class UserSimulator(Protocol):
    """One simulated user in one episode (it keeps that episode's state)."""

    async def next_turn(self, transcript: list[Message]) -> UserTurn:
        """Given the conversation so far (as the target saw it), write the next user turn."""
        ...


@dataclass(frozen=True, kw_only=True)
class UserContext:
    """What a simulator factory receives to build the user of one episode."""

    persona: Persona
    task: Task
    model: ChatModel | None
    seed: int
    options: dict[str, Any] = field(default_factory=dict)


class UserFactory(Protocol):
    def __call__(self, context: UserContext) -> UserSimulator: ...


simulators: Registry[UserFactory] = Registry("user simulator")
