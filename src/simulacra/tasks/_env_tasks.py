"""Tool-use tasks as ``Task``s, and the environment session of one episode.

An environment task (``simulacra.tasks.envs.EnvTask``) becomes a ``Task`` whose goal is
the user's opening request and whose hidden facts are the rest of its shards, or, for
tasks written without shards (the public retail format), the private details the user
knows (name, zip code, email, order ids), each revealed when asked. The ``EnvTask`` and
the environment's name and options ride along in ``metadata``, so the episode can build
a fresh environment from the registry and score it.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulacra.errors import ConfigError
from simulacra.registry import Entry, Options
from simulacra.tasks._checks import CheckResult, EnvironmentCheck
from simulacra.tasks._task import Fact, SuiteLoader, Task, suites
from simulacra.tasks.envs import (
    EnvFactory,
    Environment,
    EnvOptions,
    EnvTask,
    JudgedAssertions,
    environments,
    score_episode,
)

_DETAIL_PHRASES = {
    "name": "My name is {}.",
    "first_name": "My first name is {}.",
    "last_name": "My last name is {}.",
    "zip": "My zip code is {}.",
    "email": "My email is {}.",
    "phone": "My phone number is {}.",
    "order_id": "The order is {}.",
    "user_id": "My user id is {}.",
    "reservation_ids": "The reservation is {}.",
}
_NAME = r"([A-Z][a-z][\w'-]*) ([A-Z][a-z][\w'-]*)"
_IDENTITY = [
    # "Your name is Olivia Ito and your zip code is 80218."
    re.compile(rf"\b[Yy]our name is {_NAME}"),
    # "You are Yusuf Rossi in 19122." / "You are Maya Okafor." (not "You are outgoing")
    re.compile(
        rf"\bYou are {_NAME}(?=[.,;]|\s+(?:and|in|from|living|who|with)\b)"
        r"(?:,?\s+(?:and\s+)?(?:you\s+)?(?:live|living|based)?\s*(?:in|from|at)\s+"
        r"(?:zip(?:\s+code)?\s+)?(\d{5})\b)?"
    ),
]
_ZIP = re.compile(r"\bzip(?:\s*code)?(?:\s+is|:)?\s+(\d{5})\b", re.I)
_USER_ID = re.compile(r"\buser(?:\s+|_)id\s+(?:is\s+)?([a-z]+(?:_[a-z]+)*_\d+)\b", re.I)
_RESERVATION = re.compile(r"\b[Rr]eservation(?:\s+(?i:id))?(?:\s+is)?\s+([A-Z0-9]{6})\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ORDER = re.compile(r"#?W\d{7}\b")


def identity_details(instruction: str) -> dict[str, str]:
    """Who the user of a tool-use task is, as its instruction says it.

    Understands the phrasings of the public retail and airline tasks: "Your name is
    Olivia Ito and your zip code is 80218", "You are Yusuf Rossi in 19122", "Your user id
    is mia_li_3668", e-mail addresses, order ids ("#W5442520") and reservation ids.
    """
    details: dict[str, str] = {}
    for pattern in _IDENTITY:
        match = pattern.search(instruction)
        if match:
            details["first_name"], details["last_name"] = match.group(1), match.group(2)
            if match.lastindex and match.lastindex >= 3 and match.group(3):
                details["zip"] = match.group(3)
            break
    if "zip" not in details and (zip_code := _ZIP.search(instruction)):
        details["zip"] = zip_code.group(1)
    if user_id := _USER_ID.search(instruction):
        details["user_id"] = user_id.group(1)
    emails = list(dict.fromkeys(m.rstrip(".") for m in _EMAIL.findall(instruction)))
    if len(emails) == 1:
        details["email"] = emails[0]
    elif emails:
        details["emails"] = ", ".join(emails)
    orders = list(dict.fromkeys("#" + m.lstrip("#") for m in _ORDER.findall(instruction)))
    if orders:
        details["order_ids"] = ", ".join(orders)
    reservations = list(dict.fromkeys(_RESERVATION.findall(instruction)))
    if reservations:
        details["reservation_ids"] = ", ".join(reservations)
    return details


def _detail_sentence(key: str, value: str) -> str:
    template = _DETAIL_PHRASES.get(key)
    if template is None and key.startswith("order"):
        template = "The order is {}."
    if template is None and key.startswith("email"):
        template = "My email is {}." if key == "email" else "My emails are {}."
    return (template or f"My {key.replace('_', ' ')} is {{}}.").format(value)


def _opening(instruction: str) -> str:
    """The request part of a second-person instruction, turned to the first person."""
    sentences = re.split(r"(?<=[.!?])\s+", instruction.strip())
    wanted = [s for s in sentences if re.search(r"\b(want|would like|wish|need|hope)\b", s, re.I)]
    text = wanted[0] if wanted else "I need help with an order."
    for pattern, replacement in (
        (r"\byou are\b", "I am"),
        (r"\byou're\b", "I'm"),
        (r"\byou\b", "I"),
        (r"\byour\b", "my"),
        (r"\byourself\b", "myself"),
    ):
        text = re.sub(pattern, replacement, text, flags=re.I)
    text = re.sub(r"\bI want to\b", "I'd like to", text)
    return text[0].upper() + text[1:]


def _keys(text: str, details: dict[str, str]) -> list[str]:
    found = [value for value in details.values() if value and value.lower() in text.lower()]
    return found or [n for n in re.findall(r"\d+(?:\.\d+)?", text)]


def judged_assertions(task: Task) -> tuple[str, ...]:
    """What a judge must rule on for ``task``'s score: an environment task's
    ``assertions`` (a τ² task's NL assertions in its reward basis); empty for the rest."""
    env_task = task.metadata.get("env_task")
    if not isinstance(env_task, dict):
        return ()
    return tuple(str(a) for a in env_task.get("assertions") or ())


def as_task(
    env_task: EnvTask, *, environment: str | None = None, options: Options | None = None
) -> Task:
    """``env_task`` as a ``Task`` of the environment registered as ``environment``
    (default: the task's own ``env``) with ``options``."""
    name = environment or env_task.env
    options = options or environments.entry(name).validate({})
    max_turns = options.max_turns if isinstance(options, EnvOptions) else 12
    details = {**identity_details(env_task.instruction), **env_task.private_details}
    if not env_task.shards and not details:
        raise ConfigError(
            f"task {env_task.id}: the instruction names no identity the user could give "
            "(a name, zip code, e-mail, user id or order id): "
            f"{' '.join(env_task.instruction.split()[:12])!r}…"
        )
    if env_task.shards:
        goal, *rest = env_task.shards
        facts = [Fact(text=text, keys=_keys(text, details)) for text in rest]
    else:
        goal = _opening(env_task.instruction)
        facts = [
            Fact(text=_detail_sentence(key, value), keys=[value])
            for key, value in details.items()
            if value and value.lower() not in goal.lower()
        ]
    outputs = list(env_task.outputs)
    reference = "; ".join(
        f"{a.name}({', '.join(f'{k}={v!r}' for k, v in a.arguments.items())})"
        for a in env_task.actions
    )
    return Task(
        id=env_task.id,
        suite=env_task.suite,
        goal=goal,
        facts=facts,
        shards=list(env_task.shards),
        reference=reference + (f"; say: {', '.join(outputs)}" if outputs else ""),
        check=EnvironmentCheck(),
        max_turns=max_turns,
        environment=env_task.env,
        metadata={
            "env_task": env_task.model_dump(mode="json"),
            "instruction": env_task.instruction,
            "environment": {"name": name, "options": options.model_dump(mode="json")},
        },
    )


@functools.lru_cache(maxsize=16)
def _loaded(name: str, options_json: str) -> tuple[EnvFactory, list[EnvTask]]:
    entry = environments.entry(name)
    options = entry.validate(json.loads(options_json))
    return entry.value(options)


def load_environment(name: str, options: Options) -> tuple[EnvFactory, list[EnvTask]]:
    """The environment registered as ``name`` and its tasks (loaded once per options)."""
    return _loaded(name, json.dumps(options.model_dump(mode="json"), sort_keys=True))


@dataclass(frozen=True)
class EnvironmentSuite:
    """The tasks of a registered environment, as a task suite of the same name."""

    name: str

    def __call__(self, options: Options) -> list[Task]:
        _, env_tasks = load_environment(self.name, options)
        return [as_task(t, environment=self.name, options=options) for t in env_tasks]


def suite_entry(name: str) -> Entry[SuiteLoader]:
    """The task suite called ``name``: a registered suite, or else a tool environment."""
    if name in suites or ":" in name:
        return suites.entry(name)
    if name not in environments:
        known = ", ".join(sorted({*suites.names(), *environments.names()}))
        raise ConfigError(f"unknown task suite {name!r} (known: {known})")
    options = environments.entry(name).options
    return Entry(suites.kind, name, EnvironmentSuite(name), options)


def suite_tasks(name: str, options: Options | dict[str, Any] | None = None) -> list[Task]:
    """The tasks of suite ``name`` with ``options`` (a mapping is validated first)."""
    entry = suite_entry(name)
    if not isinstance(options, Options):
        options = entry.parse(options)
    tasks = entry.value(options)
    if not isinstance(tasks, list) or not all(isinstance(t, Task) for t in tasks):
        raise ConfigError(f"task suite {name!r} did not return a list of Task")
    return tasks


def shop_tasks() -> list[Task]:
    """The built-in shop suite: tool use in a small customer-service database."""
    return suite_tasks("shop")


def tau_retail_tasks(data_dir: str | Path) -> list[Task]:
    """Tasks in the public retail benchmark format, from the user's own copy of the data."""
    return suite_tasks("tau-retail", {"data_dir": str(Path(data_dir).resolve())})


class EnvSession:
    """The environment of one episode: tools for the target, and the score at the end."""

    def __init__(self, task: Task) -> None:
        if "env_task" not in task.metadata:
            raise ConfigError(
                f"task {task.id} names environment {task.environment!r} but carries no environment task"
            )
        self.env_task = EnvTask.model_validate(task.metadata["env_task"])
        where = task.metadata.get("environment") or {}
        name = str(where.get("name") or task.environment)
        entry = environments.entry(name)
        try:
            options = entry.validate(where.get("options"))
        except ValueError as exc:
            raise ConfigError(f"task {task.id}: environment {name!r}: {exc}") from None
        self.factory = load_environment(name, options)[0]
        self.env: Environment = self.factory()
        self.env.start(self.env_task)

    @property
    def user_tools(self) -> Environment | None:
        """The simulated user's own tools in this environment (none for most domains)."""
        return self.env.user_side

    @property
    def instructions(self) -> str:
        return self.env.instructions

    @property
    def stopped(self) -> bool:
        return bool(self.env.stopped)

    def tools(self) -> list[dict[str, Any]]:
        return self.env.tools()

    def call(self, name: str, arguments: str | dict[str, Any]) -> str:
        return self.env.call(name, arguments)

    @property
    def assertions(self) -> tuple[str, ...]:
        """What a judge must rule on for the score (``EnvTask.assertions``; mostly none)."""
        return self.env_task.assertions

    def score(
        self, assistant_messages: list[str], *, judged: JudgedAssertions | None = None
    ) -> CheckResult:
        """The verdict on the environment as the agent left it (``passed`` None: a judge
        of the task's ``assertions``, ``judged``, abstained on what decides it)."""
        verdict = score_episode(
            self.factory, self.env_task, self.env, assistant_messages, judged=judged
        )
        detail = ""
        if verdict.criteria:  # a domain's own criteria: name those of its basis that failed
            basis = verdict.criteria.get("reward_basis", [])
            outcome = {name: verdict.criteria.get(name, {}).get("passed", True) for name in basis}
            failed = [name for name, passed in outcome.items() if passed is False]
            unknown = [name for name, passed in outcome.items() if passed is None]
            parts = ["failed: " + ", ".join(failed)] if failed else []
            parts += ["abstained: " + ", ".join(unknown)] if unknown else []
            detail = "; ".join(parts)
        elif not verdict.hash_match:
            detail = f"final state differs in {len(verdict.diff)} field(s)"
        elif verdict.missing_outputs:
            detail = "missing outputs: " + ", ".join(verdict.missing_outputs)
        return CheckResult(
            passed=None if verdict.abstained else verdict.success,
            extracted=verdict.to_dict(),
            detail=detail,
        )
