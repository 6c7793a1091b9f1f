"""Choosing an executor: the config's ``executor:``, the flags, and their errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import simulacra
from cli_run import python_path
from simulacra.errors import ConfigError
from simulacra.runs import choose_executor, executors, parse_config, read_episodes


def config(tmp_path: Path, **overrides: Any) -> Any:
    data: dict[str, Any] = {
        "name": "t",
        "output_dir": str(tmp_path / "runs"),
        "models": {"echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"}},
        "user": {"model": "echo"},
        "target": {"type": "callable", "callable": "targets_for_tests:calculator"},
        "personas": {"builtin": ["polite-professional"]},
        "tasks": {"suite": "everyday", "ids": ["pancakes-scale", "bill-split-tip"]},
    }
    data.update(overrides)
    return parse_config(data)


def test_the_executor_is_local_unless_chosen(tmp_path: Path) -> None:
    assert config(tmp_path).executor.name == "local"
    chosen = config(tmp_path, executor={"name": "ray", "address": "auto", "workers": 3})
    assert chosen.executor.name == "ray" and chosen.executor.options.workers == 3
    assert config(tmp_path, executor="ray").executor.options.address is None
    assert {"local", "ray"} <= set(executors.names())


@pytest.mark.parametrize(
    ("executor", "message"),
    [
        ("dask", "unknown executor 'dask'"),
        ({"name": "ray", "workerz": 2}, "unknown option of executor 'ray'"),
        ({"name": "ray", "workers": 0}, "greater than or equal to 1"),
        ({"name": "local", "address": "auto"}, "unknown option of executor 'local'"),
    ],
)
def test_a_bad_executor_names_the_field(tmp_path: Path, executor: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        config(tmp_path, executor=executor)
    assert "executor" in str(caught.value)


def test_flags_choose_the_executor_and_keep_its_options(tmp_path: Path) -> None:
    base = config(tmp_path, executor={"name": "ray", "workers": 2})
    moved = choose_executor(base, None, address="head:6379")
    assert moved.executor.options.workers == 2 and moved.executor.options.address == "head:6379"
    assert choose_executor(base, "local", address=None).executor.name == "local"
    with pytest.raises(ConfigError, match="address"):
        choose_executor(config(tmp_path), None, address="head:6379")


def test_a_run_may_be_resumed_on_another_executor(tmp_path: Path) -> None:
    """Where episodes are played does not change what they are."""
    first = simulacra.run(config(tmp_path, repeats=1))
    saved = json.loads((first.run_dir / "config.json").read_text())
    assert saved["executor"] == {"name": "local"}
    # the same run with more repeats, written by an executor given by import path
    again = simulacra.run(
        config(tmp_path, repeats=2, executor="simulacra.runs:LocalExecutor"), resume=True
    )
    assert again.skipped == 2 and again.written == 2
    assert len(read_episodes(first.run_dir)) == 4


def test_without_ray_the_ray_executor_names_the_extra(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    data = config(tmp_path).model_dump(mode="json") | {"executor": {"name": "ray"}}
    path.write_text(json.dumps(data))
    code = (
        "import sys; sys.modules['ray'] = None; sys.argv = ['simulacra', *sys.argv[1:]]; "
        "from simulacra.cli import main; main()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "run", str(path)],
        env={"PYTHONPATH": python_path(), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2, out.stderr
    assert "pip install 'simulacra[ray]'" in " ".join(out.stderr.split())
    assert not (tmp_path / "runs" / "t" / "episodes.jsonl").exists()  # nothing half-written
    judged = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "judge",
            str(tmp_path),
            "--executor",
            "ray",
        ],
        env={"PYTHONPATH": python_path(), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert judged.returncode == 2, judged.stderr
    assert "pip install 'simulacra[ray]'" in " ".join(judged.stderr.split())
