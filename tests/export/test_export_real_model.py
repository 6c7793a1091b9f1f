"""From the embedded model to training data: a best-of-n run on the real llama.cpp
model, exported, loaded by `datasets` and rendered by the model's own chat template."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_helpers import chat_template, load, render

import simulacra
from simulacra.export import ExportConfig, export_run
from simulacra.llm._weights import default_weights
from simulacra.runs import parse_config

pytestmark = pytest.mark.slow

QUESTION = "I ran 6.2 miles this morning. How many kilometres is that?"


def test_a_best_of_n_run_on_the_embedded_model_becomes_sft_and_dpo_data(
    tmp_path: Path, model_cache_dir: Path
) -> None:
    weights = default_weights(directory=model_cache_dir / "models")
    config = parse_config(
        {
            "name": "e2e-export",
            "seed": 5,
            "output_dir": str(tmp_path),
            "models": {"local": {"backend": "local", "path": str(weights), "n_ctx": 2048}},
            "user": {"simulator": "scripted", "options": {"turns": [QUESTION]}},
            "target": {
                "type": "best_of_n",
                "model": "local",
                "n": 3,
                "temperature": 1.0,
                "max_tokens": 48,
                "system_prompt": "Answer in one short sentence.",
                "chooser": {"fixed": "longer"},
            },
            "personas": {"builtin": ["busy-nurse"]},
            "tasks": {"suite": "everyday", "ids": ["run-miles-to-km"]},
        }
    )
    result = simulacra.run(config)
    (episode,) = result.episodes()
    assert episode.status == "ok", episode.error
    (reply,) = [m for m in episode.messages if m.role == "assistant"]
    record = reply.meta["best_of_n"]
    texts = [c["content"] for c in record["candidates"]]
    assert len(texts) == 3 and all(text.strip() for text in texts)
    assert reply.content == texts[record["chosen"]]
    assert len(reply.content.strip()) == max(len(t.strip()) for t in texts)  # "longer" chose

    sft = load(export_run(result.run_dir, tmp_path / "sft").files["parquet"], tmp_path)
    (row,) = sft
    assert row["message_source"] == ["system", "simulated_user", "target"]
    template = chat_template(model_cache_dir)
    text = render(template, row["messages"])
    assert text.startswith("<|im_start|>system\nAnswer in one short sentence.<|im_end|>")
    assert reply.content.strip() in text

    decided = [c for c in record["comparisons"] if c["verdict"] in ("A", "B")]
    assert decided, f"the three candidates were equally long: {texts}"
    dpo = load(
        export_run(result.run_dir, tmp_path / "dpo", ExportConfig(format="dpo")).files["jsonl"],
        tmp_path,
    )
    assert len(dpo) == len(decided)
    for pair in dpo:
        assert pair["pairing"] == "best_of_n"
        assert len(pair["chosen"][0]["content"].strip()) > len(
            pair["rejected"][0]["content"].strip()
        )
        prompt = render(template, pair["prompt"], generation=True)
        assert render(template, pair["prompt"] + pair["chosen"]).startswith(prompt)
