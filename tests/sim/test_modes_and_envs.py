from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import simulacra
from simulacra.llm import ScriptedModel
from simulacra.people import Persona
from simulacra.runs import parse_config, read_episodes
from simulacra.sim.users import FeedbackUser, opening_text, sharded_view
from simulacra.sim.users._feedback import answer_tokens, leaks_answer
from simulacra.tasks import Task, suite_tasks
from targets_for_tests import RETAIL_DATA

PANCAKES = next(t for t in suite_tasks("everyday") if t.id == "pancakes-scale")
PLAIN = Persona(name="plain", background="x", typo_rate=0.0, patience=5, cooperativeness=1.0)


def config(tmp_path: Path, **overrides: Any) -> Any:
    data: dict[str, Any] = {
        "name": "m",
        "output_dir": str(tmp_path),
        "models": {"echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"}},
        "user": {"model": "echo"},
        "target": {"type": "callable", "callable": "targets_for_tests:calculator"},
        "personas": {"builtin": ["polite-professional"]},
        "tasks": {"suite": "everyday", "ids": ["pancakes-scale", "bill-split-tip"]},
    }
    data.update(overrides)
    return parse_config(data)


def test_opening_text_of_each_mode() -> None:
    assert opening_text(PANCAKES, "full").startswith(PANCAKES.goal)
    assert "300 g" in opening_text(PANCAKES, "full") and "10 people" in opening_text(
        PANCAKES, "full"
    )
    concat = opening_text(PANCAKES, "concat").splitlines()
    assert len(concat) == 1 + len(PANCAKES.facts) and all(line.startswith("- ") for line in concat)
    task = Task.model_validate(
        {
            "id": "s",
            "goal": "g",
            "shards": ["open up", "it is 5 km"],
            "check": {"type": "numeric", "value": 1},
        }
    )
    view = sharded_view(task)
    assert view.goal == "open up" and [f.text for f in view.facts] == ["it is 5 km"]


async def test_full_mode_is_one_turn_and_sharded_is_many(tmp_path: Path) -> None:
    result = await simulacra.arun(config(tmp_path, modes=["full", "sharded"], repeats=2))
    episodes = read_episodes(result.run_dir)
    full = [e for e in episodes if e["mode"] == "full"]
    sharded = [e for e in episodes if e["mode"] == "sharded"]
    assert len(full) == len(sharded) == 4
    assert all(e["user_turns"] == 1 and e["stop_reason"] == "single_turn" for e in full)
    assert all(e["user_turns"] > 1 for e in sharded)
    assert all(e["success"] for e in full if e["task"]["id"] == "pancakes-scale")
    summary = result.summary.to_dict()
    assert set(summary["by_mode"]) == {"full", "sharded"}
    assert "multi_turn_drop" in summary and summary["multi_turn_drop"]["value"] is not None
    assert set(summary["pass_hat_k"]) == {"1", "2"}
    assert summary["aptitude"]["value"] >= summary["unreliability"]["value"]


async def test_feedback_user_records_first_success_turn(tmp_path: Path) -> None:
    result = await simulacra.arun(
        config(
            tmp_path,
            user={"model": "echo", "simulator": "feedback"},
            target={"type": "callable", "callable": "targets_for_tests:wrong_then_right"},
            modes=["full"],
            tasks={"suite": "everyday", "ids": ["pancakes-scale"]},
        )
    )
    episode = read_episodes(result.run_dir)[0]
    assert episode["success"] and episode["extra"]["first_success_turn"] == 2
    assert [m["meta"]["act"] for m in episode["messages"] if m["role"] == "user"] == [
        "open",
        "feedback",
        "satisfied",
    ]
    by_turn = result.summary.to_dict()["success_by_turn"]
    assert by_turn["cumulative"][0]["value"] == 0 and by_turn["cumulative"][1]["value"] == 1


async def test_feedback_leak_is_regenerated_then_replaced() -> None:
    leaky = ScriptedModel(["No, it should be 750 g.", "No! The answer is 750."], cycle=True)
    user = FeedbackUser(persona=PLAIN, task=PANCAKES, model=leaky, seed=1, mode="full")
    await user.next_turn([])
    from simulacra.llm import Message

    turn = await user.next_turn([Message(role="assistant", content="Use 300 g.")])
    assert turn.act == "feedback"
    assert [e.guard for e in turn.guard_events] == ["answer_leak"] * 3
    assert "750" not in turn.text
    assert leaks_answer("about 750g", answer_tokens(PANCAKES)) == "750"
    assert leaks_answer("try 7500", answer_tokens(PANCAKES)) is None


