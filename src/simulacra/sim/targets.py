"""The system under test.

Four kinds: a model with a system prompt (``ModelTarget``), a Python callable given as
``package.module:function`` or as the function itself (``CallableTarget``), an
OpenAI-compatible HTTP endpoint of the user's own application (``HttpTarget``, which adds
no system prompt of its own), and any HTTP app with a request template and a reply path
(``http_app``, in ``sim.http_app``), each a kind in ``target_kinds`` with its options
model; ``best_of_n`` (:mod:`simulacra.sim.best_of_n`) samples several replies and lets a
rater choose. A target answers the conversation so far with one or more messages (an
agent may call tools before it answers; tool results go back to it, errors included).

A target whose ``respond`` takes a ``conversation`` keyword also gets the
``Conversation`` it is in: the episode, persona and task ids, the turn, a session id and
a state dict that lives as long as the conversation (``ask`` passes it only to targets
that take it, so targets written before it keep working).
"""

from __future__ import annotations

import inspect
import json
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import Field, field_serializer

from simulacra.errors import ConfigError, ModelError, TargetError
from simulacra.llm import ChatModel, ChatParams, Message, ModelConfig, ModelPool, Usage
from simulacra.registry import Options, Registry, import_object
from simulacra.rundir import DEFAULT_MODE


@dataclass(kw_only=True)
class TargetReply:
    messages: list[Message]
    usage: Usage = field(default_factory=Usage)
    latency_s: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)
    """What the target records about this reply (the episode keeps it in the ``meta`` of
    the reply's last message): ``best_of_n`` writes its candidates and choice here."""
    other_usage: dict[str, Usage] = field(default_factory=dict)
    """Tokens spent on the reply by other models than the target's, by role (the
    episode counts them under that role): ``best_of_n``'s chooser as ``chooser``."""


class ToolBox(Protocol):
    """What a target needs from a tool environment."""

    def tools(self) -> list[dict[str, Any]]: ...

    def call(self, name: str, arguments: str | dict[str, Any]) -> str: ...


class Target(Protocol):
    @property
    def name(self) -> str: ...

    async def respond(
        self, transcript: list[Message], *, seed: int, tools: ToolBox | None = None
    ) -> TargetReply: ...


@dataclass(kw_only=True)
class Conversation:
    """The conversation a target is answering, as the episode loop keeps it.

    ``turn`` counts the target's replies before this one (0 for the first);
    ``session_id`` is new for every conversation (a re-run starts a new session in the
    app, and the episode records it under ``extra.session_id`` to find it in the app's
    logs); ``state`` is the target's own, kept from one turn to the next.
    """

    episode_id: str
    persona_id: str
    task_id: str
    mode: str = DEFAULT_MODE
    session_id: str = field(default_factory=lambda: new_session_id())
    turn: int = 0
    state: dict[str, Any] = field(default_factory=dict)


