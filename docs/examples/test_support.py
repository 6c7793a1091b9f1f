"""Tests of the support app with simulated users (run: pytest docs/examples)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from support_app import answer, make_app

from simulacra.testing import assert_conversation, assert_run, serve_aiohttp

CONFIG = Path(__file__).with_name("support.yaml")


@pytest.fixture
def app_url() -> Iterator[str]:
    with serve_aiohttp(make_app()) as url:  # the real app, on a free port
        yield url


def reply(messages: list[dict[str, str]]) -> str:
    """The app's logic called directly, as a callable target."""
    return answer([m["content"] for m in messages if m["role"] == "user"])[0]


def test_asks_for_the_order_number_then_answers(simulacra_run) -> None:
    result = simulacra_run(
        target=reply,
        persona="busy-nurse",
        task={
            "id": "where",
            "goal": "Where is my order?",
            "facts": ["My order number is A1001."],
            "check": {"type": "regex", "pattern": "A1001 shipped"},
        },
        turns=["Where is my order?", "It is A1001."],  # a scripted user: fast, no model
    )
    (episode,) = result.episodes()
    assert_conversation(episode, contains=["order number", "arrives on Friday"], success=True)


def test_every_task_over_http_with_scripted_users(simulacra_run, app_url: str) -> None:
    # the config's tasks and personas; each user says its goal, then each fact
    result = simulacra_run(CONFIG, target_options={"url": f"{app_url}/chat"}, user="scripted")
    assert_run(result, success_at_least=1.0, max_turns=6, max_errors=0)
    for episode in result.episodes():
        assert_conversation(episode, tool_called="lookup_order", stop_reason="satisfied")


@pytest.mark.simulacra_model
def test_simulated_users_get_their_answer(simulacra_run, app_url: str) -> None:
    # the real simulated users, on the embedded model, as in `simulacra run support.yaml`
    result = simulacra_run(CONFIG, target_options={"url": f"{app_url}/chat"})
    assert_run(result, success_at_least=0.8, max_turns=6, max_errors=0)
