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
import json
import math
import os
import time
import urllib.parse
from typing import Any

import aiohttp

from simulacra import _secrets
from simulacra.errors import ConfigError, ModelError
from simulacra.llm._resilience import RETRYABLE_STATUS, parse_retry_after
from simulacra.llm._types import (
    DEFAULT_MAX_TOKENS,
    ChatParams,
    Completion,
    Message,
    TokenLogprob,
    ToolCall,
    Usage,
)

DEFAULT_MAX_RESPONSE_BYTES = 8 * 2**20
#: Of an error body only the start is shown, so no more than this is read.
_ERROR_BODY_BYTES = 64 * 1024
_CHUNK_BYTES = 64 * 1024


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
            "max_tokens": params.max_tokens or DEFAULT_MAX_TOKENS,
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
            raise ModelError(
                f"{self.base_url}: timed out after {self._timeout.total:g} s (timeout_s)",
                retryable=True,
                timed_out=True,
            ) from None
        except aiohttp.ClientError as exc:
            detail = _secrets.scrub(str(exc))  # a URL in it may carry a password
            raise ModelError(
                f"{self.base_url}: connection failed ({type(exc).__name__}: {detail})",
                retryable=True,
            ) from None
        latency = time.perf_counter() - started
        if status >= 400:
            refused = (
                " (the endpoint refused the credentials: check api_key_env and headers)"
                if status in (401, 403)
                else ""
            )
            raise ModelError(
                f"{self.base_url}: HTTP {status}{refused}: {_error_text(raw)}",
                retryable=status in RETRYABLE_STATUS,
                status=status,
                retry_after=parse_retry_after(retry_after),
            )
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ModelError(
                f"{self.base_url}: malformed response (not JSON: {exc})", retryable=True
            ) from None
        try:
            return parse_completion(data, latency_s=latency)
        except _Malformed as exc:
            raise ModelError(
                f"{self.base_url}: malformed response ({exc})", retryable=True
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


class _Malformed(ValueError):
    """A response body that is JSON but not a chat completion; says which field."""


def _field(
    data: Any, key: str, where: str, kinds: tuple[type, ...], *, required: bool = False
) -> Any:
    if not isinstance(data, dict):
        raise _Malformed(f"{where or 'the body'} is {_kind(data)}, expected an object")
    value = data.get(key)
    if value is None:
        if required:
            raise _Malformed(f"{_join(where, key)} is missing")
        return None
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        expected = " or ".join(_NAMES.get(k, k.__name__) for k in kinds)
        raise _Malformed(f"{_join(where, key)} is {_kind(value)}, expected {expected}")
    return value


_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a number"}


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return _NAMES.get(type(value), type(value).__name__)


def _count(usage: dict[str, Any] | None, key: str) -> int:
    """A token count: a finite, non-negative whole number (absent counts as 0)."""
    value = _field(usage or {}, key, "usage", (int, float))
    if value is None:
        return 0
    if not math.isfinite(value) or value < 0 or value != int(value):
        raise _Malformed(f"usage.{key} is {value!r}, expected a non-negative whole number")
    return int(value)


def _content(message: dict[str, Any]) -> str:
    """The message text: a string, or a list of text parts (as some servers send)."""
    content = _field(message, "content", "choices[0].message", (str, list))
    if content is None:
        return ""
    if isinstance(content, str):
        return _clean(content)
    parts = []
    for index, part in enumerate(content):
        text = _field(part, "text", f"choices[0].message.content[{index}]", (str,), required=True)
        parts.append(text)
    return _clean("".join(parts))


def _clean(text: str) -> str:
    """Text that can be written as UTF-8 (a lone surrogate from JSON becomes "?")."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def _tool_calls(message: dict[str, Any]) -> tuple[ToolCall, ...]:
    calls = _field(message, "tool_calls", "choices[0].message", (list,)) or []
    out = []
    for index, call in enumerate(calls):
        where = f"choices[0].message.tool_calls[{index}]"
        function = _field(call, "function", where, (dict,), required=True)
        name = _field(function, "name", f"{where}.function", (str,), required=True)
        arguments = _field(function, "arguments", f"{where}.function", (str, dict))
        call_id = _field(call, "id", where, (str, int))
        out.append(
            ToolCall(
                id=str(call_id or f"call_{index}"),
                name=_clean(name),
                arguments=_clean(
                    json.dumps(arguments) if isinstance(arguments, dict) else arguments or "{}"
                ),
            )
        )
    return tuple(out)


def _logprobs(choice: dict[str, Any]) -> tuple[TokenLogprob, ...] | None:
    block = _field(choice, "logprobs", "choices[0]", (dict,))
    items = _field(block, "content", "choices[0].logprobs", (list,)) if block else None
    if not items:
        return None
    out = []
    for index, item in enumerate(items):
        where = f"choices[0].logprobs.content[{index}]"
        alternatives = []
        for alt_index, alt in enumerate(_field(item, "top_logprobs", where, (list,)) or ()):
            alt_where = f"{where}.top_logprobs[{alt_index}]"
            alternatives.append(
                (
                    _field(alt, "token", alt_where, (str,), required=True),
                    float(_field(alt, "logprob", alt_where, (int, float), required=True)),
                )
            )
        out.append(
            TokenLogprob(
                token=_field(item, "token", where, (str,), required=True),
                logprob=float(_field(item, "logprob", where, (int, float), required=True)),
                top=tuple(alternatives),
            )
        )
    return tuple(out)


def parse_completion(data: Any, *, latency_s: float = 0.0) -> Completion:
    """Turn an OpenAI-shaped response body into a ``Completion``, checking every field it
    reads by type; a body that does not fit raises ``ValueError`` naming the field."""
    choices = _field(data, "choices", "", (list,), required=True)
    if not choices:
        raise _Malformed("choices is empty")
    choice = choices[0]
    if not isinstance(choice, dict):
        raise _Malformed(f"choices[0] is {_kind(choice)}, expected an object")
    message = _field(choice, "message", "choices[0]", (dict,), required=True)
    usage = _field(data, "usage", "", (dict,))
    return Completion(
        text=_content(message),
        tool_calls=_tool_calls(message),
        finish_reason=_field(choice, "finish_reason", "choices[0]", (str,)) or "stop",
        usage=Usage(
            prompt_tokens=_count(usage, "prompt_tokens"),
            completion_tokens=_count(usage, "completion_tokens"),
            calls=1,
        ),
        latency_s=latency_s,
        logprobs=_logprobs(choice),
        model=str(_field(data, "model", "", (str,)) or ""),
    )
