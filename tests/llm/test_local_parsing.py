from __future__ import annotations

import json

from simulacra.llm._local import extract_tool_calls


def test_template_tool_calls_are_split_from_text() -> None:
    text = 'Checking.<tool_call>\n{"name": "get_order", "arguments": {"id": "O1"}}\n</tool_call>'
    remaining, calls = extract_tool_calls(text)
    assert remaining == "Checking."
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [("get_order", {"id": "O1"})]


def test_fenced_json_counts_only_for_offered_tools() -> None:
    text = '```json\n{"name": "cancel_order", "arguments": {"order_id": "O1"}}\n```'
    assert extract_tool_calls(text, {"cancel_order"})[1][0].name == "cancel_order"
    assert extract_tool_calls(text, {"get_order"}) == (text, ())
    assert extract_tool_calls(text) == (text, ())


def test_malformed_calls_are_left_as_text() -> None:
    text = "<tool_call>{not json}</tool_call>"
    assert extract_tool_calls(text) == (text, ())


def test_bare_json_call_for_an_offered_tool() -> None:
    text = 'Let me look. {"name": "find_user", "arguments": {"email": "a@b.c"}}\n```'
    remaining, calls = extract_tool_calls(text, {"find_user"})
    assert [c.name for c in calls] == ["find_user"] and remaining == "Let me look."
    assert extract_tool_calls('{"name": "other"}', {"find_user"}) == ('{"name": "other"}', ())


def test_bare_json_with_an_object_as_name_is_not_a_call() -> None:
    record = 'Found: {"name": {"first_name": "Noah"}, "zip": "1"} {"name": ["x"]}'
    assert extract_tool_calls(record, {"get_user_details"}) == (record, ())


def test_a_call_inside_another_object_is_found_and_other_code_blocks_stay() -> None:
    text = (
        'Plan: {"step": {"name": "find_user", "arguments": {"email": "a@b.c"}}}\n'
        "```python\nprint(1)\n```\n"
        'then {"name": "get_order", "arguments": {"id": "O1"}}'
    )
    remaining, calls = extract_tool_calls(text, {"find_user", "get_order"})
    assert [c.name for c in calls] == ["find_user", "get_order"]
    assert [c.id for c in calls] == ["call_0", "call_1"]
    assert "```python\nprint(1)\n```" in remaining and "get_order" not in remaining
