"""summary.json from hand-made episodes: the policy block of tool-environment runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from simulacra.runs import summarize


def episode(task: str, score: float, violations: list[dict[str, Any]] | None) -> dict[str, Any]:
    extracted: dict[str, Any] = {"hash_match": score == 1.0, "diff": []}
    if violations is not None:
        extracted["violations"] = violations
    return {
        "id": task,
        "persona": {"name": "p"},
        "task": {"id": task, "suite": "s"},
        "mode": "full",
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
    summary = summarize(EPISODES)
    assert summary["success"]["value"] == pytest.approx(0.5)
    policy = summary["policy"]
    assert policy["episodes"] == 4 and policy["with_violations"] == 2
    assert policy["violations"] == {"authenticate-before-write": 2, "own-records-only": 1}
    clean = policy["success_without_violation"]
    assert clean["value"] == pytest.approx(0.25) and clean["n"] == 4


def test_no_policy_block_without_an_environment_check() -> None:
    plain = [episode(t, s, None) for t, s in (("a", 1.0), ("b", 0.0))]
    assert "policy" not in summarize(plain)
    mixed = summarize([*plain, episode("c", 1.0, [AUTH])])
    assert mixed["policy"]["episodes"] == 1
    assert mixed["policy"]["success_without_violation"]["value"] == 0.0


def test_show_prints_the_policy_lines(tmp_path: Path) -> None:
    run = tmp_path / "r"
    run.mkdir()
    (run / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in EPISODES))
    shown = subprocess.run(
        [sys.executable, "-m", "simulacra", "show", str(run)],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": ""},
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert "policy violations" in shown.stdout
    assert "2 of 4 episodes, authenticate-before-write 2, own-records-only 1" in shown.stdout
    assert "success without violation" in shown.stdout and "25.0%" in shown.stdout
