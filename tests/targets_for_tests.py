"""Callable targets used by the tests (imported by path, as users' own targets are)."""

from __future__ import annotations

import asyncio
import time
from typing import Any


def calculator(messages: list[dict[str, Any]]) -> str:
    """Asks once, then answers the pancake task correctly."""
    said = " ".join(m["content"] for m in messages if m["role"] == "user")
    if "10" in said and "300" in said:
        return "You need 750 g of flour."
    return "How many people is the recipe for, and how many are you cooking for?"


async def slow_echo(messages: list[dict[str, Any]]) -> str:
    await asyncio.sleep(0.05)
    return f"I hear you ({len(messages)} messages so far). What else?"


def sleepy(messages: list[dict[str, Any]]) -> str:
    time.sleep(0.02)
    return "noted, go on"


def broken(messages: list[dict[str, Any]]) -> str:
    raise RuntimeError("database is down")


def garbage(messages: list[dict[str, Any]]) -> Any:
    return {"answer": 42}


def not_callable_value() -> None:
    return None


NOT_CALLABLE = 42


def echo_plan(messages: list[Any], params: Any) -> str:
    """A user model that says exactly what it was asked to say."""
    import re

    return re.sub(r"^Say \(\d+ words\): ", "", messages[-1].content)


def always_503(messages: Any, params: Any) -> Exception:
    from simulacra.errors import ModelError

    return ModelError("HTTP 503", retryable=True, status=503, retry_after=0)
