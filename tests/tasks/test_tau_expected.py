"""simulacra's τ-bench environments against outputs and databases recorded from the
benchmark's behaviour (``tests/fixtures/tau/*_expected.json``, written by
``scripts/record-tau-expected.py``; its ``recorded_by`` says whether the benchmark's own
package or the script's transcription of it produced them).

For every development task's ground truth, and for probes that reach the refusals and
rounding corners, each tool output must be the same text, and the final database must
have the same canonical hash and the same changed rows. The data is read from
``../shared/data/`` (skipped when absent or not the recorded files).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from simulacra.tasks.envs import (
    Action,
    EnvFactory,
    canonical_json,
    environments,
    failed_actions,
    replay,
)

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
FIXTURES = ROOT / "tests" / "fixtures" / "tau"
DOMAINS = {
    "retail": ("tau-retail", "tau-bench-retail-dev"),
    "airline": ("tau-airline", "tau-bench-airline-dev"),
}


def _record(domain: str) -> dict[str, Any]:
    path = FIXTURES / f"{domain}_expected.json"
    if not path.is_file():
        pytest.skip(f"no recorded fixture for {domain}")
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return record


def _usable(domain: str) -> Path | None:
    data = SHARED / DOMAINS[domain][1]
    if not data.is_dir():
        return None
    files = _record(domain)["data_files"]
    for name, digest in files.items():
        if not (data / name).is_file():
            return None
        if hashlib.sha256((data / name).read_bytes()).hexdigest() != digest:
            return None
    return data


_factories: dict[str, EnvFactory] = {}


def _factory(domain: str) -> EnvFactory:
    if domain not in _factories:
        data = _usable(domain)
        if data is None:
            pytest.skip(f"the recorded {domain} data files are not in {SHARED}")
        entry = environments.entry(DOMAINS[domain][0])
        _factories[domain] = entry.value(entry.validate({"data_dir": str(data)}))[0]
    return _factories[domain]


def _episodes(domain: str) -> list[str]:
    path = FIXTURES / f"{domain}_expected.json"
    if not path.is_file():
        return []
    return [e["id"] for e in json.loads(path.read_text(encoding="utf-8"))["episodes"]]


def _check(domain: str, episode_id: str) -> None:
    factory = _factory(domain)
    expected = next(e for e in _record(domain)["episodes"] if e["id"] == episode_id)
    actions = [Action(name=a["name"], arguments=a["kwargs"]) for a in expected["actions"]]
    env = replay(factory, actions, task_id=episode_id)
    assert [call.result for call in env.calls] == expected["outputs"]
    initial = factory.initial_state()
    changed = {
        table: {
            key: row
            for key, row in rows.items()
            if canonical_json(row) != canonical_json(initial[table].get(key))
        }
        for table, rows in env.state.items()
    }
    assert {t: rows for t, rows in changed.items() if rows} == expected["changed"]
    assert env.state_hash() == expected["final_hash"]
    refused = ("Error", "Unknown action")
    errors = [o for o in expected["outputs"] if isinstance(o, str) and o.startswith(refused)]
    assert [error for _, _, error in failed_actions(env)] == errors


@pytest.mark.parametrize("episode_id", _episodes("retail"))
def test_retail_matches_the_benchmark(episode_id: str) -> None:
    _check("retail", episode_id)


@pytest.mark.parametrize("episode_id", _episodes("airline"))
def test_airline_matches_the_benchmark(episode_id: str) -> None:
    _check("airline", episode_id)


def test_the_fixtures_cover_every_task_and_some_refusals() -> None:
    for domain in DOMAINS:
        record = _record(domain)
        episodes = record["episodes"]
        tasks = [e for e in episodes if e["id"].startswith("task-")]
        data = _usable(domain)
        if data is not None:
            task_file = next(n for n in record["data_files"] if "tasks" in n)
            assert len(tasks) == len(json.loads((data / task_file).read_text()))
        errors = sum(o.startswith("Error") for e in episodes for o in e["outputs"] if o)
        assert errors >= 10, domain
