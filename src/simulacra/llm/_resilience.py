"""Retries with backoff, and a concurrency limit per endpoint that adapts to 429s."""

from __future__ import annotations

import asyncio
import math
import random
import time
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
    """Exponential backoff with full jitter; a server's ``Retry-After`` wins when given
    (capped at ``max_retry_after_s``). ``deadline_s`` bounds one call with all its
    attempts and backoffs (time spent waiting for a slot of the limiter does not count):
    no retry is started that could not begin before it, and an attempt still running at
    the deadline is cut short."""

    max_attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_retry_after_s: float = 120.0
    deadline_s: float | None = None

    def delay(self, attempt: int, error: ModelError, rng: random.Random) -> float:
        advice = error.retry_after
        if advice is not None and math.isfinite(advice):
            return min(max(0.0, advice), self.max_retry_after_s)
        return rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt))


class ResilientModel:
    """Wraps a model with a shared per-endpoint ``AdaptiveLimiter`` and a ``RetryPolicy``.

    A retryable ``ModelError`` (429, 5xx, timeout, dropped connection) is retried after a
    backoff during which the slot is given back; when the attempts are used up, or the
    policy's deadline leaves no room for another, the last error is raised with the
    attempt count in its message.
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
        budget = self.policy.deadline_s
        spent = 0.0  # in attempts and backoffs, not waiting for a slot
        while True:
            await self.limiter.acquire()
            began = time.monotonic()
            try:
                completion = await self._attempt(messages, params, budget, spent)
            except ModelError as error:
                spent += time.monotonic() - began
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
                delay = self.policy.delay(attempt - 1, error, self._rng)
                if budget is not None and spent + delay >= budget:
                    raise ModelError(
                        f"{error} (gave up after {attempt} attempt{'s' if attempt > 1 else ''}:"
                        f" a retry in {delay:.3g} s would pass the {budget:g} s deadline,"
                        " the model's deadline_s setting)",
                        retryable=False,
                        status=error.status,
                    ) from None
                self.retries += 1
                await asyncio.sleep(delay)
                spent += delay
                continue
            except BaseException:
                await asyncio.shield(self.limiter.release())
                raise
            await self.limiter.release(succeeded=True)
            return completion

    async def _attempt(
        self, messages: list[Message], params: ChatParams | None, budget: float | None, spent: float
    ) -> Completion:
        """One call of the inner model, cut short when it would run past the deadline."""
        if budget is None:
            return await self.inner.chat(messages, params)
        scope = asyncio.timeout(max(0.0, budget - spent))
        try:
            async with scope:
                return await self.inner.chat(messages, params)
        except TimeoutError:
            if not scope.expired():
                raise  # the model's own, not the deadline
            raise ModelError(
                f"{self.name}: no reply within the {budget:g} s deadline "
                "(the model's deadline_s setting)",
                retryable=False,
            ) from None

    async def aclose(self) -> None:
        await self.inner.aclose()
