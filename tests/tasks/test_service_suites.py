"""The bookings and coffee suites: service conversations a judge reads whole."""

from __future__ import annotations

import re

import pytest

from simulacra.tasks import JudgedCheck, suite_tasks


@pytest.mark.parametrize(("name", "max_turns"), [("bookings", 8), ("coffee", 4)])
def test_each_service_suite_has_twenty_distinct_judged_tasks(name: str, max_turns: int) -> None:
    loaded = suite_tasks(name)
    assert len(loaded) >= 20
    assert len({t.id for t in loaded}) == len(loaded)
    for task in loaded:
        assert task.suite == name and task.id.startswith(f"{name}.")
        check = task.check
        assert isinstance(check, JudgedCheck) and check.scope == "conversation", task.id
        assert 2 <= len(check.criteria) <= 4, task.id
        assert task.facts, task.id
        requests = sum(f.request for f in task.facts)
        assert task.max_turns == (12 if requests else max_turns), task.id


def test_half_the_bookings_hold_a_second_request_with_details_the_judge_checks() -> None:
    """People planning a visit ask for two services in one conversation (a hotel, then a
    taxi): a request comes after the first service's details and has one of its own."""
    two = [t for t in suite_tasks("bookings") if any(f.request for f in t.facts)]
    assert len(two) >= 10
    for task in two:
        first = next(i for i, f in enumerate(task.facts) if f.request)
        assert 0 < first < len(task.facts) - 1, task.id
        assert sum(f.request for f in task.facts) == 1, task.id
    assert not any(f.request for t in suite_tasks("coffee") for f in t.facts)


def test_every_figure_a_booking_user_gives_is_one_the_judge_checks() -> None:
    """A party size, a time or a reference the user says is asked about in the checklist:
    the judge cannot pass a booking for the wrong number of people."""
    for task in suite_tasks("bookings"):
        criteria = " ".join(task.check.criteria)  # type: ignore[union-attr]
        for fact in task.facts:
            for figure in re.findall(r"\b\d[\d:]*\b", fact.text):
                assert figure in criteria, (task.id, figure)


def test_the_opening_request_never_says_everything() -> None:
    """Each fact is something the user has not said yet: the goal does not contain it."""
    for name in ("bookings", "coffee"):
        for task in suite_tasks(name):
            for fact in task.facts:
                assert fact.text.lower() not in task.goal.lower(), task.id
