"""The ``ray`` executor on a real Ray cluster of this machine (127.0.0.1, 2 CPUs).

A cluster is started once for the module and shut down after it. To run these tests on
a real multi-node cluster instead, start it (``ray start --head`` on one machine,
``ray start --address HEAD:6379`` on the others, each with this checkout's ``src`` and
``tests`` on its ``PYTHONPATH``) and set ``SIMULACRA_TEST_RAY_ADDRESS=HEAD:6379``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import simulacra
from cli_run import python_path
from fake_openai import FakeOpenAIServer, ServerState
from simulacra.cli import app
from simulacra.feedback import read_feedback
from simulacra.llm import (
    ChatParams,
    Message,
    ModelConfig,
    ModelWorker,
    start_local_cluster,
    start_services,
    stop_services,
)
from simulacra.runs import RunConfig, load_config, parse_config, read_episodes
from targets_for_ray import MARKS

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.ray

VOLATILE = frozenset({"started_at", "duration_s", "latency_s", "session_id", "finished_at"})


def stable(value: Any) -> Any:
    """A record without what differs from one playing to the next (timings, the app's
    session ids)."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def records(run_dir: Path) -> list[str]:
    """The run's episodes, as a sorted list of canonical JSON lines."""
    return sorted(json.dumps(stable(e), sort_keys=True) for e in read_episodes(run_dir))


def raw_ids(run_dir: Path) -> list[str]:
    lines = (run_dir / "episodes.jsonl").read_bytes().splitlines()
    return [json.loads(line)["id"] for line in lines if line.strip()]


def clear(marks: Path) -> None:
    for mark in marks.iterdir():
        mark.unlink()


