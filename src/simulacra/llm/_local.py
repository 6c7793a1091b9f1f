"""The ``local`` backend: llama.cpp in-process, the embedded default.

llama.cpp is not safe for concurrent calls on one instance, so each loaded model owns one
worker thread: calls queue there in order, and the event loop never blocks on inference.
``llama_cpp`` is imported only when a model is first loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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

log = logging.getLogger("simulacra.llm")

_TOOL_CALL = re.compile(r"<tool_call>\s*(\{.*?\})\s*</tool_call>", re.DOTALL)
_JSON_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


class LlamaEngine:
    """One loaded GGUF, its engine slots, and the single thread allowed to use them.

    A slot is a llama.cpp context of its own (its own KV cache) on the one loaded model:
    the weights are in memory once, each slot adds only its KV cache and work buffers.
    Calls carry an affinity key (``ChatParams.affinity``: a conversation and role); all
    calls with one key go to one slot, so the history that call N+1 shares with call N
    is already in that slot's cache and only the new tokens are read. When every slot is
    taken, the key heard from least recently gives up its slot (a finished conversation
    is never heard from again). Calls without a key share one slot.

    A conversation's first call on a slot may start from another slot's cache: when the
    slot it was given holds less of the new prompt than another slot does (conversations
    of one run share the system prompt, the policy and the tool schemas), that slot's
    cached tokens are copied over first (``llama_state_seq_get_data``, a copy of its KV
    cache, milliseconds) and only the rest of the prompt is read.

    Slots run one at a time on the worker thread: on a small CPU, contexts decoding side
    by side only split the same cores (see docs/design.md for the figures).
    """

    def __init__(
        self,
        path: Path,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        logits_all: bool = False,
        slots: int = 1,
    ) -> None:
        if slots < 1:
            raise ValueError("an engine needs at least one slot")
        self.path = path
        self.n_ctx = n_ctx
        self.n_threads = n_threads or max(1, os.cpu_count() or 1)
        self.logits_all = logits_all
        self.slots = slots
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simulacra-llama")
        self._llamas: list[Any] = []
        self._load_lock = threading.Lock()
        self._route_lock = threading.Lock()
        self._owners: OrderedDict[str, int] = OrderedDict()
        """affinity key → slot, the least recently heard key first (at most ``slots``)"""
        self._last_used = [0] * slots
        self._clock = 0
        self._held = [""] * slots
        """per slot, the text of the request its cache was last filled from"""
        self.stats = [SlotStats() for _ in range(slots)]

    def _load(self) -> list[Any]:
        with self._load_lock:
            if not self._llamas:
                try:
                    import llama_cpp
                except ImportError:
                    raise WeightsError(
                        "the local backend needs llama-cpp-python: pip install 'simulacra[local]'"
                    ) from None
                if not self.path.is_file():
                    raise WeightsError(f"{self.path}: GGUF file not found")
                try:
                    base = llama_cpp.Llama(
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
                self._llamas.append(base)
                try:
                    for _ in range(1, self.slots):
                        self._llamas.append(_another_context(base))
                except BaseException:
                    self._free()
                    raise
            return self._llamas

    def slot_for(self, key: str | None) -> int:
        """The slot that serves ``key``: its own, else a free one (the one idle longest),
        else the one of the key heard from least recently."""
        key = key or ""
        with self._route_lock:
            self._clock += 1
            slot = self._owners.get(key)
            if slot is None:
                taken = set(self._owners.values())
                free = [i for i in range(self.slots) if i not in taken]
                if free:
                    slot = min(free, key=lambda i: self._last_used[i])
                else:
                    _, slot = self._owners.popitem(last=False)
                    self.stats[slot].reassigned += 1
                self._owners[key] = slot
            else:
                self._owners.move_to_end(key)
            self._last_used[slot] = self._clock
            return slot

    def donor_for(self, slot: int, text: str) -> int | None:
        """The slot whose cache is worth copying into ``slot`` before serving ``text``
        (``request_text``), if any: the one that shares the longest start with it, when
        that is at least ``SHARE_MIN_CHARS`` longer than what ``slot`` shares."""
        own = shared_prefix(self._held[slot], text)
        best, best_shared = None, own + SHARE_MIN_CHARS - 1
        for other, held in enumerate(self._held):
            if other != slot and held:
                shared = shared_prefix(held, text)
                if shared > best_shared:
                    best, best_shared = other, shared
        return best

    def _complete(self, request: dict[str, Any], key: str | None) -> dict[str, Any]:
        llamas = self._load()
        fresh = (key or "") not in self._owners
        slot = self.slot_for(key)
        llama = llamas[slot]
        text = request_text(request)
        if fresh and self.slots > 1 and not self.logits_all:
            # (with logits_all, a slot's per-token scores would have to follow its cache)
            donor = self.donor_for(slot, text)
            if donor is not None and _copy_cache(llamas[donor], llama):
                self.stats[slot].copied += llama.n_tokens
        self._held[slot] = text
        before = _prompt_evaluated(llama)
        result: dict[str, Any] = llama.create_chat_completion(**request)
        stats = self.stats[slot]
        stats.calls += 1
        stats.prompt_tokens += int((result.get("usage") or {}).get("prompt_tokens", 0))
        stats.evaluated += _prompt_evaluated(llama) - before
        stats.last_evaluated = _prompt_evaluated(llama) - before
        return result

    async def complete(
        self, request: dict[str, Any], *, affinity: str | None = None
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._complete, request, affinity)

    def _free(self) -> None:
        # the first context owns the model: the others go first
        for llama in reversed(self._llamas):
            close = getattr(llama, "close", None)
            if close is not None:
                close()
        self._llamas = []

    def summary(self) -> dict[str, int]:
        """Totals over the slots: calls, prompt tokens sent and read, reassignments."""
        return {
            "slots": self.slots,
            "calls": sum(s.calls for s in self.stats),
            "prompt_tokens": sum(s.prompt_tokens for s in self.stats),
            "evaluated": sum(s.evaluated for s in self.stats),
            "reassigned": sum(s.reassigned for s in self.stats),
            "copied": sum(s.copied for s in self.stats),
        }

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        with self._load_lock:
            if self._llamas:
                log.info("llama.cpp engine %s: %s", self.path.name, json.dumps(self.summary()))
            self._free()


@dataclass(kw_only=True)
class SlotStats:
    """What one slot did: calls, prompt tokens sent, and prompt tokens it had to read
    (the rest came from its KV cache); tokens copied in from other slots' caches."""

    calls: int = 0
    prompt_tokens: int = 0
    evaluated: int = 0
    last_evaluated: int = 0
    reassigned: int = 0
    copied: int = 0


