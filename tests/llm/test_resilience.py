from __future__ import annotations

import asyncio

import pytest

from simulacra.errors import ModelError
from simulacra.llm import AdaptiveLimiter, Message, ResilientModel, RetryPolicy, ScriptedModel

HELLO = [Message(role="user", content="hi")]
FAST = RetryPolicy(max_attempts=4, base_delay_s=0.001, max_delay_s=0.002)


async def test_retries_retryable_errors_then_succeeds() -> None:
    inner = ScriptedModel(
        [
            ModelError("slow down", retryable=True, status=429),
            ModelError("down", retryable=True, status=503),
            "ok",
        ]
    )
    model = ResilientModel(inner, limiter=AdaptiveLimiter(4), policy=FAST, seed=1)
    assert (await model.chat(HELLO)).text == "ok"
    assert model.retries == 2
    assert model.limiter.throttled == 1


async def test_gives_up_after_max_attempts_with_count_in_message() -> None:
    inner = ScriptedModel([ModelError("down", retryable=True, status=503)] * 4)
    model = ResilientModel(inner, limiter=AdaptiveLimiter(2), policy=FAST)
    with pytest.raises(ModelError, match="gave up after 4 attempts") as info:
        await model.chat(HELLO)
    assert info.value.status == 503 and not info.value.retryable


async def test_non_retryable_error_is_raised_at_once() -> None:
    inner = ScriptedModel([ModelError("bad request", retryable=False, status=400), "never"])
    model = ResilientModel(inner, limiter=AdaptiveLimiter(2), policy=FAST)
    with pytest.raises(ModelError, match="bad request"):
        await model.chat(HELLO)
    assert len(inner.calls) == 1


def test_retry_after_wins_over_backoff_and_is_capped() -> None:
    import random

    policy = RetryPolicy(max_retry_after_s=5)
    rng = random.Random(0)
    assert policy.delay(0, ModelError("x", retry_after=2.5), rng) == 2.5
    assert policy.delay(0, ModelError("x", retry_after=500), rng) == 5
    delays = [policy.delay(3, ModelError("x"), rng) for _ in range(200)]
    assert min(delays) >= 0 and max(delays) <= policy.base_delay_s * 8
    assert len(set(delays)) > 100  # jittered


async def test_limiter_halves_on_throttle_and_grows_back_to_max() -> None:
    limiter = AdaptiveLimiter(8)
    await limiter.acquire()
    await limiter.release(throttled=True)
    assert limiter.current == 4
    await limiter.acquire()
    await limiter.release(throttled=True)
    assert limiter.current == 2
    for _ in range(200):
        await limiter.acquire()
        await limiter.release(succeeded=True)
    assert limiter.current == 8  # grown back, never above the maximum
    assert limiter.limit <= 8


async def test_limiter_bounds_calls_in_flight() -> None:
    limiter = AdaptiveLimiter(3)
    peak = 0
    active = 0

    async def call() -> None:
        nonlocal peak, active
        await limiter.acquire()
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.005)
        active -= 1
        await limiter.release(succeeded=True)

    await asyncio.gather(*(call() for _ in range(20)))
    assert peak == 3
