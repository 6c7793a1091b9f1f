"""The pytest plugin, run as an app developer's test suite runs it (pytester)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

# imported before any pytester test: pytester takes sys.modules back to what it was
# before the test, and numpy (under simulacra.stats) cannot be imported twice
import simulacra.stats  # noqa: F401
from simulacra.rundir import Episode
from simulacra.testing import (
    ScenarioRunner,
    assert_conversation,
    assert_run,
    format_conversation,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def inner_runs(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner runs are subprocesses (a run in this process would import simulacra's
    C extensions twice) that import this tree's simulacra; pytest-asyncio warns, so
    fails, without a loop scope set."""
    paths = [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")


NO_MODEL = (
    "import simulacra.testing\n\nsimulacra.testing.local_model_problem = lambda: 'no model here'\n"
)


SUITE = """
import pytest
from simulacra.testing import assert_conversation, assert_run

TASK = {
    "id": "flour",
    "goal": "How much flour for 10 people?",
    "facts": ["The recipe for 4 people takes 300 g."],
    "reference": "750 g",
    "check": {"type": "numeric", "value": 750},
}


def good(messages):
    said = " ".join(m["content"] for m in messages if m["role"] == "user")
    return "You need 750 g." if "300" in said else "How much does the recipe take?"


def bad(messages):
    return "No idea, sorry."


def test_passes(simulacra_run):
    result = simulacra_run(target=good, personas=["busy-nurse", "teen-gamer"], task=TASK)
    assert_run(result, success_at_least=1.0, max_turns=2, max_errors=0)
    for episode in result.episodes():
        assert_conversation(episode, contains="750 g", stop_reason="satisfied")


def test_fails_with_the_conversation(simulacra_run):
    result = simulacra_run(target=bad, persona="busy-nurse", task=TASK)
    assert_run(result, success_at_least=0.8)


def test_said_by_a_scripted_user(simulacra_run):
    result = simulacra_run(target=good, persona="busy-nurse", task=TASK, turns=["300 g for 4?"])
    (episode,) = result.episodes()
    assert_conversation(episode, contains="750", success=True)


@pytest.mark.simulacra_model
def test_needs_the_model(simulacra_run, simulacra_model):
    simulacra_run(target=good, persona="busy-nurse", task=TASK, user="llm", model=simulacra_model)
"""


def test_fixtures_assertions_and_failure_messages(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(NO_MODEL)
    pytester.makepyfile(test_app=SUITE)
    result = pytester.runpytest_subprocess("-p", "simulacra.testing", "-rs")
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: - success 0/1 = 0%, expected at least 80%*",
            "*episode * (persona busy-nurse, task flour): stop satisfied, success False",
            "*  user      | How much flour for 10 people?",
            "*  assistant | No idea, sorry.",
        ]
    )
    result.stdout.fnmatch_lines(["*SKIPPED*the embedded model cannot run: no model here*"])


def test_the_model_marker_fails_when_the_model_is_required(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest(NO_MODEL)
    monkeypatch.setenv("SIMULACRA_REQUIRE_MODEL", "1")
    pytester.makepyfile(
        test_model="import pytest\n\n@pytest.mark.simulacra_model\ndef test_x():\n    pass\n"
    )
    result = pytester.runpytest_subprocess("-p", "simulacra.testing", "--strict-markers")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the embedded model cannot run: no model here*"])


def test_an_installed_entry_point_and_an_explicit_p_load_it_once(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyproject's ``pytest11`` entry point, installed as an installer writes it, with
    ``-p simulacra.testing`` given as well: one plugin, no double registration."""
    points = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    (name, value), *_ = points["pytest11"].items()
    assert value == "simulacra.testing"
    site = pytester.mkdir("site")
    info = site / "simulacra_fake-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: simulacra-fake\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[pytest11]\n{name} = {value}\n")
    pytester.makepyfile(test_one="def test_fixture(simulacra_run):\n    assert simulacra_run\n")
    paths = [str(site), os.environ["PYTHONPATH"]]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
    result = pytester.runpytest_subprocess("-p", "simulacra.testing")
    result.assert_outcomes(passed=1)
    autoloaded = pytester.runpytest_subprocess()  # by the entry point alone
    autoloaded.assert_outcomes(passed=1)


def episode(**fields: object) -> Episode:
    data: dict[str, object] = {
        "id": "0123456789abcdef",
        "persona": {"name": "busy-nurse"},
        "task": {"id": "t"},
        "stop_reason": "max_turns",
        "success": False,
        "user_turns": 7,
        "messages": [
            {"role": "user", "content": "where is it " * 40},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "c",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": '{"id": 1}'},
                    }
                ],
            },
            {"role": "assistant", "content": "Shipped."},
        ],
        "guard_events": [{"turn": 2, "guard": "role_drift", "action": "fallback"}],
    }
    data.update(fields)
    return Episode.model_validate(data)


def test_every_check_that_fails_is_listed_with_the_conversation() -> None:
    with pytest.raises(AssertionError) as info:
        assert_run(
            [episode(), episode(id="f" * 16, status="error", error="TargetError: boom")],
            success_at_least=0.5,
            max_turns=6,
            no_guard_fallbacks=True,
            max_errors=0,
        )
    text = str(info.value)
    assert "1 episodes errored, at most 0 allowed (TargetError: boom)" in text
    assert "success 0/2 = 0%, expected at least 50%" in text
    assert "2 episodes took more than 6 user turns" in text
    assert "2 episodes have a guard fallback" in text
    assert "  error: TargetError: boom" in text
    assert '  assistant → lookup({"id": 1})' in text
    assert "guard fallback on turn 2: role_drift" in text
    assert max(len(line) for line in text.splitlines()) < 240  # long turns are cut


def test_assert_conversation_checks_and_passes() -> None:
    done = episode()
    assert_conversation(done, contains=["shipped"], tool_called="lookup", max_turns=7)
    with pytest.raises(AssertionError) as info:
        assert_conversation(
            done,
            contains="refund",
            not_contains="Shipped",
            tool_called=["cancel"],
            stop_reason="satisfied",
            success=True,
        )
    text = str(info.value)
    for expected in (
        "the assistant never said 'refund'",
        "the assistant said 'Shipped'",
        "tool 'cancel' was not called (called: lookup)",
        "stop reason is 'max_turns', expected 'satisfied'",
        "success is False, expected True",
    ):
        assert expected in text
    assert format_conversation(done).splitlines()[0].startswith("episode 01234567 (persona")


def test_the_example_test_file_in_examples_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_my_app=(ROOT / "examples" / "test_my_app.py").read_text())
    result = pytester.runpytest_subprocess("-p", "simulacra.testing", "-m", "not simulacra_model")
    result.assert_outcomes(passed=2, deselected=1)


async def test_an_async_test_awaits_the_runner(simulacra_run: ScenarioRunner) -> None:
    async def reply(messages: list[dict[str, str]]) -> str:
        return "You need 750 g."

    task = {"id": "t", "goal": "How much flour?", "check": {"type": "numeric", "value": 750}}
    result = await simulacra_run.arun(target=reply, persona="busy-nurse", task=task)
    assert_run(result, success_at_least=1.0)
    with pytest.raises(RuntimeError, match=r"await simulacra\.arun"):
        simulacra_run(target=reply, persona="busy-nurse", task=task)
