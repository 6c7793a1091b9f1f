"""``simulacra run`` as CI uses it: gates, part of a schedule, dry runs, plain progress, logs.

Real subprocesses (stderr is a pipe, not a terminal, as in a CI log) on scripted models.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from cli_run import simulacra_cli
from simulacra.errors import ConfigError
from simulacra.runs import (
    EpisodeFilter,
    RoleEstimate,
    RunConfig,
    gate_failures,
    parse_config,
    parse_fail_under,
    parse_max_errors,
)

BASE = [
    "output_dir: runs",
    "models: {echo: {backend: scripted, function: 'targets_for_tests:echo_plan'}}",
    "user: {model: echo}",
    "personas: {builtin: [busy-nurse, teen-gamer, retired-engineer]}",
    "tasks: {suite: everyday, limit: 4}",
    "max_turns: 4",
    "concurrency: 2",
]


def write(path: Path, *lines: str, name: str | None = "gates", target: str = "calculator") -> Path:
    head = [f"name: {name}"] if name else []
    body = [*BASE, f"target: {{type: callable, callable: 'targets_for_tests:{target}'}}"]
    path.write_text("\n".join([*head, *body, *lines]) + "\n")
    return path


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return simulacra_cli(*args, cwd=cwd, env=env)


def episode_count(run_dir: Path) -> int:
    return len((run_dir / "episodes.jsonl").read_text().splitlines())


# --- gates ------------------------------------------------------------------------------------


def test_fail_under_exits_1_after_the_summary_naming_the_gate(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml")
    # the calculator solves the pancake task only (for the personas who give the numbers)
    failed = cli("run", str(config), "--fail-under", "success=0.8", cwd=tmp_path)
    assert failed.returncode == 1, failed.stderr
    assert "success" in failed.stdout and "run directory:" in failed.stdout  # summary first
    summary = json.loads((tmp_path / "runs/gates/summary.json").read_text())
    value = summary["success"]["value"]
    assert summary["episodes"] == 12 and 0.1 < value < 0.8
    shown = f"{value:.1%}".replace(".0%", "%")
    gate_lines = [line for line in failed.stderr.splitlines() if "gate failed" in line]
    assert gate_lines == [f"error: gate failed: success {shown} is under 80% (--fail-under)"]
    passed = cli("run", str(config), "--overwrite", "--fail-under", "success=10%", cwd=tmp_path)
    assert passed.returncode == 0, passed.stderr
    # the config key, and pass^k (read from the summary as the gate reads it)
    keyed = write(
        tmp_path / "k.yaml", "repeats: 2", "fail_under: {pass^2: 0.9, success: 0.01}", name="k"
    )
    result = cli("run", str(keyed), cwd=tmp_path)
    assert result.returncode == 1
    pass_2 = json.loads((tmp_path / "runs/k/summary.json").read_text())["pass_hat_k"]["2"]
    shown = f"{pass_2['value']:.1%}".replace(".0%", "%")
    assert f"error: gate failed: pass^2 {shown} is under 90% (--fail-under)\n" in result.stderr
    assert "success" not in result.stderr.split("gate failed:")[1]  # that gate passed


def test_max_errors_takes_a_count_or_a_share(tmp_path: Path) -> None:
    # broken_once fails its first call in the process: one of 12 episodes errors
    config = write(tmp_path / "c.yaml", target="broken_once")
    assert cli("run", str(config), "--max-errors", "1", cwd=tmp_path).returncode == 0
    over = cli("run", str(config), "--overwrite", "--max-errors", "0", cwd=tmp_path)
    assert over.returncode == 1
    assert "1 of 12 episodes errored (TargetError 1); at most 0 may (--max-errors)" in over.stderr
    share = cli("run", str(config), "--overwrite", "--max-errors", "5%", cwd=tmp_path)
    assert share.returncode == 1 and "at most 5% may" in share.stderr
    assert (
        cli("run", str(config), "--overwrite", "--max-errors", "0.1", cwd=tmp_path).returncode == 0
    )
    bad = cli("run", str(config), "--overwrite", "--max-errors", "1.5", cwd=tmp_path)
    assert bad.returncode == 2 and "count of episodes (3) or a share" in bad.stderr


def test_gate_rules() -> None:
    summary = {
        "episodes": 10,
        "errors": 2,
        "error_kinds": {"ModelError": 2},
        "success": {"value": 0.5},
        "pass_hat_k": {"1": {"value": 0.5}, "2": {"value": 0.25}},
    }
    assert gate_failures(summary, fail_under={}, max_errors=None) == []
    assert gate_failures(summary, fail_under={}, max_errors=2) == []
    assert gate_failures(summary, fail_under={}, max_errors=0.2) == []
    assert len(gate_failures(summary, fail_under={}, max_errors=0.19)) == 1
    assert len(gate_failures(summary, fail_under={}, max_errors=1)) == 1
    found = gate_failures(summary, fail_under={"success": 0.5, "pass^2": 0.3}, max_errors=None)
    assert found == ["pass^2 25% is under 30% (--fail-under)"]
    # a measure the summary lacks misses its gate rather than passing it
    assert (
        "not in the summary"
        in gate_failures(
            {"episodes": 3, "errors": 0, "success": None},
            fail_under={"success": 0.1},
            max_errors=None,
        )[0]
    )
    assert parse_fail_under(["success=0.8", "pass^3=75%"]) == {"success": 0.8, "pass^3": 0.75}
    assert parse_max_errors("3") == 3 and parse_max_errors("0.1") == 0.1
    for bad in (["success"], ["succes=0.8"], ["success=1.2"]):
        with pytest.raises(ConfigError):
            parse_fail_under(bad)
    with pytest.raises(ConfigError, match="max_errors"):
        parse_config({"name": "x", "max_errors": 2.5})
    assert parse_config({"name": "x", "max_errors": 0.0}).max_errors == 0.0  # a share, as before


# --- part of a schedule, and a dry run ----------------------------------------------------------


def test_filter_and_limit_run_part_of_the_schedule(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml")
    result = cli("run", str(config), "--filter", "persona=*nurse", "--filter", "pan*", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "running 1 of 12 episodes" in result.stderr
    lines = (tmp_path / "runs/gates/episodes.jsonl").read_text().splitlines()
    episodes = [json.loads(x) for x in lines]
    assert [(e["persona"]["name"], e["task"]["id"]) for e in episodes] == [
        ("busy-nurse", "pancakes-scale")
    ]
    summary = json.loads((tmp_path / "runs/gates/summary.json").read_text())
    assert summary["complete"] is False and summary["scheduled"] == 12
    more = cli("run", str(config), "--resume", "--limit", "5", cwd=tmp_path)
    assert more.returncode == 0, more.stderr
    # the first five of the schedule, the nurse's pancakes (done) among them
    assert "running 4 of 12 episodes" in more.stderr and "1 already done" in more.stderr
    assert episode_count(tmp_path / "runs/gates") == 5  # the first five of the schedule
    none = cli("run", str(config), "--resume", "--filter", "task=nothing-*", cwd=tmp_path)
    assert none.returncode == 2 and "matches none of the 12 scheduled episodes" in none.stderr
    assert EpisodeFilter.parse(["task=a*", "b"]).keeps("abc", "b")
    assert not EpisodeFilter.parse(["task=a*", "b"]).keeps("abc", "c")
    with pytest.raises(ConfigError, match="task=PATTERN"):
        EpisodeFilter.parse(["mode=full"])


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path: Path) -> None:
    priced = (
        "models: {echo: {backend: scripted, function: 'targets_for_tests:echo_plan', "
        "price: {input: 2.0, output: 8.0}}}"
    )
    config = write(tmp_path / "c.yaml", "repeats: 3", "modes: [full, sharded]", name=None)
    text = config.read_text().replace(BASE[1], priced)
    config.write_text(
        text.replace("target: {type: callable", "target: {type: model, model: echo} #")
    )
    result = cli("run", str(config), "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "would run 72 episodes (3 personas × 4 tasks × 3 repeats × 2 modes" in result.stdout
    assert not (tmp_path / "runs").exists()
    plan = json.loads(cli("run", str(config), "--dry-run", "--json", cwd=tmp_path).stdout)
    assert plan["episodes"] == 72 and plan["scheduled"] == 72
    roles = {r["role"]: r for r in plan["roles"]}
    # every episode runs to 4 turns: a user call with 2 regenerations, and a reply, a turn
    assert roles["user"]["at_most"]["calls"] == 72 * 4 * 3
    assert roles["target"]["at_most"]["calls"] == 72 * 4
    for role in roles.values():
        at_most = role["at_most"]
        expected = (at_most["prompt_tokens"] * 2.0 + at_most["completion_tokens"] * 8.0) / 1e6
        assert at_most["cost"] == pytest.approx(expected) and at_most["cost"] > 0
    assert "USD" in result.stdout
    alone = cli("run", str(config), "--json", cwd=tmp_path)
    assert alone.returncode == 2 and "--json prints the plan of a --dry-run" in alone.stderr
    assert not (tmp_path / "runs").exists()
    # a run without a name gets a timestamped one, from the file's name
    assert re.search(r"runs/c-\d{8}-\d{6}", plan["run_dir"])


def test_dry_run_measures_on_earlier_episodes(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml", "target: {type: model, model: echo}")
    config.write_text(config.read_text().replace("target: {type: callable", "#"))
    assert cli("run", str(config), "--limit", "3", cwd=tmp_path).returncode == 0
    before = (tmp_path / "runs/gates/episodes.jsonl").read_bytes()
    plan = json.loads(
        cli("run", str(config), "--dry-run", "--json", "--resume", cwd=tmp_path).stdout
    )
    assert plan["episodes"] == 9 and plan["already_done"] == 3 and plan["measured_on"] == 3
    episodes = [json.loads(x) for x in before.decode().splitlines()]
    user_calls = sum(e["usage"]["user"]["calls"] for e in episodes)
    roles = {r["role"]: r for r in plan["roles"]}
    assert roles["user"]["measured"]["calls"] == round(user_calls * 9 / 3)
    assert (tmp_path / "runs/gates/episodes.jsonl").read_bytes() == before


def test_an_edited_config_under_the_same_name_says_what_to_do(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml", "seed: 1")
    assert cli("run", str(config), "--limit", "2", cwd=tmp_path).returncode == 0
    same = cli("run", str(config), cwd=tmp_path)
    assert same.returncode == 2 and "running" not in same.stderr
    assert "--resume to continue it, --overwrite to start again, or a new name" in same.stderr
    config.write_text(config.read_text().replace("seed: 1", "seed: 2"))
    edited = cli("run", str(config), cwd=tmp_path)
    assert edited.returncode == 2 and len(edited.stderr.strip().splitlines()) == 1
    assert "earlier version of this config (seed changed): --overwrite" in edited.stderr
    renamed = cli("run", str(config), "--name", "gates-2", "--limit", "1", cwd=tmp_path)
    assert renamed.returncode == 0 and (tmp_path / "runs/gates-2/episodes.jsonl").exists()


# --- progress and logs in a log file ------------------------------------------------------------


def test_progress_is_plain_lines_outside_a_terminal(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml", target="slow_echo")
    env = {"SIMULACRA_PROGRESS_INTERVAL": "0"}
    result = cli("run", str(config), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    lines = [x for x in result.stderr.splitlines() if x.startswith("run gates: ")]
    assert lines[0].startswith("run gates: 0/12 episodes (0%), ?, ETA ?, errors 0")
    assert lines[-1].startswith("run gates: 12/12 episodes (100%), ")
    assert len(lines) == 13  # the start, and one an episode at a zero interval
    assert re.search(r"\d+/12 episodes \(\d+%\), [\d.]+/(s|min), ETA \d+[sm]", lines[5])
    assert "\x1b[" not in result.stderr  # no terminal codes in a log
    sparse = cli("run", str(config), "--overwrite", cwd=tmp_path)  # 10 s apart by default
    assert len([x for x in sparse.stderr.splitlines() if x.startswith("run gates: ")]) == 2


def test_verbose_shows_the_log_records_as_they_happen(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml", target="logs_a_retry")
    quiet = cli("run", str(config), "--limit", "1", cwd=tmp_path)
    assert quiet.returncode == 0 and "retrying" not in quiet.stderr
    info = cli("run", str(config), "--overwrite", "--limit", "1", "-v", cwd=tmp_path)
    assert re.search(r"\d\d:\d\d:\d\d INFO simulacra.llm.test: retrying call 2 of 6", info.stderr)
    assert "backing off" not in info.stderr
    debug = cli(
        "--log-level", "debug", "run", str(config), "--overwrite", "--limit", "1", cwd=tmp_path
    )
    assert "DEBUG simulacra.llm.test: backing off 0.5 s" in debug.stderr
    assert (
        "DEBUG"
        in cli("run", str(config), "--overwrite", "--limit", "1", "-vv", cwd=tmp_path).stderr
    )
    bad = cli("run", str(config), "--log-level", "loud", cwd=tmp_path)
    assert bad.returncode == 2 and "loud" in bad.stderr


def test_a_logged_secret_is_scrubbed(tmp_path: Path) -> None:
    import logging

    from simulacra import _secrets
    from simulacra._cli_common import configure_logging

    _secrets.register("sk-test-0123456789abcdef")
    configure_logging("info")
    logger = logging.getLogger("simulacra")
    handler = next(h for h in logger.handlers if h.get_name() == "simulacra-cli")
    record = logging.LogRecord(
        "simulacra.llm",
        logging.INFO,
        __file__,
        1,
        "key %s refused",
        ("sk-test-0123456789abcdef",),
        None,
    )
    assert handler.filter(record) and "sk-test-0123456789abcdef" not in record.getMessage()
    logger.removeHandler(handler)


def test_in_a_terminal_the_bar_knows_the_total_from_the_start(tmp_path: Path) -> None:
    import os
    import pty
    import sys
    import time

    from cli_run import python_path

    config = write(tmp_path / "c.yaml", target="slow_echo")
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": python_path(), "COLUMNS": "160", "TERM": "xterm"}
    process = subprocess.Popen(
        [sys.executable, "-m", "simulacra", "run", str(config)],
        cwd=tmp_path, env=env, stdin=follower, stdout=follower, stderr=follower,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break  # the command ended and closed the terminal
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert process.wait(timeout=30) == 0
    text = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", seen).decode("utf-8", "replace")
    assert "0/12 episodes" in text and "12/12 episodes" in text
    assert "/?" not in text and "run gates: " not in text  # a bar, not the plain lines


def test_show_lists_ids_and_prints_one_transcript(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml")
    assert cli("run", str(config), cwd=tmp_path).returncode == 0
    listed = json.loads(cli("show", "runs/gates", "-e", "--json", cwd=tmp_path).stdout)
    assert listed["summary"]["episodes"] == 12 and len(listed["episodes"]) == 12
    first = listed["episodes"][0]
    table = cli("show", "runs/gates", "-e", cwd=tmp_path).stdout
    assert first["id"] in table  # a wide terminal shows the whole id
    transcript = cli("show", "runs/gates", first["id"][:6], cwd=tmp_path)
    assert transcript.returncode == 0, transcript.stderr
    record = json.loads(
        next(
            line
            for line in (tmp_path / "runs/gates/episodes.jsonl").read_text().splitlines()
            if first["id"] in line
        )
    )
    assert f"episode {first['id']}: {first['persona']} on {first['task']}" in transcript.stdout
    for message in record["messages"]:
        assert message["content"].splitlines()[0] in transcript.stdout
    as_json = json.loads(cli("show", "runs/gates", first["id"], "--json", cwd=tmp_path).stdout)
    assert as_json["id"] == first["id"] and as_json["messages"] == record["messages"]
    missing = cli("show", "runs/gates", "nothing-like-it", cwd=tmp_path)
    assert missing.returncode == 2 and "no episode 'nothing-like-it'" in missing.stderr


def test_a_best_of_n_estimate_counts_the_candidates_and_the_choosers_calls(
    tmp_path: Path,
) -> None:
    from simulacra.runs import plan, run, schedule

    def config(target: dict[str, object]) -> RunConfig:
        return parse_config(
            {
                "name": "bon",
                "output_dir": str(tmp_path / "runs"),
                "models": {
                    "bot": {"backend": "scripted", "replies": ["750 g.", "You need 750 g."]},
                    "judge": {"backend": "scripted", "replies": ["Verdict: B"]},
                },
                "user": {"simulator": "scripted", "options": {"turns": ["Flour for 10?"]}},
                "target": {"max_tokens": 100, **target},
                "personas": {"builtin": ["busy-nurse", "teen-gamer"]},
                "tasks": {"suite": "everyday", "ids": ["pancakes-scale"]},
                "modes": ["sharded"],
                "max_turns": 2,
            }
        )

    def planned(target: dict[str, object]) -> dict[str, RoleEstimate]:
        chosen = config(target)
        personas, tasks = chosen.validate_references()
        slots = list(schedule(chosen, personas, tasks))
        found = plan(chosen, slots, scheduled=len(slots), personas=2, tasks=1)
        return {r.role: r for r in found.roles}

    best_of = {"type": "best_of_n", "model": "bot", "n": 3}
    single = planned({"type": "model", "model": "bot"})["target"]
    best = planned({**best_of, "chooser": {"model": "judge", "template": "brief"}})
    replies = 2 * 2  # two episodes of two turns at most
    assert single.calls == replies
    # three candidates a reply, each as dear as the one reply of n = 1
    assert best["target"].model == "bot"
    assert best["target"].calls == 3 * single.calls
    assert best["target"].prompt_tokens == 3 * single.prompt_tokens
    assert best["target"].completion_tokens == 3 * single.completion_tokens == 3 * replies * 100
    # and the chooser: n - 1 = 2 comparisons a reply, both orders, each tried twice at most
    chooser = best["chooser"]
    assert chooser.model == "judge"
    assert chooser.calls == replies * 2 * 2 * 2
    assert chooser.completion_tokens == chooser.calls * 256  # the rater's max_tokens
    # each reads the conversation and two candidates beside its instructions
    assert chooser.prompt_tokens > chooser.calls * (2 * 100 + single.prompt_tokens // replies)
    one_way = planned({**best_of, "chooser": {"model": "judge"}, "both_orders": False})
    assert one_way["chooser"].calls == chooser.calls // 2
    ruled = planned({**best_of, "chooser": {"fixed": "longer"}})
    assert set(ruled) == {"target"}  # a rule calls no model
    # what a run spends stays within it: one comparison call per order, no retries here
    done = run(config({**best_of, "chooser": {"model": "judge", "template": "brief"}}))
    spent = sum(e.usage["chooser"].calls for e in done.episodes())
    turns = sum(e.user_turns for e in done.episodes())
    assert spent == turns * 2 * 2 <= chooser.calls
