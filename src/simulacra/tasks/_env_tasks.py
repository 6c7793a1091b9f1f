"""Tool-use tasks as ``Task``s, and the environment session of one episode.

An environment task (``simulacra.tasks.envs.EnvTask``) becomes a ``Task`` whose goal is
the user's opening request and whose hidden facts are the rest of its shards, or, for
tasks written without shards (the public retail format), the private details the user
knows (name, zip code, email, order ids), each revealed when asked. The ``EnvTask`` rides
along in ``metadata`` so the episode can build a fresh environment and score it.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from simulacra.errors import ConfigError
from simulacra.tasks._checks import CheckResult, EnvironmentCheck
from simulacra.tasks._task import Fact, Task
from simulacra.tasks.envs import (
    EnvFactory,
    Environment,
    EnvTask,
    load_shop,
    load_tau_retail,
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
}


def _detail_sentence(key: str, value: str) -> str:
    template = _DETAIL_PHRASES.get(key)
    if template is None and key.startswith("order"):
        template = "The order is {}."
    if template is None and key.startswith("email"):
        template = "My email is {}."
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


def as_task(env_task: EnvTask, *, data_dir: str | None = None, max_turns: int = 12) -> Task:
    details = dict(env_task.private_details)
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
            "data_dir": data_dir,
        },
    )


@functools.lru_cache(maxsize=8)
def _shop() -> tuple[EnvFactory, list[EnvTask]]:
    return load_shop()


@functools.lru_cache(maxsize=8)
def _tau_retail(data_dir: str) -> tuple[EnvFactory, list[EnvTask]]:
    path = Path(data_dir)
    if not path.is_dir():
        raise ConfigError(f"retail data directory {path} not found", field="tasks.tau_retail")
    return load_tau_retail(path)


def shop_tasks() -> list[Task]:
    """The built-in shop suite: tool use in a small customer-service database."""
    return [as_task(t) for t in _shop()[1]]


def tau_retail_tasks(data_dir: str | Path) -> list[Task]:
    """Tasks in the public retail benchmark format, from the user's own copy of the data."""
    resolved = str(Path(data_dir).resolve())
    return [as_task(t, data_dir=resolved, max_turns=20) for t in _tau_retail(resolved)[1]]


class EnvSession:
    """The environment of one episode: tools for the target, and the score at the end."""

    def __init__(self, task: Task) -> None:
        if "env_task" not in task.metadata:
            raise ConfigError(
                f"task {task.id} names environment {task.environment!r} but carries no environment task"
            )
        self.env_task = EnvTask.model_validate(task.metadata["env_task"])
        data_dir = task.metadata.get("data_dir")
        if task.environment == "shop":
            self.factory = _shop()[0]
        elif data_dir:
            self.factory = _tau_retail(str(data_dir))[0]
        else:
            raise ConfigError(f"task {task.id}: no data for environment {task.environment!r}")
        self.env: Environment = self.factory()

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

    def score(self, assistant_messages: list[str]) -> CheckResult:
        verdict = score_episode(self.factory, self.env_task, self.env, assistant_messages)
        detail = ""
        if not verdict.hash_match:
            detail = f"final state differs in {len(verdict.diff)} field(s)"
        elif verdict.missing_outputs:
            detail = "missing outputs: " + ", ".join(verdict.missing_outputs)
        return CheckResult(passed=verdict.success, extracted=verdict.to_dict(), detail=detail)
