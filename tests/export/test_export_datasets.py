"""Exports as the real `datasets` library loads them, with the columns TRL's trainers take,
rendered by a real chat template (the embedded model's, read from its GGUF)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from export_helpers import (
    MakeRun,
    chat_template,
    episode,
    load,
    make_run_fixture,  # noqa: F401  (the make_run fixture)
    pairwise,
    render,
    rubric,
    tool_turns,
)

from simulacra.export import ExportConfig, export_run

datasets = pytest.importorskip("datasets")

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "run_v0"

# the columns each TRL trainer reads (its dataset-format guide: conversational formats)
TRL_COLUMNS = {
    "sft": {"messages"},
    "dpo": {"prompt", "chosen", "rejected"},
    "kto": {"prompt", "completion", "label"},
    "pairs": {"prompt", "response_a", "response_b", "verdict"},
}


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))


def is_conversation(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(m, dict) and {"role", "content"} <= set(m) for m in value)
    )


@pytest.mark.parametrize("format", ["sft", "dpo", "kto", "pairs"])
def test_a_judged_run_loads_in_both_files_with_the_trainers_columns(
    format: str, tmp_path: Path
) -> None:
    run = shutil.copytree(FIXTURE, tmp_path / "run")  # a real run, judged by fixed raters
    result = export_run(run, tmp_path / format, ExportConfig(format=format))
    jsonl = load(result.files["jsonl"], tmp_path)
    parquet = load(result.files["parquet"], tmp_path)
    assert len(jsonl) == len(parquet) == result.rows > 0
    assert TRL_COLUMNS[format] <= set(jsonl.column_names)
    assert set(jsonl.column_names) == set(parquet.column_names)
    for data in (jsonl, parquet):
        first = data[0]
        for column in TRL_COLUMNS[format] - {"label", "verdict"}:
            assert is_conversation(first[column]), column
    if format == "kto":
        assert set(parquet["label"]) <= {True, False}
        assert parquet.features["label"].dtype == "bool"
    if format == "dpo":
        for row in parquet:
            assert row["prompt"][-1]["role"] == "user"
            assert all(m["role"] != "user" for m in row["chosen"] + row["rejected"])
    # the card names the data file, so the directory itself loads
    whole = datasets.load_dataset(str(result.out), split="train", cache_dir=str(tmp_path / "hf"))
    assert len(whole) == result.rows


def test_the_card_is_what_the_rows_are(tmp_path: Path) -> None:
    run = shutil.copytree(FIXTURE, tmp_path / "run")
    result = export_run(run, tmp_path / "dpo", ExportConfig(format="dpo"))
    card = result.files["card"].read_text(encoding="utf-8")
    rows = [row for row in load(result.files["parquet"], tmp_path)]
    assert f"- rows: {len(rows)}" in card
    assert "- episodes in the run: 48" in card
    ties = sum(1 for line in card.splitlines() if line.startswith("- left out (tie)"))
    assert ties == 1
    longer = sum(row["chosen_longer"] for row in rows)
    assert f"- the chosen side is the longer: {longer / len(rows):.3f} of {len(rows)}" in card
    assert "raters: first (fixed first" in card and "longer (fixed longer" in card
    assert "config seed 3" in card


def test_rows_render_in_the_embedded_models_chat_template(
    make_run: MakeRun, tmp_path: Path, model_cache_dir: Path
) -> None:
    template = chat_template(model_cache_dir)
    a = episode("a", tool_turns(), repeat=0)
    b = episode("b", tool_turns("I could not find order 7."), repeat=1, success=False)
    run = make_run([a, b], [pairwise("a", "b", "A"), rubric("a", 5)])
    sft = load(export_run(run, tmp_path / "sft", ExportConfig()).files["parquet"], tmp_path)
    text = render(template, sft[0]["messages"])
    assert text.startswith("<|im_start|>system\nYou are the shop's assistant.<|im_end|>")
    assert '"name": "get_order"' in text and '"order_id": "7"' in text
    assert '{"status": "shipped"}' in text  # the tool's result
    assert text.rstrip().endswith("Order 7 has shipped.<|im_end|>")
    assert "None" not in text  # empty fields a dataset fills in are not rendered
    dpo = load(
        export_run(run, tmp_path / "dpo", ExportConfig(format="dpo")).files["jsonl"], tmp_path
    )
    row = dpo[0]
    # how a DPO trainer uses the template: the prompt, then each side after it
    prompt = render(template, row["prompt"], generation=True)
    assert prompt.endswith("<|im_start|>assistant\n")
    for side in ("chosen", "rejected"):
        whole = render(template, row["prompt"] + row[side])
        assert whole.startswith(prompt)
    assert "I could not find order 7." in render(template, row["prompt"] + row["rejected"])


def documented_columns() -> dict[str, list[str]]:
    """The columns docs/training-data.md lists for each format, in its table."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "training-data.md").read_text()
    table: dict[str, list[str]] = {}
    for line in doc.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].strip("`") in TRL_COLUMNS:
            names = re.findall(r"`([a-z_]+)`", cells[1] + " " + cells[2])
            table[cells[0].strip("`")] = names
    return table


def test_the_documented_columns_are_the_files_columns(tmp_path: Path) -> None:
    documented = documented_columns()
    assert set(documented) == set(TRL_COLUMNS)
    run = shutil.copytree(FIXTURE, tmp_path / "run")
    for format, columns in documented.items():
        config = ExportConfig(format=format, files=("parquet",))
        result = export_run(run, tmp_path / format, config)
        assert load(result.files["parquet"], tmp_path).column_names == columns, format
