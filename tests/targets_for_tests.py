"""Callable targets used by the tests (imported by path, as users' own targets are)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
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

    content = messages[-1].content
    match = re.search(r"^Say \(\d+ words\): (.*)$", content, re.S | re.M)
    return match.group(1) if match else content


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


RETAIL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tau-bench-retail-dev"


def _retail_agent(messages: list[Any], *, skip_odd: bool) -> Any:
    """Performs a retail task's ground-truth actions once the user has said everything.

    The task is recognised from what the (scripted) user said: its opening request and
    every private detail. With ``skip_odd`` the agent does nothing on tasks whose number
    is odd, so exactly half the tasks can succeed.
    """
    import json

    from simulacra.llm import Completion, ToolCall
    from simulacra.tasks._env_tasks import tau_retail_tasks

    said = [m.content for m in messages if m.role == "user"]
    if any(m.role == "tool" for m in messages):
        outputs = messages[-1].content if messages[-1].role == "tool" else ""
        return f"All done. {outputs}"
    heard = " ".join(said)
    known = [
        t
        for t in tau_retail_tasks(RETAIL_DATA)
        if said and t.goal == said[0] and all(f.text in heard for f in t.facts)
    ]
    if len(known) != 1:
        return "I can help with that. What else should I know?"
    task = known[0]
    if skip_odd and int(task.id.rsplit("-", 1)[1]) % 2:
        return "Done."
    env_task = task.metadata["env_task"]
    details = env_task["private_details"]
    # authenticate first, as the policy asks, with the details the user gave
    lookups: list[tuple[str, dict[str, str]]] = []
    if "zip" in details:
        names = ("first_name", "last_name", "zip")
        lookups.append(("find_user_id_by_name_zip", {k: details[k] for k in names}))
    else:
        emails = details.get("email") or details.get("emails", "")
        lookups += [("find_user_id_by_email", {"email": e.strip()}) for e in emails.split(",")]
    actions = [(a["name"], a["arguments"]) for a in env_task["actions"]]
    calls = tuple(
        ToolCall(id=f"c{i}", name=name, arguments=json.dumps(arguments))
        for i, (name, arguments) in enumerate([*lookups, *actions] if actions else [])
    )
    outputs = ", ".join(env_task.get("outputs") or [])
    if not calls:
        return f"Here you are: {outputs}"
    return Completion(text=f"Here you are: {outputs}" if outputs else "", tool_calls=calls)


def retail_oracle(messages: list[Any], params: Any) -> Any:
    return _retail_agent(messages, skip_odd=False)


def retail_half_oracle(messages: list[Any], params: Any) -> Any:
    return _retail_agent(messages, skip_odd=True)


def raises_key_error(messages: list[dict[str, Any]]) -> str:
    """A target with a bug of its own (not a TargetError)."""
    return {"a": 1}["missing"]  # type: ignore[return-value]


def buggy_user(context: Any) -> Any:
    """A user simulator whose turns fail with a plain Python error."""

    class Buggy:
        async def next_turn(self, transcript: list[Any]) -> Any:
            return 1 / 0

    return Buggy()


_CALLS = {"broken_once": 0}


def broken_once(messages: list[dict[str, Any]]) -> str:
    """Raises on its first call in a process, then answers: one episode errors."""
    _CALLS["broken_once"] += 1
    if _CALLS["broken_once"] == 1:
        raise RuntimeError("first call fails")
    return "noted, go on"


def logs_a_retry(messages: list[dict[str, Any]]) -> str:
    """Answers, logging a retry and a backoff as the model layer would (``simulacra.*``)."""
    import logging

    logging.getLogger("simulacra.llm.test").info("retrying call 2 of 6 after a timeout")
    logging.getLogger("simulacra.llm.test").debug("backing off 0.5 s")
    return "noted, go on"


TELECOM_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tau2-telecom-train"


TELECOM_STEPS = (
    "Thanks, I found your account. Could you check your status bar and tell me what it shows?",
    "Please turn airplane mode off.",
    "Please check your SIM status.",
    "Please reseat your SIM card.",
    "Please check your status bar again.",
)


def telecom_agent(messages: list[Any], params: Any) -> Any:
    """A scripted support agent for a phone with no service: it looks the caller up, then
    asks them, one request a turn, to check the status bar, turn airplane mode off, check
    and reseat the SIM card (whatever they answer: the user decides what to do)."""
    import json
    import re

    from simulacra.llm import Completion, ToolCall

    phone_tools = {"check_status_bar", "toggle_airplane_mode", "check_sim_status"}
    if any(m.name in phone_tools or (m.role == "user" and m.tool_calls) for m in messages):
        raise AssertionError("the agent was shown the user's own tool calls")
    heard = " ".join(m.content for m in messages if m.role == "user")
    number = re.search(r"\d{3}-?\d{3}-?\d{4}", heard)
    if number is None:
        return "I can help. What is the phone number on your account?"
    if not any(m.role == "tool" for m in messages):
        arguments = json.dumps({"phone_number": number.group(0)})
        return Completion(
            text="",
            tool_calls=(ToolCall(id="t1", name="get_customer_by_phone", arguments=arguments),),
        )
    asked = sum(1 for m in messages if m.role == "assistant" and m.content in TELECOM_STEPS)
    return TELECOM_STEPS[asked] if asked < len(TELECOM_STEPS) else "Is it working now?"
