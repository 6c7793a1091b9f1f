"""The local backend's engine slots: routing by affinity key, memory accounting, and the
key's way from the episode loop to the backend. The real model's prefix reuse is in
tests/test_e2e_local.py."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

import simulacra
from simulacra.errors import ConfigError
from simulacra.llm import (
    ChatParams,
    Message,
    ModelConfig,
    ModelPool,
    ResilientModel,
    RetryPolicy,
    ScriptedModel,
    affinity,
    request_key,
)
from simulacra.llm._local import (
    SLOT_WORK_BYTES,
    LlamaEngine,
    check_memory,
    gguf_hparams,
    kv_cache_bytes,
    request_text,
    shared_prefix,
)
from simulacra.llm._resilience import AdaptiveLimiter
from simulacra.runs import parse_config

HELLO = [Message(role="user", content="hello")]


def engine(slots: int) -> LlamaEngine:
    # routing never loads the model
    return LlamaEngine(Path("unused.gguf"), slots=slots)


def test_one_key_keeps_its_slot_and_new_keys_take_free_ones() -> None:
    pool = engine(3)
    a, b = pool.slot_for("e1/user"), pool.slot_for("e1/target")
    assert a != b
    assert [pool.slot_for("e1/user") for _ in range(3)] == [a, a, a]
    assert pool.slot_for("e1/target") == b
    c = pool.slot_for("e2/user")
    assert {a, b, c} == {0, 1, 2}


def test_the_key_heard_from_least_recently_gives_up_its_slot() -> None:
    pool = engine(2)
    first = pool.slot_for("done/user")
    second = pool.slot_for("live/user")
    pool.slot_for("live/user")
    assert pool.slot_for("new/user") == first  # "done" went quiet longest
    assert pool.stats[first].reassigned == 1
    assert pool.slot_for("live/user") == second  # still cached where it was
    # the evicted key comes back to the slot that is now least recent
    assert pool.slot_for("done/user") == first
    assert len(pool._owners) == 2  # the table never holds more keys than slots


def test_calls_without_a_key_share_one_slot_and_one_slot_serves_all() -> None:
    pool = engine(4)
    assert pool.slot_for(None) == pool.slot_for(None)
    single = engine(1)
    assert {single.slot_for(key) for key in ("a", "b", None, "c")} == {0}


def test_long_runs_do_not_grow_the_routing_table() -> None:
    pool = engine(4)
    for episode in range(2000):
        for role in ("user", "target"):
            pool.slot_for(f"{episode}/{role}")
    assert len(pool._owners) == 4
    assert sum(s.reassigned for s in pool.stats) == 2 * 2000 - 4


def write_gguf(path: Path, values: dict[str, int | str]) -> Path:
    """A GGUF header with scalar metadata, then a tokenizer array the reader must not need."""

    def text(value: str) -> bytes:
        data = value.encode()
        return struct.pack("<Q", len(data)) + data

    body = b""
    for key, value in values.items():
        if isinstance(value, str):
            body += text(key) + struct.pack("<I", 8) + text(value)
        else:
            body += text(key) + struct.pack("<I", 4) + struct.pack("<I", value)
    tokens = [text(t) for t in ("a", "b", "c")]
    body += text("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 3) + b"".join(tokens)
    count = len(values) + 1
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, count) + body + b"\0" * 1000)
    return path


QWEN_LIKE = {
    "general.architecture": "qwen2",
    "qwen2.block_count": 24,
    "qwen2.embedding_length": 896,
    "qwen2.attention.head_count": 14,
    "qwen2.attention.head_count_kv": 2,
}


def test_kv_cache_size_comes_from_the_models_shape(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", QWEN_LIKE)
    assert gguf_hparams(path)["qwen2.block_count"] == 24
    # 24 layers × 2 KV heads × (64 + 64) × 2 bytes = 12 KiB per token
    assert kv_cache_bytes(path, 2048) == 2048 * 24 * 2 * 128 * 2 == 24 * 2**20
    wide = write_gguf(tmp_path / "w.gguf", {**QWEN_LIKE, "qwen2.attention.key_length": 128})
    assert kv_cache_bytes(wide, 1) == 24 * 2 * (128 + 64) * 2


def test_slots_that_do_not_fit_are_refused_naming_the_field(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", QWEN_LIKE)
    per_slot = 24 * 2**20 + SLOT_WORK_BYTES
    need = check_memory(path, 2048, 4, available=2**40)
    assert need == path.stat().st_size + 4 * per_slot
    with pytest.raises(ConfigError, match=r"slots: 8 slots of 2048 tokens .* at most 3 slots"):
        check_memory(path, 2048, 8, available=3 * per_slot + path.stat().st_size + 1)


def test_a_file_that_is_not_gguf_is_a_clear_error(tmp_path: Path) -> None:
    from simulacra.errors import WeightsError

    bad = tmp_path / "x.gguf"
    bad.write_bytes(b"PK\3\4 not a model")
    with pytest.raises(WeightsError, match="not a GGUF file"):
        gguf_hparams(bad)


def test_pool_refuses_a_slot_count_beyond_the_machines_memory(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", QWEN_LIKE)
    config = ModelConfig.model_validate(
        {"backend": "local", "path": str(path), "n_ctx": 1_000_000, "slots": 64}
    )
    with pytest.raises(ConfigError, match="slots: 64 slots of 1000000 tokens need"):
        ModelPool(use_cache=False).build(config)


async def test_the_scoped_key_reaches_the_backend_but_not_the_cache_key() -> None:
    inner = ScriptedModel(["a", "b", "c"])
    model = ResilientModel(inner, limiter=AdaptiveLimiter(1), policy=RetryPolicy())
    with affinity("ep-1/user"):
        await model.chat(HELLO, ChatParams(seed=1))
        await model.chat(HELLO, ChatParams(affinity="explicit"))  # an explicit key wins
    await model.chat(HELLO)
    assert [params.affinity for _, params in inner.calls] == ["ep-1/user", "explicit", None]
    plain = request_key("m", HELLO, ChatParams(seed=1))
    assert request_key("m", HELLO, ChatParams(seed=1, affinity="ep-1/user")) == plain


SEEN: list[tuple[str | None, str]] = []


def record_affinity(messages: list[Message], params: ChatParams) -> str:
    SEEN.append((params.affinity, messages[0].content[:40]))
    return "Fine, thanks. What do you need?"


def test_each_episode_and_role_gets_its_own_key(tmp_path: Path) -> None:
    SEEN.clear()
    function = f"{__name__}:record_affinity"
    config: dict[str, Any] = {
        "name": "keys",
        "output_dir": str(tmp_path),
        "models": {"rec": {"backend": "scripted", "function": function}},
        "user": {"model": "rec"},
        "target": {"model": "rec", "system_prompt": "You are the assistant."},
        "personas": {"builtin": ["polite-professional", "busy-nurse"]},
        "tasks": {"suite": "everyday", "ids": ["pancakes-scale"]},
        "max_turns": 2,
        "cache": False,
    }
    simulacra.run(parse_config(config))
    keys = {key for key, _ in SEEN}
    assert None not in keys
    episodes = {key.rsplit("/", 1)[0] for key in keys if key}
    assert len(episodes) == 2
    assert keys == {f"{e}/{role}" for e in episodes for role in ("user", "target")}
    # the target's calls all carry the target's key, the user's the user's
    for key, start in SEEN:
        assert key is not None
        assert key.endswith("/target") == start.startswith("You are the assistant")


def test_a_run_resumed_with_other_slots_is_the_same_run() -> None:
    from simulacra.runs._runner import _defining

    def saved(slots: int, n_ctx: int = 2048) -> dict[str, Any]:
        return {"models": {"local": {"backend": "local", "slots": slots, "n_ctx": n_ctx}}}

    assert _defining(saved(1)) == _defining(saved(8))
    assert _defining(saved(4)) != _defining(saved(4, n_ctx=4096))


def test_a_new_conversation_copies_the_cache_that_shares_most_of_its_prompt() -> None:
    pool = engine(3)
    policy = "You are the shop's agent. " + "Rule: check the order first. " * 20
    first = request_text({"messages": [{"role": "system", "content": policy}]})
    pool._held[0] = first + "\x1euser\x1fwhere is my order?"
    pool._held[1] = request_text({"messages": [{"role": "system", "content": "Be terse."}]})
    new = request_text(
        {"messages": [{"role": "system", "content": policy}, {"role": "user", "content": "hi"}]}
    )
    assert pool.donor_for(2, new) == 0  # slot 2 is empty: slot 0 holds the policy
    assert pool.donor_for(0, new) is None  # a slot that holds it already reads only the rest
    # a short shared start is not worth a copy
    short = request_text({"messages": [{"role": "system", "content": "Be terse, please."}]})
    assert pool.donor_for(2, short) is None
    # tools come first, as the chat template puts them with the system prompt
    tools = [{"type": "function", "function": {"name": "find_order"}}]
    assert pool.donor_for(2, request_text({"tools": tools, "messages": []})) is None


@pytest.mark.parametrize(
    ("a", "b", "shared"),
    [("", "abc", 0), ("abc", "abc", 3), ("abcd", "abxd", 2), ("ab", "abcdef", 2), ("x", "y", 0)],
)
def test_shared_prefix(a: str, b: str, shared: int) -> None:
    assert shared_prefix(a, b) == shared
    assert shared_prefix(b, a) == shared
