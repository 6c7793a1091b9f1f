"""The ``local`` backend: llama.cpp in-process, the embedded default.

llama.cpp is not safe for concurrent calls on one instance, so each loaded model owns one
worker thread: calls queue there in order, and the event loop never blocks on inference.
``llama_cpp`` is imported only when a model is first loaded.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from simulacra.errors import ModelError, WeightsError
from simulacra.llm._types import (
    DEFAULT_MAX_TOKENS,
    ChatParams,
    Completion,
    Message,
    TokenLogprob,
    ToolCall,
    Usage,
)

_TOOL_CALL = re.compile(r"<tool_call>\s*(\{.*?\})\s*</tool_call>", re.DOTALL)
_JSON_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


class LlamaEngine:
    """One loaded GGUF and the single thread allowed to use it."""

    def __init__(
        self,
        path: Path,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        logits_all: bool = False,
    ) -> None:
        self.path = path
        self.n_ctx = n_ctx
        self.n_threads = n_threads or max(1, os.cpu_count() or 1)
        self.logits_all = logits_all
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simulacra-llama")
        self._llama: Any = None
        self._load_lock = threading.Lock()

    def _load(self) -> Any:
        with self._load_lock:
            if self._llama is None:
                try:
                    import llama_cpp
                except ImportError:
                    raise WeightsError(
                        "the local backend needs llama-cpp-python: pip install 'simulacra[local]'"
                    ) from None
                if not self.path.is_file():
                    raise WeightsError(f"{self.path}: GGUF file not found")
                try:
                    self._llama = llama_cpp.Llama(
                        model_path=str(self.path),
                        n_ctx=self.n_ctx,
                        n_threads=self.n_threads,
                        logits_all=self.logits_all,
                        verbose=False,
                    )
                except (ValueError, RuntimeError) as exc:
                    raise WeightsError(
                        f"{self.path}: llama.cpp could not load it ({exc})"
                    ) from None
            return self._llama

    def _complete(self, request: dict[str, Any]) -> dict[str, Any]:
        llama = self._load()
        result: dict[str, Any] = llama.create_chat_completion(**request)
        return result

    async def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._complete, request)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self._llama is not None:
            close = getattr(self._llama, "close", None)
            if close is not None:
                close()
            self._llama = None


class LocalModel:
    """A chat model on a shared ``LlamaEngine``; several roles may share one engine."""

    def __init__(
        self,
        engine: LlamaEngine,
        *,
        default_params: ChatParams | None = None,
        owns_engine: bool = True,
    ) -> None:
        self.engine = engine
        self._default = default_params or ChatParams()
        self._owns_engine = owns_engine

    @property
    def name(self) -> str:
        return f"local:{self.engine.path.name}"

    def request(self, messages: list[Message], params: ChatParams) -> dict[str, Any]:
        request: dict[str, Any] = {
            "messages": [_local_message(m) for m in messages],
            "temperature": 0.7 if params.temperature is None else params.temperature,
            "max_tokens": params.max_tokens or DEFAULT_MAX_TOKENS,
        }
        if params.top_p is not None:
            request["top_p"] = params.top_p
        if params.seed is not None:
            request["seed"] = params.seed
        if params.stop:
            request["stop"] = list(params.stop)
        if params.tools:
            request["tools"] = list(params.tools)
        if params.logprobs and self.engine.logits_all:
            request["logprobs"] = True
            request["top_logprobs"] = params.top_logprobs or 5
        return request

    async def chat(self, messages: list[Message], params: ChatParams | None = None) -> Completion:
        params = self._default.merged(params)
        started = time.perf_counter()
        try:
            data = await self.engine.complete(self.request(messages, params))
        except WeightsError:
            raise
        except (ValueError, RuntimeError) as exc:
            # e.g. a prompt longer than the context window: not worth retrying
            raise ModelError(f"llama.cpp: {exc}", retryable=False) from None
        choice = data["choices"][0]
        text = choice["message"].get("content") or ""
        if params.tools:
            names = {str(t.get("function", {}).get("name")) for t in params.tools}
            text, calls = extract_tool_calls(text, names)
        else:
            calls = ()
        usage = data.get("usage") or {}
        return Completion(
            text=text,
            tool_calls=calls,
            finish_reason="tool_calls" if calls else (choice.get("finish_reason") or "stop"),
            usage=Usage(
                prompt_tokens=int(usage.get("prompt_tokens", 0)),
                completion_tokens=int(usage.get("completion_tokens", 0)),
                calls=1,
            ),
            latency_s=time.perf_counter() - started,
            logprobs=_logprobs(choice.get("logprobs")),
            model=self.name,
        )

    async def aclose(self) -> None:
        if self._owns_engine:
            await asyncio.to_thread(self.engine.close)


def _local_message(message: Message) -> dict[str, Any]:
    out = message.to_dict()
    if message.tool_calls:
        # chat templates render arguments with tojson, so hand them an object, not a string
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": _json_or_text(call.arguments)},
            }
            for call in message.tool_calls
        ]
    return out


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def extract_tool_calls(
    text: str, names: set[str] | None = None
) -> tuple[str, tuple[ToolCall, ...]]:
    """Split tool calls from a model's text.

    The chat template's convention is ``<tool_call>{json}</tool_call>`` (Qwen/Hermes).
    Small models also write the same JSON in a fenced block; that is taken as a call
    only when its ``name`` is one of the offered tools (``names``).
    """
    calls, remaining = _calls_in(text, _TOOL_CALL, None)
    if not calls and names:
        calls, remaining = _calls_in(text, _JSON_FENCE, names)
    if not calls and names:
        calls, remaining = _bare_calls(text, names)
    return (remaining, tuple(calls)) if calls else (text, ())


def _to_call(payload: Any, names: set[str] | None, number: int) -> ToolCall | None:
    """A tool call from a decoded JSON object, if it names a tool (an offered one, when
    ``names`` is given)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("name"), str):
        return None
    if names is not None and payload["name"] not in names:
        return None
    arguments = payload.get("arguments", payload.get("parameters", {}))
    return ToolCall(
        id=f"call_{number}",
        name=payload["name"],
        arguments=arguments if isinstance(arguments, str) else json.dumps(arguments),
    )