def new_session_id(prefix: str = "sim") -> str:
    """A session id unique to one conversation."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


_TAKES_CONVERSATION: dict[type, bool] = {}


def takes_conversation(target: object) -> bool:
    """Whether ``target.respond`` accepts a ``conversation`` keyword."""
    kind = type(target)
    if kind not in _TAKES_CONVERSATION:
        try:
            parameters = inspect.signature(target.respond).parameters  # type: ignore[attr-defined]
        except (TypeError, ValueError, AttributeError):
            parameters = {}  # type: ignore[assignment]
        _TAKES_CONVERSATION[kind] = "conversation" in parameters or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
        )
    return _TAKES_CONVERSATION[kind]


async def ask(
    target: Target,
    transcript: list[Message],
    *,
    seed: int,
    tools: ToolBox | None = None,
    conversation: Conversation | None = None,
) -> TargetReply:
    """``target.respond``, given the conversation when it takes one."""
    if conversation is not None and takes_conversation(target):
        respond: Any = target.respond
        reply: TargetReply = await respond(
            transcript, seed=seed, tools=tools, conversation=conversation
        )
        return reply
    return await target.respond(transcript, seed=seed, tools=tools)


class ModelTarget:
    """A chat model behind a system prompt; runs tool calls against ``tools`` when given."""

    def __init__(
        self,
        model: ChatModel,
        *,
        system_prompt: str | None = None,
        params: ChatParams | None = None,
        name: str | None = None,
        max_tool_steps: int = 12,
    ) -> None:
        self.model = model
        self.system_prompt = system_prompt
        self.params = params or ChatParams()
        self._name = name or model.name
        self.max_tool_steps = max_tool_steps

    @property
    def name(self) -> str:
        return self._name

    def prefix(self, tools: ToolBox | None) -> list[Message]:
        """What comes before the conversation: the system prompt, with a tool
        environment's policy appended (it is part of the agent's instructions)."""
        system = self.system_prompt or ""
        instructions = getattr(tools, "instructions", "") if tools is not None else ""
        if instructions:
            system = f"{system}\n\n{instructions}".strip()
        return [Message(role="system", content=system)] if system else []

    def tool_params(self, seed: int, tools: ToolBox | None) -> ChatParams:
        """The sampling settings of one call: the target's own, this seed, the tools."""
        return self.params.merged(
            ChatParams(seed=seed, tools=tuple(tools.tools()) if tools else ())
        )

    async def run_tools(
        self,
        prefix: list[Message],
        transcript: list[Message],
        produced: list[Message],
        *,
        seed: int,
        tools: ToolBox | None,
        reply: TargetReply,
    ) -> TargetReply:
        """Carry on from ``produced`` (which ends on an assistant message): run its tool
        calls, give the results back to the model, and repeat until it answers without
        one or ``max_tool_steps`` is reached. Usage and latency add up in ``reply``."""
        params = self.tool_params(seed, tools)
        for _ in range(self.max_tool_steps):
            message = produced[-1]
            if not message.tool_calls or tools is None:
                break
            for call in message.tool_calls:
                result = tools.call(call.name, call.arguments)
                produced.append(
                    Message(role="tool", content=result, tool_call_id=call.id, name=call.name)
                )
            completion = await self.model.chat(prefix + transcript + produced, params)
            reply.usage = reply.usage + completion.usage
            reply.latency_s += completion.latency_s
            produced.append(completion.message())
        reply.messages = produced
        return reply

    async def respond(
        self, transcript: list[Message], *, seed: int, tools: ToolBox | None = None
    ) -> TargetReply:
        prefix = self.prefix(tools)
        completion = await self.model.chat(prefix + transcript, self.tool_params(seed, tools))
        reply = TargetReply(messages=[], usage=completion.usage, latency_s=completion.latency_s)
        return await self.run_tools(
            prefix, transcript, [completion.message()], seed=seed, tools=tools, reply=reply
        )


class HttpTarget(ModelTarget):
    """An OpenAI-compatible endpoint of the user's own app: no system prompt is added."""


class CallableTarget:
    """A Python function (sync or async) given the message list as OpenAI-style dicts.

    A function that takes a second argument (``reply(messages, context)``, or a
    parameter named ``context``) also gets the ``Conversation``: ids, the turn, the
    session id and a state dict kept for the conversation; ``reply(messages)`` works as
    it is. It may return a string, a message dict (``{"role": "assistant", "content":
    ...}``), or a list of message dicts (e.g. tool calls and results followed by an
    answer).
    """

    def __init__(self, function: Callable[..., Any], *, name: str | None = None) -> None:
        self.function = function
        self._name = name or str(getattr(function, "__qualname__", "callable"))
        self._passing = context_parameter(function)

    @property
    def name(self) -> str:
        return self._name

    async def respond(
        self,
        transcript: list[Message],
        *,
        seed: int,
        tools: ToolBox | None = None,
        conversation: Conversation | None = None,
    ) -> TargetReply:
        payload = [m.to_dict() for m in transcript]
        context = conversation or Conversation(episode_id="", persona_id="", task_id="")
        try:
            if self._passing == "keyword":
                result = self.function(payload, context=context)
            elif self._passing == "positional":
                result = self.function(payload, context)
            else:
                result = self.function(payload)
            if inspect.isawaitable(result):
                result = await result
        except (ModelError, TargetError):
            raise
        except Exception as exc:
            raise TargetError(f"target {self._name} raised {type(exc).__name__}: {exc}") from exc
        return TargetReply(messages=_as_messages(result, self._name))


