"""The report's judged tab lays out the judge's figures the summary computed, and
completes a summary written before they were kept by the same computation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import simulacra
from judges_for_tests import writing_run_config
from simulacra.report import build_payload, load_run
from simulacra.rundir import RunDir
from simulacra.runs import RunConfig


def judged_run(tmp_path: Path) -> Path:
    config = RunConfig.model_validate(
        writing_run_config(str(tmp_path / "runs"), "judged-tab", "first_yes_judge")
    )
    return simulacra.run(config).run_dir


def judged_notes(path: Path) -> list[str]:
    part: dict[str, Any] = build_payload([load_run(path)]).data["runs"][0]
    (section,) = [s for s in part["sections"] if s["id"] == "judged"]
    return list(section["notes"])


def test_the_judged_tab_shows_the_summarys_figures(tmp_path: Path) -> None:
    run_dir = judged_run(tmp_path)
    summary = RunDir(run_dir).summary()
    assert summary is not None and summary.judged is not None
    position = summary.judged.position
    assert position is not None and position.items_judged_in_both_orders == 5
    notes = judged_notes(run_dir)
    assert notes[0].startswith("1 judged episodes: 0 passed, 1 failed, 0 abstained")
    assert "shown first were called met 100% of the time, shown last 0%" in notes[1]
    assert f"both orders agreed on {position.order_agreement:.0%} of 5 items" in notes[1]
    # the tab reads the summary: a figure changed there is the figure shown
    path = run_dir / "summary.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["judged"]["position"]["first_shown_met"] = 0.25
    path.write_text(json.dumps(data), encoding="utf-8")
    assert "shown first were called met 25% of the time" in judged_notes(run_dir)[1]


def test_a_summary_written_before_the_figures_is_completed_from_the_episodes(
    tmp_path: Path,
) -> None:
    run_dir = judged_run(tmp_path)
    expected = judged_notes(run_dir)
    path = run_dir / "summary.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for name in ("position", "length"):
        del data["judged"][name]
    path.write_text(json.dumps(data), encoding="utf-8")
    run = load_run(run_dir)
    assert run.filled == ["judged.position", "judged.length"]
    assert run.summary.judged is not None and run.summary.judged.position is not None
    assert judged_notes(run_dir) == expected
