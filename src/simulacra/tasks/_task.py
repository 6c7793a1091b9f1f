"""What the simulated human wants.

A ``Task`` has the goal as the user knows it, hidden facts the user reveals only when the
conversation calls for them, a reference answer and a success check run by code. The same
information split into ``shards`` (the first being the opening request) supports sharded
conversations; ``environment`` names a tool environment for agentic tasks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from simulacra._records import read_records, validation_message
from simulacra.errors import ConfigError
from simulacra.registry import Options, Registry
from simulacra.tasks._checks import Check, CheckResult, UnitTestCheck

_KEY_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


class Fact(BaseModel):
    """A piece of hidden information. ``keys`` reveal it when they appear in a turn
    (default: the numbers in its text). A ``request`` opens a sub-goal: the facts after
    it, up to the next request, are its details ("I also need a taxi to the station.",
    then "It should be there by 10:00."); the user turns to it once what came before is
    done, and may drop it when the assistant cannot do it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1)
    keys: list[str] = Field(default_factory=list)
    request: bool = False

    def mention_keys(self) -> list[str]:
        if self.keys:
            return self.keys
        return [k.replace(",", "") for k in _KEY_NUMBER.findall(self.text)]

    def mentioned_in(self, text: str) -> bool:
        keys = self.mention_keys()
        if not keys:
            return False
        normalised = text.lower().replace(",", "")
        return all(_contains_token(normalised, key.lower()) for key in keys)


_BACKTICKED = re.compile(r"`([^`]+)`")
_QUOTED = re.compile(r"\"([^\"]+)\"")


_NUMERIC_TOKEN = re.compile(r"[\w.,:/\-]*\d[\w.,:/\-]*")


def checkable_items(text: str) -> list[str]:
    """What a grader can check in an instruction: tokens with digits ("O1001", "3h15m",
    "18,500"), `code` and "quoted" strings."""
    plain = _QUOTED.sub(" ", _BACKTICKED.sub(" ", text))
    items = [t.strip(".,:/-") for t in _NUMERIC_TOKEN.findall(plain)]
    items += _BACKTICKED.findall(text) + _QUOTED.findall(text)
    return list(dict.fromkeys(i for i in items if i))


def _mentions(text: str, item: str) -> bool:
    """``item`` occurs in ``text`` as a whole token (commas in numbers ignored)."""
    haystack, needle = text.replace(",", "").lower(), item.replace(",", "").lower()
    if not any(c.isdigit() for c in needle):
        return needle in haystack
    return re.search(rf"(?<![\w.]){re.escape(needle)}(?!\w|\.\d)", haystack) is not None


def _contains_token(text: str, key: str) -> bool:
    return (
        re.search(
            rf"(?<![\w.]){re.escape(key)}(?!\d|[.,]\d)"
            if key[-1:].isdigit()
            else rf"(?<!\w){re.escape(key)}(?!\w)",
            text,
        )
        is not None
    )


class Task(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:\-]+$")
    suite: str = "custom"
    goal: str = Field(min_length=1, description="the opening request, as the user knows it")
    facts: list[Fact] = Field(default_factory=list)
    instruction: str | None = Field(default=None, description="fully specified, single-turn form")
    shards: list[str] = Field(default_factory=list)
    reference: str = ""
    check: Check
    max_turns: int = Field(default=8, ge=1, le=100)
    environment: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("facts", mode="before")
    @classmethod
    def _facts_from_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"text": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("reference", mode="before")
    @classmethod
    def _reference_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value

    def full_instruction(self) -> str:
        return self.instruction or " ".join([self.goal, *(fact.text for fact in self.facts)])

    def shard_texts(self) -> list[str]:
        return self.shards or [self.goal, *(fact.text for fact in self.facts)]

    def evaluate(self, answer: str) -> CheckResult:
        return self.check.evaluate(answer)

    async def aevaluate(self, answer: str) -> CheckResult:
        """``evaluate`` without blocking the event loop (code checks run in the sandbox)."""
        if isinstance(self.check, UnitTestCheck):
            return await self.check.aevaluate(answer)
        return self.check.evaluate(answer)

    @model_validator(mode="after")
    def _shards_cover_instruction(self) -> Task:
        """Every checkable fact of the full instruction must appear in some shard."""
        if self.instruction and self.shards:
            joined = " ".join(self.shards)
            missing = [
                item for item in checkable_items(self.instruction) if not _mentions(joined, item)
            ]
            if missing:
                raise ValueError(
                    "shards do not cover the instruction's checkable facts: " + ", ".join(missing)
                )
        return self

    def gives_answer(self, text: str, *, said: str | None = None) -> bool:
        """Whether ``text`` offers an answer to this task. With ``said`` (what the user has
        said so far), a reply that only gives the user's own words and figures back, or only
        asks, does not; without it, any reply that could hold an answer does (the loop's
        choice of the final answer)."""
        return self.check.gives_answer(text, said=said)