SHARE_MIN_CHARS = 200
"""The least start a request must share with another slot's cache, beyond what its own
slot holds, for that cache to be copied (a few dozen tokens: below that, reading them
costs about as much as the copy)."""


def request_text(request: dict[str, Any]) -> str:
    """A request's prompt as text in the order a chat template lays it out (tools with the
    system prompt, then the messages), for comparing what two prompts share."""
    parts = [json.dumps(request.get("tools") or [], sort_keys=True)]
    for message in request.get("messages") or ():
        parts.append(f"{message.get('role')}\x1f{message.get('content') or ''}")
        if message.get("tool_calls"):
            parts.append(json.dumps(message["tool_calls"], sort_keys=True, default=str))
    return "\x1e".join(parts)


def shared_prefix(a: str, b: str) -> int:
    """The length of the longest common start of ``a`` and ``b``."""
    # character by character is what is wanted here (these are prompts, not paths)
    return len(os.path.commonprefix((a, b)))  # noqa: RUF071


def _copy_cache(source: Any, target: Any) -> bool:
    """Make ``target``'s cache a copy of ``source``'s (both ``Llama`` objects on one model):
    its KV cache through llama.cpp's sequence state, and the tokens it holds. The next
    call on ``target`` then reads only what its prompt does not share with them. False
    (and ``target`` emptied, so it reads everything) when llama.cpp refuses."""
    import ctypes

    import llama_cpp

    if source.n_tokens == 0:
        return False
    size = int(llama_cpp.llama_state_seq_get_size(source.ctx, 0))
    buffer = (ctypes.c_uint8 * size)()
    written = int(llama_cpp.llama_state_seq_get_data(source.ctx, buffer, size, 0))
    llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(target.ctx), -1, -1, -1)
    if written == 0 or int(llama_cpp.llama_state_seq_set_data(target.ctx, buffer, written, 0)) == 0:
        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(target.ctx), -1, -1, -1)
        target.n_tokens = 0
        return False
    target.input_ids[: source.n_tokens] = source.input_ids[: source.n_tokens]
    target.n_tokens = source.n_tokens
    return True


def _prompt_evaluated(llama: Any) -> int:
    """Prompt tokens the context has decoded since it was made (llama.cpp's counter)."""
    import llama_cpp

    return int(llama_cpp.llama_perf_context(llama.ctx).n_p_eval)


def _another_context(base: Any) -> Any:
    """A ``Llama`` with a context of its own on ``base``'s loaded model.

    ``Llama`` loads a model for every instance, and llama.cpp repacks the weights into
    private memory for its fast kernels, so two instances hold the weights twice. This
    one shares ``base``'s model, tokenizer and chat handlers and owns only its context,
    batch and sampling state; it must be closed before ``base``.
    """
    import ctypes

    import numpy as np
    from llama_cpp import _internals as internals
    from llama_cpp.llama_tokenizer import LlamaTokenizer

    other = object.__new__(type(base))
    other.__dict__.update(base.__dict__)
    other._model_owner = base  # the model outlives this context, even when collected
    other._stack = contextlib.ExitStack()
    other._ctx = other._stack.enter_context(
        contextlib.closing(
            internals.LlamaContext(model=base._model, params=base.context_params, verbose=False)
        )
    )
    other._batch = other._stack.enter_context(
        contextlib.closing(
            internals.LlamaBatch(
                n_tokens=base.n_batch, embd=0, n_seq_max=base.context_params.n_ctx, verbose=False
            )
        )
    )
    other._candidates = internals.LlamaTokenDataArray(n_vocab=base._n_vocab)
    other._sampler = None
    other.cache = None
    other.n_tokens = 0
    other._requires_eval = True
    other._mirostat_mu = ctypes.c_float(2.0 * 5.0)
    other.input_ids = np.ndarray((base._n_ctx,), dtype=np.intc)
    rows = base._n_ctx if base._logits_all else base.n_batch
    other.scores = np.ndarray((rows, base._n_vocab), dtype=np.single)
    other.tokenizer_ = LlamaTokenizer(other)
    return other


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
            data = await self.engine.complete(
                self.request(messages, params), affinity=params.affinity
            )
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


