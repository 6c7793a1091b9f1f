"""The environment in verl's interaction interface and TRL's environment_factory
interface, driven by small rollout loops that call them as those trainers do (neither
trainer installs here without its GPU stack; see docs/training-data.md)."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("gymnasium")

from simulacra.env import (
    OPENING,
    SimulatedUserInteraction,
    averl_rows,
    rewards,
    trl_environment,
    trl_rows,
    verl_rows,
)
from simulacra.errors import ConfigError
from simulacra.tasks import suite_tasks

PANCAKES = {t.id: t for t in suite_tasks("everyday")}["pancakes-scale"]  # 750 g

CONFIG = """\
name: adapters
models:
  none: {backend: scripted, replies: [unused]}
user: {simulator: scripted, model: none}
target: {model: none, system_prompt: Answer briefly.}
personas: {builtin: [busy-nurse, teen-gamer]}
tasks: {suite: everyday, ids: [pancakes-scale, run-miles-to-km]}
max_turns: 4
"""


def config_file(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def policy(messages: list[dict[str, Any]]) -> str:
    """Asks for the facts, then answers the pancake task right (and any other wrong)."""
    said = " ".join(m["content"] for m in messages if m["role"] == "user")
    facts = [f.text for f in PANCAKES.facts]
    if PANCAKES.goal in said and not all(f in said for f in facts):
        return "How many people, and what is the recipe?"
    return "You need 750 g of flour." if PANCAKES.goal in said else "About 3 km."


async def verl_rollout(
    interaction: SimulatedUserInteraction, row: dict[str, Any], write: Any
) -> tuple[list[dict[str, Any]], float, dict[str, Any]]:
    """What verl's multi-turn agent loop does with an interaction, without a model server:
    start, alternate the policy's turn and the interaction's, score, finalize."""
    kwargs = row["extra_info"]["interaction_kwargs"]
    instance = await interaction.start_interaction(None, **kwargs)
    messages = [dict(m) for m in row["prompt"]]
    info: dict[str, Any] = {}
    for _ in range(8):
        messages.append({"role": "assistant", "content": await write(messages)})
        done, text, _, info = await interaction.generate_response(instance, messages)
        if done:
            break
        messages.append({"role": "user", "content": text})
    score = await interaction.calculate_score(instance)
    await interaction.finalize_interaction(instance)
    return messages, score, info


def test_verl_rows_and_a_rollout_loop_through_the_interaction(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    rows = verl_rows(path, seed=3)
    assert len(rows) == 4  # personas × tasks
    first = rows[0]
    assert first["prompt"][0] == {"role": "system", "content": "Answer briefly."}
    assert first["prompt"][1]["role"] == "user"
    assert set(first["extra_info"]["interaction_kwargs"]) == {"name", "persona", "task", "seed"}
    interaction = SimulatedUserInteraction({"name": "simulacra", "run_config": str(path)})
    for method in ("start_interaction", "generate_response", "calculate_score"):
        assert inspect.iscoroutinefunction(getattr(interaction, method))

    async def write(messages: list[dict[str, Any]]) -> str:
        return policy(messages)

    scores = {}
    for row in rows:
        messages, score, info = asyncio.run(verl_rollout(interaction, row, write))
        kwargs = row["extra_info"]["interaction_kwargs"]
        scores[(kwargs["persona"], kwargs["task"])] = score
        # the opening turn in the row is the simulated user's own
        assert info["messages"][1]["content"] == row["prompt"][1]["content"]
        assert info["message_source"][1] == "simulated_user"
        assert info["train_mask"] == [s == "target" for s in info["message_source"]]
        assert [m["content"] for m in info["messages"]] == [m["content"] for m in messages]
    assert scores == {
        ("busy-nurse", "pancakes-scale"): 1.0,
        ("teen-gamer", "pancakes-scale"): 1.0,
        ("busy-nurse", "run-miles-to-km"): 0.0,
        ("teen-gamer", "run-miles-to-km"): 0.0,
    }
    assert interaction._instances == {}  # finalized
    with pytest.raises(ConfigError, match="persona, task and seed"):
        asyncio.run(interaction.start_interaction("x", persona="busy-nurse"))


def test_trl_environment_factory_and_a_rollout_loop(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    factory = trl_environment(path)
    rows = trl_rows(path, repeats=2, seed=1)
    assert len(rows) == 8 and rows[0]["prompt"] == [{"role": "user", "content": OPENING}]
    # as GRPOTrainer does: one instance per rollout, made with no arguments
    environments = [factory() for _ in rows]
    tools = [
        name
        for name, member in inspect.getmembers(environments[0], inspect.ismethod)
        if not name.startswith("_") and name not in ("reset", "get_reward")
    ]
    assert tools == ["reply"]  # the one tool TRL offers the policy
    doc = inspect.getdoc(environments[0].reply) or ""
    assert "Args:" in doc and "message:" in doc  # what TRL builds the tool schema from
    for env, row in zip(environments, rows, strict=True):
        opening = env.reset(**{k: v for k, v in row.items() if k != "prompt"})
        messages = [*row["prompt"], {"role": "user", "content": opening}]
        while not env.done:
            answer = policy(messages)
            messages.append({"role": "assistant", "content": answer})
            messages.append({"role": "user", "content": env.reply(answer)})
        with pytest.raises(ValueError, match="over"):
            env.reply("Anything else?")
        assert env.message_source[:2] == ["system", "simulated_user"]
        assert env.messages[1]["content"] == opening
        assert env.train_mask == [s == "target" for s in env.message_source]
    got = rewards(environments)
    assert got == [1.0 if r["task"] == "pancakes-scale" else 0.0 for r in rows]
    assert [e.get_reward() for e in environments] == got
    for env in environments:
        env._close()


@pytest.mark.slow
@pytest.mark.timeout(1800)  # two short completions, but a shared machine may be slow
def test_a_verl_rollout_with_the_embedded_model_writing_the_assistant(
    tmp_path: Path, model_cache_dir: Path
) -> None:
    """No trainer, no gradient: the embedded model is the policy of one short verl-style
    rollout and one TRL-style rollout against the scripted user."""
    from simulacra.llm import ChatParams, Message, ModelConfig, ModelPool
    from simulacra.llm._weights import default_weights

    weights = default_weights(directory=model_cache_dir / "models")
    text = CONFIG.replace("ids: [pancakes-scale, run-miles-to-km]", "ids: [run-miles-to-km]")
    text = text.replace("max_turns: 4", "max_turns: 1").replace(
        "busy-nurse, teen-gamer", "busy-nurse"
    )
    path = config_file(tmp_path, text)
    pool = ModelPool(use_cache=False)
    model = pool.build(ModelConfig.model_validate({"backend": "local", "path": str(weights)}))

    async def write(messages: list[dict[str, Any]]) -> str:
        completion = await model.chat(
            [Message.from_dict(m) for m in messages], ChatParams(max_tokens=24, seed=0)
        )
        return completion.text

    async def verl() -> tuple[list[dict[str, Any]], float, dict[str, Any]]:
        (row,) = await averl_rows(path)
        return await verl_rollout(SimulatedUserInteraction({"run_config": str(path)}), row, write)

    try:
        messages, score, info = asyncio.run(verl())
        assert [m["role"] for m in messages] == ["system", "user", "assistant"]
        assert messages[-1]["content"].strip()
        assert score in (0.0, 1.0) and info["episode"]["status"] == "ok"
        assert info["train_mask"] == [False, False, True]
        # the same conversation through TRL's interface
        env = trl_environment(path)()
        (row,) = trl_rows(path)
        opening = env.reset(**{k: v for k, v in row.items() if k != "prompt"})
        said = asyncio.run(write([*row["prompt"], {"role": "user", "content": opening}]))
        env.reply(said)
        assert env.done and env.get_reward() in (0.0, 1.0)
        assert env.message_source == ["system", "simulated_user", "target"]
        env._close()
    finally:
        asyncio.run(pool.aclose())