def parse_tasks(data: Any, *, source: str, suite: str | None = None) -> list[Task]:
    """Tasks from ``{suite: name, tasks: [...]}`` or a bare list."""
    if isinstance(data, dict):
        suite = data.get("suite", suite)
        data = data.get("tasks")
    if not isinstance(data, list):
        raise ConfigError("expected a list of tasks (or {suite, tasks})", source=source)
    tasks: list[Task] = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise ConfigError("expected a mapping", source=source, field=f"task {index + 1}")
        if suite and "suite" not in item:
            item = {**item, "suite": suite}
        try:
            task = Task.model_validate(item)
        except ValidationError as exc:
            where = f"task {index + 1} ({item.get('id', '?')})"
            raise ConfigError(validation_message(exc), source=source, field=where) from None
        if task.id in seen:
            raise ConfigError(
                f"duplicate task id {task.id!r}", source=source, field=f"task {index + 1}"
            )
        seen.add(task.id)
        tasks.append(task)
    return tasks


def load_tasks(path: str | Path) -> list[Task]:
    """Read tasks from YAML (``{suite, tasks}`` or a list) or JSONL (one per line)."""
    path = Path(path)
    return parse_tasks(read_records(path, what="task file"), source=str(path))


SuiteLoader = Callable[[Any], list[Task]]

suites: Registry[SuiteLoader] = Registry("task suite")
"""Suite name → ``loader(options) -> list[Task]``, registered with its options model.
(Every tool environment is a suite too: see ``suite_entry``.)"""


def _packaged(name: str) -> list[Task]:
    return load_tasks(Path(__file__).parent / "data" / f"{name}.yaml")


@suites.register("everyday")
def everyday(options: Options) -> list[Task]:
    """Everyday numeric problems: recipes, bills, conversions, dates, money."""
    return _packaged("everyday")


@suites.register("numeric")
def numeric(options: Options) -> list[Task]:
    """Numeric word problems, each fully specified and split into shards."""
    return _packaged("numeric")


@suites.register("code")
def code(options: Options) -> list[Task]:
    """Python function tasks checked by unit tests in the sandbox, with shards."""
    return _packaged("code")


@suites.register("writing")
def writing(options: Options) -> list[Task]:
    """Emails, cover letters, summaries with constraints and edits, judged by a checklist."""
    return _packaged("writing")


@suites.register("tutoring")
def tutoring(options: Options) -> list[Task]:
    """A learner with a misconception the assistant must find, judged on the conversation."""
    return _packaged("tutoring")


def _services(name: str) -> list[Task]:
    """A packaged suite of service conversations (``metadata.kind: service``)."""
    return [
        task.model_copy(update={"metadata": {"kind": "service", **task.metadata}})
        for task in _packaged(name)
    ]


@suites.register("bookings")
def bookings(options: Options) -> list[Task]:
    """Town services by conversation: hotels, tables, trains, taxis, things to do."""
    return _services("bookings")


@suites.register("coffee")
def coffee(options: Options) -> list[Task]:
    """Ordering a drink at a coffee bar: short service conversations."""
    return _services("coffee")