# -- memory ---------------------------------------------------------------------------------

_GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?"}
_GGUF_SCALARS.update({10: "<Q", 11: "<q", 12: "<d"})
_GGUF_STRING, _GGUF_ARRAY = 8, 9
SLOT_WORK_BYTES = 8 * 2**20
"""Per slot, beyond its KV cache: batch, sampler and output buffers (measured: a few MiB
for the embedded model)."""


def gguf_hparams(path: Path) -> dict[str, Any]:
    """The scalar metadata of a GGUF file that precede its tokenizer (the architecture's
    hyperparameters), read from the header without loading the model."""
    import struct

    def read(handle: Any, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        data = handle.read(size)
        if len(data) != size:
            raise WeightsError(f"{path}: the GGUF header is cut short")
        return struct.unpack(fmt, data)[0]

    def text(handle: Any) -> str:
        length = read(handle, "<Q")
        return str(handle.read(length).decode("utf-8", "replace"))

    def skip(handle: Any, kind: int) -> None:
        if kind == _GGUF_STRING:
            handle.seek(read(handle, "<Q"), os.SEEK_CUR)
        elif kind == _GGUF_ARRAY:
            item, count = read(handle, "<I"), read(handle, "<Q")
            for _ in range(count):
                skip(handle, item)
        elif kind in _GGUF_SCALARS:
            handle.seek(struct.calcsize(_GGUF_SCALARS[kind]), os.SEEK_CUR)
        else:
            raise WeightsError(f"{path}: unknown GGUF value type {kind}")

    values: dict[str, Any] = {}
    with path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise WeightsError(f"{path}: not a GGUF file")
        read(handle, "<I")  # version
        read(handle, "<Q")  # tensors
        for _ in range(read(handle, "<Q")):
            key = text(handle)
            if key.startswith("tokenizer."):
                break
            kind = read(handle, "<I")
            if kind in _GGUF_SCALARS:
                values[key] = read(handle, _GGUF_SCALARS[kind])
            elif kind == _GGUF_STRING:
                values[key] = text(handle)
            else:
                skip(handle, kind)
    return values


def kv_cache_bytes(path: Path, n_ctx: int, *, dtype_bytes: int = 2) -> int:
    """Bytes of one slot's KV cache: ``n_ctx`` tokens × layers × (K + V width), in f16."""
    hparams = gguf_hparams(path)
    arch = hparams.get("general.architecture", "llama")
    try:
        layers = int(hparams[f"{arch}.block_count"])
        width = int(hparams[f"{arch}.embedding_length"])
        heads = int(hparams[f"{arch}.attention.head_count"])
    except KeyError as exc:
        raise WeightsError(f"{path}: the GGUF header has no {exc.args[0]}") from None
    kv_heads = int(hparams.get(f"{arch}.attention.head_count_kv", heads))
    k_dim = int(hparams.get(f"{arch}.attention.key_length", width // heads))
    v_dim = int(hparams.get(f"{arch}.attention.value_length", width // heads))
    return n_ctx * layers * kv_heads * (k_dim + v_dim) * dtype_bytes


def available_memory() -> int | None:
    """Bytes of RAM available to a new allocation (Linux ``MemAvailable``), if known."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def slots_memory(path: Path, n_ctx: int, slots: int) -> int:
    """Bytes the engine needs: the weights once, and per slot its KV cache and buffers."""
    return path.stat().st_size + slots * (kv_cache_bytes(path, n_ctx) + SLOT_WORK_BYTES)


def check_memory(path: Path, n_ctx: int, slots: int, available: int | None = None) -> int:
    """Raise ``ConfigError`` (field ``slots``) when ``slots`` contexts of ``n_ctx`` tokens
    would not fit in the available RAM; return the bytes needed."""
    from simulacra.errors import ConfigError

    need = slots_memory(path, n_ctx, slots)
    available = available_memory() if available is None else available
    if available is not None and need > available:
        per_slot = kv_cache_bytes(path, n_ctx) + SLOT_WORK_BYTES
        fits = max(0, (available - path.stat().st_size) // per_slot)
        raise ConfigError(
            f"{slots} slots of {n_ctx} tokens need {need / 2**20:,.0f} MiB "
            f"({per_slot / 2**20:,.1f} MiB per slot and the weights), but only "
            f"{available / 2**20:,.0f} MiB of RAM is available; use at most {fits} slots "
            "or a smaller n_ctx",
            field="slots",
        )
    return need
