"""Every ``--help`` of the command line: flags show no value type, summaries are whole
sentences, and the small commands (``--version``, ``--json``, ``--wide``) do what they say."""

from __future__ import annotations

import json
import re

import pytest
from typer.main import get_command
from typer.testing import CliRunner

import simulacra
from simulacra.cli import app

runner = CliRunner()
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def invoke(*args: str, columns: int = 100) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": str(columns), "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_is_listed() -> None:
    assert {"run", "show", "personas", "tasks", "report", "fidelity", "calibrate"} <= set(COMMANDS)


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_shows_no_value_type_on_flags(command: str) -> None:
    text = invoke(*([command] if command else []), "--help")
    assert "<bool>" not in text and "[[" not in text
    for line in text.splitlines():
        # an option with no help text at all leaves the reader guessing
        match = re.match(r"^│\s+(?:\*\s+)?(--[a-z-]+)[^│]*?<\w+[^>]*>\s*(?:\[[^\]]*\]\s*)*│$", line)
        assert match is None, f"{command} {line.strip()}"


def test_command_summaries_are_whole_sentences() -> None:
    group = get_command(app)
    for name in COMMANDS:
        command = group.commands[name]  # type: ignore[attr-defined]
        summary = (command.help or "").strip().split("\n\n")[0]
        assert "\n" not in summary, f"{name}: the summary breaks across lines: {summary!r}"
        assert summary.endswith("."), f"{name}: {summary!r}"
    # and at 80 columns every summary is shown whole, wrapped but never cut
    text = invoke("--help", columns=80)
    rows = re.findall(r"^│ ([a-z-]+)?\s+(.*?)\s*│$", text.split("Commands")[1], re.M)
    joined: dict[str, str] = {}
    current = ""
    for name, words in rows:
        current = name or current
        joined[current] = (joined.get(current, "") + " " + words).strip()
    for name in COMMANDS:
        assert joined[name].endswith("."), f"{name}: {joined[name]!r}"


def test_version() -> None:
    assert invoke("--version").strip() == f"simulacra {simulacra.__version__}"


def test_personas_and_tasks_as_json_and_compact() -> None:
    personas = json.loads(invoke("personas", "--json"))
    assert len(personas) == 14 and {"name", "background", "patience"} <= set(personas[0])
    compact = invoke("personas", columns=80)
    assert max(len(line) for line in compact.splitlines()) <= 80
    assert "busy-nurse" in compact and "small-business-owner" in compact  # names whole
    assert personas[0]["background"][:30] not in compact
    wide = invoke("personas", "--wide", columns=200)
    assert personas[0]["background"][:30] in wide and "typos" in wide
    tasks = json.loads(invoke("tasks", "--json"))
    assert any(t["id"] == "pancakes-scale" for t in tasks) and "facts" in tasks[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_paragraphs_are_rewrapped_not_cut(command: str) -> None:
    """A docstring's line breaks must not survive into the help: at 80 columns each line
    of a paragraph but its last fills the width (no orphan word after a break)."""
    text = invoke(command, "--help", columns=80)
    description = text.split("Usage:")[1].split("╭")[0].splitlines()[1:]
    paragraphs: list[list[str]] = [[]]
    for line in description:
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    for paragraph in paragraphs:
        for line in paragraph[:-1]:
            assert len(line) > 55, f"{command}: a line breaks early: {line!r} in {paragraph}"
