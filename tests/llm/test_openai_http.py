"""The openai backend against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from fake_openai import FakeOpenAIServer
from simulacra.errors import ConfigError, ModelError
from simulacra.llm import ChatParams, Message, ModelConfig, ModelPool, RetryPolicy
from simulacra.llm._openai import OpenAIModel, parse_retry_after

HELLO = [Message(role="system", content="be brief"), Message(role="user", content="hello")]


async def test_chat_sends_params_and_parses_reply(fake_server: FakeOpenAIServer) -> None:
    model = OpenAIModel(base_url=fake_server.base_url, model="m-1")
    completion = await model.chat(
        HELLO, ChatParams(temperature=0.2, max_tokens=7, seed=5, stop=("x",))
    )
    await model.aclose()
    body = fake_server.state.requests[-1]
    assert body["model"] == "m-1" and body["temperature"] == 0.2
    assert body["max_tokens"] == 7 and body["seed"] == 5 and body["stop"] == ["x"]
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    assert completion.text.startswith("Noted")
    assert completion.usage.prompt_tokens == 3 and completion.usage.calls == 1
    assert completion.latency_s > 0


async def test_api_key_comes_from_named_env_var(
    fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_KEY", "sk-secret-123")
    model = OpenAIModel(base_url=fake_server.base_url, model="m", api_key_env="MY_KEY")
    await model.chat(HELLO)
    await model.aclose()
    assert fake_server.state.headers_seen[-1]["authorization"] == "Bearer sk-secret-123"
    monkeypatch.delenv("MY_KEY")
    with pytest.raises(ConfigError, match="MY_KEY"):
        OpenAIModel(base_url=fake_server.base_url, model="m", api_key_env="MY_KEY")


async def test_tool_calls_and_logprobs(fake_server: FakeOpenAIServer) -> None:
    fake_server.state.tool_call = {"name": "get_order", "arguments": json.dumps({"order_id": "#1"})}
    model = OpenAIModel(base_url=fake_server.base_url, model="m")
    tools = (
        {"type": "function", "function": {"name": "get_order", "parameters": {"type": "object"}}},
    )
    completion = await model.chat(HELLO, ChatParams(tools=tools, logprobs=True, top_logprobs=2))
    await model.aclose()
    assert completion.finish_reason == "tool_calls"
    assert completion.tool_calls[0].name == "get_order"
    assert json.loads(completion.tool_calls[0].arguments) == {"order_id": "#1"}
    assert completion.logprobs is not None and completion.logprobs[0].top[1] == ("B", -2.4)
    assert fake_server.state.requests[-1]["tools"][0]["function"]["name"] == "get_order"


async def test_http_errors_become_model_errors(fake_server: FakeOpenAIServer) -> None:
    fake_server.state.failures = [(429, {"retry-after": "3"}), (400, {}), (503, {})]
    model = OpenAIModel(base_url=fake_server.base_url, model="m")
    with pytest.raises(ModelError) as throttled:
        await model.chat(HELLO)
    assert (
        throttled.value.status == 429
        and throttled.value.retryable
        and throttled.value.retry_after == 3
    )
    with pytest.raises(ModelError) as bad:
        await model.chat(HELLO)
    assert bad.value.status == 400 and not bad.value.retryable
    with pytest.raises(ModelError) as down:
        await model.chat(HELLO)
    assert down.value.retryable and "scripted failure 503" in str(down.value)
    await model.aclose()


async def test_pool_retries_429_and_5xx_against_server(
    fake_server: FakeOpenAIServer, tmp_path
) -> None:
    fake_server.state.failures = [(429, {"retry-after": "0"}), (502, {}), (500, {})]
    pool = ModelPool(cache_path=tmp_path / "c.sqlite")
    model = pool.build(
        ModelConfig(backend="openai", base_url=fake_server.base_url, model="m", max_concurrency=4)
    )
    model.inner.policy = RetryPolicy(max_attempts=5, base_delay_s=0.001)  # type: ignore[attr-defined]
    completion = await model.chat(HELLO, ChatParams(seed=1))
    assert completion.text.startswith("Noted")
    assert len(fake_server.state.requests) == 4
    cached = await model.chat(HELLO, ChatParams(seed=1))
    assert cached.cached and len(fake_server.state.requests) == 4
    await pool.aclose()


async def test_unreachable_endpoint_is_retryable_error() -> None:
    from fake_openai import free_port

    model = OpenAIModel(base_url=f"http://127.0.0.1:{free_port()}/v1", model="m", timeout_s=2)
    with pytest.raises(ModelError, match="connection failed") as info:
        await model.chat(HELLO)
    assert info.value.retryable
    await model.aclose()


async def test_timeout_is_retryable(fake_server: FakeOpenAIServer) -> None:
    fake_server.state.latency_s = 1.0
    model = OpenAIModel(base_url=fake_server.base_url, model="m", timeout_s=0.2)
    with pytest.raises(ModelError, match="timed out") as info:
        await model.chat(HELLO)
    assert info.value.retryable and info.value.timed_out
    await model.aclose()


def test_retry_after_header_forms() -> None:
    assert parse_retry_after("7") == 7
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert parse_retry_after("soon") is None


async def test_http_target_and_key_never_written(
    fake_server: FakeOpenAIServer, tmp_path, monkeypatch
) -> None:
    """An app behind an OpenAI-compatible endpoint as the target; its key stays in memory."""
    import simulacra
    from simulacra.runs import parse_config

    monkeypatch.setenv("APP_KEY", "sk-very-secret-999")
    config = parse_config(
        {
            "name": "http",
            "output_dir": str(tmp_path),
            "models": {"echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"}},
            "user": {"model": "echo"},
            "target": {
                "type": "http",
                "base_url": fake_server.base_url,
                "model_id": "my-app",
                "api_key_env": "APP_KEY",
            },
            "personas": {"builtin": ["polite-professional"]},
            "tasks": {"suite": "everyday", "ids": ["pancakes-scale"]},
            "max_turns": 2,
        }
    )
    result = await simulacra.arun(config)
    episode = result.episodes()[0]
    assert episode.status == "ok" and episode.messages[1].content.startswith("Noted")
    sent = fake_server.state.requests[0]
    assert (
        sent["model"] == "my-app" and sent["messages"][0]["role"] == "user"
    )  # no system prompt added
    assert fake_server.state.headers_seen[0]["authorization"] == "Bearer sk-very-secret-999"
    for path in result.run_dir.iterdir():
        assert "sk-very-secret-999" not in path.read_text()
