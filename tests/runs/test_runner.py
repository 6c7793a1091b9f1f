from __future__ import annotations

import json
from pathlib import Path

import pytest

import simulacra
from simulacra.errors import ConfigError, RunError
from simulacra.runs import RunConfig, load_config, parse_config, read_episodes


def config(tmp_path: Path, **overrides: object) -> RunConfig:
    data: dict[str, object] = {
        "name": "t",
        "output_dir": str(tmp_path / "runs"),
        "models": {"echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"}},
        "user": {"model": "echo"},
        "target": {"type": "callable", "callable": "targets_for_tests:calculator"},
        "personas": {"builtin": ["polite-professional", "retired-engineer"]},
        "tasks": {"suite": "everyday", "ids": ["pancakes-scale", "bill-split-tip"]},
        "repeats": 2,
        "concurrency": 3,
    }
    data.update(overrides)
    return parse_config(data)


async def test_run_writes_one_line_per_episode_and_summary(tmp_path: Path) -> None:
    result = await simulacra.arun(config(tmp_path))
    episodes = read_episodes(result.run_dir)
    assert len(episodes) == 2 * 2 * 2 == result.written
    assert len({e["id"] for e in episodes}) == 8
    pancakes = [e for e in episodes if e["task"]["id"] == "pancakes-scale"]
    assert all(e["success"] for e in pancakes)
    assert all(e["stop_reason"] == "satisfied" for e in pancakes)
    bills = [e for e in episodes if e["task"]["id"] == "bill-split-tip"]
    assert not any(e["success"] for e in bills)
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["episodes"] == 8 and summary["errors"] == 0 and summary["complete"]
    assert summary["success"]["value"] == pytest.approx(0.5)
    assert summary["usage"]["user"]["calls"] > 0
    assert summary["by_task"]["pancakes-scale"]["success"] == 1.0
    first = pancakes[0]
    assert first["messages"][0]["role"] == "user" and first["messages"][0]["meta"]["act"] == "open"
    # each voiced turn calls the model at least once; stock acts ("Thanks!") none
    per_turn = [m["meta"]["user_calls"] for m in first["messages"] if m["role"] == "user"]
    assert first["usage"]["user"]["calls"] == sum(per_turn) > 0
    voiced = [m for m in first["messages"] if m["role"] == "user" and m["meta"]["user_calls"]]
    assert voiced[0]["meta"]["act"] == "open"


async def test_ids_and_seeds_are_deterministic(tmp_path: Path) -> None:
    a = await simulacra.arun(config(tmp_path, output_dir=str(tmp_path / "a")))
    b = await simulacra.arun(config(tmp_path, output_dir=str(tmp_path / "b")))
    key = lambda e: (e["id"], e["seed"], [m["content"] for m in e["messages"]])  # noqa: E731
    assert sorted(map(key, read_episodes(a.run_dir))) == sorted(map(key, read_episodes(b.run_dir)))


