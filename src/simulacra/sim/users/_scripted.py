"""A scripted user: fixed turns, for tests and for replaying real users' openings."""

from __future__ import annotations

from simulacra.llm import Message
from simulacra.registry import Options
from simulacra.sim.users._base import SATISFIED, Simulator, UserContext, UserTurn, simulators


class ScriptedUser:
    """Says ``turns`` in order, then stops as satisfied."""

    def __init__(self, turns: list[str]) -> None:
        self.turns = list(turns)
        self.index = 0

    async def next_turn(self, transcript: list[Message]) -> UserTurn:
        if self.index >= len(self.turns):
            return UserTurn(text="", stop=True, stop_reason=SATISFIED, act=SATISFIED)
        text = self.turns[self.index]
        self.index += 1
        return UserTurn(text=text, act="scripted")


class ScriptedSimulatorOptions(Options):
    """``user.options`` of the ``scripted`` simulator."""

    turns: list[str] | None = None
    """What the user says, in order; default: the task's goal, then each fact."""


def _scripted_user(context: UserContext[ScriptedSimulatorOptions]) -> ScriptedUser:
    turns = context.options.turns
    if turns is None:
        turns = [context.task.goal, *(fact.text for fact in context.task.facts)]
    return ScriptedUser(turns)


simulators.add(
    "scripted",
    Simulator(build=_scripted_user, needs_model=False),
    options=ScriptedSimulatorOptions,
)
