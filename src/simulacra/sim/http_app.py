"""``type: http_app``: any HTTP chat endpoint of the user's own application.

The request is a JSON template whose strings may hold placeholders (``{message}``,
``{history}``, ``{session_id}`` ...; see ``PLACEHOLDERS``): a string that is only a
placeholder becomes the value itself (a list, a number), one with text around it gets
the value written in; ``{{`` and ``}}`` are literal braces. The reply is read from the response at ``reply_path`` (a JSONPath,
``reply`` or ``$.data.answer`` or ``choices[0].message.content``), and the tool calls the
app made, if it reports them, at ``tool_calls_path``. With ``stream: true`` the response
is server-sent events whose pieces are joined.

A header value may name environment variables as ``${NAME}``: the value is read when the
target is built (an unset one is a ``ConfigError`` naming the header), registered with
:mod:`simulacra._secrets`, and never written anywhere (the saved config keeps
``${NAME}``). Calls go through the model layer's retries and adaptive limit (429s, 5xx,
timeouts, dropped connections), logged on ``simulacra.llm``.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from simulacra import _secrets
from simulacra.errors import ConfigError, ModelError, TargetError
from simulacra.llm import (
    RETRYABLE_STATUS,
    AdaptiveLimiter,
    Message,
    RetryPolicy,
    ToolCall,
    parse_retry_after,
    with_retries,
)
from simulacra.sim.targets import (
    Conversation,
    Target,
    TargetContext,
    TargetOptions,
    TargetReply,
    ToolBox,
    target_kinds,
)

PLACEHOLDERS = {
    "message": "the user's last message (text)",
    "messages": "the whole conversation as [{role, content}, ...]",
    "history": "the conversation before the user's last message, as [{role, content}, ...]",
    "session_id": "an id new for each conversation",
    "episode_id": "the episode's id",
    "persona_id": "the simulated user's persona",
    "task_id": "the task's id",
    "turn": "how many replies the app gave before this one (a number)",
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""A placeholder, or ``{{`` / ``}}``: a literal brace."""


def _substitute(text: str, value_of: Callable[[str], str]) -> str:
    """``text`` with each ``{name}`` replaced by ``value_of(name)`` and ``{{``/``}}`` by
    one brace."""
    return _TOKEN.sub(lambda m: m.group(0)[0] if m.group(1) is None else value_of(m.group(1)), text)


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CHUNK_BYTES = 64 * 1024
_SHOWN_CHARS = 300


