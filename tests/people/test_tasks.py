from __future__ import annotations

import datetime as dt

import pytest

from simulacra.errors import ConfigError
from simulacra.tasks import (
    AnyOfCheck,
    DateCheck,
    Fact,
    NumericCheck,
    extract_dates,
    extract_numbers,
    load_tasks,
    suite_tasks,
)


def test_everyday_suite_has_twenty_checkable_tasks_and_references_pass() -> None:
    tasks = suite_tasks("everyday")
    assert len(tasks) >= 20
    for task in tasks:
        assert task.facts, task.id
        assert task.evaluate(task.reference).passed, task.id
        assert not task.evaluate("I have no idea, sorry.").passed, task.id


def test_number_extraction() -> None:
    assert extract_numbers("Total $1,234.50 or 7.6 L, half is 1/2, minus −3") == [
        1234.5,
        7.6,
        0.5,
        -3.0,
    ]
    assert extract_numbers("1. Add flour\n2. Mix 3 eggs") == [3.0]


def test_numeric_check_tolerance_and_strict() -> None:
    check = NumericCheck(value=52.9)
    assert check.evaluate("Each of you pays $52.90").passed
    assert not check.evaluate("Each pays 53.50").passed
    assert check.evaluate("The bill 184 plus tip is 211.60, so 52.90 each").passed
    assert not NumericCheck(value=52.9, strict=True).evaluate("52.90 each, 211.60 total").passed
    assert NumericCheck(value=356, abs_tol=6).evaluate("Set it to 350°F").passed


def test_date_check_reads_common_formats() -> None:
    check = DateCheck(value=dt.date(2026, 3, 6))
    for text in ("It's due 2026-03-06.", "Due on March 6, 2026", "due 6th March", "the 6 of March"):
        assert check.evaluate(text).passed, text
    assert not check.evaluate("Due March 7").passed
    assert extract_dates("5 Feb 2026 and 30 Feb 2026") == [dt.date(2026, 2, 5)]


def test_any_of_is_word_bounded() -> None:
    check = AnyOfCheck(values=["8 pm", "20:00"])
    assert check.evaluate("It'll be 8 PM for you").passed
    assert not check.evaluate("It'll be 18 pm").passed


def test_fact_mentions_need_every_key() -> None:
    fact = Fact(text="The recipe serves 4 and uses 300 g of flour.")
    assert fact.mention_keys() == ["4", "300"]
    assert fact.mentioned_in("serves 4, 300g flour")
    assert not fact.mentioned_in("serves 4 with 3000 g")
    assert not fact.mentioned_in("serves 40 and 300 g")


def test_bad_task_file_names_task_and_field(tmp_path) -> None:
    path = tmp_path / "tasks.yaml"
    path.write_text("tasks:\n  - id: a\n    goal: g\n    check: {type: numeric}\n")
    with pytest.raises(
        ConfigError, match=r"tasks.yaml: task 1 \(a\): check.numeric.value: Field required"
    ):
        load_tasks(path)
    path.write_text("tasks:\n  - id: a\n    check: {type: numeric, value: 1}\n")
    with pytest.raises(ConfigError, match=r"task 1 \(a\): goal: Field required"):
        load_tasks(path)


def test_unknown_suite_lists_known() -> None:
    with pytest.raises(ConfigError, match=r"unknown task suite 'nope' \(known: .*everyday"):
        suite_tasks("nope")
