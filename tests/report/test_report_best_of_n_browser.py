"""A best-of-n run's report in headless Chromium: the win rate over plain samples with the
length-controlled rate beside it (or the command that compares), and each turn's
candidates with the chosen one marked; the candidates' markup stays text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from best_of_n_runs import CANDIDATES, HOSTILE, best_of_n, compare, plain
from simulacra.report import build_report
from simulacra.sim.best_of_n import comparisons_with_single_samples

pytestmark = pytest.mark.browser


def open_report(page: Any, report: Path, hash_part: str = "") -> None:
    page.goto(report.resolve().as_uri() + hash_part)
    page.wait_for_selector("html[data-ready]")


def pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def test_the_overview_shows_the_win_rate_over_n_1_or_how_to_get_it(
    tmp_path: Path, page: Any, watch: Any, artifacts: Path
) -> None:
    best = best_of_n(tmp_path / "runs")
    single = plain(tmp_path / "runs")
    open_report(page, build_report(best))
    panel = page.locator("[data-panel='best-of-n']")
    assert "Best of 3 over n = 1" in panel.inner_text()
    command = panel.locator("pre[data-command='compare']").inner_text()
    assert command == f"simulacra compare {best.resolve()} {single.resolve()}"
    compare(best, single)
    report = build_report(best)
    open_report(page, report)
    panel = page.locator("[data-panel='best-of-n']")
    assert panel.locator("pre[data-command]").count() == 0
    found = comparisons_with_single_samples(best)
    assert found is not None
    (each,) = found.comparisons
    assert each.win_rate is not None and each.length_controlled is not None
    against = panel.locator("[data-against='single']")
    assert "against single · 6 pairs" in against.inner_text()
    for key, given in (("win-rate", each.win_rate), ("lc-win-rate", each.length_controlled)):
        assert given.value is not None and given.low is not None and given.high is not None
        rate = against.locator(f"[data-rate='{key}']")
        assert rate.locator("b").inner_text() == pct(given.value)
        assert f"95% CI {pct(given.low)} – {pct(given.high)}" in rate.inner_text()
    assert against.locator(".bar-label").all_inner_texts() == ["win rate", "length-controlled"]
    page.screenshot(path=str(artifacts / "report-best-of-n.png"), full_page=True)
    assert watch.dialogs == [] and watch.errors == []


def test_a_turn_shows_its_candidates_and_the_chosen_one_as_text(
    tmp_path: Path, page: Any, watch: Any, artifacts: Path
) -> None:
    report = build_report(best_of_n(tmp_path / "runs"))
    open_report(page, report, "#/episode/a/0")
    page.wait_for_selector("body[data-episode-loaded='0']")
    reply = page.locator(".chat .turn.assistant")
    assert reply.locator(":scope > .bubble").inner_text() == CANDIDATES[1]
    block = reply.locator("details.candidates")
    assert block.locator("summary").inner_text() == "best of 3: candidate 2 chosen by chooser"
    block.locator("summary").click()
    candidates = block.locator("li.candidate")
    assert candidates.count() == 3
    assert candidates.locator(".bubble").all_inner_texts() == CANDIDATES
    assert [candidates.nth(i).get_attribute("data-chosen") for i in range(3)] == ["no", "yes", "no"]
    assert "chosen" in candidates.nth(1).locator(".who-line").inner_text()
    assert block.locator("ul.knockout li").all_inner_texts() == ["1 vs 2: 2 wins", "2 vs 3: 2 wins"]
    page.screenshot(path=str(artifacts / "report-best-of-n-episode.png"), full_page=True)
    # the candidates' markup became no element: no image, no bold, no second script
    assert page.locator("img, b:text('bold'), [onerror]").count() == 0
    assert page.locator("script:not([type])").count() == 1
    assert HOSTILE[2] in page.locator("body").inner_text()
    assert watch.dialogs == [] and watch.errors == []
