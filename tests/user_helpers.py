"""What the simulated-user tests share: a plain persona (no typos, no styling) and a
scripted user model that says exactly the text its prompt asks for."""

from __future__ import annotations

import re

from simulacra.llm import ChatParams, Message
from simulacra.people import Persona, WritingStyle

PLAIN = Persona(
    name="plain",
    background="test person",
    typo_rate=0.0,
    patience=2,
    cooperativeness=1.0,
    big_five={"openness": 0.0},
    style=WritingStyle(lowercase_rate=0.0, end_punctuation_rate=1.0, greeting_rate=0.0),
)


def echo_plan(messages: list[Message], params: ChatParams) -> str:
    """The text after ``Say (N words): ...`` or ``Answer (N words): ...`` of the prompt."""
    match = re.search(r"^(?:Say|Answer) \(\d+ words\)[^:]*: (.*)$", messages[-1].content, re.M)
    assert match, messages[-1].content
    return match.group(1)
