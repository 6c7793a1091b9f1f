"""A task suite: sums of two numbers, as many as asked for."""

from __future__ import annotations

from pydantic import Field

from simulacra.registry import Options
from simulacra.tasks import Fact, NumericCheck, Task, suites


class SumsOptions(Options):
    count: int = Field(default=3, ge=1, le=100)


def sums(options: SumsOptions) -> list[Task]:
    return [
        Task(
            id=f"sum-{n}",
            suite="sums",
            goal=f"What is {n} plus a number I'll tell you?",
            facts=[Fact(text=f"The other number is {n + 1}.")],
            reference=str(2 * n + 1),
            check=NumericCheck(value=2 * n + 1),
        )
        for n in range(1, options.count + 1)
    ]


def register() -> None:
    """The ``example-suites`` entry point: a callable that registers the suite."""
    suites.add("sums", sums, options=SumsOptions)