def _strings(value: Any, where: str) -> list[tuple[str, str]]:
    """Every string of a JSON-like template with its place (``body.user.text``)."""
    if isinstance(value, str):
        return [(where, value)]
    if isinstance(value, Mapping):
        return [item for k, v in value.items() for item in _strings(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [item for i, v in enumerate(value) for item in _strings(v, f"{where}[{i}]")]
    return []


def _check_placeholders(text: str, where: str) -> None:
    for match in _TOKEN.finditer(text):
        name = match.group(1)
        if name is not None and name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise ValueError(f"{where} has an unknown placeholder {{{name}}} (known: {known})")


def _json_path(text: str) -> Any:
    from jsonpath_ng import parse  # type: ignore[import-untyped]

    try:
        return parse(text)
    except Exception as exc:  # the parser raises its own exception types
        raise ValueError(f"{text!r} is not a JSONPath ({exc})") from None


class HttpAppTargetOptions(TargetOptions):
    """``type: http_app``: an HTTP chat endpoint of your app, with a request template."""

    url: str = Field(description="where to send each turn; may hold placeholders")
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    headers: dict[str, str] = Field(
        default_factory=dict, description="sent with each call; ${NAME} reads a variable"
    )
    body: Any = Field(
        default_factory=lambda: {"session_id": "{session_id}", "message": "{message}"},
        description="the JSON request template",
    )
    reply_path: str = Field(default="reply", description="JSONPath of the reply text")
    tool_calls_path: str | None = Field(
        default=None, description="JSONPath of the tool calls the app made (a list)"
    )
    stream: bool = Field(default=False, description="the reply comes as server-sent events")
    stream_path: str | None = Field(
        default=None,
        description="JSONPath of the text in each event (default: the event is the text)",
    )
    timeout_s: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    max_concurrency: int = Field(default=16, ge=1)
    max_response_bytes: int = Field(default=8 * 2**20, ge=1024)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        scheme = urllib.parse.urlsplit(value).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"url {value!r} is not an http:// or https:// address")
        _check_placeholders(value, "url")
        return value

    @field_validator("headers")
    @classmethod
    def _header_values(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not name or any(c in name for c in "\r\n:\0 \t"):
                raise ValueError(f"header name {name!r} is not a valid HTTP header name")
            if any(c in text for c in "\r\n\0"):
                raise ValueError(f"header {name} has a line break or NUL in its value")
        return value

    @field_validator("reply_path", "tool_calls_path", "stream_path")
    @classmethod
    def _paths(cls, value: str | None) -> str | None:
        if value is not None:
            _json_path(value)
        return value

    @model_validator(mode="after")
    def _template(self) -> HttpAppTargetOptions:
        try:
            json.dumps(self.body)
        except (TypeError, ValueError):
            raise ValueError("body must be JSON: mappings, lists, strings, numbers") from None
        for where, text in _strings(self.body, "body"):
            _check_placeholders(text, where)
        return self

    def label(self) -> str:
        return f"{self.method} {self.url}"

    def resolved_headers(self) -> dict[str, str]:
        """The headers with every ``${NAME}`` read from the environment (registered as
        secrets); an unset variable is a ``ConfigError`` naming the header."""
        out: dict[str, str] = {}
        for name, text in self.headers.items():

            def value(match: re.Match[str], header: str = name) -> str:
                variable = match.group(1)
                found = os.environ.get(variable)
                if not found:
                    raise ConfigError(
                        f"environment variable {variable} (named by header {header}) is not set",
                        field=f"target.headers.{header}",
                    )
                _secrets.register(found)
                return found

            resolved = _ENV.sub(value, text)
            if any(c in resolved for c in "\r\n\0"):
                raise ConfigError(
                    f"the value of header {name} has a line break or NUL",
                    field=f"target.headers.{name}",
                )
            _secrets.register_named(name, resolved)
            out[name] = resolved
        return out


def _fill(template: Any, values: Mapping[str, Any]) -> Any:
    """The template with its placeholders replaced (see the module's docstring)."""
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:
            return values[whole.group(1)]
        return _substitute(template, lambda name: _as_text(values[name]))
    if isinstance(template, Mapping):
        return {key: _fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(item, values) for item in template]
    return template


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _shown(data: Any) -> str:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, default=str)
    text = _secrets.scrub(text)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


class HttpAppTarget:
    """Sends each turn to the app as the options' template says and reads its reply."""

    def __init__(
        self, options: HttpAppTargetOptions, *, name: str, seed: int | None = None
    ) -> None:
        self.options = options
        self._name = name
        self._headers = {"Content-Type": "application/json", **options.resolved_headers()}
        if options.stream:
            self._headers.setdefault("Accept", "text/event-stream")
        self._reply = _json_path(options.reply_path)
        self._tools = _json_path(options.tool_calls_path) if options.tool_calls_path else None
        self._piece = _json_path(options.stream_path) if options.stream_path else None
        self.limiter = AdaptiveLimiter(options.max_concurrency, name=options.url)
        # each attempt is bounded by timeout_s and the backoffs by the policy, so a call
        # needs no deadline of its own
        self.policy = RetryPolicy(max_attempts=options.max_attempts)
        self._rng = random.Random(seed)

    @property
    def name(self) -> str:
        return self._name

    def values(self, transcript: list[Message], conversation: Conversation) -> dict[str, Any]:
        """What the placeholders stand for at this turn."""
        said = [{"role": m.role, "content": m.content} for m in transcript if m.role != "tool"]
        last = max((i for i, m in enumerate(said) if m["role"] == "user"), default=len(said))
        return {
            "message": said[last]["content"] if last < len(said) else "",
            "messages": said,
            "history": said[:last],
            "session_id": conversation.session_id,
            "episode_id": conversation.episode_id,
            "persona_id": conversation.persona_id,
            "task_id": conversation.task_id,
            "turn": conversation.turn,
        }

    async def respond(
        self,
        transcript: list[Message],
        *,
        seed: int,
        tools: ToolBox | None = None,
        conversation: Conversation | None = None,
    ) -> TargetReply:
        conversation = conversation or Conversation(episode_id="", persona_id="", task_id="")
        values = self.values(transcript, conversation)
        url = _substitute(
            self.options.url, lambda name: urllib.parse.quote(_as_text(values[name]), safe="")
        )
        body = _fill(self.options.body, values)
        started = time.perf_counter()

        async def attempt(time_left: float | None) -> tuple[Any, str]:
            return await self._call(url, body)

        data, where = await with_retries(
            # logged on each retry: the URL template, not the filled URL (it may hold the
            # user's words, or a key in its query string)
            attempt,
            name=_secrets.scrub(self.options.url),
            limiter=self.limiter,
            policy=self.policy,
            rng=self._rng,
        )
        latency = time.perf_counter() - started
        return TargetReply(messages=[self._message(data, where)], latency_s=latency)

    async def _call(self, url: str, body: Any) -> tuple[Any, str]:
        """One request: the parsed response (a JSON value, or for a stream the joined
        text) and how to name it in errors; HTTP and transport failures are
        ``ModelError``s the retry layer knows."""
        import aiohttp

        where = f"{self.options.method} {url}"
        timeout = aiohttp.ClientTimeout(
            total=self.options.timeout_s, connect=min(10.0, self.options.timeout_s)
        )
        try:
            async with (
                aiohttp.ClientSession(headers=self._headers, timeout=timeout) as session,
                session.request(self.options.method, url, json=body) as response,
            ):
                if response.status >= 400:
                    raw = await response.content.read(64 * 1024)
                    refused = (
                        " (the app refused the credentials: check the target's headers)"
                        if response.status in (401, 403)
                        else ""
                    )
                    raise ModelError(
                        f"{where}: HTTP {response.status}{refused}: "
                        f"{_shown(raw.decode('utf-8', 'replace'))}",
                        retryable=response.status in RETRYABLE_STATUS,
                        status=response.status,
                        retry_after=parse_retry_after(response.headers.get("retry-after")),
                    )
                if self.options.stream:
                    return await self._events(response, where), where
                raw = await self._read(response, where)
        except TimeoutError:
            raise ModelError(
                f"{where}: timed out after {self.options.timeout_s:g} s (timeout_s)",
                retryable=True,
                timed_out=True,
            ) from None
        except aiohttp.ClientError as exc:
            raise ModelError(
                f"{where}: connection failed ({type(exc).__name__}: {_secrets.scrub(str(exc))})",
                retryable=True,
            ) from None
        try:
            return json.loads(raw), where
        except ValueError:
            raise TargetError(
                f"{where}: the response is not JSON: {_shown(raw.decode('utf-8', 'replace'))}"
            ) from None

    async def _read(self, response: Any, where: str) -> bytes:
        limit = self.options.max_response_bytes
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
            body += chunk
            if len(body) > limit:
                raise TargetError(
                    f"{where}: response larger than {limit:,} bytes (max_response_bytes)"
                )
        return bytes(body)

    async def _events(self, response: Any, where: str) -> str:
        """The text of a server-sent event stream: each ``data:`` event (up to ``[DONE]``),
        read at ``stream_path`` when set, joined."""
        pieces: list[str] = []
        size = 0
        event: list[str] = []

        def flush() -> None:
            if not event:
                return
            data = "\n".join(event)
            event.clear()
            if data.strip() == "[DONE]":
                return
            if self._piece is None:
                pieces.append(data)
                return
            try:
                parsed = json.loads(data)
            except ValueError:
                raise TargetError(
                    f"{where}: an event is not JSON, so stream_path cannot be read: {_shown(data)}"
                ) from None
            found = [m.value for m in self._piece.find(parsed)]
            if found and isinstance(found[0], str):
                pieces.append(found[0])

        async for raw in response.content:
            size += len(raw)
            if size > self.options.max_response_bytes:
                raise TargetError(
                    f"{where}: stream larger than {self.options.max_response_bytes:,} bytes "
                    "(max_response_bytes)"
                )
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                flush()
            elif line.startswith("data:"):
                event.append(line[5:].removeprefix(" "))
        flush()
        return "".join(pieces)

    def _message(self, data: Any, where: str) -> Message:
        if self.options.stream:
            return Message(role="assistant", content=str(data))
        found = [match.value for match in self._reply.find(data)]
        if not found:
            raise TargetError(
                f"{where}: the response has no {self.options.reply_path!r} (the target's "
                f"reply_path): {_shown(data)}"
            )
        reply = found[0]
        if not isinstance(reply, str):
            raise TargetError(
                f"{where}: {self.options.reply_path!r} (reply_path) is "
                f"{type(reply).__name__}, expected a string: {_shown(reply)}"
            )
        return Message(role="assistant", content=reply, tool_calls=self._tool_calls(data, where))

    def _tool_calls(self, data: Any, where: str) -> tuple[ToolCall, ...]:
        if self._tools is None:
            return ()
        found = [match.value for match in self._tools.find(data)]
        calls = found[0] if found else []
        path = self.options.tool_calls_path
        if not isinstance(calls, list):
            raise TargetError(f"{where}: {path!r} (tool_calls_path) is not a list: {_shown(calls)}")
        out = []
        for index, call in enumerate(calls):
            # {name, arguments} or OpenAI's {id, function: {name, arguments}}
            inner = call.get("function", call) if isinstance(call, dict) else None
            name = inner.get("name") if isinstance(inner, dict) else None
            if not isinstance(name, str) or not name:
                raise TargetError(
                    f"{where}: {path}[{index}] has no name (expected {{name, arguments}}): "
                    f"{_shown(call)}"
                )
            assert isinstance(inner, dict)
            arguments = inner.get("arguments", {})
            out.append(
                ToolCall(
                    id=str(call.get("id") or f"call_{index}"),
                    name=name,
                    arguments=arguments if isinstance(arguments, str) else json.dumps(arguments),
                )
            )
        return tuple(out)


@target_kinds.register("http_app", options=HttpAppTargetOptions)
def _http_app_target(options: HttpAppTargetOptions, context: TargetContext) -> Target:
    return HttpAppTarget(options, name=context.name, seed=context.seed)


__all__ = ["PLACEHOLDERS", "HttpAppTarget", "HttpAppTargetOptions"]
