"""A purpose-built user model on an OpenAI-compatible endpoint (``simulator: user-lm``):
a real local HTTP server plays the model; the tests check the flipped conversation it
received, the end-of-conversation token and the shared guards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.responses import Response

import simulacra
from scripted_http import ScriptedServer, completion
from simulacra.errors import ConfigError
from simulacra.rundir import RunDir
from simulacra.runs import parse_config
from simulacra.sim.users import UserLMOptions, UserLMUser

TASK = {
    "id": "pancakes",
    "goal": "I want to scale a pancake recipe.",
    "facts": [
        {"text": "The recipe is for 4 people and uses 300 g of flour.", "keys": ["300"]},
        {"text": "I am cooking for 10 people.", "keys": ["10 people"]},
    ],
    "check": {"type": "numeric", "value": 750},
}


class UserModel:
    """The user model behind the server: answers from the flipped conversation."""

    def __init__(self, script: list[str] | None = None) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.script = list(script or [])

    def __call__(self, body: dict[str, Any], headers: dict[str, str]) -> Response:
        self.bodies.append(body)
        if self.script:
            return completion(self.script.pop(0))
        messages = body["messages"]
        last = messages[-1]
        if last["role"] == "system":
            return completion("hey, can you help me scale a pancake recipe?")
        said = last["content"]
        if "750" in said:
            return completion("perfect, thanks!<|endconversation|>")
        if "How many" in said and not any("300" in m["content"] for m in messages[1:]):
            return completion("it's for 4 people with 300 g of flour")
        return completion("I am cooking for 10 people")


def config(tmp_path: Path, server: ScriptedServer, max_turns: int = 6, **user: Any) -> Any:
    return parse_config(
        {
            "name": "user-lm",
            "output_dir": str(tmp_path / "runs"),
            "models": {"ulm": {"backend": "openai", "base_url": server.base_url, "model": "u"}},
            "user": {"simulator": "user-lm", "model": "ulm", **user},
            "target": {"type": "callable", "callable": "targets_for_tests:calculator"},
            "personas": {"builtin": ["busy-nurse"]},
            "tasks": {"inline": [TASK]},
            "cache": False,
            "max_turns": max_turns,
        }
    )


def test_the_server_sees_the_flipped_conversation_and_the_end_token_stops_it(
    tmp_path: Path,
) -> None:
    model = UserModel()
    with ScriptedServer(model) as server:
        result = simulacra.run(config(tmp_path, server))
    (episode,) = RunDir(result.run_dir).episodes()
    assert episode.status == "ok" and episode.success is True
    assert episode.stop_reason == "end_of_conversation"
    said = [(m.role, m.content) for m in episode.messages]
    assert said[-1] == ("user", "perfect, thanks!")  # kept, not answered, token gone
    assert said[-2] == ("assistant", "You need 750 g of flour.")
    # the first request: the intent alone, with the hidden facts and the stop token
    first = model.bodies[0]["messages"]
    assert [m["role"] for m in first] == ["system"]
    assert "I want to scale a pancake recipe." in first[0]["content"]
    assert "300 g of flour" in first[0]["content"] and "<|endconversation|>" in first[0]["content"]
    # later: the user's turns as the assistant's, the assistant's as the user's
    last = model.bodies[-1]["messages"]
    user_turns = [m.content for m in episode.messages if m.role == "user"][:-1]
    assistant_turns = [m.content for m in episode.messages if m.role == "assistant"]
    assert [m["content"] for m in last if m["role"] == "assistant"] == user_turns
    assert [m["content"] for m in last if m["role"] == "user"] == assistant_turns
    assert [m["role"] for m in last[1:3]] == ["assistant", "user"]
    assert len(model.bodies) == len(user_turns) + 1 and not episode.guard_events


def test_a_turn_of_only_the_end_token_ends_without_a_message(tmp_path: Path) -> None:
    script = ["can you scale a pancake recipe for me?", "  <|done|>  "]
    with ScriptedServer(UserModel(script)) as server:
        cfg = config(tmp_path, server, options={"stop_token": "<|done|>"})
        result = simulacra.run(cfg)
    (episode,) = RunDir(result.run_dir).episodes()
    assert episode.stop_reason == "end_of_conversation"
    assert [m.role for m in episode.messages] == ["user", "assistant"]


def test_an_empty_reply_ends_the_conversation_when_the_server_drops_the_token(
    tmp_path: Path,
) -> None:
    script = ["can you scale a pancake recipe for me?", ""]
    with ScriptedServer(UserModel(script)) as server:
        result = simulacra.run(config(tmp_path, server, options={"empty_ends": True}))
    (episode,) = RunDir(result.run_dir).episodes()
    assert episode.stop_reason == "end_of_conversation" and not episode.guard_events
    script = ["can you scale a pancake recipe for me?", "", "", ""]
    with ScriptedServer(UserModel(script)) as server:
        result = simulacra.run(config(tmp_path / "b", server, max_turns=2))
    (episode,) = RunDir(result.run_dir).episodes()
    # without it: a fault; the same empty reply twice running is not drawn a third time
    assert [(e.guard, e.action) for e in episode.guard_events] == [
        ("empty", "regenerate"),
        ("empty", "fallback"),
    ]


def test_guards_redraw_a_drifting_or_blurting_turn_then_fall_back(tmp_path: Path) -> None:
    script = [
        "I'd be happy to help! How can I assist you today?",  # the assistant's role
        "scale pancakes: 4 people, 300 g of flour, and I am cooking for 10 people",  # both facts
        "I need to scale a pancake recipe",
        "I need to scale a pancake recipe",  # a repeat, twice running: no third draw
        "I need to scale a pancake recipe",
    ]
    with ScriptedServer(UserModel(script)) as server:
        result = simulacra.run(config(tmp_path, server, max_turns=2))
    (episode,) = RunDir(result.run_dir).episodes()
    events = [(e.turn, e.guard, e.action) for e in episode.guard_events]
    assert events == [
        (0, "role_drift", "regenerate"),
        (0, "leak", "regenerate"),
        (1, "repetition", "regenerate"),
        (1, "repetition", "fallback"),
    ]
    turns = [m.content for m in episode.messages if m.role == "user"]
    assert turns[0] == "I need to scale a pancake recipe"
    assert turns[1] == "The recipe is for 4 people and uses 300 g of flour."  # the fallback


def test_options_are_checked_when_the_config_loads(tmp_path: Path) -> None:
    with ScriptedServer(UserModel()) as server:
        with pytest.raises(ConfigError, match=r"user\.options"):
            config(tmp_path, server, options={"stop_tokn": "x"})
        with pytest.raises(ConfigError, match="max_reveal"):
            config(tmp_path, server, options={"max_reveal": 0})


def test_the_intent_can_leave_out_the_facts_and_say_who_the_user_is() -> None:
    from simulacra.llm import ScriptedModel
    from simulacra.people import builtin_personas
    from simulacra.tasks import Task

    nurse = next(p for p in builtin_personas() if p.name == "busy-nurse")
    user = UserLMUser(
        persona=nurse,
        task=Task.model_validate(TASK),
        model=ScriptedModel(["x"]),
        seed=0,
        options=UserLMOptions(details="none", persona=True),
    )
    intent = user.intent()
    assert "300 g" not in intent and nurse.background in intent
