"""The ``openai`` backend: any OpenAI-compatible ``/chat/completions`` endpoint.

Works with OpenAI itself, vLLM, SGLang, Ollama, the llama.cpp server and LiteLLM. The API
key is read from an environment variable whose *name* is configured, so no key is ever
written into a config, a run directory or a log. The key, the values of headers and
``extra_body`` fields named like credentials, and a password in ``base_url`` are registered
with :mod:`simulacra._secrets`, so an endpoint that echoes them in an error body does not
get them into an error text or a file.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import os
import time
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import aiohttp

from simulacra import _secrets
from simulacra.errors import ConfigError, ModelError
from simulacra.llm._types import ChatParams, Completion, Message, TokenLogprob, ToolCall, Usage

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
DEFAULT_MAX_RESPONSE_BYTES = 8 * 2**20
#: Of an error body only the start is shown, so no more than this is read.
_ERROR_BODY_BYTES = 64 * 1024
_CHUNK_BYTES = 64 * 1024


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); ``None``
    when absent or not a finite number (``inf``, ``nan``: no usable advice)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class OpenAIModel:
    """Chat completions over HTTP with aiohttp (its connection pool keeps up at high
    concurrency; see benchmarks/engine_throughput.py).

    ``model`` is the model id sent in the request; ``api_key_env`` names the environment
    variable holding the key (no key is sent when it is ``None``). ``extra_body`` is merged
    into every request (e.g. vendor-specific options); ``headers`` are added to each call.
    A response body longer than ``max_response_bytes`` (after decompression) is not read
    past the limit: the call fails with a non-retryable ``ModelError``.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        timeout_s: float = 60.0,
        max_connections: int = 64,
        headers: dict[str, str] | None = None,
        extra_body: dict[str, Any] | None = None,
        default_params: ChatParams | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_response_bytes = max_response_bytes
        self.model = model
        self._default = default_params or ChatParams()
        self._extra_body = dict(extra_body or {})
        request_headers = {"Content-Type": "application/json", **(headers or {})}
        for name, value in (*request_headers.items(), *self._extra_body.items()):
            _secrets.register_named(name, value)
        _secrets.register(urllib.parse.urlsplit(self.base_url).password)
        if api_key_env is not None:
            key = os.environ.get(api_key_env)
            if not key:
                raise ConfigError(
                    f"environment variable {api_key_env} (named by api_key_env) is not set"
                )
            _secrets.register(key)
            request_headers["Authorization"] = f"Bearer {key}"
        self._headers = request_headers
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(10.0, timeout_s))
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # created on first use, inside the running event loop
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(limit=self._max_connections),
            )
        return self._session

    @property
    def name(self) -> str:
        return f"openai:{self.base_url}:{self.model}"

    def request_body(self, messages: list[Message], params: ChatParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_dict() for m in messages],
            **self._extra_body,
        }
        simple = {
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
            "seed": params.seed,
            "tool_choice": params.tool_choice,
            "response_format": params.response_format,
        }
        body.update({k: v for k, v in simple.items() if v is not None})
        if params.stop:
            body["stop"] = list(params.stop)
        if params.tools:
            body["tools"] = list(params.tools)
        if params.logprobs:
            body["logprobs"] = True
            if params.top_logprobs:
                body["top_logprobs"] = params.top_logprobs
        return body

    async def chat(self, messages: list[Message], params: ChatParams | None = None) -> Completion:
        params = self._default.merged(params)
        body = self.request_body(messages, params)
        started = time.perf_counter()
        try:
            async with self._client().post(
                f"{self.base_url}/chat/completions", json=body
            ) as response:
                status = response.status
                retry_after = response.headers.get("retry-after")
                raw = await self._read_body(response)
        except TimeoutError:
            raise ModelError(f"{self.base_url}: timed out", retryable=True) from None
        except aiohttp.ClientError as exc:
            detail = _secrets.scrub(str(exc))  # a URL in it may carry a password
            raise ModelError(
                f"{self.base_url}: connection failed ({type(exc).__name__}: {detail})",
                retryable=True,
            ) from None
        latency = time.perf_counter() - started
        if status >= 400:
            raise ModelError(
                f"{self.base_url}: HTTP {status}: {_error_text(raw)}",
                retryable=status in RETRYABLE_STATUS,
                status=status,
                retry_after=parse_retry_after(retry_after),
            )
        try:
            data = json.loads(raw)
            return parse_completion(data, latency_s=latency)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ModelError(
                f"{self.base_url}: malformed response ({type(exc).__name__}: {exc})", retryable=True
            ) from None

    async def _read_body(self, response: aiohttp.ClientResponse) -> bytes:
        """The body, read incrementally up to the size limit (an error body: its start)."""
        failed = response.status >= 400
        limit = (
            min(self.max_response_bytes, _ERROR_BODY_BYTES) if failed else self.max_response_bytes
        )
        declared = response.content_length
        if not failed and declared is not None and declared > limit:
            raise self._too_large()
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
            body += chunk
            if len(body) > limit:
                if failed:
                    return bytes(body[:limit])
                raise self._too_large()
        return bytes(body)

    def _too_large(self) -> ModelError:
        return ModelError(
            f"{self.base_url}: response larger than {self.max_response_bytes:,} bytes "
            "(raise the model's max_response_bytes setting to accept it)",
            retryable=False,
        )

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
            await asyncio.sleep(0)  # let the connector close its sockets


def _error_text(raw: bytes) -> str:
    """The message of an error body, short, with any known secret scrubbed (gateways
    sometimes echo the request's key or headers)."""
    try:
        data = json.loads(raw)
        error = data.get("error", data) if isinstance(data, dict) else data
        message = error.get("message", error) if isinstance(error, dict) else error
        text = str(message)
    except ValueError:
        text = raw.decode("utf-8", "replace")
    # scrubbed before shortening, so a cut cannot leave part of a key behind
    return _secrets.scrub(text)[:300]


def parse_completion(data: dict[str, Any], *, latency_s: float = 0.0) -> Completion:
    """Turn an OpenAI-shaped response body into a ``Completion``."""
    choice = data["choices"][0]
    message = choice.get("message") or {}
    calls = tuple(
        ToolCall(
            id=str(call.get("id") or f"call_{index}"),
            name=str(call["function"]["name"]),
            arguments=call["function"].get("arguments") or "{}",
        )
        for index, call in enumerate(message.get("tool_calls") or ())
    )
    usage = data.get("usage") or {}
    logprobs = None
    content_logprobs = (choice.get("logprobs") or {}).get("content")
    if content_logprobs:
        logprobs = tuple(
            TokenLogprob(
                token=str(item["token"]),
                logprob=float(item["logprob"]),
                top=tuple(
                    (str(alt["token"]), float(alt["logprob"]))
                    for alt in item.get("top_logprobs") or ()
                ),
            )
            for item in content_logprobs
        )
    return Completion(
        text=message.get("content") or "",
        tool_calls=calls,
        finish_reason=choice.get("finish_reason") or "stop",
        usage=Usage(
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            calls=1,
        ),
        latency_s=latency_s,
        logprobs=logprobs,
        model=str(data.get("model") or ""),
    )
