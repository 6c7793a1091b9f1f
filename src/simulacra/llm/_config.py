"""Model configuration and the pool that builds models for a run.

A ``ModelConfig`` names a backend (see ``_backends``) and its settings. A ``ModelPool`` turns configs into
ready models wrapped in cache → retry → adaptive limit, and shares what must be shared:
one limiter per endpoint, one llama.cpp engine per GGUF file, one cache file.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny

from simulacra._secrets import REDACTED, scrub_value
from simulacra.llm._backends import (
    BackendContext,
    BackendOptions,
    Closable,
    R,
    backends,
)
from simulacra.llm._cache import CachedModel, ResponseCache
from simulacra.llm._resilience import AdaptiveLimiter, ResilientModel, RetryPolicy
from simulacra.llm._types import ChatModel, ChatParams
from simulacra.registry import SAVED_CONTEXT, Chosen, Registry


class PriceConfig(BaseModel):
    """What a model's tokens cost, for the estimate of ``simulacra run --dry-run``:
    ``price: {input: 0.15, output: 0.60}`` per million tokens (``currency`` USD unless
    given). Cached calls are counted at the full price."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0, description="per million prompt tokens")
    output: float = Field(ge=0, description="per million completion tokens")
    currency: str = Field(default="USD", min_length=1, max_length=8)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1e6


class ModelConfig(Chosen):
    """One model: which backend, its settings, and default sampling parameters.

    The backend's own settings (``base_url`` for ``openai``, ``path`` for ``local``, ...)
    are written next to ``backend:`` and validated by the options model the backend was
    registered with (an unknown one is an error); they are kept in ``options``.
    """

    registry: ClassVar[Registry[Any]] = backends
    key: ClassVar[str] = "backend"

    backend: str = "local"
    options: SerializeAsAny[BackendOptions] = Field(default_factory=BackendOptions)
    # sampling defaults
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    # infrastructure
    max_concurrency: int | None = Field(default=None, ge=1)
    max_attempts: int = Field(default=6, ge=1)
    cache: bool = True
    price: PriceConfig | None = None

    def default_params(self) -> ChatParams:
        return ChatParams(
            temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens
        )

    def endpoint(self) -> str:
        return self.options.endpoint()

    def identity(self) -> str:
        """Which model this config runs, without sampling settings."""
        return self.options.identity()

    def concurrency(self) -> int:
        if self.max_concurrency is not None:
            return self.max_concurrency
        return self.options.default_concurrency

    def deadline(self) -> float | None:
        """The overall deadline of one call across its retries (None: the backend's calls
        cannot be cut short, or fail at once)."""
        return self.options.deadline(self.max_attempts)


def redact_settings(model: dict[str, Any]) -> dict[str, Any]:
    """A dumped ``ModelConfig`` made fit to be saved: the values of ``headers`` and
    ``extra_body`` may hold credentials, so only their names are kept (changed in place
    and returned)."""
    for name in ("headers", "extra_body"):
        value = model.get(name)
        if isinstance(value, dict):
            model[name] = dict.fromkeys(value, REDACTED)
    return model


def resaved_settings(saved: Any) -> Any:
    """A model's settings as an older version saved them, as this version saves them:
    settings the backend does not read are dropped, settings added since get their
    defaults, ``headers`` and ``extra_body`` values are redacted. What is not a valid
    model config is returned unchanged (and so compares as changed)."""
    from pydantic import ValidationError

    try:
        dumped = ModelConfig.model_validate(saved, context=SAVED_CONTEXT).model_dump(mode="json")
    except (ValidationError, ValueError):
        return saved
    return scrub_value(redact_settings(dumped))


class ModelPool:
    """Builds and owns the models of a run; ``aclose()`` releases them all."""

    def __init__(self, *, cache_path: str | Path | None = None, use_cache: bool = True) -> None:
        self._cache_path = Path(cache_path) if cache_path else None
        self._use_cache = use_cache
        self._cache: ResponseCache | None = None
        self._limiters: dict[str, AdaptiveLimiter] = {}
        self._shared: dict[Hashable, Closable] = {}
        self._models: list[ChatModel] = []

    def cache_file(self) -> Path:
        """The response cache's SQLite file: the one given, else ``responses.sqlite`` in
        the cache directory."""
        from simulacra.llm._weights import cache_dir

        return self._cache_path or cache_dir() / "responses.sqlite"

    def _response_cache(self) -> ResponseCache:
        if self._cache is None:
            self._cache = ResponseCache(self.cache_file())
        return self._cache

    def shared(self, key: Hashable, make: Callable[[], R]) -> R:
        """One resource per ``key`` for every model of the pool (say, a llama.cpp engine
        per GGUF file); closed by ``aclose``."""
        if key not in self._shared:
            self._shared[key] = make()
        resource: R = self._shared[key]  # type: ignore[assignment]
        return resource

    def build(self, config: ModelConfig, *, seed: int | None = None) -> ChatModel:
        """The backend for ``config``, wrapped in cache (if on), retries and the limiter."""
        build = backends.get(config.backend)
        backend = build(
            config.options,
            BackendContext(
                params=config.default_params(), concurrency=config.concurrency(), resources=self
            ),
        )
        limiter = self._limiters.get(config.endpoint())
        if limiter is None:
            limiter = self._limiters[config.endpoint()] = self.make_limiter(config)
        model: ChatModel = ResilientModel(
            backend,
            limiter=limiter,
            policy=RetryPolicy(max_attempts=config.max_attempts, deadline_s=config.deadline()),
            seed=seed,
        )
        if self._use_cache and config.cache and config.options.cacheable:
            model = self.cached(model)
        self._models.append(model)
        return model

    def make_limiter(self, config: ModelConfig) -> AdaptiveLimiter:
        """The concurrency limit shared by every model of ``config``'s endpoint (a pool
        whose models run in several processes may share it wider)."""
        return AdaptiveLimiter(config.concurrency(), name=config.endpoint())

    def cached(self, model: ChatModel) -> ChatModel:
        """``model`` served from the response cache where it can be."""
        return CachedModel(model, self._response_cache())

    async def aclose(self) -> None:
        import asyncio

        for model in self._models:
            await model.aclose()
        self._models.clear()
        for resource in self._shared.values():
            await asyncio.to_thread(resource.close)
        self._shared.clear()
        if self._cache is not None:
            self._cache.close()
            self._cache = None
