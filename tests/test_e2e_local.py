"""End to end on the real embedded model (llama.cpp, Qwen2.5-Coder-0.5B): no fakes."""

from __future__ import annotations

from pathlib import Path

import pytest

import simulacra
from simulacra.llm._weights import DEFAULT_MODEL_SIZE, default_weights
from simulacra.runs import parse_config, read_episodes

pytestmark = pytest.mark.slow


def test_two_short_episodes_on_the_embedded_model(tmp_path: Path, model_cache_dir: Path) -> None:
    weights = default_weights(directory=model_cache_dir / "models")
    assert weights.stat().st_size == DEFAULT_MODEL_SIZE
    config = parse_config(
        {
            "name": "e2e",
            "seed": 3,
            "output_dir": str(tmp_path),
            "models": {"local": {"backend": "local", "path": str(weights), "n_ctx": 2048}},
            "user": {"model": "local", "max_tokens": 40},
            "target": {
                "model": "local",
                "max_tokens": 60,
                "system_prompt": "Answer in one short sentence.",
            },
            "personas": {"builtin": ["busy-nurse", "polite-professional"]},
            "tasks": {"suite": "everyday", "ids": ["run-miles-to-km"]},
            "max_turns": 2,
            "concurrency": 2,
        }
    )
    result = simulacra.run(config)
    episodes = read_episodes(result.run_dir)
    assert len(episodes) == 2
    for episode in episodes:
        assert episode["status"] == "ok", episode["error"]
        roles = [m["role"] for m in episode["messages"]]
        assert roles[:2] == ["user", "assistant"]
        assert all(m["content"].strip() for m in episode["messages"] if m["role"] == "user")
        assert episode["usage"]["user"]["completion_tokens"] > 0
        assert episode["usage"]["target"]["completion_tokens"] > 0
        assert episode["success"] in (True, False)
    # the simulated user never spoke as the assistant, after guards
    from simulacra.sim.users._guards import role_drift

    for episode in episodes:
        for message in episode["messages"]:
            if message["role"] == "user":
                assert role_drift(message["content"], message["content"]) is None
    assert result.summary.usage["target"].calls >= 2


def test_tool_episode_on_the_embedded_model(tmp_path: Path, model_cache_dir: Path) -> None:
    """The embedded model as a shop agent: tools offered in its chat template, calls parsed,
    run against the environment, and the final state scored."""
    weights = default_weights(directory=model_cache_dir / "models")
    config = parse_config(
        {
            "name": "e2e-tools",
            "seed": 5,
            "output_dir": str(tmp_path),
            "models": {"local": {"backend": "local", "path": str(weights), "n_ctx": 4096}},
            "user": {"simulator": "scripted", "model": "local"},
            "target": {"model": "local", "max_tokens": 96, "temperature": 0.0},
            "personas": {"builtin": ["polite-professional"]},
            "tasks": {"suite": "shop", "ids": ["shop-001"]},
            "max_turns": 2,
        }
    )
    result = simulacra.run(config)
    (episode,) = read_episodes(result.run_dir)
    assert episode["status"] == "ok", episode["error"]
    assert episode["check"]["extracted"]["expected_hash"]  # scored on the environment
    assert isinstance(episode["success"], bool)
    assert episode["usage"]["target"]["prompt_tokens"] > 500  # policy and tool schemas were sent
    assert "tool_calls" in episode["extra"]


@pytest.mark.timeout(1800)  # a few short calls; generous for a loaded machine
async def test_a_slot_reads_only_the_new_tokens_of_its_conversation(
    model_cache_dir: Path,
) -> None:
    """Calls of another conversation in between do not cost a conversation its cached
    prefix: after the first turn, a slot reads only what was added since."""
    import asyncio

    from simulacra.llm import ChatParams, Message
    from simulacra.llm._local import LlamaEngine, LocalModel

    weights = default_weights(directory=model_cache_dir / "models")
    system = Message(role="system", content="You are a terse assistant for a bakery. " * 8)
    other = [
        Message(role="system", content="Summarise in three words."),
        Message(role="user", content="Bread, butter and jam."),
    ]
    evaluated: dict[int, list[int]] = {}
    sizes: dict[int, list[int]] = {}
    for slots in (2, 1):
        engine = LlamaEngine(weights, n_ctx=1024, slots=slots)
        model = LocalModel(engine)
        history = [system]
        sent: list[int] = []
        try:
            for turn in range(2):
                history.append(Message(role="user", content=f"Turn {turn}: one word, please."))
                params = ChatParams(max_tokens=4, temperature=0.0, seed=1)
                reply = await model.chat(history, params.merged(ChatParams(affinity="a/target")))
                slot = engine._owners["a/target"]
                sent.append(reply.usage.prompt_tokens)
                evaluated.setdefault(slots, []).append(engine.stats[slot].last_evaluated)
                history.append(reply.message())
                # another conversation's call on the same engine
                await model.chat(other, params.merged(ChatParams(affinity="b/user")))
        finally:
            await asyncio.to_thread(engine.close)
        sizes[slots] = sent
    pooled, single = evaluated[2], evaluated[1]
    sent = sizes[2]
    assert sent[0] > 80
    assert pooled[0] >= sent[0] - 2, pooled  # the first turn reads the whole prompt
    added = sent[1] - sent[0]  # the reply and the new user message
    assert pooled[1] <= added + 4, (pooled, sent)  # then only what was added is read
    # one context for both conversations: all of it again
    assert single[1] >= 0.8 * sizes[1][1], (single, sizes[1])


@pytest.mark.timeout(1800)
async def test_a_new_conversation_starts_from_another_slots_cache(model_cache_dir: Path) -> None:
    """Conversations of one run share a long start (the policy): the second one, given an
    empty slot, copies the first one's cache and reads only its own tokens."""
    import asyncio

    from simulacra.llm import ChatParams, Message
    from simulacra.llm._local import LlamaEngine, LocalModel

    weights = default_weights(directory=model_cache_dir / "models")
    rules = " ".join(f"Rule {i}: be kind about item {i}." for i in range(40))
    system = Message(role="system", content=f"You are a terse assistant for a bakery. {rules}")
    engine = LlamaEngine(weights, n_ctx=1024, slots=2)
    model = LocalModel(engine)
    read: dict[str, int] = {}
    try:
        for who in ("a", "b"):
            ask = Message(role="user", content=f"Customer {who}: do you sell rye?")
            params = ChatParams(max_tokens=4, temperature=0.0, seed=1, affinity=f"{who}/target")
            reply = await model.chat([system, ask], params)
            assert reply.text.strip()
            read[who] = engine.stats[engine._owners[f"{who}/target"]].last_evaluated
        sent = reply.usage.prompt_tokens
    finally:
        await asyncio.to_thread(engine.close)
    assert engine._owners["a/target"] != engine._owners["b/target"]
    assert read["a"] >= sent - 2  # the first conversation reads its whole prompt
    assert read["b"] <= 20, read  # the second one only what follows the shared policy
    assert engine.summary()["copied"] >= sent - 20