def context_parameter(function: Callable[..., Any]) -> Literal["keyword", "positional"] | None:
    """How a target function takes the ``Conversation``: as ``context=`` (it has a
    parameter of that name), as a second positional argument (one without a default), or
    not at all."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return None
    named = {p.name: p for p in parameters}
    if "context" in named and named["context"].kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    ):
        return "keyword"
    positional = [
        p
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    if len(positional) >= 2 and positional[1].default is inspect.Parameter.empty:
        return "positional"
    return None


def _as_messages(result: Any, name: str) -> list[Message]:
    if isinstance(result, str):
        return [Message(role="assistant", content=result)]
    items = result if isinstance(result, list) else [result]
    messages: list[Message] = []
    for item in items:
        if not isinstance(item, dict) or item.get("role") not in ("assistant", "tool"):
            shown = json.dumps(item, default=str)[:120]
            raise TargetError(
                f"target {name} returned {shown}; expected a string or assistant/tool message dicts"
            )
        try:
            messages.append(Message.from_dict(item))
        except (KeyError, TypeError) as exc:
            raise TargetError(f"target {name} returned a malformed message ({exc})") from None
    if not messages or messages[-1].role != "assistant":
        raise TargetError(f"target {name} must end its reply with an assistant message")
    return messages


# --- target kinds ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ReplyCalls:
    """The calls one role makes to a model of the run for each reply of a target, as
    ``simulacra run --dry-run`` estimates them (at most)."""

    role: str
    """The role the episode counts them under: ``target``, or another (``chooser``)."""
    model: str
    """A key of the run's ``models``."""
    calls: int = 1
    attempts: int = 1
    """Tries of each call at most (a retry reads the prompt again with the reply it
    retries)."""
    instructions: str | None = None
    """The call's own instructions (None: a target's system prompt)."""
    reads_replies: int = 0
    """Replies of the target each call reads besides the conversation (a chooser of two
    candidates reads two)."""
    max_read_chars: int | None = None
    """Characters each part it reads (the conversation, each reply) is cut to, if it is."""
    writes: int | None = None
    """Tokens each call writes at most (None: the target's reply length)."""


class TargetOptions(Options):
    """The settings of one kind of target; subclass it for each kind."""

    def label(self) -> str:
        """How episodes name the target when the config gives no ``name``."""
        return type(self).__name__

    def models_used(self) -> list[str]:
        """Keys of the run's ``models`` the target needs (checked at load)."""
        return []

    def reply_calls(self) -> list[ReplyCalls]:
        """The model calls of one reply, by role, for a run's estimate: one call of the
        first model it uses (none for a target that uses no model of the run)."""
        used = self.models_used()
        return [ReplyCalls(role="target", model=used[0])] if used else []


@dataclass(frozen=True, kw_only=True)
class TargetContext:
    """What a target kind's ``build`` receives besides its options."""

    name: str
    params: ChatParams
    """The target entry's sampling settings (temperature, max_tokens)."""
    models: Mapping[str, ModelConfig]
    pool: ModelPool
    seed: int
    base_dir: str | None = None
    """The config file's folder (where relative paths and import paths are looked for)."""


TargetBuild = Callable[[Any, TargetContext], Target]
target_kinds: Registry[TargetBuild] = Registry("target kind", options=TargetOptions)
"""Kind name (``target.type``) → ``build(options, context)``, with its ``TargetOptions``."""


