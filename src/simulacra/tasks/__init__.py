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
from simulacra.tasks._env_tasks import EnvSession, as_task, shop_tasks, tau_retail_tasks
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
    "EnvSession",
    "Fact",
    "NumericCheck",
    "PythonCheck",
    "RegexCheck",
    "Task",
    "UnitTestCheck",
    "as_task",
    "checkable_items",
    "extract_code",
    "extract_dates",
    "extract_numbers",
    "load_tasks",
    "parse_tasks",
    "shop_tasks",
    "suite_tasks",
    "suites",
    "tau_retail_tasks",
]
