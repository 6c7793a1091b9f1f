"""The command line as a user runs it: real subprocesses, exit codes, SIGKILL and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_run import python_path, simulacra_cli

TESTS = Path(__file__).resolve().parent.parent


def cli(
    *args: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return simulacra_cli(*args, cwd=cwd, env=env, timeout=timeout)


def write_config(path: Path, **extra: str) -> Path:
    lines = [
        "name: crash",
        "output_dir: runs",
        "models: {echo: {backend: scripted, function: 'targets_for_tests:echo_plan'}}",
        "user: {model: echo}",
        "target: {type: callable, callable: 'targets_for_tests:slow_echo'}",
        "personas: {builtin: all}",
        "tasks: {suite: everyday, limit: 4}",
        "max_turns: 3",
        "concurrency: 4",
        *(f"{k}: {v}" for k, v in extra.items()),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_bad_config_exits_2_naming_field_and_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("name: x\nrepeats: 0\n")
    result = cli("run", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "c.yaml: repeats:" in result.stderr and "greater than or equal to 1" in result.stderr
    assert not (tmp_path / "runs").exists()
    missing = cli("run", str(tmp_path / "nope.yaml"), cwd=tmp_path)
    assert missing.returncode == 2 and "config file not found" in missing.stderr


def test_run_show_and_listing_commands(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.yaml", repeats="1")
    result = cli("run", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "episodes" in result.stdout and "56 (0 errors)" in result.stdout
    shown = cli("show", "runs/crash", cwd=tmp_path)
    assert shown.returncode == 0 and "mean user turns" in shown.stdout
    assert cli("show", "nowhere", cwd=tmp_path).returncode == 2
    personas = cli("personas", cwd=tmp_path)
    assert personas.returncode == 0 and "busy-nurse" in personas.stdout
    tasks = cli("tasks", cwd=tmp_path)
    assert tasks.returncode == 0 and "pancakes-scale" in tasks.stdout
    again = cli("run", str(config), cwd=tmp_path)
    assert again.returncode == 2 and "--resume" in again.stderr


def test_sigkill_mid_run_then_resume_keeps_every_episode_once(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.yaml", repeats="3")  # 14 personas x 4 tasks x 3 = 168
    episodes = tmp_path / "runs" / "crash" / "episodes.jsonl"
    env = {**os.environ, "PYTHONPATH": python_path(), "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-m", "simulacra", "run", str(config)],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline:
        if episodes.exists() and episodes.read_bytes().count(b"\n") >= 20:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = episodes.read_bytes().count(b"\n")
    assert 20 <= before < 168, "the kill should land mid-run"
    resumed = cli("run", str(config), "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    ids = [json.loads(line)["id"] for line in episodes.read_bytes().splitlines()]
    assert len(ids) == 168 == len(set(ids))
    summary = json.loads((tmp_path / "runs" / "crash" / "summary.json").read_text())
    assert summary["episodes"] == 168 and summary["complete"]
    assert sum(summary["stop_reasons"].values()) == 168


def test_ctrl_c_stops_cleanly_and_keeps_finished_episodes(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.yaml", repeats="3")
    episodes = tmp_path / "runs" / "crash" / "episodes.jsonl"
    env = {**os.environ, "PYTHONPATH": python_path(), "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-m", "simulacra", "run", str(config)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline and not (
        episodes.exists() and episodes.read_bytes().count(b"\n") >= 10
    ):
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted" in stderr and "--resume" in stderr
    data = episodes.read_bytes()
    assert data.endswith(b"\n")
    kept = [json.loads(line) for line in data.splitlines()]
    summary = json.loads((tmp_path / "runs" / "crash" / "summary.json").read_text())
    assert summary["episodes"] == len(kept) and not summary["complete"]


@pytest.mark.parametrize("flag", ["--no-cache", "--concurrency=2"])
def test_run_flags_are_accepted(tmp_path: Path, flag: str) -> None:
    config = write_config(tmp_path / "c.yaml", repeats="1", name="flags")
    result = cli("run", str(config), flag, "--overwrite", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_mode_and_repeats_options_override_the_config(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.yaml", repeats="1", name="over")
    result = cli("run", str(config), "--mode", "full", "--mode", "sharded", "-n", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    episodes = [
        json.loads(x) for x in (tmp_path / "runs/over/episodes.jsonl").read_text().splitlines()
    ]
    assert len(episodes) == 14 * 4 * 2 * 2
    assert {e["mode"] for e in episodes} == {"full", "sharded"}
    assert {e["repeat"] for e in episodes} == {0, 1}
    summary = json.loads((tmp_path / "runs/over/summary.json").read_text())
    assert set(summary["by_mode"]) == {"full", "sharded"}
    from_env = {"SIMULACRA_MODE": "concat full", "SIMULACRA_REPEATS": "1"}
    again = cli("run", str(config), "--overwrite", cwd=tmp_path, env=from_env)
    assert again.returncode == 0, again.stderr
    lines = (tmp_path / "runs/over/episodes.jsonl").read_text().splitlines()
    assert len(lines) == 14 * 4 * 2
    assert {json.loads(x)["mode"] for x in lines} == {"concat", "full"}
    bad = cli("run", str(config), "--mode", "halfway", "--overwrite", cwd=tmp_path)
    assert bad.returncode == 2 and "--mode: Input should be" in bad.stderr
    assert (tmp_path / "runs/over/episodes.jsonl").read_text().splitlines() == lines
