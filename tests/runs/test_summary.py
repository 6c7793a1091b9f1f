"""summary.json from hand-made episodes: the policy block of tool-environment runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cli_run import python_path
from summaries import summary_of


def episode(
    task: str, score: float, violations: list[dict[str, Any]] | None, mode: str = "full"
) -> dict[str, Any]:
    extracted: dict[str, Any] = {"hash_match": score == 1.0, "diff": []}
    if violations is not None:
        extracted["violations"] = violations
    return {
        "id": f"{task}-{mode}",
        "persona": {"name": "p"},
        "task": {"id": task, "suite": "s"},
        "mode": mode,
        "repeat": 0,
        "status": "ok",
        "stop_reason": "satisfied",
        "score": score,
        "success": score == 1.0,
        "user_turns": 1,
        "check": {"passed": score == 1.0, "extracted": extracted, "detail": ""},
    }


AUTH = {"rule": "authenticate-before-write", "message": "…"}
OWN = {"rule": "own-records-only", "message": "…"}
EPISODES = [
    episode("a", 1.0, [AUTH]),  # succeeded, but broke the policy
    episode("b", 1.0, []),
    episode("c", 0.0, [AUTH, OWN]),
    episode("d", 0.0, []),
]


def test_policy_counts_violations_and_clean_success() -> None:
    summary = summary_of(EPISODES)
    assert summary["success"]["value"] == pytest.approx(0.5)
    policy = summary["policy"]
    assert policy["episodes"] == 4 and policy["with_violations"] == 2
    assert policy["violations"] == {"authenticate-before-write": 2, "own-records-only": 1}
    clean = policy["success_without_violation"]
    assert clean["value"] == pytest.approx(0.25) and clean["n"] == 4


def test_no_policy_block_without_an_environment_check() -> None:
    plain = [episode(t, s, None) for t, s in (("a", 1.0), ("b", 0.0))]
    assert "policy" not in summary_of(plain)
    mixed = summary_of([*plain, episode("c", 1.0, [AUTH])])
    assert mixed["policy"]["episodes"] == 1
    assert mixed["policy"]["success_without_violation"]["value"] == 0.0


def show(tmp_path: Path, episodes: list[dict[str, Any]]) -> str:
    run = tmp_path / "r"
    run.mkdir(exist_ok=True)
    (run / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in episodes))
    shown = subprocess.run(
        [sys.executable, "-m", "simulacra", "show", str(run)],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": "", "PYTHONPATH": python_path()},
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


def test_show_prints_the_policy_lines(tmp_path: Path) -> None:
    shown = show(tmp_path, EPISODES)
    assert "policy violations" in shown
    assert "2 of 4 episodes, authenticate-before-write 2, own-records-only 1" in shown
    assert "success without violation" in shown and "25.0%" in shown


def test_show_explains_an_undefined_multi_turn_drop(tmp_path: Path) -> None:
    failed = [episode(t, 0.0, None, mode) for t in "ab" for mode in ("full", "sharded")]
    assert re.search(
        r"multi-turn drop\s*│ n/a \(no task succeeded in full mode\)", show(tmp_path, failed)
    )
    mixed = [*failed[1:], episode("a", 1.0, None, "full")]
    # Every resample agrees: a zero-width interval, shown as the value alone.
    assert re.search(r"multi-turn drop\s*│ 100\.0 % \(sharded vs full\)", show(tmp_path, mixed))


def test_few_tasks_are_warned_about_in_the_summary_and_show(tmp_path: Path) -> None:
    summary = summary_of(EPISODES)
    assert summary["success"]["n"] == 4
    assert any("too few tasks for a reliable interval" in w for w in summary["warnings"])
    shown = show(tmp_path, EPISODES)
    assert "too few tasks for a reliable interval" in shown
    many = [episode(f"t{i}", float(i % 2), None) for i in range(12)]
    assert "warnings" not in summary_of(many)


def test_pass_hat_k_never_rises_with_k_on_a_partial_run() -> None:
    """Mid-run, an easy unit has all its trials and a hard one only its first: pass^k
    must be computed over one set of units, or pass^2 (easy unit only) exceeds pass^1."""

    def episode(task: str, repeat: int, score: float) -> dict[str, object]:
        return {
            "id": f"{task}-{repeat}",
            "persona": {"name": "p"},
            "task": {"id": task},
            "mode": "sharded",
            "repeat": repeat,
            "status": "ok",
            "score": score,
        }

    episodes = [episode("easy", r, 1.0) for r in range(4)] + [episode("hard", 0, 0.0)]
    curve = summary_of(episodes)["pass_hat_k"]
    values = [curve[str(k)]["value"] for k in range(1, 5)]
    assert values == sorted(values, reverse=True)
    assert all(curve[str(k)]["excluded"] == 1 for k in range(1, 5))
    done = summary_of([*episodes, *(episode("hard", r, 0.0) for r in range(1, 4))])["pass_hat_k"]
    assert done["1"]["value"] == 0.5 and done["2"]["value"] == 0.5 and done["1"]["excluded"] == 0


def test_reliability_per_suite_when_a_run_has_several() -> None:
    """pass^k, aptitude and unreliability of each domain apart (retail vs airline)."""

    def episode(suite: str, task: str, repeat: int, score: float) -> dict[str, object]:
        return {
            "id": f"{suite}-{task}-{repeat}",
            "persona": {"name": "p"},
            "task": {"id": f"{suite}-{task}", "suite": suite},
            "repeat": repeat,
            "status": "ok",
            "score": score,
        }

    episodes = [
        *(episode("retail", "a", r, 1.0) for r in range(2)),
        *(episode("retail", "b", r, float(r == 0)) for r in range(2)),
        *(episode("airline", "a", r, 0.0) for r in range(2)),
        *(episode("airline", "b", r, 0.0) for r in range(2)),
    ]
    summary = summary_of(episodes)
    by_suite = summary["reliability_by_suite"]
    assert sorted(by_suite) == ["airline", "retail"]
    assert by_suite["retail"]["pass_hat_k"]["1"]["value"] == pytest.approx(0.75)
    assert by_suite["retail"]["pass_hat_k"]["2"]["value"] == pytest.approx(0.5)
    assert by_suite["airline"]["pass_hat_k"]["1"]["value"] == 0.0
    assert summary["pass_hat_k"]["1"]["value"] == pytest.approx(0.375)
    assert (
        by_suite["retail"]["unreliability"]["value"] > by_suite["airline"]["unreliability"]["value"]
    )
    assert "reliability_by_suite" not in summary_of(
        [e for e in episodes if e["task"]["suite"] == "retail"]
    )


def test_show_prints_reliability_by_suite(tmp_path: Path) -> None:
    def episode(suite: str, task: str, repeat: int, score: float) -> dict[str, object]:
        return {
            "id": f"{suite}-{task}-{repeat}",
            "persona": {"name": "p"},
            "task": {"id": f"{suite}-{task}", "suite": suite},
            "repeat": repeat,
            "score": score,
        }

    episodes = [
        *(episode("retail", t, r, float(t == "a" or r == 0)) for t in "ab" for r in range(2)),
        *(episode("airline", t, r, 0.0) for t in "ab" for r in range(2)),
    ]
    shown = show(tmp_path, episodes)
    assert "by suite" in shown
    rows = {
        line.split()[1]: line
        for line in shown.splitlines()
        if line.startswith(("│ retail", "│ airline"))
    }
    assert sorted(rows) == ["airline", "retail"]
    assert "75.0%" in rows["retail"] and "50.0%" in rows["retail"]  # pass^1, pass^2
    assert "75.0%" not in rows["airline"]
