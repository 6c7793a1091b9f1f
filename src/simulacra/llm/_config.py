"""Model configuration and the pool that builds models for a run.

A ``ModelConfig`` names a backend and its settings. A ``ModelPool`` turns configs into
ready models wrapped in cache → retry → adaptive limit, and shares what must be shared:
one limiter per endpoint, one llama.cpp engine per GGUF file, one cache file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulacra._secrets import scrub_value
from simulacra.errors import ConfigError
from simulacra.llm._cache import CachedModel, ResponseCache
from simulacra.llm._resilience import AdaptiveLimiter, ResilientModel, RetryPolicy
from simulacra.llm._types import ChatModel, ChatParams


class ModelConfig(BaseModel):
    """One model: which backend, where, and its default sampling parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["local", "openai", "scripted"] = "local"
    # openai
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = Field(
        default=None, description="name of the environment variable that holds the API key"
    )
    timeout_s: float = Field(default=60.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)
    extra_body: dict[str, Any] = Field(default_factory=dict)
    max_response_bytes: int = Field(
        default=8 * 2**20, ge=1024, description="largest response body accepted, in bytes"
    )
    deadline_s: float | None = Field(
        default=None,
        gt=0,
        description="overall time of one call with all its retries; "
        "default: the larger of 600 s and timeout_s × max_attempts",
    )
    # local
    path: str | None = Field(default=None, description="a GGUF file; default: the embedded model")
    n_ctx: int = Field(default=4096, ge=256)
    n_threads: int | None = Field(default=None, ge=1)
    logprobs: bool = False
    # scripted
    replies: list[str] | None = None
    replies_file: str | None = None
    function: str | None = Field(default=None, description="import path package.module:function")
    cycle: bool = True
    # sampling defaults
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    # infrastructure
    max_concurrency: int | None = Field(default=None, ge=1)
    max_attempts: int = Field(default=6, ge=1)
    cache: bool = True

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
    def _backend_fields(self) -> ModelConfig:
        if self.backend == "openai" and (not self.base_url or not self.model):
            raise ValueError("the openai backend needs base_url and model")
        if self.backend == "scripted" and not (self.replies or self.replies_file or self.function):
            raise ValueError("the scripted backend needs replies, replies_file or function")
        return self

    def default_params(self) -> ChatParams:
        return ChatParams(
            temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens
        )

    def endpoint(self) -> str:
        if self.backend == "openai":
            return str(self.base_url).rstrip("/")
        if self.backend == "local":
            return f"local:{self.path or 'embedded'}"
        return f"scripted:{id(self)}"

    def deadline(self) -> float | None:
        """The overall deadline of one call across its retries (openai backend only: the
        others fail at once or not at all, and a local generation cannot be cut short)."""
        if self.backend != "openai":
            return None
        if self.deadline_s is not None:
            return self.deadline_s
        return max(600.0, self.timeout_s * self.max_attempts)

    def concurrency(self) -> int:
        if self.max_concurrency is not None:
            return self.max_concurrency
        return 1 if self.backend == "local" else 16


def redact_settings(model: dict[str, Any]) -> dict[str, Any]:
    """A dumped ``ModelConfig`` made fit to be saved: the values of ``headers`` and
    ``extra_body`` may hold credentials, so only their names are kept (changed in place
    and returned)."""
    for name in ("headers", "extra_body"):
        value = model.get(name)
        if isinstance(value, dict):
            model[name] = dict.fromkeys(value, "<redacted>")
    return model


def resaved_settings(saved: Any) -> Any:
    """A model's settings as an older version saved them, as this version saves them:
    settings added since get their defaults, ``headers`` and ``extra_body`` values are
    redacted. What is not a valid model config is returned unchanged."""
    from pydantic import ValidationError

    try:
        dumped = ModelConfig.model_validate(saved).model_dump(mode="json")
    except ValidationError:
        return saved
    return scrub_value(redact_settings(dumped))


class ModelPool:
    """Builds and owns the models of a run; ``aclose()`` releases them all."""

    def __init__(self, *, cache_path: str | Path | None = None, use_cache: bool = True) -> None:
        self._cache_path = Path(cache_path) if cache_path else None
        self._use_cache = use_cache
        self._cache: ResponseCache | None = None
        self._limiters: dict[str, AdaptiveLimiter] = {}
        self._engines: dict[tuple[str, int, int | None, bool], Any] = {}
        self._models: list[ChatModel] = []

    def _response_cache(self) -> ResponseCache:
        if self._cache is None:
            from simulacra.llm._weights import cache_dir

            self._cache = ResponseCache(self._cache_path or cache_dir() / "responses.sqlite")
        return self._cache

    def build(self, config: ModelConfig, *, seed: int | None = None) -> ChatModel:
        """The backend for ``config``, wrapped in cache (if on), retries and the limiter."""
        backend = self._backend(config)
        limiter = self._limiters.setdefault(
            config.endpoint(), AdaptiveLimiter(config.concurrency())
        )
        model: ChatModel = ResilientModel(
            backend,
            limiter=limiter,
            policy=RetryPolicy(max_attempts=config.max_attempts, deadline_s=config.deadline()),
            seed=seed,
        )
        if self._use_cache and config.cache and config.backend != "scripted":
            model = CachedModel(model, self._response_cache())
        self._models.append(model)
        return model

    def _backend(self, config: ModelConfig) -> ChatModel:
        if config.backend == "openai":
            from simulacra.llm._openai import OpenAIModel

            return OpenAIModel(
                base_url=str(config.base_url),
                model=str(config.model),
                api_key_env=config.api_key_env,
                timeout_s=config.timeout_s,
                max_connections=max(config.concurrency(), 1),
                headers=config.headers,
                extra_body=config.extra_body,
                default_params=config.default_params(),
                max_response_bytes=config.max_response_bytes,
            )
        if config.backend == "local":
            from simulacra.llm._local import LlamaEngine, LocalModel
            from simulacra.llm._weights import default_weights

            path = Path(config.path).expanduser() if config.path else default_weights()
            if config.path and not path.is_file():
                raise ConfigError(f"GGUF file {path} not found", field="path")
            key = (str(path.resolve()), config.n_ctx, config.n_threads, config.logprobs)
            engine = self._engines.get(key)
            if engine is None:
                engine = LlamaEngine(
                    path, n_ctx=config.n_ctx, n_threads=config.n_threads, logits_all=config.logprobs
                )
                self._engines[key] = engine
            return LocalModel(engine, default_params=config.default_params(), owns_engine=False)
        from simulacra.llm._scripted import ScriptedModel
        from simulacra.registry import import_object

        if config.replies_file:
            return ScriptedModel.from_file(config.replies_file, cycle=config.cycle)
        if config.function:
            function = import_object(config.function)
            if not callable(function):
                raise ConfigError(f"{config.function} is not callable", field="function")
            return ScriptedModel(function)
        return ScriptedModel(config.replies or [], cycle=config.cycle)

    async def aclose(self) -> None:
        import asyncio

        for model in self._models:
            await model.aclose()
        self._models.clear()
        for engine in self._engines.values():
            await asyncio.to_thread(engine.close)
        self._engines.clear()
        if self._cache is not None:
            self._cache.close()
            self._cache = None