def marked(marks: Path) -> set[int]:
    """The processes that played an episode since ``clear``."""
    return {int(p.name) for p in marks.iterdir()}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A Ray cluster for the module; the worker processes import this checkout and the
    test helpers, and mark in the returned folder which process played what."""
    marks = tmp_path_factory.mktemp("marks")
    saved = {name: os.environ.get(name) for name in ("PYTHONPATH", MARKS)}
    os.environ["PYTHONPATH"] = python_path()  # inherited by the worker processes
    os.environ[MARKS] = str(marks)
    address = os.environ.get("SIMULACRA_TEST_RAY_ADDRESS")
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        start_local_cluster(num_cpus=2)  # on 127.0.0.1 only
        assert {node["NodeManagerAddress"] for node in ray.nodes()} == {"127.0.0.1"}
    try:
        yield marks
    finally:
        ray.shutdown()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def config(out: Path, *, executor: Any = "local", **overrides: Any) -> RunConfig:
    data: dict[str, Any] = {
        "name": "t",
        "output_dir": str(out),
        "models": {"echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"}},
        "user": {"model": "echo"},
        "target": {"type": "callable", "callable": "targets_for_tests:calculator"},
        "personas": {"builtin": ["polite-professional", "retired-engineer"]},
        "tasks": {"suite": "everyday", "ids": ["pancakes-scale", "bill-split-tip"]},
        "repeats": 2,
        "concurrency": 4,
        "executor": executor,
    }
    data.update(overrides)
    return parse_config(data)


RAY = {"name": "ray", "workers": 2}


def test_a_ray_run_holds_the_same_episodes_as_a_local_run(cluster: Path, tmp_path: Path) -> None:
    local = simulacra.run(config(tmp_path / "local", repeats=50))
    on_ray = simulacra.run(config(tmp_path / "ray", repeats=50, executor=RAY))
    assert on_ray.written == local.written == 200
    assert len(raw_ids(on_ray.run_dir)) == len(set(raw_ids(on_ray.run_dir))) == 200
    assert records(on_ray.run_dir) == records(local.run_dir)
    a, b = local.summary.to_dict(), on_ray.summary.to_dict()
    for key in ("episodes", "errors", "success", "stop_reasons", "complete", "scheduled"):
        assert a[key] == b[key], key
    saved = json.loads((on_ray.run_dir / "config.json").read_text())
    assert saved["executor"]["name"] == "ray"
    # the stages after the runner read it as they read a local run
    shown = CliRunner().invoke(app, ["show", str(on_ray.run_dir), "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["summary"]["episodes"] == 200


async def test_a_killed_worker_has_its_episodes_played_again_once(
    cluster: Path, tmp_path: Path
) -> None:
    slow = {"type": "callable", "callable": "targets_for_ray:marked_calculator"}
    local = await simulacra.arun(config(tmp_path / "local", repeats=15, target=slow))
    clear(cluster)  # the local run marked this process
    cfg = config(tmp_path / "ray", repeats=15, target=slow, executor=RAY)
    run = asyncio.create_task(simulacra.arun(cfg))
    episodes = cfg.run_dir() / "episodes.jsonl"
    deadline = time.monotonic() + 120
    while not (episodes.exists() and len(episodes.read_bytes().splitlines()) >= 8):
        assert time.monotonic() < deadline and not run.done(), "the run made no progress"
        await asyncio.sleep(0.05)
    workers = marked(cluster)
    assert workers and os.getpid() not in workers
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    result = await run
    ids = raw_ids(result.run_dir)
    assert len(ids) == len(set(ids)) == 60 == result.written
    assert result.summary.to_dict()["errors"] == 0  # played again, not recorded as lost
    assert records(result.run_dir) == records(local.run_dir)
    after = marked(cluster)
    assert after - workers, "no worker came back after the kill"


def test_a_killed_driver_is_resumed_with_exactly_once_records(
    cluster: Path, tmp_path: Path
) -> None:
    import psutil

    slow = {"type": "callable", "callable": "targets_for_ray:marked_calculator"}
    local = simulacra.run(config(tmp_path / "local", repeats=10, target=slow))
    data = config(tmp_path / "ray", repeats=10, target=slow).model_dump(mode="json")
    data["executor"] = {"name": "ray", "workers": 2, "num_cpus": 2}
    path = tmp_path / "run.json"  # JSON is YAML
    path.write_text(json.dumps(data))
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["PYTHONPATH"] = python_path()
    log = tmp_path / "driver.log"
    with log.open("wb") as output:
        driver = subprocess.Popen(
            [sys.executable, "-m", "simulacra", "run", str(path)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    episodes = tmp_path / "ray" / "t" / "episodes.jsonl"
    try:
        deadline = time.monotonic() + 180
        while not (episodes.exists() and len(episodes.read_bytes().splitlines()) >= 5):
            assert driver.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the driver made no progress"
            time.sleep(0.05)
    finally:
        # the driver and the cluster it started, each by its own pid
        started = [driver.pid] + [
            p.pid for p in psutil.Process(driver.pid).children(recursive=True)
        ]
        for pid in started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        driver.wait(timeout=30)
    kept = len(raw_ids(tmp_path / "ray" / "t"))
    assert 5 <= kept < 40
    resumed = simulacra.run(load_config(path), resume=True)
    assert resumed.skipped == kept and resumed.written == 40 - kept
    ids = raw_ids(resumed.run_dir)
    assert len(ids) == len(set(ids)) == 40
    assert records(resumed.run_dir) == records(local.run_dir)
    assert json.loads((resumed.run_dir / "summary.json").read_text())["complete"]


class Counting:
    """ASGI middleware: the most requests the server held at once."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.now, self.peak = inner, 0, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await self.inner(scope, receive, send)
        finally:
            self.now -= 1


def http_config(out: Path, base_url: str, *, name: str = "t", **overrides: Any) -> RunConfig:
    return config(
        out,
        name=name,
        models={
            "echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"},
            "bot": {"backend": "openai", "base_url": base_url, "model": "fake"},
        },
        target={"model": "bot", "system_prompt": "Be brief."},
        max_turns=2,
        **overrides,
    )


def test_an_endpoint_limit_holds_across_the_cluster(cluster: Path, tmp_path: Path) -> None:
    server = FakeOpenAIServer(ServerState(latency_s=0.15, record=False))
    counting = Counting(server.server.config.app)
    server.server.config.app = counting
    with server:
        cfg = http_config(tmp_path, server.base_url, repeats=4, concurrency=8, executor=RAY)
        models = cfg.model_dump(mode="json")["models"]
        models["bot"]["max_concurrency"] = 2
        result = simulacra.run(cfg.with_overrides(models=models), use_cache=False)
    assert result.written == 16 and result.summary.to_dict()["errors"] == 0
    # two workers, four episodes each at once: each would allow 2 calls on its own
    assert counting.peak == 2


