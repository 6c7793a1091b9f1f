"""The coverage study runs and prints its table (a few repetitions, one worker)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "coverage.py"


def test_the_coverage_study_prints_a_row_per_cell(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("coverage_study", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.main(["--reps", "3", "--only", "calibrate", "--jobs", "1"])
    printed = capsys.readouterr().out
    assert printed.count("| calibrate gap |") == 3
    assert "coverage ± SE" in printed and "3 cells, 3 repetitions each" in printed
    names = {cell.estimator for cell in module.cells()}
    for wanted in ("PPI", "PPI++", "select+estimate", "success rate", "pass^2",
                   "LC win rate (tanh)", "calibrate gap"):  # fmt: skip
        assert wanted in names
