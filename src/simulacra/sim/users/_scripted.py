"""A scripted user: fixed turns, for tests and for replaying real users' openings."""

from __future__ import annotations

from simulacra.llm import Message
from simulacra.sim.users._base import SATISFIED, UserContext, UserTurn, simulators


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


def _scripted_user(context: UserContext) -> ScriptedUser:
    turns = context.options.get("turns")
    if turns is None:
        turns = [context.task.goal, *(fact.text for fact in context.task.facts)]
    return ScriptedUser([str(t) for t in turns])


simulators.add("scripted", _scripted_user)
