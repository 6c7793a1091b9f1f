"""``simulacra judge`` end to end on the real embedded model (llama.cpp): no fake rater."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import simulacra
from simulacra.cli import app
from simulacra.feedback import read_feedback
from simulacra.llm._weights import default_weights
from simulacra.runs import parse_config

pytestmark = pytest.mark.slow


def test_judge_a_small_run_with_the_embedded_model(tmp_path: Path, model_cache_dir: Path) -> None:
    weights = default_weights(directory=model_cache_dir / "models")
    # the run itself is scripted (fast); the judging is what runs on the real model
    config = parse_config(
        {
            "name": "tiny",
            "output_dir": str(tmp_path),
            "models": {"bot": {"backend": "scripted", "replies": ["About 9.98 km."]}},
            "user": {"simulator": "scripted", "model": "bot",
                     "options": {"turns": ["I ran 6.2 miles. How far is that in km?"]}},
            "target": {"model": "bot"},
            "personas": {"builtin": ["busy-nurse", "retired-engineer"]},
            "tasks": {"suite": "everyday", "ids": ["run-miles-to-km"]},
        }
    )  # fmt: skip
    run_dir = simulacra.run(config).run_dir
    raters = tmp_path / "raters.yaml"
    raters.write_text(
        f"""
models:
  judge: {{backend: local, path: "{weights}", n_ctx: 2048, logprobs: true}}
pool:
  - {{id: brief, model: judge, template: brief, max_tokens: 12}}
pairing: [reference]
"""
    )
    result = CliRunner().invoke(
        app, ["judge", str(run_dir), "--raters", str(raters), "--kinds", "pairwise,implicit"]
    )
    assert result.exit_code == 0, result.output
    pairwise = [r for r in read_feedback(run_dir) if r["kind"] == "pairwise"]
    assert len(pairwise) == 2
    for record in pairwise:
        assert record["rater"] == "brief" and record["first_shown"] in ("A", "B")
        # a verdict read from the verdict token's probabilities, or an honest abstention
        assert record["verdict"] in ("A", "B", "tie", None)
        if record["verdict"] is not None:
            assert record["parse"] in ("logprobs", "text")
            if record["parse"] == "logprobs":
                assert 0.0 < record["confidence"] <= 1.0
        assert record["model"] == f"local:{weights}"
    summary = json.loads((run_dir / "feedback_summary.json").read_text())
    assert summary["pairwise"]["reference"]["judged"] == 2
    assert (
        summary["bias"]["position"]["judged_orders"] + sum(r["verdict"] is None for r in pairwise)
        == 2
    )
