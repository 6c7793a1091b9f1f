"""What every user simulator is: a strategy that writes the next user turn.

A simulator is registered in ``simulators`` as a ``Simulator`` (a factory, whether it
needs a model) with its ``Options`` model; ``user.options`` in a run config is validated
against that model when the config is loaded. A simulator that records something of its
own on the episode implements ``episode_extra()`` (see ``ReportsExtra``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

from simulacra.llm import ChatModel, Message, Usage
from simulacra.people import Persona
from simulacra.registry import Entry, Options, Registry
from simulacra.sim.users._guards import GuardEvent
from simulacra.tasks import Task

if TYPE_CHECKING:
    from simulacra.feedback import ChecklistJudge

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
    other_usage: dict[str, Usage] = field(default_factory=dict)
    """Model usage of other roles this turn, by role: the judge's, when the user had a
    judged task's reply scored."""
    meta: dict[str, Any] = field(default_factory=dict)
    tool_messages: list[Message] = field(default_factory=list)
    """The user's own tool calls this turn (a ``user`` message with ``tool_calls``, then
    the ``tool`` results), made before ``text``: recorded, never shown to the assistant."""


class UserSimulator(Protocol):
    """One simulated user in one episode (it keeps that episode's state)."""

    async def next_turn(self, transcript: list[Message]) -> UserTurn:
        """Given the conversation so far (as the target saw it), write the next user turn."""
        ...


@runtime_checkable
class ReportsExtra(Protocol):
    """A simulator that adds fields of its own to the episode's ``extra`` when it ends."""

    def episode_extra(self) -> dict[str, Any]: ...


def episode_extra(user: object) -> dict[str, Any]:
    """What ``user`` adds to its episode's ``extra`` (nothing, for most simulators)."""
    return dict(user.episode_extra()) if isinstance(user, ReportsExtra) else {}


OptionsT = TypeVar("OptionsT", bound=Options, covariant=True)


@dataclass(frozen=True, kw_only=True)
class UserContext(Generic[OptionsT]):
    """What a simulator factory receives to build the user of one episode.

    ``mode`` says how the task reaches the assistant (``full``, ``concat``, ``sharded``);
    ``temperature``, ``max_tokens`` and ``max_regenerations`` are the run's settings for
    the user's model calls; ``options`` are the simulator's own, validated. ``judge``
    is the run's judge of judged tasks, for a simulator that checks replies (None: the
    run has none, and a judged task's reply cannot be checked).
    """

    persona: Persona
    task: Task
    model: ChatModel | None
    seed: int
    options: OptionsT
    mode: str = "sharded"
    temperature: float = 0.8
    max_tokens: int = 96
    max_regenerations: int = 2
    judge: ChecklistJudge | None = None


UserFactory = Callable[[UserContext[Any]], UserSimulator]


@dataclass(frozen=True, kw_only=True)
class Simulator:
    """A registered user simulator: its factory, and whether it needs ``user.model``."""

    build: UserFactory
    needs_model: bool = True


simulators: Registry[Simulator | UserFactory] = Registry("user simulator")
"""Name → ``Simulator`` (an import path may name a bare factory function instead)."""


def simulator_entry(name: str) -> tuple[Simulator, Entry[Simulator | UserFactory]]:
    """The simulator called ``name`` (a bare factory counts as one that needs a model)."""
    entry = simulators.entry(name)
    value = entry.value
    return (value if isinstance(value, Simulator) else Simulator(build=value)), entry
