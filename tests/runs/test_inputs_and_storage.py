"""Bad input is a clear error naming the problem with nothing written; a failing file
system is a clear error with every finished episode kept; config and command line merge
by one rule."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import simulacra
from cli_run import simulacra_cli
from simulacra.errors import ConfigError, StorageError
from simulacra.runs import RunConfig, arun, load_config

TESTS = Path(__file__).resolve().parent.parent

BASE = [
    "models: {echo: {backend: scripted, function: 'targets_for_tests:echo_plan'}}",
    "user: {model: echo}",
    "target: {type: callable, callable: 'targets_for_tests:slow_echo'}",
    "personas: {builtin: [busy-nurse, teen-gamer]}",
    "tasks: {suite: everyday, limit: 3}",
    "max_turns: 2",
]


def write(path: Path, *lines: str, name: str = "io") -> Path:
    path.write_text("\n".join([f"name: {name}", *BASE, *lines]) + "\n")
    return path


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return simulacra_cli(*args, cwd=cwd, env=env, import_path=(cwd,))


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


# --- names and paths ------------------------------------------------------------------------


@pytest.mark.parametrize("name", [".", "..", "'...'"])  # only dots: too easily a path
def test_dot_names_are_refused(tmp_path: Path, name: str) -> None:
    config = write(tmp_path / "c.yaml", name=name)
    with pytest.raises(ConfigError, match=r"c\.yaml: name: .*not a directory name of its own"):
        load_config(config)


def test_output_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    config = write(tmp_path / "c.yaml", f"output_dir: {tmp_path / 'afile'}")
    result = cli("run", str(config), cwd=tmp_path)
    assert result.returncode == 2 and "output_dir" in result.stderr
    assert "is not a directory" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "afile").read_text() == "x"


def test_overwrite_cannot_reach_outside_the_output_dir(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    keep = tmp_path / "runs" / "summary.json"
    keep.write_text("{}")
    config = write(tmp_path / "c.yaml", name="..")
    result = cli("run", str(config), "--overwrite", cwd=tmp_path)
    assert result.returncode == 2 and keep.exists()


# --- what cannot be built fails before anything is written ----------------------------------


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            ["models: {echo: {backend: scripted, replies_file: missing.jsonl}}"],
            "missing.jsonl",
        ),
        (["models: {echo: {backend: local, path: /nowhere/model.gguf}}"], "/nowhere/model.gguf"),
        (
            [
                "models: {echo: {backend: openai, base_url: 'http://127.0.0.1:9', model: m,"
                " api_key_env: SIMULACRA_TEST_UNSET_KEY}}"
            ],
            "SIMULACRA_TEST_UNSET_KEY",
        ),
        (
            ["models: {echo: {backend: scripted, function: 'targets_for_tests:no_such_function'}}"],
            "no_such_function",
        ),
        (["tasks: {inline: [{id: t, goal: g, check: {type: regex, pattern: '(('}}]}"], "(("),
        (
            [
                "models: {echo: {backend: openai, base_url: 'http://127.0.0.1:9', model: m,"
                ' headers: {X-Key: "a\\r\\nInjected: 1"}}}'
            ],
            "header X-Key has a line break",
        ),
    ],
)
def test_what_cannot_be_built_exits_2_and_writes_nothing(
    tmp_path: Path, lines: list[str], message: str
) -> None:
    base = [line for line in BASE if not line.startswith(tuple(x.split(":")[0] for x in lines))]
    config = tmp_path / "c.yaml"
    config.write_text("\n".join(["name: io", *base, *lines]) + "\n")
    result = cli("run", str(config), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert files_under(tmp_path / "runs") == []


def test_a_callable_module_with_a_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "brokenbot.py").write_text("def reply(messages):\n    return (\n")
    config = write(tmp_path / "c.yaml", "target: {type: callable, callable: 'brokenbot:reply'}")
    result = cli("run", str(config), cwd=tmp_path)
    assert result.returncode == 2 and "syntax error" in result.stderr
    assert "brokenbot.py, line" in result.stderr and "Traceback" not in result.stderr


# --- files that are not files -----------------------------------------------------------------


def test_config_from_a_fifo_or_a_device_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "c.yaml"
    os.mkfifo(fifo)
    result = cli("run", str(fifo), cwd=tmp_path)  # would hang if it were opened
    assert result.returncode == 2 and "not a regular file" in result.stderr
    device = cli("run", "/dev/zero", cwd=tmp_path)
    assert device.returncode == 2 and "not a regular file" in device.stderr


def test_deeply_nested_yaml_and_json_are_config_errors(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("name: x\nuser: {options: " + "[" * 50_000 + "]" * 50_000 + "}\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(deep)
    personas = tmp_path / "people.jsonl"
    personas.write_text("[" * 50_000 + "]" * 50_000 + "\n")
    config = write(tmp_path / "c.yaml", f"personas: {{file: {personas}}}")
    result = cli("run", str(config), cwd=tmp_path)
    assert result.returncode == 2 and "nested too deeply" in result.stderr
    assert "people.jsonl" in result.stderr and "Traceback" not in result.stderr


def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    from simulacra._records import read_text

    big = tmp_path / "big.yaml"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(ConfigError, match="larger than"):
        read_text(big, what="config", max_bytes=1024)


# --- one precedence rule ----------------------------------------------------------------------


def test_cache_false_in_the_config_is_kept_by_the_command_line(tmp_path: Path) -> None:
    from simulacra._cli_common import cache_setting

    assert cache_setting(no_cache=False) is None  # no flag: the config decides
    assert cache_setting(no_cache=True) is False


async def test_config_cache_false_reaches_the_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulacra.llm import _config

    seen: list[bool] = []
    original = _config.ModelPool.__init__

    def spy(self: object, **kwargs: object) -> None:
        seen.append(bool(kwargs.get("use_cache", True)))
        original(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_config.ModelPool, "__init__", spy)
    config = load_config(write(tmp_path / "c.yaml", "cache: false", f"output_dir: {tmp_path}/r"))
    await arun(config, use_cache=None)  # what the command line passes without --no-cache
    await arun(config.with_overrides(name="on", cache=True), use_cache=False)  # --no-cache wins
    await arun(config.with_overrides(name="on2", cache=True), use_cache=None)
    assert seen == [False, False, True]


def test_flag_beats_environment_beats_config(tmp_path: Path) -> None:
    """--max-errors, SIMULACRA_MAX_ERRORS and max_errors: one rule, flag > env > config."""
    config = write(
        tmp_path / "c.yaml",
        "target: {type: callable, callable: 'targets_for_tests:broken_once'}",
        "max_errors: 0.0",
    )
    # one of six episodes errors: the config's 0.0 fails the run
    assert cli("run", str(config), cwd=tmp_path).returncode == 1
    env = {"SIMULACRA_MAX_ERRORS": "0.5"}
    assert cli("run", str(config), "--overwrite", cwd=tmp_path, env=env).returncode == 0
    flagged = cli("run", str(config), "--overwrite", "--max-errors", "0.1", cwd=tmp_path, env=env)
    assert flagged.returncode == 1 and "1 of 6 episodes errored" in flagged.stderr


async def test_resume_ignores_call_settings_but_not_the_model(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "c.yaml", f"output_dir: {tmp_path}/r"))
    await arun(config)
    echo = config.models["echo"].model_dump(exclude_unset=True)
    slower = {**echo, "max_attempts": 2, "max_concurrency": 3, "cache": False}
    again = await arun(
        config.with_overrides(models={"echo": slower}, concurrency=2, cache=False), resume=True
    )
    assert again.skipped == 6 and again.written == 0
    other = {**echo, "temperature": 0.1}
    with pytest.raises(Exception, match="models changed"):
        await arun(config.with_overrides(models={"echo": other}), resume=True)


async def test_resume_reads_a_config_saved_with_every_backend_setting_on_every_model(
    tmp_path: Path,
) -> None:
    # an older version saved each model with the settings of all backends, most unused
    config = load_config(write(tmp_path / "c.yaml", f"output_dir: {tmp_path}/r"))
    first = await arun(config)
    saved = json.loads((first.run_dir / "config.json").read_text())
    old_keys = {"base_url": None, "model": None, "timeout_s": 60.0, "headers": {}}
    old_keys |= {"path": None, "n_ctx": 4096, "logprobs": False, "replies_file": None}
    saved["models"]["echo"] |= old_keys
    saved["user"]["options"] = {}
    (first.run_dir / "config.json").write_text(json.dumps(saved))
    again = await arun(config, resume=True)
    assert again.skipped == 6 and again.written == 0
    saved["models"]["echo"]["function"] = "targets_for_tests:other"
    (first.run_dir / "config.json").write_text(json.dumps(saved))
    with pytest.raises(Exception, match="models changed"):
        await arun(config, resume=True)


# --- the file system fails --------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_keeps_every_finished_episode_and_resume_recovers(
    tmp_path: Path, small_disk: Path
) -> None:
    config = write(
        tmp_path / "c.yaml",
        f"output_dir: {small_disk}",
        "personas: {builtin: all}",
        "tasks: {suite: everyday, limit: 4}",
        "concurrency: 2",
    )
    result = cli("run", str(config), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "No space left on device" in result.stderr and str(small_disk) in result.stderr
    assert "Traceback" not in result.stderr
    episodes = small_disk / "io" / "episodes.jsonl"
    raw = episodes.read_bytes()
    assert raw.endswith(b"\n")  # no torn last line
    kept = [json.loads(line)["id"] for line in raw.splitlines()]
    assert 0 < len(kept) < 56 and len(kept) == len(set(kept))
    # free space: move the run to a roomy disk and resume there
    roomy = tmp_path / "roomy"
    roomy.mkdir()
    (roomy / "io").mkdir()
    for name in ("episodes.jsonl", "config.json"):
        (roomy / "io" / name).write_bytes((small_disk / "io" / name).read_bytes())
    resumed = write(
        tmp_path / "c.yaml",
        f"output_dir: {roomy}",
        "personas: {builtin: all}",
        "tasks: {suite: everyday, limit: 4}",
        "concurrency: 2",
    )
    again = cli("run", str(resumed), "--resume", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    ids = [json.loads(x)["id"] for x in (roomy / "io" / "episodes.jsonl").read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 56 and set(kept) <= set(ids)


def test_read_only_run_directory_is_a_clear_error(tmp_path: Path, small_disk: Path) -> None:
    config = write(tmp_path / "c.yaml", f"output_dir: {small_disk}")
    assert cli("run", str(config), cwd=tmp_path).returncode == 0
    before = (small_disk / "io" / "episodes.jsonl").read_bytes()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    for args in (["run", str(config)], ["run", str(config), "--overwrite"]):
        result = cli(*args, cwd=tmp_path)
        assert result.returncode == 1, (args, result.stderr)
        assert "Read-only file system" in result.stderr and "Traceback" not in result.stderr
    raters = tmp_path / "raters.yaml"
    raters.write_text("pool:\n  - {id: first, fixed: first}\n")
    judged = cli(
        "judge", str(small_disk / "io"), "--raters", str(raters), "--kinds", "pairwise",
        cwd=tmp_path,
    )  # fmt: skip
    assert judged.returncode == 1 and "Read-only file system" in judged.stderr
    assert "Traceback" not in judged.stderr
    assert (small_disk / "io" / "episodes.jsonl").read_bytes() == before


def test_storage_error_from_the_api_names_the_path(tmp_path: Path, small_disk: Path) -> None:
    config = RunConfig.model_validate(
        {
            "name": "ro",
            "output_dir": str(small_disk),
            "models": {"echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"}},
            "user": {"model": "echo"},
            "target": {"type": "callable", "callable": "targets_for_tests:slow_echo"},
            "personas": {"builtin": ["busy-nurse"]},
            "tasks": {"suite": "everyday", "limit": 1},
        }
    )
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(StorageError, match="Read-only file system") as caught:
        simulacra.run(config)
    assert str(small_disk) in str(caught.value)