async def test_shop_tool_episode_scores_the_environment(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        models={"agent": {"backend": "scripted", "function": "targets_for_tests:shop_agent"}},
        user={"simulator": "scripted", "model": "agent"},
        target={
            "type": "model",
            "model": "agent",
            "system_prompt": "You are the shop's assistant.",
        },
        tasks={"suite": "shop", "ids": ["shop-001", "shop-002"]},
    )
    result = await simulacra.arun(cfg)
    episodes = {e["task"]["id"]: e for e in read_episodes(result.run_dir)}
    good = episodes["shop-001"]
    assert good["status"] == "ok" and good["success"], good["check"]
    tool_messages = [m for m in good["messages"] if m["role"] == "tool"]
    assert [m["name"] for m in tool_messages] == ["find_customer_by_email", "cancel_order"]
    assert good["check"]["extracted"]["hash_match"]
    other = episodes["shop-002"]
    assert other["success"] is False and other["check"]["extracted"]["diff"]


def test_tau_retail_tasks_load_into_the_general_schema(tmp_path: Path) -> None:
    data = Path(__file__).resolve().parents[3] / "shared" / "data" / "tau-bench-retail-dev"
    if not data.exists():
        pytest.skip(f"retail data not found at {data}")
    cfg = config(tmp_path, tasks={"tau_retail": str(data)})
    tasks = cfg.resolve_tasks()
    assert len(tasks) == 20
    assert all(t.environment == "retail" or t.environment for t in tasks)
    first = tasks[0]
    assert first.facts and all(f.mention_keys() for f in first.facts)
    assert "zip" in " ".join(f.text for f in first.facts).lower()
    bad = config(tmp_path, tasks={"tau_retail": str(tmp_path / "missing")})
    with pytest.raises(simulacra.ConfigError, match=r"tasks\.tau_retail"):
        bad.resolve_tasks()


# The half oracle acts on even-numbered tasks only; it also "passes" task 017, whose
# ground truth is to change nothing (the user asks for something the policy forbids).
@pytest.mark.parametrize(
    ("agent", "expected"), [("retail_oracle", 1.0), ("retail_half_oracle", 11 / 20)]
)
async def test_tau_retail_pass_k_end_to_end(tmp_path: Path, agent: str, expected: float) -> None:
    """Through the runner, pass^k counts exactly the tasks the agent carries out right."""
    data = RETAIL_DATA
    if not data.exists():
        pytest.skip(f"retail data not found at {data}")
    cfg = config(
        tmp_path,
        name=agent.replace("_", "-"),
        models={"agent": {"backend": "scripted", "function": f"targets_for_tests:{agent}"}},
        user={"simulator": "scripted", "model": "agent"},
        target={"type": "model", "model": "agent", "system_prompt": "You are the agent."},
        tasks={"tau_retail": str(data)},
        repeats=3,
    )
    result = await simulacra.arun(cfg)
    episodes = read_episodes(result.run_dir)
    assert len(episodes) == 60 and all(e["status"] == "ok" for e in episodes)
    wins = {e["task"]["id"] for e in episodes if e["success"]}
    assert len(wins) == round(20 * expected)
    for e in episodes:
        acted = [m for m in e["messages"] if m["role"] == "tool"]
        writes = [m for m in acted if not m["name"].startswith("find_user_id")]
        assert not any(m["content"].startswith("Error") for m in writes), writes
        if e["success"]:
            assert not e["check"]["extracted"]["diff"] and e["check"]["extracted"]["hash_match"]
        else:
            assert e["check"]["extracted"]["diff"] or e["check"]["extracted"]["missing_outputs"]
    summary = json.loads((result.run_dir / "summary.json").read_text())
    for k in ("1", "2", "3"):
        assert summary["pass_hat_k"][k]["value"] == pytest.approx(expected)
        assert summary["pass_hat_k"][k]["n"] == 20
    assert summary["aptitude"]["value"] == pytest.approx(expected)
    assert summary["unreliability"]["value"] == pytest.approx(0.0)
    # the ground truth authenticates before it writes: no policy violations
    assert summary["policy"]["episodes"] == 60 and summary["policy"]["with_violations"] == 0
    assert summary["policy"]["success_without_violation"]["value"] == pytest.approx(expected)


def test_a_suite_with_options_reaches_the_environment_of_each_episode(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        models={"agent": {"backend": "scripted", "replies": ["Which order?"]}},
        user={"simulator": "scripted", "model": "agent"},
        target={"type": "model", "model": "agent"},
        personas={"builtin": ["polite-professional"]},
        tasks={"suite": [{"name": "shop", "max_turns": 2}], "limit": 1},
    )
    (task,) = cfg.resolve_tasks()
    assert task.max_turns == 2 and task.metadata["environment"]["name"] == "shop"
    result = simulacra.run(cfg)
    (episode,) = read_episodes(result.run_dir)
    assert episode["status"] == "ok" and episode["extra"]["tool_calls"] == 0
    assert episode["user_turns"] == 2  # the suite's turn limit, not the default 12
