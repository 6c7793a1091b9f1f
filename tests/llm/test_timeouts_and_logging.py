"""Timeouts lower an endpoint's concurrency as 429s do, every retry is logged on
``simulacra.llm``, and the ``openai`` backend caps replies as the local one does."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from starlette.responses import Response

from scripted_http import ScriptedServer, completion
from simulacra.llm import DEFAULT_MAX_TOKENS, AdaptiveLimiter, Message, ModelConfig, ModelPool
from simulacra.llm._openai import OpenAIModel

HELLO = [Message(role="user", content="hi")]


def single_slot(seconds: float) -> tuple[Any, list[int]]:
    """A handler that serves one request at a time, each taking ``seconds`` (a server with
    one slot: a second request waits in its queue); ``peak`` is the most ever queued."""
    state = {"queued": 0}
    peak = [0]
    lock: asyncio.Lock | None = None

    async def handler(body: dict[str, Any], headers: dict[str, str]) -> Response:
        nonlocal lock
        lock = lock or asyncio.Lock()
        state["queued"] += 1
        peak[0] = max(peak[0], state["queued"])
        try:
            async with lock:
                await asyncio.sleep(seconds)
        finally:
            state["queued"] -= 1
        return completion("ok")

    return handler, peak


async def test_timeouts_shrink_concurrency_and_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler, _ = single_slot(0.4)
    with ScriptedServer(handler) as server:
        config = ModelConfig.model_validate(
            {
                "backend": "openai",
                "base_url": server.base_url,
                "model": "m",
                "timeout_s": 0.6,
                "max_concurrency": 2,
                "cache": False,
            }
        )
        pool = ModelPool(use_cache=False)
        model = pool.build(config, seed=0)
        limiter = next(iter(pool._limiters.values()))
        with caplog.at_level(logging.INFO, logger="simulacra"):
            replies = await asyncio.gather(*(model.chat(HELLO) for _ in range(4)))
        await pool.aclose()
    assert [r.text for r in replies] == ["ok"] * 4  # every call got through in the end
    assert limiter.timeouts >= 1
    assert limiter.current == 1 and limiter.ceiling < 2  # no longer queueing at the server
    records = [r for r in caplog.records if r.name == "simulacra.llm"]
    messages = [r.getMessage() for r in records]
    assert any("concurrency lowered from 2 to 1 after a timeout" in m for m in messages)
    assert any("timed out after 0.6 s (timeout_s)" in m and "retrying in" in m for m in messages)
    assert all(r.levelno == logging.INFO for r in records)


async def test_the_ceiling_after_a_timeout_rises_slowly() -> None:
    limiter = AdaptiveLimiter(4)
    await limiter.acquire()
    await limiter.release(timed_out=True)
    assert (limiter.current, limiter.ceiling) == (2, 3.0)
    successes = 0
    while limiter.current < 4:
        await limiter.acquire()
        await limiter.release(succeeded=True)
        successes += 1
    # back at the maximum only after ten windows per slot above the ceiling
    assert 20 <= successes <= 40


async def test_a_429_still_regrows_at_once(caplog: pytest.LogCaptureFixture) -> None:
    limiter = AdaptiveLimiter(4, name="api")
    with caplog.at_level(logging.INFO, logger="simulacra"):
        await limiter.acquire()
        await limiter.release(throttled=True)
    assert limiter.ceiling == 4 and limiter.current == 2
    assert "api: concurrency lowered from 4 to 2 after HTTP 429" in caplog.text


async def test_openai_backend_sends_the_default_reply_cap() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(body: dict[str, Any], headers: dict[str, str]) -> Response:
        bodies.append(body)
        return completion("ok")

    with ScriptedServer(handler) as server:
        model = OpenAIModel(base_url=server.base_url, model="m")
        await model.chat(HELLO)
        await model.aclose()
    assert bodies[0]["max_tokens"] == DEFAULT_MAX_TOKENS == 512


def test_local_backend_uses_the_same_default() -> None:
    from simulacra.llm import ChatParams
    from simulacra.llm._local import LocalModel

    request = LocalModel.request(object.__new__(LocalModel), HELLO, ChatParams())  # type: ignore[arg-type]
    assert request["max_tokens"] == DEFAULT_MAX_TOKENS
