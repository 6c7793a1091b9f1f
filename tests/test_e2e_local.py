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
