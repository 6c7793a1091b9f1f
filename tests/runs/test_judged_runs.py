"""Runs of judged tasks: the judge's verdict and reasons in each episode, abstentions
counted apart, the judge's model from the run config, and faults kept in the episode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import simulacra
from fake_openai import FakeOpenAIServer, ServerState
from simulacra.errors import ConfigError
from simulacra.rundir import RunDir
from simulacra.runs import RunConfig, parse_config

TASKS = ["writing.overdue-invoice", "writing.decline-meeting"]


def config(tmp_path: Path, **changes: Any) -> RunConfig:
    return parse_config(config_data(tmp_path, **changes), source="judged.yaml")


def config_data(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "judged",
        "output_dir": str(tmp_path / "runs"),
        "models": {
            "echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"},
            "judge": {"backend": "scripted", "function": "judges_for_tests:fair_judge"},
        },
        "user": {"model": "echo"},
        "judge": {"model": "judge"},
        "target": {"type": "callable", "callable": "judges_for_tests:letter_writer"},
        "personas": {"builtin": ["busy-nurse"]},
        "tasks": {"suite": "writing", "ids": TASKS},
        "concurrency": 1,
    }
    data.update(changes)
    return data


def test_each_episode_holds_the_verdict_and_reasons_and_the_summary_counts_them(
    tmp_path: Path,
) -> None:
    result = simulacra.run(config(tmp_path))
    episodes = {e.task_id: e for e in RunDir(result.run_dir).episodes()}
    letter = episodes["writing.overdue-invoice"].judgement
    assert letter is not None and letter.model == "scripted:judges_for_tests:fair_judge"
    met = {c.criterion: c.met for c in letter.criteria}
    assert met["It gives the invoice number 2291 and the amount $1,840"] is True
    assert all(c.reason in ("found <b>", "missing <b>") for c in letter.criteria)
    assert letter.reasons.startswith("Checked.")
    meeting = episodes["writing.decline-meeting"]
    assert meeting.success is False and meeting.judgement is not None
    assert meeting.judgement.verdict == "fail"
    assert meeting.usage["judge"].calls == 1
    judged = result.summary.judged
    assert judged is not None and judged.episodes == 2
    assert judged.passed + judged.failed == 2 and judged.abstained == 0
    assert judged.criteria == 9
    from cli_run import simulacra_cli

    shown = simulacra_cli("show", str(result.run_dir), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    line = next(x for x in shown.stdout.splitlines() if "judged tasks" in x)
    assert f"{judged.passed} passed, {judged.failed} failed, 0 abstained of 2" in line
    assert f"{judged.criteria_met} of 9 must-haves met" in line


def test_an_abstaining_judge_is_neither_success_nor_failure(tmp_path: Path) -> None:
    models = {
        "echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"},
        "judge": {"backend": "scripted", "function": "judges_for_tests:mumbling_judge"},
    }
    result = simulacra.run(config(tmp_path, models=models))
    summary = result.summary
    assert summary.judged is not None and summary.judged.abstained == 2
    assert summary.scored == 0 and summary.success is None and summary.errors == 0
    for episode in RunDir(result.run_dir).episodes():
        assert episode.status == "ok" and episode.success is None and episode.score is None
        assert episode.check["passed"] is None


def test_the_judge_defaults_to_the_users_model(tmp_path: Path) -> None:
    models = {"echo": {"backend": "scripted", "function": "judges_for_tests:yes_or_echo"}}
    result = simulacra.run(config(tmp_path, models=models, judge=None))
    episodes = list(RunDir(result.run_dir).episodes())
    assert all(e.judgement is not None for e in episodes)
    assert {e.judgement.model for e in episodes if e.judgement} == {
        "scripted:judges_for_tests:yes_or_echo"
    }
    assert result.summary.judged is not None and result.summary.judged.passed == 2


def test_a_judge_endpoint_that_fails_leaves_the_episode_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    with FakeOpenAIServer(ServerState(record=False, failures=[(500, {}), (500, {})])) as server:
        models = {
            "echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"},
            "judge": {
                "backend": "openai",
                "base_url": server.base_url,
                "model": "j",
                "max_attempts": 1,
            },
        }
        result = simulacra.run(config(tmp_path, models=models))
    episodes = list(RunDir(result.run_dir).episodes())
    assert len(episodes) == 2
    for episode in episodes:
        assert episode.status == "ok" and episode.messages
        assert episode.judgement is not None and episode.judgement.verdict == "abstain"
        assert (episode.judgement.error or "").startswith("model error")
    assert result.summary.judged is not None and result.summary.judged.judge_errors == 2


def test_an_unknown_judge_model_is_a_config_error_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"judge\.model 'nope' is not a key of models") as bad:
        config(tmp_path, judge={"model": "nope"})
    assert "judged.yaml" in str(bad.value)
    with pytest.raises(ConfigError, match=r"judge\.orders"):
        config(tmp_path, judge={"orders": 3})
    with pytest.raises(ConfigError, match=r"judge\.template.*not a checklist one"):
        config(tmp_path, judge={"template": "rubric"})
    with pytest.raises(ConfigError, match=r"judged tasks need a judge model: 'gone'"):
        simulacra.run(config(tmp_path, judge=None, user={"simulator": "scripted", "model": "gone"}))
    assert not (tmp_path / "runs" / "judged").exists()  # nothing half-written


def test_the_summary_keeps_the_judges_position_and_length_figures(tmp_path: Path) -> None:
    from simulacra.feedback import checklist_report

    models = config_data(tmp_path)["models"]
    models["judge"] = {"backend": "scripted", "function": "judges_for_tests:first_yes_judge"}
    result = simulacra.run(config(tmp_path, models=models, judge={"model": "judge", "orders": 2}))
    run = RunDir(result.run_dir)
    records = [e.judgement.model_dump(mode="json") for e in run.episodes() if e.judgement]
    expected = checklist_report(records)
    summary = run.summary()
    assert summary is not None and summary.judged is not None
    judged = summary.judged.to_dict()
    assert judged["position"] == expected["position"] and judged["length"] == expected["length"]
    # the judge that says yes only to what it sees first: its bias is in the summary
    position = summary.judged.position
    assert position is not None and position.first_shown_met == 1.0
    assert position.last_shown_met == 0.0 and position.items_judged_in_both_orders > 0
    assert summary.judged.length is not None and summary.judged.length.decided == 2
    assert result.summary.judged == summary.judged
