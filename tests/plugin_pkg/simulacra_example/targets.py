"""A target kind: a system under test that gives the same answer to everything."""

from __future__ import annotations

from dataclasses import dataclass

from simulacra.llm import Message
from simulacra.sim.targets import (
    TargetContext,
    TargetOptions,
    TargetReply,
    ToolBox,
    target_kinds,
)


class CannedOptions(TargetOptions):
    reply: str

    def label(self) -> str:
        return f"canned:{self.reply}"


@dataclass(frozen=True)
class CannedTarget:
    reply: str
    name: str

    async def respond(
        self, transcript: list[Message], *, seed: int, tools: ToolBox | None = None
    ) -> TargetReply:
        return TargetReply(messages=[Message(role="assistant", content=self.reply)])


def canned_target(options: CannedOptions, context: TargetContext) -> CannedTarget:
    return CannedTarget(options.reply, context.name)


target_kinds.add("canned", canned_target, options=CannedOptions)
