"""Judged tasks in the report, in headless Chromium: each episode shows the judge's
verdict, the must-haves met or not with the judge's reasons, and the judged tab lists
them all; the judge's words stay text."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import simulacra
from judges_for_tests import HOSTILE, writing_run_config
from simulacra.report import build_report
from simulacra.rundir import RunDir
from simulacra.runs import RunConfig

pytestmark = pytest.mark.browser


def judged_run(tmp_path: Path) -> Path:
    config = RunConfig.model_validate(
        writing_run_config(str(tmp_path / "runs"), "judged-report", "hostile_judge")
    )
    # (the browser's driver holds this thread's event loop: the run plays on another)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(simulacra.run, config).result().run_dir


def test_an_episode_shows_the_verdict_and_each_must_have_with_its_reason(
    tmp_path: Path, page: Any, watch: Any, artifacts: Path
) -> None:
    run_dir = judged_run(tmp_path)
    (episode,) = RunDir(run_dir).episodes()
    judgement = episode.judgement
    assert judgement is not None and judgement.verdict == "fail"
    report = build_report(run_dir)
    page.goto(report.resolve().as_uri() + "#/episode/a/0")
    page.wait_for_selector("body[data-episode-loaded='0']")
    panel = page.locator("[data-panel='judge']")
    assert panel.locator(".pill").inner_text() == "fail"
    assert f"{judgement.met}/5 must-haves met (5 needed)" in panel.inner_text()
    items = panel.locator("ul.judge-criteria li")
    assert items.count() == 5
    for index, criterion in enumerate(judgement.criteria):
        text = items.nth(index).inner_text()
        assert criterion.criterion in text
        assert HOSTILE in text  # the reason, as text
        assert items.nth(index).locator(".mark").inner_text() == ("✓" if criterion.met else "✗")
    assert "orders agree" in panel.inner_text()
    panel.locator("details summary").click()
    assert "<b>verdicts</b>" in panel.locator("pre.judge-reasons").inner_text()
    page.screenshot(path=str(artifacts / "report-judged-episode.png"), full_page=True)
    # the judged tab: every verdict and must-have of the run, and the judge's diagnostics
    page.evaluate("location.hash = '#/section/judged'")
    page.wait_for_selector("[data-section-view='judged']")
    view = page.locator("[data-section-view='judged']")
    assert "1 judged episodes: 0 passed, 1 failed, 0 abstained" in view.inner_text()
    assert "both orders agreed on" in view.inner_text()
    rows = view.locator("table[data-section='judged']").nth(1).locator("tbody tr")
    assert rows.count() == 5
    assert "not met" in view.inner_text() and HOSTILE in rows.first.inner_text()
    # nothing the judge wrote became an element
    assert page.locator("img, script:not([type]) ~ script:not([type]), b").count() == 0
    assert page.locator("[onerror]").count() == 0
    assert watch.dialogs == [] and watch.errors == []
