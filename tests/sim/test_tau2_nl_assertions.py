"""τ² NL assertions judged in a run: met, not met, an abstention, a judge that fails.

The task is a train task with NL assertions added (``tests/fixtures/tau2/tasks_nl.json``),
played by the scripted telecom agent and user; the judge is a scripted model.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

import simulacra
from simulacra.errors import ConfigWarning
from simulacra.rundir import Episode
from simulacra.runs import parse_config, read_episodes
from targets_for_tests import TELECOM_DATA

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tau2" / "tasks_nl.json"
TASK = "service_issue.airplane_mode_on.unseat_sim_card.PERSONA:None.NL"
ASSERTIONS = [
    "The agent asks the user to turn airplane mode off.",
    "The agent asks the user to reseat the SIM card.",
]

pytestmark = pytest.mark.skipif(not TELECOM_DATA.is_dir(), reason="telecom train data not found")


def data_dir(tmp_path: Path) -> Path:
    """The train data's databases and policies with the fixture as the task file."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("db.toml", "user_db.toml", "main_policy.md", "tech_support_manual.md"):
        (folder / name).symlink_to(TELECOM_DATA / name)
    (folder / "tasks_nl.json").symlink_to(FIXTURE)
    return folder


def config(tmp_path: Path, judge: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "nl",
        "seed": 3,
        "models": {
            "user": {"backend": "scripted", "function": "targets_for_tests:echo_plan"},
            "agent": {"backend": "scripted", "function": "targets_for_tests:telecom_agent"},
        },
        "user": {"model": "user"},
        "target": {"model": "agent", "system_prompt": "You are a telecom agent."},
        "personas": {"builtin": ["polite-professional"]},
        "tasks": {
            "suite": [
                {
                    "name": "tau2-telecom",
                    "data_dir": str(data_dir(tmp_path)),
                    "tasks_file": "tasks_nl.json",
                }
            ]
        },
        "max_turns": 8,
        "repeats": 1,
        "output_dir": str(tmp_path / "runs"),
    }
    if judge is not None:
        data["models"]["judge"] = {"backend": "scripted", "function": f"judges_for_tests:{judge}"}
        data["judge"] = {"model": "judge"}
    return data


async def play(tmp_path: Path, judge: str | None) -> tuple[Episode, dict[str, Any]]:
    result = await simulacra.arun(parse_config(config(tmp_path, judge)))
    (record,) = read_episodes(result.run_dir)
    summary = json.loads((result.run_dir / "summary.json").read_text(encoding="utf-8"))
    return Episode.from_dict(record), summary


def nl_of(episode: Episode) -> dict[str, Any]:
    criteria: dict[str, Any] = episode.check["extracted"]["criteria"]
    assert criteria["reward_basis"] == ["ENV_ASSERTION", "NL_ASSERTION"]
    assert criteria["ENV_ASSERTION"]["passed"]  # the scripted agent fixes the phone
    nl: dict[str, Any] = criteria["NL_ASSERTION"]
    assert [a["assertion"] for a in nl["assertions"]] == ASSERTIONS
    return nl


async def test_every_assertion_met_is_a_success_with_reasons_and_replies(tmp_path: Path) -> None:
    episode, summary = await play(tmp_path, "yes_judge")
    assert episode.status == "ok", episode.error
    nl = nl_of(episode)
    assert nl["passed"] is True and nl["judged"] is True and nl["judge"] == "judge"
    for item in nl["assertions"]:
        assert item["outcome"] == "met" and item["met"] is True
        assert item["reason"] == "looks right" and "1: yes - looks right" in item["reply"]
    assert episode.success is True and episode.score == 1.0
    assert episode.check["judgement"]["verdict"] == "pass"
    assert episode.usage["judge"].calls == 1
    assert summary["judged"]["passed"] == 1 and summary["success"]["value"] == 1.0


async def test_one_assertion_not_met_fails_the_episode(tmp_path: Path) -> None:
    episode, summary = await play(tmp_path, "sim_doubter")
    nl = nl_of(episode)
    outcomes = {a["assertion"]: (a["outcome"], a["reason"]) for a in nl["assertions"]}
    assert outcomes == {
        ASSERTIONS[0]: ("met", "it asked"),
        ASSERTIONS[1]: ("not met", "the agent never asked for it"),
    }
    assert nl["passed"] is False and episode.success is False and episode.score == 0.0
    assert episode.check["detail"] == "failed: NL_ASSERTION"
    assert summary["judged"]["failed"] == 1 and summary["success"]["value"] == 0.0


async def test_an_unparseable_reply_is_an_abstention_neither_success_nor_failure(
    tmp_path: Path,
) -> None:
    episode, summary = await play(tmp_path, "mumbling_judge")
    assert episode.status == "ok", episode.error
    nl = nl_of(episode)
    assert nl["passed"] is None and nl["error"] == "no answer for some items in the reply"
    assert [a["outcome"] for a in nl["assertions"]] == ["abstained", "abstained"]
    assert nl["assertions"][0]["reason"] == "no answer for some items in the reply"
    assert episode.success is None and episode.score is None
    assert episode.check["passed"] is None and episode.check["detail"] == "abstained: NL_ASSERTION"
    assert summary["judged"]["abstained"] == 1 and summary["judged"]["judge_errors"] == 1
    assert summary["scored"] == 0 and summary["success"] is None  # left out, as judged tasks


@pytest.mark.parametrize(
    ("judge", "error"),
    [
        ("unavailable_judge", "model error: HTTP 503: judge overloaded"),
        ("broken_judge", "judge failed: RuntimeError: the judge's backend broke <b>"),
    ],
)
async def test_a_judge_that_fails_abstains_inside_the_episode(
    tmp_path: Path, judge: str, error: str
) -> None:
    episode, summary = await play(tmp_path, judge)
    assert episode.status == "ok" and episode.error is None  # the conversation is kept
    nl = nl_of(episode)
    assert nl["passed"] is None and nl["error"] == error
    assert all(a["outcome"] == "abstained" and a["reason"] == error for a in nl["assertions"])
    assert episode.success is None and episode.check["judgement"]["error"] == error
    assert summary["judged"]["judge_errors"] == 1 and summary["errors"] == 0


async def test_without_a_judge_they_are_not_judged_and_loading_warns(tmp_path: Path) -> None:
    with pytest.warns(ConfigWarning, match=f"no judge: section.*{TASK}"):
        episode, summary = await play(tmp_path, None)
    nl = nl_of(episode)
    assert nl["judged"] is False and nl["passed"] is False
    assert "no judge was configured" in nl["reason"]
    assert [a["outcome"] for a in nl["assertions"]] == ["not judged", "not judged"]
    assert episode.success is False and "judgement" not in episode.check
    assert "judge" not in episode.usage and "judged" not in summary


def test_a_config_with_a_judge_loads_without_a_warning(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (task,) = parse_config(config(tmp_path, "yes_judge")).resolve_tasks()
    assert task.id == TASK
