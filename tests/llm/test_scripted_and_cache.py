from __future__ import annotations

import pytest

from simulacra.errors import ConfigError, ModelError
from simulacra.llm import (
    CachedModel,
    ChatParams,
    Completion,
    Message,
    ModelConfig,
    ModelPool,
    ResponseCache,
    ScriptedModel,
    request_key,
)

HELLO = [Message(role="user", content="hello there")]


async def test_scripted_replies_in_order_and_counts_words() -> None:
    model = ScriptedModel(["one two", "three"])
    first = await model.chat(HELLO)
    second = await model.chat(HELLO)
    assert (first.text, second.text) == ("one two", "three")
    assert first.usage.completion_tokens == 2 and first.usage.prompt_tokens == 2
    with pytest.raises(ModelError, match="ran out of replies"):
        await model.chat(HELLO)


async def test_scripted_function_and_exception_replies() -> None:
    model = ScriptedModel(lambda messages, params: f"echo {messages[-1].content} {params.seed}")
    assert (await model.chat(HELLO, ChatParams(seed=3))).text == "echo hello there 3"
    failing = ScriptedModel([ModelError("boom", retryable=True, status=503), "fine"])
    with pytest.raises(ModelError, match="boom"):
        await failing.chat(HELLO)
    assert (await failing.chat(HELLO)).text == "fine"


def test_scripted_file_errors_name_the_line(tmp_path) -> None:
    path = tmp_path / "replies.jsonl"
    path.write_text('"ok"\n{"text": "fine"}\nnot json\n')
    with pytest.raises(ConfigError, match=r"replies.jsonl: line 3: invalid JSON"):
        ScriptedModel.from_file(path)


def test_request_key_covers_every_part() -> None:
    base = request_key("m", HELLO, ChatParams(seed=1))
    assert base == request_key("m", list(HELLO), ChatParams(seed=1))
    assert base != request_key("m2", HELLO, ChatParams(seed=1))
    assert base != request_key("m", HELLO, ChatParams(seed=2))
    assert base != request_key("m", HELLO, ChatParams(seed=1, temperature=0.0))
    assert base != request_key(
        "m", [Message(role="user", content="hello  there")], ChatParams(seed=1)
    )


async def test_cache_serves_identical_requests_without_calling(tmp_path) -> None:
    inner = ScriptedModel(["first", "second"])
    cache = ResponseCache(tmp_path / "cache.sqlite")
    model = CachedModel(inner, cache)
    a = await model.chat(HELLO, ChatParams(seed=1))
    b = await model.chat(HELLO, ChatParams(seed=1))
    c = await model.chat(HELLO, ChatParams(seed=2))
    assert (a.text, b.text, c.text) == ("first", "first", "second")
    assert b.cached and not a.cached
    assert b.usage.cached_calls == 1 and b.usage.total_tokens == 0
    assert len(inner.calls) == 2
    cache.close()
    # a new process (new connection) sees the same entries
    again = CachedModel(ScriptedModel([]), ResponseCache(tmp_path / "cache.sqlite"))
    assert (await again.chat(HELLO, ChatParams(seed=2))).text == "second"


async def test_errors_are_not_cached(tmp_path) -> None:
    inner = ScriptedModel([ModelError("nope"), "works"])
    model = CachedModel(inner, ResponseCache(tmp_path / "c.sqlite"))
    with pytest.raises(ModelError):
        await model.chat(HELLO)
    assert (await model.chat(HELLO)).text == "works"


def test_completion_round_trips_through_dict() -> None:
    completion = Completion(text="x", finish_reason="length")
    assert Completion.from_dict(completion.to_dict()) == completion


def test_model_config_requires_backend_fields() -> None:
    with pytest.raises(ValueError, match="base_url and model"):
        ModelConfig(backend="openai")
    with pytest.raises(ValueError, match="replies"):
        ModelConfig(backend="scripted")
    with pytest.raises(ValueError, match="unknown option of model backend 'local'"):
        ModelConfig.model_validate({"backend": "local", "temprature": 1})


async def test_pool_skips_cache_for_scripted_and_bypasses_with_no_cache(tmp_path) -> None:
    pool = ModelPool(cache_path=tmp_path / "c.sqlite", use_cache=False)
    model = pool.build(ModelConfig(backend="scripted", replies=["a", "b"], cycle=False))
    assert [(await model.chat(HELLO)).text for _ in range(2)] == ["a", "b"]
    await pool.aclose()
