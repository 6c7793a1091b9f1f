"""Faults stay inside the episode: odd replies from a real server, targets and simulators
that raise, refused credentials, error gates, and the run directory's lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import simulacra
from cli_run import python_path, simulacra_cli
from fake_openai import FakeOpenAIServer, ServerState
from simulacra.errors import ModelError, RunError
from simulacra.llm import ModelConfig, ModelPool
from simulacra.rundir import RunDir
from simulacra.runs import RunConfig, arun

TESTS = Path(__file__).resolve().parent.parent

# valid JSON, but not a chat completion a client can use; each is the reason recorded
BAD_BODIES = {
    "content is a number": b'{"choices":[{"message":{"content":123}}]}',
    "content is a list of numbers": b'{"choices":[{"message":{"content":[1,2]}}]}',
    "content is an object": b'{"choices":[{"message":{"content":{"a":1}}}]}',
    "message is a string": b'{"choices":[{"message":"str"}]}',
    "tool_calls is a string": b'{"choices":[{"message":{"content":"x","tool_calls":"zz"}}]}',
    "usage is a string": b'{"choices":[{"message":{"content":"x"}}],"usage":"zz"}',
    "usage is infinite": b'{"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":Infinity}}',
    "usage is negative": b'{"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":-1000000}}',
    "choices is empty": b'{"choices":[]}',
    "body is a list": b"[1, 2]",
    "not JSON": b"<html>bad gateway</html>",
}
REASONS = {
    "content is a number": "choices[0].message.content is an integer",
    "content is a list of numbers": "choices[0].message.content[0] is an integer",
    "content is an object": "choices[0].message.content is an object",
    "message is a string": "choices[0].message is a string",
    "tool_calls is a string": "choices[0].message.tool_calls is a string",
    "usage is a string": "usage is a string",
    "usage is infinite": "usage.prompt_tokens is inf",
    "usage is negative": "usage.prompt_tokens is -1000000",
    "choices is empty": "choices is empty",
    "body is a list": "the body is a list",
    "not JSON": "not JSON",
}


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(ServerState(record=False)) as running:
        yield running


def endpoint_config(tmp_path: Path, server: FakeOpenAIServer, **extra: object) -> RunConfig:
    """Two personas x two tasks against an assistant on the server (one attempt per call)."""
    return RunConfig.model_validate(
        {
            "name": "faults",
            "output_dir": str(tmp_path / "runs"),
            "models": {
                "echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"},
                "remote": {
                    "backend": "openai",
                    "base_url": server.base_url,
                    "model": "m",
                    "max_attempts": 1,
                },
            },
            "user": {"model": "echo"},
            "target": {"type": "model", "model": "remote"},
            "personas": {"builtin": ["busy-nurse", "teen-gamer"]},
            "tasks": {"suite": "everyday", "limit": 2},
            "max_turns": 2,
            "concurrency": 2,
            **extra,
        }
    )


def lines(run_dir: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in (run_dir / "episodes.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
async def test_a_malformed_reply_is_the_episodes_error_and_the_run_goes_on(
    tmp_path: Path, server: FakeOpenAIServer, case: str
) -> None:
    server.state.raw_replies = [BAD_BODIES[case]]  # the first call only; later ones are fine
    result = await arun(endpoint_config(tmp_path, server), use_cache=False)
    episodes = lines(result.run_dir)
    assert len(episodes) == 4 and result.summary.complete is True
    errored = [e for e in episodes if e["status"] == "error"]
    assert len(errored) == 1
    assert "ModelError" in str(errored[0]["error"]) and REASONS[case] in str(errored[0]["error"])
    assert all(e["stop_reason"] != "error" for e in episodes if e["status"] == "ok")
    assert result.summary.errors == 1 and result.gate is None
    for usage in result.summary.to_dict()["usage"].values():
        assert usage["prompt_tokens"] >= 0 and usage["completion_tokens"] >= 0


async def test_a_lone_surrogate_is_written_with_replacement(
    tmp_path: Path, server: FakeOpenAIServer
) -> None:
    server.state.raw_replies = [b'{"choices":[{"message":{"content":"x \\ud800 y"}}]}']
    result = await arun(endpoint_config(tmp_path, server), use_cache=False)
    episodes = lines(result.run_dir)
    assert len(episodes) == 4 and all(e["status"] == "ok" for e in episodes)
    said = [m["content"] for e in episodes for m in e["messages"] if m["role"] == "assistant"]
    assert "x ? y" in said


async def test_content_as_text_parts_is_read(tmp_path: Path, server: FakeOpenAIServer) -> None:
    server.state.raw_replies = [
        b'{"choices":[{"message":{"content":[{"type":"text","text":"ab"},{"text":"cd"}]}}]}'
    ]
    result = await arun(endpoint_config(tmp_path, server), use_cache=False)
    said = [
        m["content"]
        for e in lines(result.run_dir)
        for m in e["messages"]
        if m["role"] == "assistant"
    ]
    assert "abcd" in said


async def test_every_episode_failing_fails_the_run(
    tmp_path: Path, server: FakeOpenAIServer
) -> None:
    server.state.raw_replies, server.state.raw_always = [BAD_BODIES["message is a string"]], True
    result = await arun(endpoint_config(tmp_path, server), use_cache=False)
    assert result.summary.errors == 4 == len(lines(result.run_dir))
    assert result.gate is not None and "4 of 4 episodes errored" in result.gate
    # a threshold: one failure in four passes at 25%, fails at 20%
    server.state.raw_replies, server.state.raw_always = [BAD_BODIES["usage is a string"]], False
    config = endpoint_config(tmp_path, server, name="gated", max_errors=0.25)
    assert (await arun(config, use_cache=False)).gate is None
    server.state.raw_replies = [BAD_BODIES["usage is a string"]]
    gated = await arun(config, use_cache=False, overwrite=True, max_errors=0.2)
    assert gated.gate is not None and "1 of 4 episodes errored" in gated.gate


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return simulacra_cli(*args, cwd=cwd, env=env)


def yaml_config(path: Path, server: FakeOpenAIServer, *more: str) -> Path:
    path.write_text(
        "\n".join(
            [
                "name: faults",
                "models:",
                "  echo: {backend: scripted, function: 'targets_for_tests:echo_plan'}",
                f"  remote: {{backend: openai, base_url: '{server.base_url}', model: m,"
                " max_attempts: 1, api_key_env: FAULT_KEY}",
                "user: {model: echo}",
                "target: {type: model, model: remote}",
                "personas: {builtin: [busy-nurse, teen-gamer]}",
                "tasks: {suite: everyday, limit: 2}",
                "max_turns: 2",
                "cache: false",
                *more,
            ]
        )
        + "\n"
    )
    return path


@pytest.mark.slow
def test_cli_exit_codes_for_a_failing_endpoint(tmp_path: Path, server: FakeOpenAIServer) -> None:
    config = yaml_config(tmp_path / "c.yaml", server)
    env = {"FAULT_KEY": "k-123"}
    server.state.raw_replies, server.state.raw_always = [BAD_BODIES["content is a number"]], True
    failed = cli("run", str(config), cwd=tmp_path, env=env)
    assert failed.returncode == 1, failed.stderr
    assert "4 of 4 episodes errored" in failed.stderr and "Traceback" not in failed.stderr
    assert len((tmp_path / "runs/faults/episodes.jsonl").read_text().splitlines()) == 4
    summary = json.loads((tmp_path / "runs/faults/summary.json").read_text())
    assert summary["errors"] == 4 and summary["complete"] is True
    # refused credentials stop the run at once, with a message that says so
    server.state.raw_replies, server.state.raw_always = [], False
    server.state.failures = [(401, {})] * 50
    refused = cli("run", str(config), "--overwrite", cwd=tmp_path, env=env)
    assert refused.returncode == 1 and "HTTP 401" in refused.stderr
    assert "refused the credentials" in refused.stderr and "Traceback" not in refused.stderr
    assert len(server.state.failures) >= 45  # it stopped after the first few calls
    assert "k-123" not in refused.stderr


async def test_a_target_or_simulator_raising_anything_is_recorded(tmp_path: Path) -> None:
    config = RunConfig.model_validate(
        {
            "name": "raising",
            "output_dir": str(tmp_path / "runs"),
            "models": {"echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"}},
            "user": {"model": "echo"},
            "target": {"type": "callable", "callable": "targets_for_tests:raises_key_error"},
            "personas": {"builtin": ["busy-nurse"]},
            "tasks": {"suite": "everyday", "limit": 3},
        }
    )
    result = await arun(config)
    episodes = lines(result.run_dir)
    assert len(episodes) == 3 and all(e["status"] == "error" for e in episodes)
    assert all("KeyError" in str(e["error"]) for e in episodes)
    assert result.gate is not None
    # a simulator with a bug: a plain Python error from inside the user is recorded too
    buggy = config.with_overrides(
        name="buggy-user",
        target={"type": "callable", "callable": "targets_for_tests:slow_echo"},
        user={"simulator": "targets_for_tests:buggy_user", "model": "echo"},
    )
    result = await arun(buggy)
    episodes = lines(result.run_dir)
    assert len(episodes) == 3
    assert all("ZeroDivisionError" in str(e["error"]) for e in episodes)


async def test_summary_keys_episodes_by_id(tmp_path: Path) -> None:
    config = RunConfig.model_validate(
        {
            "name": "dup",
            "output_dir": str(tmp_path / "runs"),
            "models": {"echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"}},
            "user": {"model": "echo"},
            "target": {"type": "callable", "callable": "targets_for_tests:slow_echo"},
            "personas": {"builtin": ["busy-nurse"]},
            "tasks": {"suite": "everyday", "limit": 2},
        }
    )
    result = await arun(config)
    path = result.run_dir / "episodes.jsonl"
    path.write_text(path.read_text() * 3)  # as if a second writer had appended it all again
    again = await arun(config, resume=True)
    assert again.summary.episodes == 2 and again.summary.complete is True
    assert simulacra.runs.summarize(RunDir(result.run_dir).episodes()).episodes == 2


def test_a_second_process_on_the_same_run_directory_is_refused(tmp_path: Path) -> None:
    from simulacra._records import RunLock

    run_dir = tmp_path / "runs" / "busy"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from simulacra._records import RunLock;"
            f" lock = RunLock(Path({str(run_dir)!r}), purpose='test holder').acquire();"
            " print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RunError, match=rf"in use by another process \(pid {holder.pid} "):
            RunLock(run_dir, purpose="second").acquire()
        config = tmp_path / "c.yaml"
        config.write_text(
            "name: busy\nmodels: {echo: {backend: scripted, function: 'targets_for_tests:echo_plan'}}\n"
            "user: {model: echo}\ntarget: {type: callable, callable: 'targets_for_tests:slow_echo'}\n"
            "personas: {builtin: [busy-nurse]}\ntasks: {suite: everyday, limit: 1}\n"
        )
        second = cli("run", str(config), cwd=tmp_path)
        assert second.returncode == 2 and f"pid {holder.pid}" in second.stderr
        assert not (run_dir / "episodes.jsonl").exists()
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    # the holder was killed: its lock is stale and is taken over
    with RunLock(run_dir, purpose="after"):
        assert "after" in (run_dir / ".lock").read_text()
    assert not (run_dir / ".lock").exists()


def test_two_runs_at_once_write_each_episode_once(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "name: race\nmodels: {echo: {backend: scripted, function: 'targets_for_tests:echo_plan'}}\n"
        "user: {model: echo}\ntarget: {type: callable, callable: 'targets_for_tests:slow_echo'}\n"
        "personas: {builtin: all}\ntasks: {suite: everyday, limit: 3}\nmax_turns: 2\n"
    )
    env = {**os.environ, "PYTHONPATH": python_path()}
    command = [sys.executable, "-m", "simulacra", "run", str(config)]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    first = subprocess.Popen(command, cwd=tmp_path, env=env, **quiet)  # type: ignore[call-overload]
    second = subprocess.Popen(command, cwd=tmp_path, env=env, **quiet)  # type: ignore[call-overload]
    codes = sorted([first.wait(timeout=120), second.wait(timeout=120)])
    episodes = lines(tmp_path / "runs" / "race")
    ids = [e["id"] for e in episodes]
    assert len(ids) == len(set(ids)) == 42
    # one ran everything; the other was refused (lock) or found the run done (--resume needed)
    assert codes == [0, 2]
    summary = json.loads((tmp_path / "runs/race/summary.json").read_text())
    assert summary["episodes"] == 42 and summary["scheduled"] == 42


async def test_model_pool_rejects_what_cannot_be_built_before_writing(tmp_path: Path) -> None:
    pool = ModelPool(use_cache=False)
    with pytest.raises(simulacra.errors.ConfigError, match="FAULT_UNSET"):
        pool.build(
            ModelConfig(backend="openai", base_url="http://127.0.0.1:9", model="m",
                        api_key_env="FAULT_UNSET")
        )  # fmt: skip
    await pool.aclose()


def test_a_fatal_model_error_is_only_refused_credentials() -> None:
    assert ModelError("x", status=401).fatal and ModelError("x", status=403).fatal
    assert not ModelError("x", status=429).fatal and not ModelError("x").fatal


@pytest.mark.parametrize("case", ["message is a string", "usage is infinite", "not JSON"])
async def test_judge_turns_malformed_replies_into_abstentions(
    tmp_path: Path, server: FakeOpenAIServer, case: str
) -> None:
    from simulacra.feedback import ajudge_run, parse_raters_config

    config = endpoint_config(tmp_path, server, repeats=2)
    run = await arun(config, use_cache=False)
    raters = parse_raters_config(
        {
            "models": {
                "judge": {
                    "backend": "openai",
                    "base_url": server.base_url,
                    "model": "m",
                    "max_attempts": 1,
                }
            },
            "pool": [{"id": "remote", "model": "judge"}],
            "rubric": {"model": "judge"},
        }
    )
    server.state.raw_replies, server.state.raw_always = [BAD_BODIES[case]], True
    result = await ajudge_run(run.run_dir, raters, kinds=["pairwise", "rubric"], use_cache=False)
    records = [json.loads(x) for x in (run.run_dir / "feedback.jsonl").read_text().splitlines()]
    assert records and {r["kind"] for r in records} == {"pairwise", "rubric"}
    assert all(r.get("error") and REASONS[case] in str(r["error"]) for r in records)
    assert result.summary.failed_judgements is not None
    assert result.summary.failed_judgements.count == 0


async def test_a_failing_disk_stops_a_judge_instead_of_being_counted() -> None:
    from simulacra.errors import StorageError
    from simulacra.feedback._judge import _bounded

    calls: list[str] = []

    async def fails_to_write() -> None:
        calls.append("disk")
        raise StorageError("writing a judgement failed: No space left on device", path="f")

    async def has_a_bug() -> None:
        calls.append("bug")
        raise ValueError("a rater's own bug")

    failures: list[str] = []
    await _bounded([has_a_bug], 1, failures)  # one judgement's bug is recorded there
    assert failures == ["ValueError: a rater's own bug"]
    with pytest.raises(StorageError, match="No space left"):
        await _bounded([fails_to_write, has_a_bug, has_a_bug], 1, failures)
    assert calls.count("disk") == 1


def test_a_stopped_run_writes_complete_false(tmp_path: Path) -> None:
    from simulacra.rundir import EpisodeStore
    from simulacra.runs._runner import _finish

    config = RunConfig.model_validate(
        {"name": "stop", "output_dir": str(tmp_path), "personas": {"builtin": ["busy-nurse"]}}
    )
    store = EpisodeStore(config.run_dir())
    store.open()
    store.append({"id": "only"})
    summary = _finish(config, store, config.run_dir(), scheduled=1, stopped=True)
    written = json.loads((config.run_dir() / "summary.json").read_text())
    assert summary.complete is False and written["complete"] is False
