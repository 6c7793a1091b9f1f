"""The writing and tutoring suites: enough tasks, each a checklist a judge can answer."""

from __future__ import annotations

import re

import pytest

from simulacra.tasks import JudgedCheck, Task, suite_tasks

MIN_TASKS = 20


def tasks(name: str) -> list[Task]:
    return suite_tasks(name)


@pytest.mark.parametrize("name", ["writing", "tutoring"])
def test_each_suite_has_enough_judged_tasks_with_distinct_ids(name: str) -> None:
    loaded = tasks(name)
    assert len(loaded) >= MIN_TASKS
    assert len({t.id for t in loaded}) == len(loaded)
    for task in loaded:
        assert task.suite == name and task.id.startswith(f"{name}.")
        assert isinstance(task.check, JudgedCheck), task.id
        assert 3 <= len(task.check.criteria) <= 6, task.id
        assert 1 <= len(task.facts) <= 2, task.id


def test_writing_covers_emails_letters_summaries_and_edits() -> None:
    goals = [t.goal.lower() for t in tasks("writing")]
    assert sum("email" in g for g in goals) >= 3
    assert sum("cover letter" in g for g in goals) >= 2
    assert sum(g.startswith("summarise") for g in goals) >= 2
    # an edit of a given document quotes it in the request
    edits = [t for t in tasks("writing") if re.search(r"'[^']{40,}'", t.goal)]
    assert len(edits) >= 6
    assert all(t.check.scope == "answer" for t in tasks("writing"))  # type: ignore[union-attr]


def test_every_must_have_the_facts_call_for_names_what_the_user_said() -> None:
    """Each figure of a fact (an amount, a date, a count) is one the checklist checks:
    a constraint the user gives is one the judge asks about."""
    for task in tasks("writing"):
        criteria = " ".join(task.check.criteria)  # type: ignore[union-attr]
        for fact in task.facts:
            for number in re.findall(r"(?<![A-Za-z])\d[\d,]*", fact.text):
                assert number.rstrip(",") in criteria, (task.id, number)


def test_tutoring_tasks_hold_a_misconception_and_what_the_learner_knows() -> None:
    for task in tasks("tutoring"):
        check = task.check
        assert isinstance(check, JudgedCheck) and check.scope == "conversation", task.id
        assert task.metadata["misconception"] and task.metadata["knows"], task.id
        assert len(task.facts) == 2, task.id
        assert check.guidance, task.id
        # the first must-have is finding the misconception, the learner's own belief
        assert re.search(r"finds out or notices", check.criteria[0]), task.id
        # the learner's goal does not give the misconception away
        assert task.facts[0].text.lower() not in task.goal.lower(), task.id
