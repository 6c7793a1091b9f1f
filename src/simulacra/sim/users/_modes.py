"""How a task reaches the assistant: all at once, or piece by piece.

``full`` gives the fully specified instruction in one turn; ``concat`` gives the shards
joined in one turn; ``sharded`` has the user reveal one shard per turn, only when the
conversation calls for it (the measure of "LLMs Get Lost In Multi-Turn Conversation").
Single-turn modes end after the assistant's first reply.
"""

from __future__ import annotations

from simulacra.llm import Message
from simulacra.sim.users._base import UserTurn
from simulacra.tasks import Fact, Task

MODES = ("full", "concat", "sharded")
SINGLE_TURN = "single_turn"


def opening_text(task: Task, mode: str) -> str:
    """The one-turn request of the ``full`` and ``concat`` modes."""
    if mode == "full":
        return task.full_instruction()
    if mode == "concat":
        return "\n".join(f"- {shard}" for shard in task.shard_texts())
    raise ValueError(f"mode {mode!r} has no single opening")


def sharded_view(task: Task) -> Task:
    """The task as a sharded user holds it: the first shard opens, the rest are facts.

    A task written with facts (and no explicit shards) already is one.
    """
    if not task.shards:
        return task
    first, *rest = task.shards
    return task.model_copy(update={"goal": first, "facts": [Fact(text=text) for text in rest]})


class SingleTurnUser:
    """Says one prepared request, then stops once the assistant has answered."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.said = False

    async def next_turn(self, transcript: list[Message]) -> UserTurn:
        if self.said:
            return UserTurn(text="", stop=True, stop_reason=SINGLE_TURN, act=SINGLE_TURN)
        self.said = True
        return UserTurn(text=self.text, act="open", meta={"act": "open"})
