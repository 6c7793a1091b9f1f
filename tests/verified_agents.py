"""A careless scripted shop agent (as a model function): it cancels the order the user
names without identifying the customer first, which the shop's policy forbids, and so
reaches the right final state by a wrong path."""

from __future__ import annotations

import json
from typing import Any


def careless_shop_agent(messages: list[Any], params: Any) -> Any:
    from simulacra.llm import Completion, ToolCall

    said = " ".join(m.content for m in messages if m.role == "user")
    if "O1001" not in said:
        return "Which order is it?"
    if not any(m.role == "tool" for m in messages):
        arguments = json.dumps({"order_id": "O1001", "reason": "ordered by mistake"})
        return Completion(
            text="", tool_calls=(ToolCall(id="c1", name="cancel_order", arguments=arguments),)
        )
    return "Done: order O1001 is cancelled."