async def test_resume_skips_finished_and_repairs_torn_tail(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    first = await simulacra.arun(cfg)
    path = first.run_dir / "episodes.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    # keep 3 episodes, one duplicated, plus a torn half line
    path.write_bytes(b"".join(lines[:3]) + lines[1] + lines[3][:40])
    resumed = await simulacra.arun(cfg, resume=True)
    assert resumed.skipped == 3 and resumed.written == 5
    ids = [e["id"] for e in read_episodes(first.run_dir)]
    raw_ids = [json.loads(line)["id"] for line in path.read_bytes().splitlines()]
    assert len(ids) == len(raw_ids) == 8 == len(set(raw_ids))
    assert json.loads((first.run_dir / "summary.json").read_text())["episodes"] == 8


async def test_refuses_to_mix_runs(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    await simulacra.arun(cfg)
    with pytest.raises(RunError, match="--resume"):
        await simulacra.arun(cfg)
    with pytest.raises(RunError, match=r"different config \(seed changed\)"):
        await simulacra.arun(config(tmp_path, seed=5), resume=True)
    with pytest.raises(RunError, match=r"different config \(repeats changed\)"):
        await simulacra.arun(config(tmp_path, repeats=1), resume=True)
    again = await simulacra.arun(cfg, overwrite=True)
    assert again.written == 8


async def test_resume_with_more_repeats_extends_the_run(tmp_path: Path) -> None:
    first = await simulacra.arun(config(tmp_path))
    before = {e["id"]: e for e in read_episodes(first.run_dir)}
    extended = await simulacra.arun(config(tmp_path, repeats=3), resume=True)
    assert extended.skipped == 8 and extended.written == 4
    after = read_episodes(first.run_dir)
    assert sorted(e["repeat"] for e in after) == [0] * 4 + [1] * 4 + [2] * 4
    assert all(before[e["id"]] == e for e in after if e["id"] in before)
    summary = json.loads((first.run_dir / "summary.json").read_text())
    assert summary["episodes"] == 12 and summary["complete"]
    assert json.loads((first.run_dir / "config.json").read_text())["repeats"] == 3


async def test_resume_with_more_modes_extends_and_other_modes_are_refused(
    tmp_path: Path,
) -> None:
    first = await simulacra.arun(config(tmp_path, modes=["full"], repeats=1))
    with pytest.raises(RunError, match=r"\(modes changed\)"):
        await simulacra.arun(config(tmp_path, modes=["sharded"], repeats=1), resume=True)
    both = await simulacra.arun(config(tmp_path, modes=["full", "sharded"], repeats=1), resume=True)
    assert both.skipped == 4 and both.written == 4
    assert sorted(e["mode"] for e in read_episodes(first.run_dir)) == ["full"] * 4 + ["sharded"] * 4


async def test_resume_refuses_an_unreadable_config_record(tmp_path: Path) -> None:
    first = await simulacra.arun(config(tmp_path))
    (first.run_dir / "config.json").write_text("[1, 2")
    with pytest.raises(RunError, match=r"config.json is unreadable.*--overwrite"):
        await simulacra.arun(config(tmp_path), resume=True)
    (first.run_dir / "config.json").write_text("[1, 2]")
    with pytest.raises(RunError, match=r"config.json is unreadable"):
        await simulacra.arun(config(tmp_path), resume=True)
    assert len(read_episodes(first.run_dir)) == 8


async def test_target_errors_are_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    result = await simulacra.arun(
        config(tmp_path, target={"type": "callable", "callable": "targets_for_tests:broken"})
    )
    episodes = read_episodes(result.run_dir)
    assert len(episodes) == 8 and all(e["status"] == "error" for e in episodes)
    assert "database is down" in episodes[0]["error"]
    assert episodes[0]["messages"][0]["role"] == "user"  # the partial transcript is kept
    garbage = await simulacra.arun(
        config(
            tmp_path, name="g", target={"type": "callable", "callable": "targets_for_tests:garbage"}
        )
    )
    episode = read_episodes(garbage.run_dir)[0]
    assert episode["status"] == "error" and "expected a string" in episode["error"]
    assert garbage.summary.errors == 8


async def test_model_errors_after_retries_are_recorded(tmp_path: Path) -> None:
    from simulacra.errors import ModelError

    cfg = config(
        tmp_path,
        models={
            "down": {
                "backend": "scripted",
                "function": "targets_for_tests:always_503",
                "max_attempts": 2,
            }
        },
        user={"model": "down"},
    )
    result = await simulacra.arun(cfg)
    episode = read_episodes(result.run_dir)[0]
    assert episode["status"] == "error" and "gave up after 2 attempts" in episode["error"]
    assert issubclass(ModelError, simulacra.SimulacraError)


def test_python_api_sync_and_yaml_path(tmp_path: Path) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text(
        "name: y\noutput_dir: out\nmodels: {echo: {backend: scripted, function: 'targets_for_tests:echo_plan'}}\n"
        "user: {model: echo}\ntarget: {type: callable, callable: 'targets_for_tests:calculator'}\n"
        "personas: {builtin: [polite-professional]}\ntasks: {suite: everyday, ids: [pancakes-scale]}\n"
    )
    result = simulacra.run(path)
    assert result.run_dir == tmp_path / "out" / "y"  # relative to the config file
    assert [e.success for e in result.episodes()] == [True]


@pytest.mark.parametrize(
    ("yaml_text", "field", "message"),
    [
        ("name: x\nrepeat: 2\n", "repeat", "unknown key"),
        ("name: x\nrepeats: lots\n", "repeats", "valid integer"),
        (
            "name: x\npersonas: {builtin: [nobody]}\n",
            r"personas.builtin\[0\]",
            "unknown persona 'nobody'",
        ),
        (
            "name: x\ntasks: {suite: everyday, ids: [nope]}\n",
            r"tasks.ids\[0\]",
            "unknown task id 'nope'",
        ),
        ("name: x\ntasks: {file: missing.yaml}\n", "tasks.file", "not found"),
        ("name: x\nuser: {model: gpt}\n", "user.model", "user.model 'gpt' is not a key of models"),
        ("name: x\nuser: {simulator: ghost}\n", "user.simulator", "unknown user simulator 'ghost'"),
        (
            "name: x\nuser: {options: {repeat_treshold: 0.5}}\n",
            "user.options.repeat_treshold",
            r"unknown option of user simulator 'llm' \(known: instruction, repeat_threshold\)",
        ),
        (
            "name: x\nuser: {simulator: scripted, options: {turns: [hi], stop: 1}}\n",
            "user.options.stop",
            "unknown option of user simulator 'scripted'",
        ),
        (
            "name: x\ntarget: {type: callable, callable: 'targets_for_tests:NOT_CALLABLE'}\n",
            "target.callable",
            "not callable",
        ),
        ("name: x\nmodels: {local: {backend: openai}}\n", "models.local", "base_url and model"),
        (
            "name: x\ntarget: {type: callable, callable: 'm:f', system_prompt: hi}\n",
            "target.system_prompt",
            "unknown option of target kind 'callable'",
        ),
        ("name: x\ntarget: {type: robot}\n", "target.type", "unknown target kind 'robot'"),
        (
            "name: x\nmodels: {local: {backend: local, base_url: 'http://h'}}\n",
            "models.local.base_url",
            "unknown option of model backend 'local'",
        ),
        (
            "name: x\ntasks: {suite: [everyday, {name: tau-retail, data_dir: d, task_file: t}]}\n",
            r"tasks.suite.1.task_file",
            "unknown option of task suite 'tau-retail'",
        ),
        ("name: [\n", "line 2", "invalid YAML"),
    ],
)
def test_config_errors_name_file_and_field(
    tmp_path: Path, yaml_text: str, field: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=rf"bad.yaml: {field}: .*{message}"):
        load_config(path).validate_references()
    assert not (tmp_path / "runs").exists()


def test_mode_is_accepted_for_modes_as_a_list_or_one_string(tmp_path: Path) -> None:
    assert config(tmp_path, mode="full").modes == ["full"]
    assert config(tmp_path, mode=["full", "sharded"]).modes == ["full", "sharded"]
    assert config(tmp_path, modes="concat").modes == ["concat"]
    with pytest.raises(ConfigError, match="modes and mode are the same setting"):
        config(tmp_path, mode="full", modes=["sharded"])
    with pytest.raises(ConfigError, match="modes: mode listed twice: full"):
        config(tmp_path, modes=["full", "sharded", "full"])


def test_overrides_are_validated_and_name_their_source(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("name: o\nrepeats: 2\ntasks: {suite: numeric, limit: 1}\nmax_turns: 3\n")
    base = load_config(path)
    changed = base.with_overrides(source="--mode", modes=["full", "sharded"])
    assert changed.modes == ["full", "sharded"] and changed.repeats == 2
    assert changed.max_turns == 3 and changed.source == str(path)
    assert changed.base_dir == base.base_dir and base.modes == ["sharded"]
    with pytest.raises(ConfigError, match=r"^--repeats: .*greater than or equal to 1"):
        base.with_overrides(source="--repeats", repeats=0)
    with pytest.raises(ConfigError, match=r"^--mode: Input should be 'full', 'concat'"):
        base.with_overrides(source="--mode", modes=["ful"])
