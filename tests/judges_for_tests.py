"""Scripted judges and assistants for the tests of judged tasks (imported by path)."""

from __future__ import annotations

import re
from typing import Any

CHECKLIST_LINE = re.compile(r"^(\d+)\. (.+)$", re.M)


def checklist(messages: list[Any]) -> list[tuple[int, str]]:
    """The numbered must-haves of a judge prompt, in the order shown."""
    prompt = messages[-1].content if not isinstance(messages[-1], dict) else messages[-1]["content"]
    block = prompt.split("[Must-haves]")[-1] if "[Must-haves]" in prompt else prompt
    return [(int(n), text) for n, text in CHECKLIST_LINE.findall(block)]


def fair_judge(messages: list[Any], params: Any) -> str:
    """Says an item is met when its first quoted-or-capitalised word is in the work."""
    prompt = messages[0].content if len(messages) == 1 else messages[-1].content
    work = prompt.split("to check]")[-1].split("[Must-haves]")[0].lower()
    lines = []
    for number, text in checklist(messages):
        words = [w.lower() for w in re.findall(r"[A-Za-z0-9$,]{4,}", text)]
        met = bool(words) and all(w in work for w in words[-1:])
        lines.append(f"{number}: {'yes' if met else 'no'} - {'found' if met else 'missing'} <b>")
    return "Checked.\n" + "\n".join(lines)


def yes_judge(messages: list[Any], params: Any) -> str:
    return "\n".join(f"{n}: yes - looks right" for n, _ in checklist(messages))


def first_yes_judge(messages: list[Any], params: Any) -> str:
    """Position-biased: only the item shown first is met."""
    return "\n".join(f"{n}: {'yes' if n == 1 else 'no'} - ok" for n, _ in checklist(messages))


def mumbling_judge(messages: list[Any], params: Any) -> str:
    return "I think it is mostly fine overall."


def letter_writer(messages: list[Any]) -> str:
    """An assistant that writes the overdue-invoice email once it has the details."""
    said = " ".join(m["content"] for m in messages if m["role"] == "user")
    if "2291" in said:
        return (
            "Subject: Invoice 2291\n\nDear client, a friendly reminder that invoice 2291 "
            "for $1,840 was due on 3 March. Thank you! Best regards, Ana"
        )
    return "Sure. Which invoice is it, and when was it due?"


def yes_or_echo(messages: list[Any], params: Any) -> str:
    """One model for the user (says what it is asked to) and the judge (all met)."""
    if checklist(messages):
        return yes_judge(messages, params)
    from targets_for_tests import echo_plan

    return echo_plan(messages, params)


HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"


def hostile_judge(messages: list[Any], params: Any) -> str:
    """Meets every odd item; every reason, and the reply, carry markup."""
    lines = [
        f"{n}: {'yes' if n % 2 else 'no'} - {HOSTILE} reason {n}" for n, _ in checklist(messages)
    ]
    return "<b>verdicts</b>\n" + "\n".join(lines)


def sim_doubter(messages: list[Any], params: Any) -> str:
    """Finds every must-have met but those about the SIM card."""
    return "Checked.\n" + "\n".join(
        f"{n}: no - the agent never asked for it" if "SIM" in text else f"{n}: yes - it asked"
        for n, text in checklist(messages)
    )


def unavailable_judge(messages: list[Any], params: Any) -> Any:
    from simulacra.errors import ModelError

    return ModelError("HTTP 503: judge overloaded", status=503)


def broken_judge(messages: list[Any], params: Any) -> Any:
    return RuntimeError("the judge's backend broke <b>")


def writing_run_config(output_dir: str, name: str, judge: str) -> dict[str, Any]:
    """A one-episode run of a writing task: the letter writer as assistant, ``judge`` (a
    function of this module) judging in both orders."""
    return {
        "name": name,
        "output_dir": output_dir,
        "models": {
            "echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"},
            "judge": {"backend": "scripted", "function": f"judges_for_tests:{judge}"},
        },
        "user": {"model": "echo"},
        "judge": {"model": "judge", "orders": 2},
        "target": {"type": "callable", "callable": "judges_for_tests:letter_writer"},
        "personas": {"builtin": ["busy-nurse"]},
        "tasks": {"suite": "writing", "ids": ["writing.overdue-invoice"]},
        "modes": ["full"],
    }
