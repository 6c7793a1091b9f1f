"""The backend registry, and the built-in backends' options: ``local``, ``openai``, ``scripted``.

A backend is registered as ``backends.add(name, build, options=TheOptions)``: ``build``
makes a ``ChatModel`` from the validated options and a ``BackendContext``; the options
model (a ``BackendOptions``) holds the backend's settings, which a config writes next to
``backend:`` in a model entry, and says where calls go (``endpoint``) and which model
answers (``identity``). The implementations are imported only when a model is built.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from pydantic import Field, field_validator, model_validator

from simulacra.errors import ConfigError
from simulacra.llm._types import ChatModel, ChatParams
from simulacra.registry import Options, Registry


class Closable(Protocol):
    def close(self) -> None: ...


R = TypeVar("R", bound=Closable)


class SharedResources(Protocol):
    """What a pool shares between the models it builds (say, one engine per file)."""

    def shared(self, key: Hashable, make: Callable[[], R]) -> R: ...


@dataclass(frozen=True, kw_only=True)
class BackendContext:
    """What a backend's ``build`` receives besides its options."""

    params: ChatParams
    """The model entry's sampling defaults (temperature, top_p, max_tokens)."""
    concurrency: int
    """How many calls may be in flight to this model."""
    resources: SharedResources


class BackendOptions(Options):
    """The settings of one backend; subclass it for each backend."""

    default_concurrency: ClassVar[int] = 16
    cacheable: ClassVar[bool] = True
    """Whether replies may come from the response cache (not for scripted replies)."""
    in_process: ClassVar[bool] = False
    """Whether the model answers inside the calling process (llama.cpp, scripted replies):
    its concurrency limit is then per process, never shared across machines."""

    def endpoint(self) -> str:
        """Where calls go: models with one endpoint share one concurrency limit."""
        return f"{type(self).__name__}:{id(self)}"

    def identity(self) -> str:
        """Which model answers, without sampling settings (the self-preference key)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return f"{type(self).__name__}:{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}"

    def gives_logprobs(self) -> bool:
        """Whether replies carry token log-probabilities."""
        return False

    def deadline(self, max_attempts: int) -> float | None:
        """The overall deadline of one call across its ``max_attempts`` (None: none; a
        local generation cannot be cut short, a scripted reply is immediate)."""
        return None


BackendBuild = Callable[[Any, BackendContext], ChatModel]
backends: Registry[BackendBuild] = Registry("model backend", options=BackendOptions)
"""Backend name → ``build(options, context)``, registered with its ``BackendOptions``."""


class LocalOptions(BackendOptions):
    """``backend: local``: llama.cpp in-process, with ``slots`` KV caches on one model."""

    default_concurrency: ClassVar[int] = 1
    in_process: ClassVar[bool] = True

    path: str | None = Field(default=None, description="a GGUF file; default: the embedded model")
    n_ctx: int = Field(default=4096, ge=256, description="context length of each slot, in tokens")
    slots: int = Field(
        default=4,
        ge=1,
        le=64,
        description="engine slots (KV caches): a conversation's role keeps to one, so its "
        "history is not read again on every turn",
    )
    n_threads: int | None = Field(default=None, ge=1)
    logprobs: bool = False

    def endpoint(self) -> str:
        return f"local:{self.path or 'embedded'}"

    def identity(self) -> str:
        return self.endpoint()

    def gives_logprobs(self) -> bool:
        return self.logprobs


@backends.register("local", options=LocalOptions)
def _local(options: LocalOptions, context: BackendContext) -> ChatModel:
    from simulacra.llm._local import LlamaEngine, LocalModel, check_memory
    from simulacra.llm._weights import default_weights

    path = Path(options.path).expanduser() if options.path else default_weights()
    if options.path and not path.is_file():
        raise ConfigError(f"GGUF file {path} not found", field="path")
    key = (
        "llama",
        str(path.resolve()),
        options.n_ctx,
        options.n_threads,
        options.logprobs,
        options.slots,
    )

    def make() -> LlamaEngine:
        check_memory(path, options.n_ctx, options.slots)
        return LlamaEngine(
            path,
            n_ctx=options.n_ctx,
            n_threads=options.n_threads,
            logits_all=options.logprobs,
            slots=options.slots,
        )

    engine = context.resources.shared(key, make)
    return LocalModel(engine, default_params=context.params, owns_engine=False)


class OpenAIOptions(BackendOptions):
    """``backend: openai``: any OpenAI-compatible endpoint."""

    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = Field(
        default=None, description="name of the environment variable that holds the API key"
    )
    timeout_s: float = Field(default=60.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)
    extra_body: dict[str, Any] = Field(default_factory=dict)
    logprobs: bool = Field(default=False, description="the endpoint returns logprobs")
    max_response_bytes: int = Field(
        default=8 * 2**20, ge=1024, description="largest response body accepted, in bytes"
    )
    deadline_s: float | None = Field(
        default=None,
        gt=0,
        description="overall time of one call with all its retries; "
        "default: the larger of 600 s and timeout_s × max_attempts",
    )

    @field_validator("headers")
    @classmethod
    def _header_values(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not name or any(c in name for c in "\r\n:\0 \t"):
                raise ValueError(f"header name {name!r} is not a valid HTTP header name")
            if any(c in text for c in "\r\n\0"):
                # the value is not shown: headers often hold credentials
                raise ValueError(f"header {name} has a line break or NUL in its value")
        return value

    @model_validator(mode="after")
    def _where(self) -> OpenAIOptions:
        if not self.base_url or not self.model:
            raise ValueError("the openai backend needs base_url and model")
        return self

    def endpoint(self) -> str:
        return str(self.base_url).rstrip("/")

    def identity(self) -> str:
        return f"openai:{self.endpoint()}#{self.model}"

    def deadline(self, max_attempts: int) -> float | None:
        if self.deadline_s is not None:
            return self.deadline_s
        return max(600.0, self.timeout_s * max_attempts)

    def gives_logprobs(self) -> bool:
        return self.logprobs


@backends.register("openai", options=OpenAIOptions)
def _openai(options: OpenAIOptions, context: BackendContext) -> ChatModel:
    from simulacra.llm._openai import OpenAIModel

    return OpenAIModel(
        base_url=str(options.base_url),
        model=str(options.model),
        api_key_env=options.api_key_env,
        timeout_s=options.timeout_s,
        max_connections=max(context.concurrency, 1),
        headers=options.headers,
        extra_body=options.extra_body,
        default_params=context.params,
        max_response_bytes=options.max_response_bytes,
    )


class ScriptedOptions(BackendOptions):
    """``backend: scripted``: replies given in advance, for tests and dry runs."""

    cacheable: ClassVar[bool] = False
    in_process: ClassVar[bool] = True

    replies: list[str] | None = None
    replies_file: str | None = None
    function: str | None = Field(default=None, description="import path package.module:function")
    cycle: bool = True

    @model_validator(mode="after")
    def _some_replies(self) -> ScriptedOptions:
        if not (self.replies or self.replies_file or self.function):
            raise ValueError("the scripted backend needs replies, replies_file or function")
        return self

    def identity(self) -> str:
        if self.function:
            return f"scripted:{self.function}"
        if self.replies_file:
            return f"scripted:{self.replies_file}"
        replies = json.dumps(self.replies or [], ensure_ascii=False).encode("utf-8")
        return "scripted:" + hashlib.sha256(replies).hexdigest()[:12]

    def gives_logprobs(self) -> bool:
        return True  # a scripted Completion may carry any


@backends.register("scripted", options=ScriptedOptions)
def _scripted(options: ScriptedOptions, context: BackendContext) -> ChatModel:
    from simulacra.llm._scripted import ScriptedModel
    from simulacra.registry import import_object

    if options.replies_file:
        return ScriptedModel.from_file(options.replies_file, cycle=options.cycle)
    if options.function:
        function = import_object(options.function)
        if not callable(function):
            raise ConfigError(f"{options.function} is not callable", field="function")
        return ScriptedModel(function)
    return ScriptedModel(options.replies or [], cycle=options.cycle)
