"""Retries with backoff, and a concurrency limit per endpoint that adapts to 429s."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from simulacra.errors import ModelError
from simulacra.llm._types import ChatModel, ChatParams, Completion, Message


class AdaptiveLimiter:
    """A semaphore whose size adapts: halved on a 429, grown back by successes.

    The limit starts at ``maximum`` and never exceeds it. Each throttled call halves it
    (multiplicative decrease, at least 1); each success adds ``1/limit`` (additive increase:
    about one more slot per full window of successful calls), as TCP congestion control does.
    """

    def __init__(self, maximum: int, *, minimum: int = 1) -> None:
        if maximum < 1:
            raise ValueError("maximum must be at least 1")
        self.maximum = maximum
        self.minimum = max(1, min(minimum, maximum))
        self.limit = float(maximum)
        self.in_flight = 0
        self.throttled = 0
        self._condition = asyncio.Condition()

    @property
    def current(self) -> int:
        return max(self.minimum, int(self.limit))

    async def acquire(self) -> None:
        async with self._condition:
            await self._condition.wait_for(lambda: self.in_flight < self.current)
            self.in_flight += 1

    async def release(self, *, throttled: bool = False, succeeded: bool = False) -> None:
        async with self._condition:
            self.in_flight -= 1
            if throttled:
                self.throttled += 1
                self.limit = max(float(self.minimum), self.limit / 2)
            elif succeeded:
                self.limit = min(float(self.maximum), self.limit + 1 / self.limit)
            self._condition.notify_all()


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff with full jitter; a server's ``Retry-After`` wins when given."""

    max_attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_retry_after_s: float = 120.0

    def delay(self, attempt: int, error: ModelError, rng: random.Random) -> float:
        if error.retry_after is not None:
            return min(error.retry_after, self.max_retry_after_s)
        return rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt))


class ResilientModel:
    """Wraps a model with a shared per-endpoint ``AdaptiveLimiter`` and a ``RetryPolicy``.

    A retryable ``ModelError`` (429, 5xx, timeout, dropped connection) is retried after a
    backoff during which the slot is given back; when the attempts are used up the last
    error is raised with the attempt count in its message.
    """

    def __init__(
        self,
        inner: ChatModel,
        *,
        limiter: AdaptiveLimiter,
        policy: RetryPolicy = RetryPolicy(),
        seed: int | None = None,
    ) -> None:
        self.inner = inner
        self.limiter = limiter
        self.policy = policy
        self.retries = 0
        self._rng = random.Random(seed)

    @property
    def name(self) -> str:
        return self.inner.name

    async def chat(self, messages: list[Message], params: ChatParams | None = None) -> Completion:
        attempt = 0
        while True:
            await self.limiter.acquire()
            try:
                completion = await self.inner.chat(messages, params)
            except ModelError as error:
                await self.limiter.release(throttled=error.status == 429)
                attempt += 1
                if not error.retryable or attempt >= self.policy.max_attempts:
                    if attempt > 1:
                        raise ModelError(
                            f"{error} (gave up after {attempt} attempts)",
                            retryable=False,
                            status=error.status,
                        ) from None
                    raise
                self.retries += 1
                await asyncio.sleep(self.policy.delay(attempt - 1, error, self._rng))
                continue
            except BaseException:
                await asyncio.shield(self.limiter.release())
                raise
            await self.limiter.release(succeeded=True)
            return completion

    async def aclose(self) -> None:
        await self.inner.aclose()
