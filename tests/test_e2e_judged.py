"""A judged task end to end on the real embedded model (llama.cpp, Qwen2.5-Coder-0.5B):
the model writes the letter and judges it, and the verdict is in the episode."""

from __future__ import annotations

from pathlib import Path

import pytest

import simulacra
from simulacra.llm._weights import default_weights
from simulacra.rundir import RunDir
from simulacra.runs import parse_config

pytestmark = pytest.mark.slow


def test_a_writing_task_is_judged_on_the_embedded_model(
    tmp_path: Path, model_cache_dir: Path
) -> None:
    weights = default_weights(directory=model_cache_dir / "models")
    config = parse_config(
        {
            "name": "e2e-judged",
            "output_dir": str(tmp_path),
            "models": {"local": {"backend": "local", "path": str(weights), "n_ctx": 4096}},
            "user": {"model": "local"},
            "target": {"model": "local", "max_tokens": 120},
            "judge": {"max_tokens": 160},
            "personas": {"builtin": ["polite-professional"]},
            "tasks": {"suite": "writing", "ids": ["writing.out-of-office"]},
            "modes": ["full"],
        }
    )
    result = simulacra.run(config)
    (episode,) = RunDir(result.run_dir).episodes()
    assert episode.status == "ok", episode.error
    judgement = episode.judgement
    assert judgement is not None and judgement.model
    assert len(judgement.criteria) == 4
    assert judgement.verdict in ("pass", "fail", "abstain")
    assert episode.usage["judge"].completion_tokens > 0
    assert judgement.reasons  # the judge's own reply is kept
    answered = [c for c in judgement.criteria if c.met is not None]
    if judgement.verdict != "abstain":
        assert answered and all(c.shown_at for c in answered)
    judged = result.summary.judged
    assert judged is not None and judged.episodes == 1
    assert judged.passed + judged.failed + judged.abstained == 1
