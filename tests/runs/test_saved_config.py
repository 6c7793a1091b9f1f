"""config.json across versions: what it keeps of model settings, and resuming a run
whose config.json an older version wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import simulacra
from simulacra.errors import RunError
from simulacra.runs import RunConfig, parse_config


def config(tmp_path: Path, extra_body: dict[str, object]) -> RunConfig:
    return parse_config(
        {
            "name": "saved",
            "output_dir": str(tmp_path / "runs"),
            "models": {
                "echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"},
                "remote": {  # saved with the run, never called
                    "backend": "openai",
                    "base_url": "http://127.0.0.1:9/v1",
                    "model": "m",
                    "extra_body": extra_body,
                    "headers": {"x-team": "evals"},
                },
            },
            "user": {"model": "echo"},
            "target": {"type": "callable", "callable": "targets_for_tests:calculator"},
            "personas": {"builtin": ["polite-professional"]},
            "tasks": {"suite": "everyday", "ids": ["pancakes-scale"]},
            "repeats": 2,
        }
    )


async def test_a_run_an_older_version_saved_resumes(tmp_path: Path) -> None:
    cfg = config(tmp_path, {"reasoning_effort": "low"})
    first = await simulacra.arun(cfg)
    path = first.run_dir / "config.json"
    saved = json.loads(path.read_text())
    assert saved["models"]["remote"]["extra_body"] == {"reasoning_effort": "<redacted>"}
    assert saved["models"]["remote"]["headers"] == {"x-team": "<redacted>"}
    # as an older version wrote it: extra_body values kept, no settings added since
    older = saved["models"]["remote"]
    older["extra_body"] = {"reasoning_effort": "low"}
    del older["max_response_bytes"], older["deadline_s"]
    path.write_text(json.dumps(saved))
    (first.run_dir / "episodes.jsonl").write_text(
        (first.run_dir / "episodes.jsonl").read_text().splitlines()[0] + "\n"
    )
    resumed = await simulacra.arun(cfg, resume=True)
    assert resumed.skipped == 1 and resumed.written == 1
    assert json.loads(path.read_text())["models"]["remote"]["extra_body"] == {
        "reasoning_effort": "<redacted>"
    }


async def test_other_extra_body_names_are_another_config(tmp_path: Path) -> None:
    await simulacra.arun(config(tmp_path, {"reasoning_effort": "low"}))
    with pytest.raises(RunError, match=r"models changed"):
        await simulacra.arun(config(tmp_path, {"top_k": 5}), resume=True)
