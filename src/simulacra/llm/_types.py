"""The chat model protocol and the plain data that crosses it."""

from __future__ import annotations

import contextvars
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCall:
    """A tool call the model asked for; ``arguments`` is the raw JSON text it wrote."""

    id: str
    name: str
    arguments: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Message:
    """One chat message in OpenAI shape (tool results carry ``tool_call_id``)."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [call.to_dict() for call in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            out["name"] = self.name
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        calls = tuple(
            ToolCall(
                id=str(call.get("id", "")),
                name=str(call["function"]["name"]),
                arguments=_arguments_text(call["function"].get("arguments", "")),
            )
            for call in data.get("tool_calls") or ()
        )
        return cls(
            role=data["role"],
            content=data.get("content") or "",
            tool_calls=calls,
            tool_call_id=data.get("tool_call_id"),
            name=data.get("name"),
        )


def _arguments_text(arguments: object) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


@dataclass(frozen=True, kw_only=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    cached_calls: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            calls=self.calls + other.calls,
            cached_calls=self.cached_calls + other.cached_calls,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "calls": self.calls,
            "cached_calls": self.cached_calls,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Usage:
        return cls(
            prompt_tokens=int(data.get("prompt_tokens", 0)),
            completion_tokens=int(data.get("completion_tokens", 0)),
            calls=int(data.get("calls", 0)),
            cached_calls=int(data.get("cached_calls", 0)),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class TokenLogprob:
    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Completion:
    """What a model returned for one chat call."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str = "stop"
    usage: Usage = field(default_factory=Usage)
    latency_s: float = 0.0
    logprobs: tuple[TokenLogprob, ...] | None = None
    cached: bool = False
    model: str = ""

    def message(self) -> Message:
        return Message(role="assistant", content=self.text, tool_calls=self.tool_calls)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "tool_calls": [call.to_dict() for call in self.tool_calls],
            "finish_reason": self.finish_reason,
            "usage": self.usage.to_dict(),
            "latency_s": self.latency_s,
            "logprobs": None
            if self.logprobs is None
            else [
                {"token": lp.token, "logprob": lp.logprob, "top": [list(t) for t in lp.top]}
                for lp in self.logprobs
            ],
            "model": self.model,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Completion:
        logprobs = data.get("logprobs")
        return cls(
            text=data.get("text", ""),
            tool_calls=Message.from_dict(
                {"role": "assistant", "tool_calls": data.get("tool_calls") or []}
            ).tool_calls,
            finish_reason=data.get("finish_reason", "stop"),
            usage=Usage.from_dict(data.get("usage") or {}),
            latency_s=float(data.get("latency_s", 0.0)),
            logprobs=None
            if logprobs is None
            else tuple(
                TokenLogprob(
                    token=lp["token"],
                    logprob=float(lp["logprob"]),
                    top=tuple((str(t), float(p)) for t, p in lp.get("top", [])),
                )
                for lp in logprobs
            ),
            model=data.get("model", ""),
        )

    def with_(self, **changes: Any) -> Completion:
        return replace(self, **changes)


DEFAULT_MAX_TOKENS = 512
"""The reply length cap every backend uses when neither the call nor the model entry
sets ``max_tokens`` (the ``local`` and ``openai`` backends alike)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ChatParams:
    """Sampling parameters of one call. ``None`` means: the backend's default."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    tools: tuple[dict[str, Any], ...] = ()
    tool_choice: str | None = None
    logprobs: bool = False
    top_logprobs: int | None = None
    response_format: dict[str, Any] | None = None
    affinity: str | None = None
    """Which conversation (and role in it) the call belongs to. A backend that keeps
    per-conversation state (the ``local`` backend's KV slots) sends calls with one key to
    the same place; others ignore it. Not part of the response cache key."""

    def merged(self, other: ChatParams | None) -> ChatParams:
        """``other``'s set fields win over this one's."""
        if other is None:
            return self
        changes = {
            name: value
            for name in self.__dataclass_fields__
            if not _unset(value := getattr(other, name))
        }
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _unset(value: object) -> bool:
    return value is None or value is False or value == ()


@runtime_checkable
class ChatModel(Protocol):
    """The one protocol every backend and wrapper implements."""

    @property
    def name(self) -> str:
        """A stable identity of the model (backend, endpoint, model id): part of cache keys."""
        ...

    async def chat(self, messages: list[Message], params: ChatParams | None = None) -> Completion:
        """One chat completion."""
        ...

    async def aclose(self) -> None:
        """Release connections, threads and weights."""
        ...


_AFFINITY: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "simulacra_affinity", default=None
)


@contextmanager
def affinity(key: str | None) -> Iterator[None]:
    """Within the block, calls that set no ``ChatParams.affinity`` carry ``key`` (the
    episode loop sets one per conversation and role). Scoped to the current task."""
    token = _AFFINITY.set(key)
    try:
        yield
    finally:
        _AFFINITY.reset(token)


def with_affinity(params: ChatParams | None) -> ChatParams | None:
    """``params`` with the scoped affinity key filled in, when it has none."""
    key = _AFFINITY.get()
    if key is None or (params is not None and params.affinity is not None):
        return params
    return replace(params or ChatParams(), affinity=key)
