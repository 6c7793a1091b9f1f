"""Verified trajectories: real tool-task episodes of a scripted agent on the shop
environment, exported as SFT only when the final state matches the ground truth and no
policy rule was broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import simulacra
from cli_run import simulacra_cli
from simulacra.errors import ConfigError
from simulacra.export import ExportConfig, build_dataset, export_run
from simulacra.runs import parse_config


def shop_run(tmp_path: Path, name: str, agent: str, tasks: list[str]) -> Path:
    config = parse_config(
        {
            "name": name,
            "seed": 2,
            "output_dir": str(tmp_path),
            "models": {"agent": {"backend": "scripted", "function": agent, "cache": False}},
            "user": {"simulator": "scripted", "model": "agent"},
            "target": {"model": "agent", "system_prompt": "You are the shop's assistant."},
            "personas": {"builtin": ["busy-nurse"]},
            "tasks": {"suite": ["shop", "everyday"], "ids": tasks},
            "modes": ["sharded"],
        }
    )
    return simulacra.run(config).run_dir


def test_only_episodes_that_reach_the_ground_truth_by_the_rules_are_kept(
    tmp_path: Path,
) -> None:
    careful = shop_run(
        tmp_path,
        "careful",
        "targets_for_tests:shop_agent",
        ["shop-001", "shop-002", "pancakes-scale"],
    )
    dataset = build_dataset(careful, ExportConfig(format="sft", verified=True))
    assert [row["task"] for row in dataset.rows] == ["shop-001"]
    (row,) = dataset.rows
    tools = [m for m in row["messages"] if m["role"] == "tool"]
    assert [m["name"] for m in tools] == ["find_customer_by_email", "cancel_order"]
    calls = [m for m in row["messages"] if m.get("tool_calls")]
    assert calls and calls[0]["tool_calls"][0]["function"]["name"] == "find_customer_by_email"
    assert dataset.dropped == {
        "the final environment state differs from the ground truth": 1,
        "not a tool-environment task (nothing to verify)": 1,
    }
    # the same state reached without identifying the customer: a policy violation
    careless = shop_run(tmp_path, "careless", "verified_agents:careless_shop_agent", ["shop-001"])
    (episode,) = simulacra.rundir.RunDir.open(careless).episodes()
    assert episode.success is True and episode.check["extracted"]["hash_match"] is True
    assert episode.check["extracted"]["violations"]
    with pytest.raises(ConfigError, match="a policy violation: 1"):
        build_dataset(careless, ExportConfig(format="sft", verified=True))
    assert build_dataset(careless, ExportConfig(format="sft", successful_only=True)).rows


def test_the_verified_flag_on_the_command_line(tmp_path: Path) -> None:
    run = shop_run(tmp_path, "careful", "targets_for_tests:shop_agent", ["shop-001", "shop-002"])
    out = tmp_path / "verified"
    done = simulacra_cli(
        "export", str(run), "-o", str(out), "--verified", "--files", "jsonl", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in (out / "sft.jsonl").read_text().splitlines()]
    assert [r["task"] for r in rows] == ["shop-001"]
    card = (out / "README.md").read_text()
    assert "verified: True" in card
    assert "the final environment state differs from the ground truth): 1" in card
    refused = simulacra_cli(
        "export", str(run), "-o", str(tmp_path / "k"), "--format", "kto", "--verified", cwd=tmp_path
    )
    assert refused.returncode == 2 and "verified is not for kto" in refused.stderr
    assert not (tmp_path / "k").exists()
    export_run(run, tmp_path / "api", ExportConfig(format="sft", verified=True, files=("jsonl",)))
    assert (tmp_path / "api" / "sft.jsonl").read_text() == (out / "sft.jsonl").read_text()
