"""Callable targets: the conversation context, function objects, import paths found
next to the config, and ``simulacra.run`` inside a running loop."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

import simulacra
from simulacra.errors import ConfigError
from simulacra.runs import parse_config
from simulacra.sim.targets import Conversation


def settings(tmp_path: Path, target: Any, **more: Any) -> dict[str, Any]:
    return {
        "name": "ctx",
        "output_dir": str(tmp_path / "runs"),
        "models": {"echo": {"backend": "scripted", "replies": ["unused"]}},
        "user": {"simulator": "scripted", "options": {"turns": ["hi", "again", "bye"]}},
        "target": target,
        "personas": {"builtin": ["polite-professional", "retired-engineer"]},
        "tasks": {"suite": "everyday", "ids": ["pancakes-scale"]},
        **more,
    }


def test_a_function_taking_a_context_gets_ids_turns_and_a_state(tmp_path: Path) -> None:
    seen: list[tuple[str, str, str, int, str]] = []

    def reply(messages: list[dict[str, Any]], context: Conversation) -> str:
        context.state["count"] = context.state.get("count", 0) + 1
        seen.append(
            (
                context.episode_id,
                context.persona_id,
                context.task_id,
                context.turn,
                context.session_id,
            )
        )
        return f"reply {context.state['count']} to {messages[-1]['content']}"

    result = simulacra.run(parse_config(settings(tmp_path, reply)))
    episodes = result.episodes()
    assert len(episodes) == 2
    for episode in episodes:
        mine = [s for s in seen if s[0] == episode.id]
        assert [s[3] for s in mine] == [0, 1, 2]  # the turn index
        assert {s[1] for s in mine} == {episode.persona.name}
        assert {s[2] for s in mine} == {"pancakes-scale"}
        assert {s[4] for s in mine} == {episode.extra["session_id"]}  # one per conversation
        said = [m.content for m in episode.messages if m.role == "assistant"]
        assert said == ["reply 1 to hi", "reply 2 to again", "reply 3 to bye"]  # state kept
    assert len({e.extra["session_id"] for e in episodes}) == 2
    assert result.config.target.label().endswith(
        "test_a_function_taking_a_context_gets_ids_turns_and_a_state.<locals>.reply"
    )


def test_context_by_keyword_and_the_plain_signature(tmp_path: Path) -> None:
    turns: list[int] = []

    async def keyword(messages: list[dict[str, Any]], *, context: Conversation) -> str:
        turns.append(context.turn)
        return "ok"

    def plain(messages: list[dict[str, Any]], style: str = "short") -> str:
        return f"{style}: {len(messages)} messages"

    simulacra.run(parse_config(settings(tmp_path, keyword, name="kw")))
    assert sorted(turns) == [0, 0, 1, 1, 2, 2]
    result = simulacra.run(parse_config(settings(tmp_path, plain, name="plain")))
    first = result.episodes()[0]
    assert next(m.content for m in first.messages if m.role == "assistant") == "short: 1 messages"


def test_a_function_object_in_the_target_mapping_and_the_saved_config(tmp_path: Path) -> None:
    def reply(messages: list[dict[str, Any]]) -> str:
        return "fine"

    config = parse_config(settings(tmp_path, {"type": "callable", "callable": reply}))
    result = simulacra.run(config)
    saved = (result.run_dir / "config.json").read_text()
    assert "test_callable_targets:" in saved and "<function" not in saved
    assert all(e.status == "ok" for e in result.episodes())


@pytest.fixture
def app_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with its own package, and a working directory elsewhere."""
    project = tmp_path / "project"
    (project / "mybot").mkdir(parents=True)
    (project / "mybot" / "__init__.py").write_text("")
    (project / "mybot" / "bot.py").write_text(
        "def reply(messages):\n    return 'hello from mybot'\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in [m for m in sys.modules if m == "mybot" or m.startswith("mybot.")]:
        monkeypatch.delitem(sys.modules, name)
    return project


def write_config(folder: Path, callable_path: str) -> Path:
    path = folder / "sim.yaml"
    path.write_text(
        "name: found\noutput_dir: runs\nmodels: {echo: {backend: scripted, replies: [x]}}\n"
        "user: {simulator: scripted, options: {turns: [hi]}}\n"
        f"target: {{type: callable, callable: '{callable_path}'}}\n"
        "personas: {builtin: [polite-professional]}\n"
        "tasks: {suite: everyday, ids: [pancakes-scale]}\n"
    )
    return path


def test_the_config_files_folder_is_searched_for_the_module(app_folder: Path) -> None:
    assert str(app_folder) not in sys.path
    result = simulacra.run(write_config(app_folder, "mybot.bot:reply"))
    (episode,) = result.episodes()
    assert episode.messages[-1].content == "hello from mybot"


def test_a_module_found_nowhere_names_the_folders_looked_in(app_folder: Path) -> None:
    with pytest.raises(ConfigError) as info:
        simulacra.run(write_config(app_folder, "notmybot.bot:reply"))
    message = str(info.value)
    assert "target.callable" in message and "No module named 'notmybot'" in message
    assert str(app_folder) in message and str(Path.cwd()) in message
    assert "PYTHONPATH" in message


def test_a_missing_dependency_of_the_module_is_not_hidden(app_folder: Path) -> None:
    (app_folder / "mybot" / "needs.py").write_text("import not_installed_anywhere\n")
    with pytest.raises(ConfigError, match="No module named 'not_installed_anywhere'") as info:
        simulacra.run(write_config(app_folder, "mybot.needs:reply"))
    assert "looked on the import path" not in str(info.value)


def test_run_inside_a_running_loop_says_to_await_arun(tmp_path: Path) -> None:
    config = parse_config(
        settings(tmp_path, {"type": "callable", "callable": "targets_for_tests:calculator"})
    )

    async def notebook_cell() -> None:
        simulacra.run(config)

    with pytest.raises(RuntimeError, match=r"await simulacra\.arun\(\.\.\.\)"):
        asyncio.run(notebook_cell())  # and no "coroutine was never awaited" warning
    assert not (tmp_path / "runs" / "ctx").exists()  # nothing was started


def test_an_error_raised_by_run_carries_no_loop_check_context(tmp_path: Path) -> None:
    config = parse_config(
        settings(tmp_path, {"type": "callable", "callable": "targets_for_tests:calculator"})
    )
    simulacra.run(config)
    with pytest.raises(Exception, match="already holds episodes") as info:
        simulacra.run(config)
    assert info.value.__context__ is None  # no "during handling of RuntimeError"


def test_a_function_target_survives_a_copy_of_its_config(tmp_path: Path) -> None:
    from simulacra.runs import RunConfig

    def make() -> Any:
        def reply(messages: list[Any]) -> str:  # no import path: defined inside a function
            return "ok"

        return reply

    function = make()
    config = RunConfig(name="copied", target=function)
    copy = config.with_overrides(output_dir=str(tmp_path))
    assert copy.target.options.callable is function and copy.output_dir == str(tmp_path)
