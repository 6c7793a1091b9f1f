"""Bounds of one model call against a real local server: the response size, and an
overall deadline across retries (also when the server asks for ``Retry-After: inf``)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import JSONResponse, Response, StreamingResponse

from scripted_http import ScriptedServer, completion
from simulacra.errors import ModelError
from simulacra.llm import Message, ModelConfig, ModelPool, RetryPolicy
from simulacra.llm._openai import OpenAIModel, parse_retry_after

HELLO = [Message(role="user", content="hello")]
MB = 2**20


class Streamed:
    """An endless 200 body (no Content-Length) that counts what it got to send."""

    def __init__(self) -> None:
        self.sent = 0

    def __call__(self, body: dict[str, Any], headers: dict[str, str]) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"choices":[{"message":{"content":"'
            while self.sent < 200 * MB:
                self.sent += 64 * 1024
                yield b"a" * (64 * 1024)
                await asyncio.sleep(0)

        return StreamingResponse(chunks(), media_type="application/json")


@pytest.fixture
def endless() -> Iterator[tuple[ScriptedServer, Streamed]]:
    handler = Streamed()
    with ScriptedServer(handler) as server:
        yield server, handler


async def test_an_endless_body_is_cut_at_the_limit(
    endless: tuple[ScriptedServer, Streamed],
) -> None:
    server, handler = endless
    model = OpenAIModel(base_url=server.base_url, model="m", max_response_bytes=MB)
    started = time.monotonic()
    with pytest.raises(ModelError) as info:
        await model.chat(HELLO)
    elapsed = time.monotonic() - started
    await model.aclose()
    assert not info.value.retryable
    assert "1,048,576 bytes" in str(info.value) and "max_response_bytes" in str(info.value)
    assert elapsed < 5
    await asyncio.sleep(0.2)
    # read incrementally: the client stopped long before the 200 MB the server had
    assert handler.sent < 50 * MB, handler.sent


async def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    big = json.dumps({"choices": [{"message": {"content": "b" * (3 * MB)}}]})
    with ScriptedServer(lambda body, headers: Response(big, media_type="application/json")) as s:
        small = OpenAIModel(base_url=s.base_url, model="m", max_response_bytes=MB)
        with pytest.raises(ModelError, match="max_response_bytes"):
            await small.chat(HELLO)
        await small.aclose()
        fits = OpenAIModel(base_url=s.base_url, model="m", max_response_bytes=len(big))
        assert len((await fits.chat(HELLO)).text) == 3 * MB
        await fits.aclose()


async def test_a_huge_error_body_is_read_only_in_part() -> None:
    def failing(body: dict[str, Any], headers: dict[str, str]) -> Response:
        return JSONResponse({"error": {"message": "overloaded " + "z" * (20 * MB)}}, 503)

    with ScriptedServer(failing) as server:
        model = OpenAIModel(base_url=server.base_url, model="m", max_response_bytes=MB)
        with pytest.raises(ModelError) as info:
            await model.chat(HELLO)
        await model.aclose()
    # still the server's failure (worth a retry), not the size limit
    assert info.value.status == 503 and info.value.retryable
    assert "max_response_bytes" not in str(info.value) and len(str(info.value)) < 1000


async def test_the_limit_is_a_model_setting(
    endless: tuple[ScriptedServer, Streamed], tmp_path: Path
) -> None:
    server, _ = endless
    pool = ModelPool(cache_path=tmp_path / "c.sqlite")
    config = ModelConfig(
        backend="openai", base_url=server.base_url, model="m", max_response_bytes=4096
    )
    model = pool.build(config)
    with pytest.raises(ModelError, match="4,096 bytes") as info:
        await model.chat(HELLO)
    await pool.aclose()
    assert "gave up" not in str(info.value)  # not retried
    assert config.options.max_response_bytes == 4096  # type: ignore[attr-defined]
    default = ModelConfig.model_validate(
        {"backend": "openai", "base_url": "http://x", "model": "m"}
    )
    assert default.options.max_response_bytes == 8 * MB  # type: ignore[attr-defined]


def test_retry_after_that_is_not_a_finite_number_is_no_advice() -> None:
    for value in ("inf", "Infinity", "-inf", "nan", "1e999"):
        assert parse_retry_after(value) is None, value
    assert parse_retry_after("-3") == 0
    assert parse_retry_after("2.5") == 2.5
    policy = RetryPolicy(max_retry_after_s=120)
    rng = random.Random(1)
    for advice in (float("inf"), float("nan")):
        delay = policy.delay(0, ModelError("x", retry_after=advice), rng)
        assert 0 <= delay <= policy.base_delay_s


def test_the_default_deadline_follows_timeout_and_attempts() -> None:
    openai = {"backend": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "m"}
    assert ModelConfig(**openai).deadline() == 600
    assert ModelConfig(**openai, timeout_s=300, max_attempts=4).deadline() == 1200
    assert ModelConfig(**openai, deadline_s=5).deadline() == 5
    assert ModelConfig(backend="local").deadline() is None


def throttled(retry_after: str) -> ScriptedServer:
    return ScriptedServer(
        lambda body, headers: JSONResponse(
            {"error": {"message": "slow down"}}, 429, headers={"Retry-After": retry_after}
        )
    )


async def test_retry_after_inf_is_retried_with_backoff_until_the_deadline(
    tmp_path: Path,
) -> None:
    with throttled("inf") as server:
        pool = ModelPool(cache_path=tmp_path / "c.sqlite")
        config = ModelConfig(
            backend="openai", base_url=server.base_url, model="m", max_attempts=100, deadline_s=1.5
        )
        model = pool.build(config)
        model.inner.policy = RetryPolicy(  # type: ignore[attr-defined]
            max_attempts=100, base_delay_s=0.05, max_delay_s=0.2, deadline_s=1.5
        )
        started = time.monotonic()
        with pytest.raises(ModelError) as info:
            await model.chat(HELLO)
        elapsed = time.monotonic() - started
        await pool.aclose()
    assert "deadline" in str(info.value) and "deadline_s" in str(info.value)
    assert info.value.status == 429 and not info.value.retryable
    assert server.calls > 3  # it kept trying, with short backoffs, not 120 s waits
    assert elapsed < 3.0  # the deadline (1.5 s) and some slack for a loaded machine


async def test_a_retry_after_past_the_deadline_gives_up_at_once(tmp_path: Path) -> None:
    with throttled("30") as server:
        pool = ModelPool(cache_path=tmp_path / "c.sqlite")
        config = ModelConfig(backend="openai", base_url=server.base_url, model="m", deadline_s=5)
        model = pool.build(config)
        started = time.monotonic()
        with pytest.raises(ModelError, match=r"a retry in 30 s would pass the 5 s deadline"):
            await model.chat(HELLO)
        await pool.aclose()
    assert time.monotonic() - started < 1.0 and server.calls == 1


async def test_an_attempt_running_at_the_deadline_is_cut_short(tmp_path: Path) -> None:
    async def slow(body: dict[str, Any], headers: dict[str, str]) -> Response:
        await asyncio.sleep(2)
        return completion("late")

    with ScriptedServer(slow) as server:
        pool = ModelPool(cache_path=tmp_path / "c.sqlite")
        config = ModelConfig(
            backend="openai", base_url=server.base_url, model="m", timeout_s=30, deadline_s=0.5
        )
        model = pool.build(config)
        started = time.monotonic()
        with pytest.raises(ModelError, match=r"no reply within the 0.5 s deadline") as info:
            await model.chat(HELLO)
        elapsed = time.monotonic() - started
        await pool.aclose()
    assert not info.value.retryable and 0.4 < elapsed < 1.5
