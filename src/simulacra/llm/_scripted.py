"""The scripted backend: deterministic replies for tests and for trying configs for free.

Replies come from a list (used in order, cycling when ``cycle`` is set), a function of the
messages, or a recorded JSONL file (one ``{"text": ...}`` or Completion dict per line).
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from simulacra._records import read_jsonl_values
from simulacra.errors import ConfigError, ModelError
from simulacra.llm._types import ChatParams, Completion, Message, Usage

Reply = str | Completion | Exception
ReplyFunction = Callable[[list[Message], ChatParams], Reply | Awaitable[Reply]]


class ScriptedModel:
    """A model whose replies are given in advance.

    A reply may be a string, a ``Completion``, or an exception instance, which is raised
    (to test retries and error paths). Token usage is counted as whitespace-separated words
    so that usage accounting can be tested too.
    """

    def __init__(
        self,
        replies: Iterable[Reply] | ReplyFunction,
        *,
        name: str = "scripted",
        cycle: bool = False,
        latency_s: float = 0.0,
    ) -> None:
        self._name = name
        self._latency_s = latency_s
        self._function: ReplyFunction | None = None
        self._replies: Iterator[Reply] | None = None
        if callable(replies):
            self._function = replies
        else:
            items = list(replies)
            self._replies = itertools.cycle(items) if cycle else iter(items)
        self.calls: list[tuple[list[Message], ChatParams]] = []

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> ScriptedModel:
        path = Path(path)
        replies: list[Reply] = []
        for number, data in read_jsonl_values(path, what="recorded replies file"):
            if isinstance(data, str):
                replies.append(data)
            elif isinstance(data, dict) and "text" in data:
                replies.append(Completion.from_dict(data))
            else:
                raise ConfigError(
                    "expected a string or an object with 'text'",
                    source=str(path),
                    field=f"line {number}",
                )
        return cls(replies, **kwargs)

    @property
    def name(self) -> str:
        return self._name

    async def chat(self, messages: list[Message], params: ChatParams | None = None) -> Completion:
        params = params or ChatParams()
        self.calls.append((list(messages), params))
        if self._latency_s:
            await asyncio.sleep(self._latency_s)
        reply: Reply
        if self._function is not None:
            result = self._function(messages, params)
            reply = await result if inspect.isawaitable(result) else result
        else:
            assert self._replies is not None
            try:
                reply = next(self._replies)
            except StopIteration:
                raise ModelError(f"scripted model {self._name!r} ran out of replies") from None
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, Completion):
            return reply
        prompt_words = sum(len(m.content.split()) for m in messages)
        return Completion(
            text=reply,
            usage=Usage(prompt_tokens=prompt_words, completion_tokens=len(reply.split()), calls=1),
            latency_s=self._latency_s,
            model=self._name,
        )

    async def aclose(self) -> None:
        return None
