"""A user simulator: says the task's goal, then each fact, in capitals."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from simulacra.llm import Message
from simulacra.registry import Options
from simulacra.sim.users import SATISFIED, Simulator, UserContext, UserTurn, simulators
from simulacra.tasks import Task


class ShoutingOptions(Options):
    exclaim: int = Field(default=1, ge=0, le=5, description="exclamation marks per turn")


class ShoutingUser:
    def __init__(self, task: Task, *, exclaim: int) -> None:
        self.lines = [task.goal, *(fact.text for fact in task.facts)]
        self.exclaim = exclaim
        self.said = 0

    async def next_turn(self, transcript: list[Message]) -> UserTurn:
        if self.said == len(self.lines):
            return UserTurn(text="", stop=True, stop_reason=SATISFIED, act=SATISFIED)
        text = self.lines[self.said].upper() + "!" * self.exclaim
        self.said += 1
        return UserTurn(text=text, act="shout")

    def episode_extra(self) -> dict[str, Any]:
        return {"shouted": self.said}


def shouting_user(context: UserContext[ShoutingOptions]) -> ShoutingUser:
    return ShoutingUser(context.task, exclaim=context.options.exclaim)


simulators.add(
    "shouting", Simulator(build=shouting_user, needs_model=False), options=ShoutingOptions
)
