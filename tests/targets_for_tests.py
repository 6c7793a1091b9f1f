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


def wrong_then_right(messages: list[dict[str, Any]]) -> str:
    """Wrong on the first answer, right after feedback (pancake task)."""
    answers = sum(1 for m in messages if m["role"] == "assistant")
    return "You need 300 g of flour." if answers == 0 else "Sorry: you need 750 g of flour."


def shop_agent(messages: list[Any], params: Any) -> Any:
    """A scripted tool-using agent for the shop's first task (as a model function)."""
    import json

    from simulacra.llm import Completion, ToolCall

    last = messages[-1]
    tool_results = [m for m in messages if m.role == "tool"]
    said = " ".join(m.content for m in messages if m.role == "user")
    if last.role == "user" and "maya.okafor@example.net" not in said:
        return "Sure, what is your email address?"
    if last.role == "user" and "O1001" not in said:
        return "Which order is it?"
    if not tool_results:
        arguments = json.dumps({"email": "maya.okafor@example.net"})
        return Completion(
            text="",
            tool_calls=(ToolCall(id="c1", name="find_customer_by_email", arguments=arguments),),
        )
    if len(tool_results) == 1:
        arguments = json.dumps({"order_id": "O1001", "reason": "ordered by mistake"})
        return Completion(
            text="", tool_calls=(ToolCall(id="c2", name="cancel_order", arguments=arguments),)
        )
    return "Done: order O1001 is cancelled."
