"""The worked example of docs/training-data.md runs as written (scripted models)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytest.importorskip("datasets")
pytest.importorskip("pyarrow")

DOC = Path(__file__).resolve().parents[2] / "docs" / "training-data.md"


def test_the_worked_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    section = DOC.read_text(encoding="utf-8").split("## A worked example, end to end", 1)[1]
    (code,) = re.findall(r"```python\n(.*?)```", section.split("\n## ", 1)[0], re.S)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    namespace: dict[str, object] = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # the example's own asserts check it
    assert os.path.exists(tmp_path / "data" / "flour-sft" / "sft.parquet")
    assert len(namespace["dpo"]) > 0  # type: ignore[arg-type]
    assert namespace["turns"]