class ModelTargetOptions(TargetOptions):
    """``type: model``: a key of ``models`` behind a system prompt."""

    model: str = Field(default="local", description="a key of `models`")
    system_prompt: str | None = "You are a helpful assistant."

    def label(self) -> str:
        return f"model:{self.model}"

    def models_used(self) -> list[str]:
        return [self.model]


@target_kinds.register("model", options=ModelTargetOptions)
def _model_target(options: ModelTargetOptions, context: TargetContext) -> Target:
    try:
        model = context.pool.build(context.models[options.model], seed=context.seed)
    except ConfigError as exc:
        raise ConfigError(exc.message, field=f"models.{options.model}") from None
    return ModelTarget(
        model, system_prompt=options.system_prompt, params=context.params, name=context.name
    )


class CallableTargetOptions(TargetOptions):
    """``type: callable``: a Python function of the message list (and, if it takes one,
    of the ``Conversation``). In Python the function itself may be given."""

    callable: str | Callable[..., Any] = Field(
        description="package.module:function (in Python: the function itself)"
    )

    @field_serializer("callable")
    def _as_path(self, value: str | Callable[..., Any]) -> str:
        return value if isinstance(value, str) else function_path(value)

    def label(self) -> str:
        return self._as_path(self.callable)

    def function(self, base_dir: str | None = None) -> Callable[..., Any]:
        """The function, imported (looking in ``base_dir`` and the working directory when
        it is not on the import path); a ``ConfigError`` if it is missing or not callable."""
        if not isinstance(self.callable, str):
            return self.callable
        search = [folder for folder in (base_dir, os.getcwd()) if folder]
        function = import_object(self.callable, search=search)
        if not callable(function):
            raise ConfigError(f"{self.callable} is not callable", field="target.callable")
        return function


def function_path(function: Callable[..., Any]) -> str:
    """``module:qualname`` of a function (how a run names a target given as an object)."""
    module = getattr(function, "__module__", None) or "<unknown>"
    name = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{module}:{name}"


@target_kinds.register("callable", options=CallableTargetOptions)
def _callable_target(options: CallableTargetOptions, context: TargetContext) -> Target:
    return CallableTarget(options.function(context.base_dir), name=context.name)


class HttpTargetOptions(TargetOptions):
    """``type: http``: an OpenAI-compatible endpoint of the user's own application."""

    base_url: str
    model_id: str = Field(description="model field sent to the endpoint")
    api_key_env: str | None = None
    max_concurrency: int = Field(default=16, ge=1)

    def label(self) -> str:
        return f"{self.base_url}#{self.model_id}"


@target_kinds.register("http", options=HttpTargetOptions)
def _http_target(options: HttpTargetOptions, context: TargetContext) -> Target:
    config = ModelConfig.model_validate(
        {
            "backend": "openai",
            "base_url": options.base_url,
            "model": options.model_id,
            "api_key_env": options.api_key_env,
            "max_concurrency": options.max_concurrency,
            "cache": False,
        }
    )
    try:
        model = context.pool.build(config)
    except ConfigError as exc:
        raise ConfigError(exc.message, field="target") from None
    return HttpTarget(model, system_prompt=None, params=context.params, name=context.name)


# built-in kinds with a module of their own register when it is imported (they need
# the names above, so they come last; their classes are in their modules)
import simulacra.sim.best_of_n  # noqa: E402
import simulacra.sim.http_app  # noqa: E402, F401

__all__ = [
    "CallableTarget",
    "CallableTargetOptions",
    "Conversation",
    "HttpTarget",
    "HttpTargetOptions",
    "ModelTarget",
    "ModelTargetOptions",
    "Target",
    "TargetContext",
    "TargetOptions",
    "TargetReply",
    "ToolBox",
    "ask",
    "context_parameter",
    "function_path",
    "new_session_id",
    "takes_conversation",
    "target_kinds",
]
