"""Registered report sections: one function and one registration make a tab; a section
that fails shows its error in its own tab; text is shown, never run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import XSS, Runs, Watch, episode, persona, task
from simulacra.report import Section, SectionTable, build_payload, build_report, load_run
from simulacra.report import report_sections as sections

ANN = persona("ann", "Ann")
T1, T2 = task("t1"), task("t2")


def failing_run(runs: Runs, message: str = "TargetError: the app is down") -> Path:
    eps = [
        episode("s", ANN, T1, 0),
        episode("s", ANN, T2, 0, status="error"),
        episode("s", ANN, T2, 1, status="error", error=message),
    ]
    return runs.write("sections", eps)


@pytest.fixture
def registered() -> Iterator[list[str]]:
    """Sections registered by a test, removed afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        sections._items.pop(name, None)


def part_of(path: Path) -> dict[str, Any]:
    return build_payload([load_run(path)]).data["runs"][0]


def test_the_errors_section_counts_recorded_faults_by_kind(runs: Runs) -> None:
    part = part_of(failing_run(runs))
    (errors,) = [s for s in part["sections"] if s["id"] == "errors"]
    (table,) = errors["tables"]
    assert table["columns"] == ["kind", "episodes", "first episode", "first message"]
    assert sorted((row[0], row[1]) for row in table["rows"]) == [
        ("ModelError", 1),
        ("TargetError", 1),
    ]
    assert "2 of 3 episodes errored" in errors["notes"][0]
    clean = runs.write("clean", [episode("c", ANN, T1, 0)])
    assert "errors" not in [s["id"] for s in part_of(clean)["sections"]]


def test_one_function_and_one_registration_make_a_tab(runs: Runs, registered: list[str]) -> None:
    @sections.register("turn-counts")
    def turns(run: Any) -> Section:
        rows = [[e.id, e.user_turns] for e in run.episodes]
        return Section(
            title="Turns", tables=[SectionTable(columns=["episode", "turns"], rows=rows)]
        )

    @sections.register("broken")
    def broken(run: Any) -> Section:
        raise KeyError("missing field")

    @sections.register("empty")
    def empty(run: Any) -> None:
        return None

    registered.extend(["turn-counts", "broken", "empty"])
    part = part_of(failing_run(runs))
    by_id = {s["id"]: s for s in part["sections"]}
    assert {"errors", "turn-counts", "broken"} <= set(by_id) and "empty" not in by_id
    assert by_id["turn-counts"]["tables"][0]["rows"][0][1] == 2
    assert "this section failed: KeyError" in by_id["broken"]["notes"][0]


@pytest.mark.browser
def test_a_section_is_a_tab_drawn_as_text(runs: Runs, page: Any, watch: Watch) -> None:
    path = failing_run(runs, message="TargetError: " + " ".join(XSS))
    report = build_report(path)
    page.goto(report.resolve().as_uri())
    page.wait_for_selector("html[data-ready]")
    buttons = page.locator("nav.tabs button")
    names = [buttons.nth(i).get_attribute("data-tab") for i in range(buttons.count())]
    assert "section/errors" in names
    page.locator("nav.tabs button[data-tab='section/errors']").click()
    page.wait_for_selector("[data-section-view='errors']")
    assert page.locator("body").get_attribute("data-view") == "section"
    cells = page.locator("table.section-table td").all_inner_texts()
    assert "ModelError" in cells and "TargetError" in cells
    shown = " ".join(cells)
    for payload in XSS:
        assert payload in shown  # the text itself, not markup
    assert page.locator("table.section-table img, table.section-table script").count() == 0
    assert watch.dialogs == [] and watch.errors == []
