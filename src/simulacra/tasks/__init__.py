"""Tasks: what simulated users want, and code that checks whether they got it."""

from simulacra.tasks._checks import (
    AnyOfCheck,
    Check,
    CheckResult,
    DateCheck,
    NumericCheck,
    PythonCheck,
    RegexCheck,
    UnitTestCheck,
    extract_code,
    extract_dates,
    extract_numbers,
)
from simulacra.tasks._task import (
    Fact,
    Task,
    checkable_items,
    load_tasks,
    parse_tasks,
    suite_tasks,
    suites,
)

__all__ = [
    "AnyOfCheck",
    "Check",
    "CheckResult",
    "DateCheck",
    "Fact",
    "NumericCheck",
    "PythonCheck",
    "RegexCheck",
    "Task",
    "UnitTestCheck",
    "checkable_items",
    "extract_code",
    "extract_dates",
    "extract_numbers",
    "load_tasks",
    "parse_tasks",
    "suite_tasks",
    "suites",
]