def test_replies_cached_by_one_worker_are_hits_for_another(
    cluster: Path, tmp_path: Path, fake_server: FakeOpenAIServer
) -> None:
    services = start_services(ray, use_cache=True, cache_path=tmp_path / "cache.sqlite")
    worker = ray.remote(ModelWorker)
    workers = [
        worker.options(num_cpus=0).remote(services, rank=rank, cpus=1, pin=False, use_cache=True)
        for rank in range(2)
    ]
    try:
        pids = ray.get([w.ready.remote() for w in workers])
        assert pids[0] != pids[1]
        model = ModelConfig.model_validate(
            {"backend": "openai", "base_url": fake_server.base_url, "model": "fake"}
        )
        messages = [Message(role="user", content="What is the capital of France?")]
        params = ChatParams(temperature=0.0, seed=1)
        first = ray.get(workers[0].chat.remote("bot", model, 1, messages, params))
        second = ray.get(workers[1].chat.remote("bot", model, 1, messages, params))
    finally:
        for w in workers:
            ray.kill(w)
        stop_services(ray, services)
    assert len(fake_server.state.requests) == 1
    assert not first.cached and second.cached and second.text == first.text
    # a whole run played again from the cache: the endpoint is not called at all
    before = len(fake_server.state.requests)
    one = simulacra.run(http_config(tmp_path, fake_server.base_url, name="one", executor=RAY))
    called = len(fake_server.state.requests) - before
    two = simulacra.run(http_config(tmp_path, fake_server.base_url, name="two", executor=RAY))
    assert called > 0 and len(fake_server.state.requests) - before == called
    fresh = one.summary.to_dict()["usage"]["target"]
    again = two.summary.to_dict()["usage"]["target"]
    assert fresh["calls"] > 0 and again["calls"] == 0 and again["cached_calls"] == fresh["calls"]


RATERS = """
models:
  judge: {backend: scripted, function: "targets_for_ray:judge_everything"}
pool:
  - {id: llm, model: judge}
judges_per_item: 1
pairing: [repeats]
rubric: {model: judge}
"""


def test_judging_on_the_cluster_writes_what_a_local_judgement_writes(
    cluster: Path, tmp_path: Path
) -> None:
    run = simulacra.run(config(tmp_path / "runs", repeats=3)).run_dir
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    raters = tmp_path / "raters.yaml"
    raters.write_text(RATERS)
    runner = CliRunner()
    here = runner.invoke(app, ["judge", str(run), "--raters", str(raters)])
    clear(cluster)
    there = runner.invoke(app, ["judge", str(copy), "--raters", str(raters), "--executor", "ray"])
    assert here.exit_code == 0, here.output
    assert there.exit_code == 0, there.output
    local = sorted(json.dumps(stable(r), sort_keys=True) for r in read_feedback(run))
    remote = sorted(json.dumps(stable(r), sort_keys=True) for r in read_feedback(copy))
    assert local and remote == local
    assert {"pairwise", "rubric"} <= {json.loads(r)["kind"] for r in local}
    # the judge model answered in the cluster's worker processes, not here
    answered = marked(cluster)
    assert answered and os.getpid() not in answered


@pytest.mark.slow
def test_two_episodes_on_the_embedded_model_in_two_model_workers(
    cluster: Path, tmp_path: Path, model_cache_dir: Path
) -> None:
    from simulacra.llm._weights import default_weights

    weights = default_weights(directory=model_cache_dir / "models")
    cfg = parse_config(
        {
            "name": "e2e-ray",
            "seed": 3,
            "output_dir": str(tmp_path),
            "models": {"local": {"backend": "local", "path": str(weights), "n_ctx": 1024}},
            "user": {"model": "local", "max_tokens": 32},
            "target": {"model": "local", "max_tokens": 40, "system_prompt": "Answer briefly."},
            "personas": {"builtin": ["busy-nurse", "polite-professional"]},
            "tasks": {"suite": "everyday", "ids": ["run-miles-to-km"]},
            "max_turns": 1,
            "concurrency": 2,
            "executor": {"name": "ray", "workers": 2, "cpus_per_worker": 1},
        }
    )
    result = simulacra.run(cfg)
    episodes = read_episodes(result.run_dir)
    assert len(episodes) == 2
    for episode in episodes:
        assert episode["status"] == "ok", episode["error"]
        assert episode["usage"]["target"]["completion_tokens"] > 0
        assert episode["usage"]["user"]["completion_tokens"] > 0
