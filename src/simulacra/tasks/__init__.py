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
from simulacra.tasks._env_tasks import (
    EnvironmentSuite,
    EnvSession,
    as_task,
    load_environment,
    suite_entry,
    suite_tasks,
)
from simulacra.tasks._task import (
    Fact,
    SuiteLoader,
    Task,
    checkable_items,
    load_tasks,
    parse_tasks,
    suites,
)

__all__ = [
    "AnyOfCheck",
    "Check",
    "CheckResult",
    "DateCheck",
    "EnvSession",
    "EnvironmentSuite",
    "Fact",
    "NumericCheck",
    "PythonCheck",
    "RegexCheck",
    "SuiteLoader",
    "Task",
    "UnitTestCheck",
    "as_task",
    "checkable_items",
    "extract_code",
    "extract_dates",
    "extract_numbers",
    "load_environment",
    "load_tasks",
    "parse_tasks",
    "suite_entry",
    "suite_tasks",
    "suites",
]
