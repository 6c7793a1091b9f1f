"""``simulacra report`` and ``simulacra view`` on the command line."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import Runs
from simulacra.cli import app

runner = CliRunner()


def test_commands_are_registered() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "report" in result.output and "view" in result.output


def test_report_writes_the_default_file(runs: Runs) -> None:
    path = runs.rich()
    result = runner.invoke(app, ["report", str(path)])
    assert result.exit_code == 0, result.output
    assert (path / "report.html").exists()
    assert f"wrote {path / 'report.html'}" in result.output


def test_report_to_a_chosen_file_and_a_comparison(runs: Runs, tmp_path: Path) -> None:
    first, second = runs.rich(), runs.second()
    out = tmp_path / "nested" / "a-vs-b.html"
    result = runner.invoke(app, ["report", str(first), str(second), "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert '"compare":{' in html and "rich vs second" in html
    result = runner.invoke(app, ["report", str(first), str(second)])
    assert result.exit_code == 0 and (first / "compare-second.html").exists()


@pytest.mark.parametrize("command", ["report", "view"])
def test_bad_run_directories_exit_2(command: str, tmp_path: Path, runs: Runs) -> None:
    result = runner.invoke(app, [command, str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "no such directory" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, [command, str(empty)])
    assert result.exit_code == 2
    assert "no episodes.jsonl" in result.output
    result = runner.invoke(app, [command, str(runs.minimal()), str(empty)])
    assert result.exit_code == 2


def test_report_to_an_unwritable_place_exits_2(runs: Runs, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(app, ["report", str(runs.minimal()), "-o", str(blocker / "r.html")])
    assert result.exit_code == 2
    assert "cannot write the report" in result.output


def test_view_on_a_busy_port_exits_2(runs: Runs) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["view", str(runs.minimal()), "--port", str(port)])
    assert result.exit_code == 2
    assert "cannot listen" in result.output


def test_view_stops_cleanly_on_ctrl_c(runs: Runs) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from simulacra.cli import main; main()",
            "view",
            str(runs.minimal()),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "serving http://127.0.0.1:" in line
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "stopped" in err and "Traceback" not in err
