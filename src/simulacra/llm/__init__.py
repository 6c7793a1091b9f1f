"""The model layer: one async chat protocol, three backends, and what wraps them.

``await model.chat(messages, params) -> Completion``. Backends, in the ``backends``
registry: ``openai`` (any OpenAI-compatible endpoint), ``local`` (llama.cpp in-process,
the embedded default) and ``scripted`` (deterministic replies for tests). ``ModelPool`` builds them from
``ModelConfig`` with a response cache, retries and an adaptive concurrency limit.
"""

from simulacra.llm._backends import (
    BackendContext,
    BackendOptions,
    LocalOptions,
    OpenAIOptions,
    ScriptedOptions,
    backends,
)
from simulacra.llm._cache import CachedModel, ResponseCache, request_key
from simulacra.llm._cluster import (
    ClusterPool,
    ModelWorker,
    RayCluster,
    RayModelPool,
    RayOptions,
    Services,
    creation_failed,
    import_ray,
    pin_cores,
    pool_for,
    pool_kinds,
    runs_model_inside,
    start_local_cluster,
    start_services,
    stop_services,
)
from simulacra.llm._config import (
    ModelConfig,
    ModelPool,
    PriceConfig,
    redact_settings,
    resaved_settings,
)
from simulacra.llm._resilience import (
    RETRYABLE_STATUS,
    AdaptiveLimiter,
    ResilientModel,
    RetryPolicy,
    parse_retry_after,
    with_retries,
    within_deadline,
)
from simulacra.llm._scripted import ScriptedModel
from simulacra.llm._types import (
    DEFAULT_MAX_TOKENS,
    ChatModel,
    ChatParams,
    Completion,
    Message,
    Role,
    TokenLogprob,
    ToolCall,
    Usage,
    affinity,
)
from simulacra.llm._weights import local_model_problem

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "RETRYABLE_STATUS",
    "AdaptiveLimiter",
    "BackendContext",
    "BackendOptions",
    "CachedModel",
    "ChatModel",
    "ChatParams",
    "ClusterPool",
    "Completion",
    "LocalOptions",
    "Message",
    "ModelConfig",
    "ModelPool",
    "ModelWorker",
    "OpenAIOptions",
    "PriceConfig",
    "RayCluster",
    "RayModelPool",
    "RayOptions",
    "ResilientModel",
    "ResponseCache",
    "RetryPolicy",
    "Role",
    "ScriptedModel",
    "ScriptedOptions",
    "Services",
    "TokenLogprob",
    "ToolCall",
    "Usage",
    "affinity",
    "backends",
    "creation_failed",
    "import_ray",
    "local_model_problem",
    "parse_retry_after",
    "pin_cores",
    "pool_for",
    "pool_kinds",
    "redact_settings",
    "request_key",
    "resaved_settings",
    "runs_model_inside",
    "start_local_cluster",
    "start_services",
    "stop_services",
    "with_retries",
    "within_deadline",
]
