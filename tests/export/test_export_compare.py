"""Pairs from a comparison of two runs (``simulacra compare``) exported as DPO rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

import simulacra
from simulacra.errors import ConfigError
from simulacra.export import ExportConfig, build_dataset, export_run
from simulacra.feedback import compare_runs, parse_raters_config
from simulacra.runs import parse_config

QUESTION = "How much flour for 10 people, if 4 need 300 g?"


def make_run(tmp_path: Path, name: str, reply: str) -> Path:
    config = parse_config(
        {
            "name": name,
            "seed": 3,
            "output_dir": str(tmp_path / "runs"),
            "models": {"bot": {"backend": "scripted", "replies": [reply], "cycle": True}},
            "user": {"simulator": "scripted", "options": {"turns": [QUESTION]}},
            "target": {"model": "bot", "system_prompt": "Be helpful."},
            "personas": {"builtin": ["busy-nurse", "teen-gamer"]},
            "tasks": {"suite": "everyday", "ids": ["pancakes-scale"]},
            "repeats": 2,
            "cache": False,
        }
    )
    return simulacra.run(config).run_dir


def test_a_comparison_of_two_runs_exports_as_preference_pairs(tmp_path: Path) -> None:
    long = "You need 750 g of flour: 300 g for 4 people is 75 g each, times 10."
    run_a = make_run(tmp_path, "explains", long)
    run_b = make_run(tmp_path, "terse", "750 g.")
    raters = parse_raters_config({"pool": [{"id": "longer", "fixed": "longer"}]})
    result = compare_runs(run_a, run_b, raters, use_cache=False)
    path = result.path
    assert path.parent == run_a and result.comparison.items == 4
    # run A was never judged on its own: the comparison is its only source of pairs
    with pytest.raises(ConfigError, match="pairwise judgements"):
        build_dataset(run_a, ExportConfig(format="dpo"))
    dataset = build_dataset(run_a, ExportConfig(format="dpo", compare=(str(path),)))
    assert len(dataset.rows) == 4
    for row in dataset.rows:
        assert row["prompt"][-1] == {
            **row["prompt"][-1],
            "role": "user",
            "content": QUESTION,
        }
        assert row["chosen"][0]["content"] == long
        assert row["rejected"][0]["content"] == "750 g."
        assert row["episode_chosen"] != row["episode_rejected"]
        assert row["chosen_longer"] is True
    chosen = {r["episode_chosen"] for r in dataset.rows}
    assert chosen <= {e.id for e in simulacra.rundir.RunDir.open(run_a).episodes()}
    result = export_run(
        run_a,
        tmp_path / "dpo",
        ExportConfig(format="dpo", compare=(str(path),), files=("jsonl",)),
    )
    card = (result.out / "README.md").read_text()
    assert "judged pairs: 4" in card and "`model:bot`" in card
    lines = (result.out / "dpo.jsonl").read_text().splitlines()
    assert [json.loads(line)["item_id"] for line in lines] == [r["item_id"] for r in dataset.rows]


def test_a_comparison_of_another_run_or_for_sft_is_refused(tmp_path: Path) -> None:
    run_a = make_run(tmp_path, "explains", "You need 750 g of flour.")
    run_b = make_run(tmp_path, "terse", "750 g.")
    raters = parse_raters_config({"pool": [{"id": "longer", "fixed": "longer"}]})
    path = str(compare_runs(run_a, run_b, raters, use_cache=False).path)
    with pytest.raises(ConfigError, match="not of this run"):
        build_dataset(run_b, ExportConfig(format="dpo", compare=(path,)))
    with pytest.raises(ValidationError, match="compare is for formats of pairs"):
        ExportConfig(format="sft", compare=(path,))
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"run_a": str(run_a)}))
    with pytest.raises(ConfigError, match="not a comparison file"):
        build_dataset(run_a, ExportConfig(format="pairs", compare=(str(broken),)))