_FENCE_BEFORE = re.compile(r"```(?:json)?\s*\Z")
_FENCE_AFTER = re.compile(r"\s*```")


def _bare_calls(text: str, names: set[str]) -> tuple[list[ToolCall], str]:
    """JSON objects naming an offered tool anywhere in the text (no tags, no fence)."""
    decoder = json.JSONDecoder()
    calls: list[ToolCall] = []
    spans: list[tuple[int, int]] = []
    index = text.find("{")
    while index != -1:
        try:
            payload, end = decoder.raw_decode(text, index)
        except ValueError:
            index = text.find("{", index + 1)
            continue
        call = _to_call(payload, names, len(calls))
        if call is not None:
            calls.append(call)
            spans.append((index, end))
        # after a call, go on past it; otherwise look inside the object too
        index = text.find("{", end if call is not None else index + 1)
    remaining = text
    for start, end in reversed(spans):
        # a fence right around the call goes with it; other code blocks stay
        before = _FENCE_BEFORE.search(remaining, 0, start)
        after = _FENCE_AFTER.match(remaining, end)
        start = before.start() if before else start
        end = after.end() if after else end
        remaining = remaining[:start] + remaining[end:]
    return calls, remaining.strip()


def _calls_in(
    text: str, pattern: re.Pattern[str], names: set[str] | None
) -> tuple[list[ToolCall], str]:
    calls: list[ToolCall] = []
    for match in pattern.finditer(text):
        try:
            payload = json.loads(match.group(1))
        except ValueError:
            continue
        call = _to_call(payload, names, len(calls))
        if call is not None:
            calls.append(call)
    return calls, pattern.sub("", text).strip() if calls else text


def _logprobs(data: Any) -> tuple[TokenLogprob, ...] | None:
    if not data or not data.get("content"):
        return None
    return tuple(
        TokenLogprob(
            token=str(item["token"]),
            logprob=float(item["logprob"]),
            top=tuple(
                (str(a["token"]), float(a["logprob"])) for a in item.get("top_logprobs") or ()
            ),
        )
        for item in data["content"]
    )
