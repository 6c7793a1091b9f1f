"""Calls queued at a server with fewer slots than the client's concurrency: how many time
out, and how long the batch takes, with and without timeouts lowering the limit.

A real HTTP server on 127.0.0.1 (aiohttp) serves one request at a time, each taking
``--service`` seconds; the client (the ``openai`` backend through ``ModelPool``, so the
real retry and limiter code) sends ``--calls`` calls with ``max_concurrency``
``--concurrency`` and ``timeout_s`` ``--timeout``. ``timeouts-lower-the-limit`` is the
limiter as it is; ``timeouts-ignored`` is the same limiter told nothing about timeouts
(the behaviour before they counted like 429s), for comparison. Prints one Markdown row
per policy: calls that got a reply, attempts that timed out, wall time.

Usage: ``python benchmarks/single_slot_timeouts.py [--calls 12] [--concurrency 4]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from aiohttp import web

from simulacra.errors import ModelError
from simulacra.llm import AdaptiveLimiter, Message, ModelConfig, ModelPool
from simulacra.testing import serve_aiohttp


class IgnoringTimeouts(AdaptiveLimiter):
    async def release(
        self, *, throttled: bool = False, timed_out: bool = False, succeeded: bool = False
    ) -> None:
        if timed_out:
            self.timeouts += 1
        await super().release(throttled=throttled, succeeded=succeeded)


def single_slot_app(service_s: float) -> web.Application:
    """One request at a time; a request its client gave up on is still served (as a
    llama.cpp or vLLM server goes on generating), so it still holds the slot."""
    lock = asyncio.Lock()

    async def chat(request: web.Request) -> web.Response:
        await request.read()
        async with lock:
            await asyncio.sleep(service_s)
        return web.json_response(
            {"choices": [{"message": {"role": "assistant", "content": "ok"}}], "usage": {}}
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    return app


async def batch(url: str, args: argparse.Namespace, ignore: bool) -> dict[str, Any]:
    config = ModelConfig.model_validate(
        {
            "backend": "openai",
            "base_url": f"{url}/v1",
            "model": "m",
            "timeout_s": args.timeout,
            "max_concurrency": args.concurrency,
            "max_attempts": 8,
            "cache": False,
        }
    )
    pool = ModelPool(use_cache=False)
    if ignore:
        pool._limiters[config.endpoint()] = IgnoringTimeouts(args.concurrency)
    model = pool.build(config, seed=0)
    limiter = pool._limiters[config.endpoint()]
    started = time.perf_counter()

    async def one() -> bool:
        try:
            await model.chat([Message(role="user", content="hi")])
        except ModelError:
            return False
        return True

    replies = await asyncio.gather(*(one() for _ in range(args.calls)))
    await pool.aclose()
    return {
        "ok": sum(replies),
        "timeouts": limiter.timeouts,
        "wall": time.perf_counter() - started,
        "final": limiter.current,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=12)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--service", type=float, default=0.2)
    parser.add_argument("--timeout", type=float, default=0.5)
    args = parser.parse_args()
    print(
        f"{args.calls} calls, max_concurrency {args.concurrency}, one server slot, "
        f"{args.service:g} s per call, timeout_s {args.timeout:g}\n"
    )
    print("| policy | replies | timed-out attempts | wall time (s) | final limit |")
    print("|---|---|---|---|---|")
    for name, ignore in (("timeouts-lower-the-limit", False), ("timeouts-ignored", True)):
        with serve_aiohttp(single_slot_app(args.service)) as url:  # a fresh server each
            row = asyncio.run(batch(url, args, ignore))
            print(
                f"| {name} | {row['ok']}/{args.calls} | {row['timeouts']} | "
                f"{row['wall']:.2f} | {row['final']} |"
            )


if __name__ == "__main__":
    main()
