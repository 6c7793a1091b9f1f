"""The ``http_app`` target against real HTTP apps served on 127.0.0.1 (aiohttp)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from simulacra.errors import ConfigError
from simulacra.llm import Message
from simulacra.runs import parse_config
from simulacra.sim.http_app import HttpAppTarget, HttpAppTargetOptions
from simulacra.sim.targets import Conversation
from simulacra.testing import ScenarioRunner, assert_conversation, assert_run, serve_aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs" / "examples"))
from support_app import make_app

ORDER_TASK = {
    "id": "where-is-my-order",
    "goal": "Where is my order?",
    "facts": ["My order number is A1001."],
    "reference": "shipped",
    "check": {"type": "regex", "pattern": "A1001 shipped"},
}


@pytest.fixture
def support_url() -> Iterator[str]:
    with serve_aiohttp(make_app()) as url:
        yield url


def test_a_conversation_with_the_example_app(
    simulacra_run: ScenarioRunner, support_url: str
) -> None:
    result = simulacra_run(
        target={
            "type": "http_app",
            "url": f"{support_url}/chat",
            "tool_calls_path": "tools",
        },
        personas=["polite-professional", "busy-nurse"],
        task=ORDER_TASK,
    )
    assert_run(result, success_at_least=1.0, max_errors=0, max_turns=2)
    episodes = result.episodes()
    for episode in episodes:
        assert_conversation(
            episode,
            contains="arrives on Friday",
            tool_called="lookup_order",
            stop_reason="satisfied",
        )
        assert episode.messages[1].content.startswith("Happy to help!")  # asked for the number
    # each conversation had a session of its own in the app
    assert len({e.extra["session_id"] for e in episodes}) == 2


def app_of(handler: Any, path: str = "/chat") -> web.Application:
    app = web.Application()
    app.router.add_post(path, handler)
    return app


def target(url: str, **options: Any) -> HttpAppTarget:
    return HttpAppTarget(HttpAppTargetOptions.model_validate({"url": url, **options}), name="app")


HELLO = [
    Message(role="user", content="hi"),
    Message(role="assistant", content="hello"),
    Message(role="user", content="my order is A1"),
]


async def test_the_template_gets_the_message_history_ids_and_turn() -> None:
    seen: list[tuple[str, Any, dict[str, str]]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.path, await request.json(), dict(request.headers)))
        return web.json_response({"data": {"answers": [{"text": "fine"}]}})

    body = {
        "input": {"text": "{message}", "past": "{history}"},
        "meta": "turn {turn} of {persona_id}/{task_id}",
        "n": "{turn}",
        "everything": "{messages}",
    }
    with serve_aiohttp(app_of(handler, "/s/{sid}/chat")) as url:
        app = target(
            f"{url}/s/{{session_id}}/chat",
            body=body,
            reply_path="data.answers[0].text",
            headers={"X-Team": "evals"},
        )
        conversation = Conversation(episode_id="e1", persona_id="p1", task_id="t1", turn=1)
        reply = await app.respond(HELLO, seed=0, conversation=conversation)
    assert reply.messages[0].content == "fine" and reply.latency_s > 0
    path, sent, headers = seen[0]
    assert path == f"/s/{conversation.session_id}/chat"
    assert sent == {
        "input": {
            "text": "my order is A1",
            "past": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
        },
        "meta": "turn 1 of p1/t1",
        "n": 1,
        "everything": [m.to_dict() for m in HELLO],
    }
    assert headers["X-Team"] == "evals"


async def test_a_missing_reply_path_names_the_setting_and_shows_the_response() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"answer": "hi", "id": 3})

    with serve_aiohttp(app_of(handler)) as url:
        app = target(f"{url}/chat")
        with pytest.raises(Exception, match="has no 'reply'") as info:
            await app.respond(HELLO, seed=0)
    message = str(info.value)
    assert "reply_path" in message and '"answer": "hi"' in message and "POST" in message
    assert type(info.value).__name__ == "TargetError"


async def test_a_reply_that_is_not_text_and_bad_tool_calls_are_named() -> None:
    replies = [{"reply": {"text": "x"}}, {"reply": "ok", "calls": [{"args": {}}]}]

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(replies.pop(0))

    with serve_aiohttp(app_of(handler)) as url:
        app = target(f"{url}/chat", tool_calls_path="calls")
        with pytest.raises(Exception, match=r"'reply' \(reply_path\) is dict, expected a string"):
            await app.respond(HELLO, seed=0)
        with pytest.raises(Exception, match=r"calls\[0\] has no name"):
            await app.respond(HELLO, seed=0)


async def test_5xx_and_timeouts_are_retried_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    import asyncio

    calls = {"n": 0}

    async def handler(request: web.Request) -> web.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return web.json_response({"error": "busy"}, status=503, headers={"Retry-After": "0"})
        if calls["n"] == 2:
            await asyncio.sleep(1.0)
        return web.json_response({"reply": "made it"})

    with serve_aiohttp(app_of(handler)) as url:
        app = target(f"{url}/chat", timeout_s=0.4, max_attempts=3)
        with caplog.at_level(logging.INFO, logger="simulacra"):
            reply = await app.respond(HELLO, seed=0)
    assert reply.messages[0].content == "made it" and calls["n"] == 3
    assert "HTTP 503" in caplog.text and "timed out after 0.4 s" in caplog.text
    assert app.limiter.timeouts == 1


async def test_a_reply_streamed_as_server_sent_events(support_url: str) -> None:
    app = target(f"{support_url}/chat/stream", stream=True, stream_path="delta")
    first = Conversation(episode_id="e", persona_id="p", task_id="t")
    reply = await app.respond([Message(role="user", content="A1002?")], seed=0, conversation=first)
    assert reply.messages[0].content == "Order A1002 waiting for payment."


async def test_a_streamed_reply_of_plain_text_events() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for piece in ["Hel", "lo", " there"]:
            await response.write(f"event: token\ndata: {piece}\n\n".encode())
        await response.write_eof()
        return response

    with serve_aiohttp(app_of(handler)) as url:
        reply = await target(f"{url}/chat", stream=True).respond(HELLO, seed=0)
    assert reply.messages[0].content == "Hello there"


def test_secret_headers_come_from_the_environment_and_reach_no_file(
    simulacra_run: ScenarioRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "app-token-1234567890"
    monkeypatch.setenv("SUPPORT_TOKEN", token)
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.json_response({"reply": f"echo {request.headers.get('Authorization')}"})

    with serve_aiohttp(app_of(handler)) as url:
        result = simulacra_run(
            target={
                "type": "http_app",
                "url": f"{url}/chat",
                "headers": {"Authorization": "Bearer ${SUPPORT_TOKEN}"},
            },
            persona="polite-professional",
            task=ORDER_TASK,
        )
    assert seen and all(h == f"Bearer {token}" for h in seen)
    for path in result.run_dir.iterdir():
        assert token not in path.read_text(), path.name
    saved = json.loads((result.run_dir / "config.json").read_text())
    assert saved["target"]["headers"] == {"Authorization": "Bearer ${SUPPORT_TOKEN}"}


def test_an_unset_header_variable_is_a_config_error(simulacra_run: ScenarioRunner) -> None:
    with pytest.raises(ConfigError, match=r"NOT_SET_ANYWHERE.*header Authorization") as info:
        simulacra_run(
            target={
                "type": "http_app",
                "url": "http://127.0.0.1:9/chat",
                "headers": {"Authorization": "Bearer ${NOT_SET_ANYWHERE}"},
            },
            persona="polite-professional",
            task=ORDER_TASK,
        )
    assert "target.headers.Authorization" in str(info.value)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("body", {"text": "{mesage}"}, "body.text has an unknown placeholder {mesage}"),
        ("reply_path", "data[", "is not a JSONPath"),
        ("url", "ftp://x/chat", "is not an http:// or https:// address"),
        ("retries", 3, "unknown option of target kind 'http_app'"),
    ],
)
def test_bad_options_are_config_errors_naming_the_field(
    option: str, value: Any, message: str
) -> None:
    target_config = {"type": "http_app", "url": "http://127.0.0.1:9/chat", option: value}
    with pytest.raises(ConfigError) as info:
        parse_config({"name": "x", "target": target_config})
    assert message in str(info.value) and "target" in str(info.value)


def test_an_app_that_refuses_the_credentials_stops_the_run(simulacra_run: ScenarioRunner) -> None:
    from simulacra.errors import ModelError

    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"error": "no"}, status=401)

    with serve_aiohttp(app_of(handler)) as url, pytest.raises(ModelError, match="HTTP 401"):
        simulacra_run(
            target={"type": "http_app", "url": f"{url}/chat"},
            persona="polite-professional",
            task=ORDER_TASK,
        )


def test_doubled_braces_are_literal_braces() -> None:
    from simulacra.sim.http_app import _fill

    options = HttpAppTargetOptions.model_validate(
        {
            "url": "http://127.0.0.1:1/chat",
            "body": {"prompt": "Answer as JSON like {{answer}}: {message}"},
        }
    )
    filled = _fill(options.body, {"message": "hi"})
    assert filled == {"prompt": "Answer as JSON like {answer}: hi"}
    with pytest.raises(ValueError, match="unknown placeholder"):
        HttpAppTargetOptions.model_validate({"url": "http://x/", "body": {"p": "{answer}"}})
