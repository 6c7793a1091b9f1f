"""Retries with backoff, and a concurrency limit per endpoint that adapts to 429s and
timeouts.

Every retry, backoff, timeout and change of a limit is logged on the ``simulacra.llm``
logger at ``INFO`` (the command line's ``-v`` shows them), with secrets scrubbed.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from simulacra import _secrets
from simulacra.errors import ModelError
from simulacra.llm._types import ChatModel, ChatParams, Completion, Message, with_affinity

log = logging.getLogger("simulacra.llm")

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
"""HTTP statuses worth another try."""

T = TypeVar("T")


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


class AdaptiveLimiter:
    """A semaphore whose size adapts: halved on a 429 or a timeout, grown back by successes.

    The limit starts at ``maximum`` and never exceeds it. Each throttled call halves it
    (multiplicative decrease, at least 1); each success adds ``1/limit`` (additive increase:
    about one more slot per full window of successful calls), as TCP congestion control does.

    A timeout says more than a 429: calls queued at a server with fewer slots than this
    limit wait there until they time out, and every timeout costs a whole ``timeout_s``.
    So after a timeout the limit also gets a ceiling one below the level that timed out;
    the ceiling rises by one slot per ten full windows of successes, so the endpoint is
    probed again only now and then (``ceiling`` is ``maximum`` until a timeout).
    """

    def __init__(self, maximum: int, *, minimum: int = 1, name: str = "endpoint") -> None:
        if maximum < 1:
            raise ValueError("maximum must be at least 1")
        self.maximum = maximum
        self.minimum = max(1, min(minimum, maximum))
        self.name = name
        self.limit = float(maximum)
        self.ceiling = float(maximum)
        self.in_flight = 0
        self.throttled = 0
        self.timeouts = 0
        self._condition = asyncio.Condition()

    @property
    def current(self) -> int:
        return max(self.minimum, int(self.limit))

    async def acquire(self) -> None:
        async with self._condition:
            await self._condition.wait_for(lambda: self.in_flight < self.current)
            self.in_flight += 1

    async def release(
        self, *, throttled: bool = False, timed_out: bool = False, succeeded: bool = False
    ) -> None:
        async with self._condition:
            self.in_flight -= 1
            before = self.current
            if throttled or timed_out:
                self.throttled += 1
                self.limit = max(float(self.minimum), self.limit / 2)
                if timed_out:
                    self.timeouts += 1
                    self.ceiling = max(float(self.minimum), min(self.ceiling, before - 1.0))
                    self.limit = min(self.limit, self.ceiling)
                if self.current < before:
                    log.info(
                        "%s: concurrency lowered from %d to %d after %s",
                        self.name,
                        before,
                        self.current,
                        "a timeout" if timed_out else "HTTP 429",
                    )
            elif succeeded:
                if self.ceiling < self.maximum and self.limit >= self.ceiling:
                    self.ceiling = min(float(self.maximum), self.ceiling + 0.1 / self.ceiling)
                self.limit = min(self.ceiling, self.limit + 1 / self.limit)
                if self.current > before:
                    log.info("%s: concurrency raised to %d", self.name, self.current)
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


async def with_retries(
    attempt: Callable[[float | None], Awaitable[T]],
    *,
    name: str,
    limiter: AdaptiveLimiter,
    policy: RetryPolicy,
    rng: random.Random,
    on_retry: Callable[[], None] | None = None,
) -> T:
    """``await attempt(time_left)`` under ``limiter``, retried by ``policy``.

    ``time_left`` is what the policy's deadline leaves for this attempt (``None``: no
    deadline). A retryable ``ModelError`` is retried after a backoff during which the
    slot is given back; a 429 or a timeout (``ModelError.timed_out``) also lowers the
    limiter's concurrency. When the attempts are used up, or the deadline leaves no room
    for another, the last error is raised with the attempt count in its message. Each
    retry is logged on ``simulacra.llm``; ``on_retry`` is called before each backoff.
    """
    tries = 0
    budget = policy.deadline_s
    spent = 0.0  # in attempts and backoffs, not waiting for a slot
    while True:
        await limiter.acquire()
        began = time.monotonic()
        try:
            result = await attempt(None if budget is None else max(0.0, budget - spent))
        except ModelError as error:
            spent += time.monotonic() - began
            await limiter.release(throttled=error.status == 429, timed_out=error.timed_out)
            tries += 1
            text = _secrets.scrub(str(error))
            if not error.retryable or tries >= policy.max_attempts:
                if tries > 1:
                    log.info("%s: giving up after %d attempts: %s", name, tries, text)
                    raise ModelError(
                        f"{error} (gave up after {tries} attempts)",
                        retryable=False,
                        status=error.status,
                        timed_out=error.timed_out,
                    ) from None
                raise
            delay = policy.delay(tries - 1, error, rng)
            if budget is not None and spent + delay >= budget:
                log.info("%s: giving up: a retry would pass the %g s deadline", name, budget)
                raise ModelError(
                    f"{error} (gave up after {tries} attempt{'s' if tries > 1 else ''}:"
                    f" a retry in {delay:.3g} s would pass the {budget:g} s deadline,"
                    " the model's deadline_s setting)",
                    retryable=False,
                    status=error.status,
                    timed_out=error.timed_out,
                ) from None
            log.info(
                "%s: attempt %d of %d failed (%s); retrying in %.2f s",
                name,
                tries,
                policy.max_attempts,
                text,
                delay,
            )
            if on_retry is not None:
                on_retry()
            await asyncio.sleep(delay)
            spent += delay
            continue
        except BaseException:
            await asyncio.shield(limiter.release())
            raise
        await limiter.release(succeeded=True)
        return result


class ResilientModel:
    """Wraps a model with a shared per-endpoint ``AdaptiveLimiter`` and a ``RetryPolicy``
    (see ``with_retries``)."""

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
        params = with_affinity(params)

        def counted() -> None:
            self.retries += 1

        async def attempt(time_left: float | None) -> Completion:
            return await self._attempt(messages, params, time_left)

        return await with_retries(
            attempt,
            name=self.name,
            limiter=self.limiter,
            policy=self.policy,
            rng=self._rng,
            on_retry=counted,
        )

    async def _attempt(
        self, messages: list[Message], params: ChatParams | None, time_left: float | None
    ) -> Completion:
        """One call of the inner model, cut short when it would run past the deadline."""
        return await within_deadline(
            self.inner.chat(messages, params), time_left, self.policy.deadline_s, self.name
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


async def within_deadline(
    call: Awaitable[T], time_left: float | None, budget: float | None, name: str
) -> T:
    """``await call``, cut short after ``time_left`` seconds (a non-retryable
    ``ModelError`` naming the ``budget``); ``None``: no limit."""
    if time_left is None:
        return await call
    scope = asyncio.timeout(time_left)
    try:
        async with scope:
            return await call
    except TimeoutError:
        if not scope.expired():
            raise  # the call's own, not the deadline
        log.info("%s: no reply within the %g s deadline", name, budget or 0.0)
        raise ModelError(
            f"{name}: no reply within the {budget or 0.0:g} s deadline "
            "(the model's deadline_s setting)",
            retryable=False,
        ) from None
