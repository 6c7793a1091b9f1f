"""A model backend: answers with the last user message, after a prefix."""

from __future__ import annotations

from typing import ClassVar

from simulacra.llm import (
    BackendContext,
    BackendOptions,
    ChatModel,
    ChatParams,
    Completion,
    Message,
    backends,
)


class EchoOptions(BackendOptions):
    cacheable: ClassVar[bool] = False

    prefix: str = "you said: "

    def identity(self) -> str:
        return f"echo:{self.prefix}"


class EchoModel:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    @property
    def name(self) -> str:
        return f"echo:{self.prefix}"

    async def chat(self, messages: list[Message], params: ChatParams | None = None) -> Completion:
        said = [m.content for m in messages if m.role == "user"]
        return Completion(text=self.prefix + (said[-1] if said else ""))

    async def aclose(self) -> None:
        return None


def echo_backend(options: EchoOptions, context: BackendContext) -> ChatModel:
    return EchoModel(options.prefix)


backends.add("echo", echo_backend, options=EchoOptions)
