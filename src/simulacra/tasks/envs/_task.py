"""Tool-use tasks over an environment, their load-time checks, and episode scoring.

A task's expected outcome is not a stored state but the list of ground-truth tool calls
that produce it. Scoring replays those calls on a fresh environment and compares the
hash of the result with the hash of the state the agent left; the reward is 1 only when
the hashes match and the agent said every required ``outputs`` string (case-insensitive,
commas removed) in some message of its own.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from simulacra._records import read_json
from simulacra.errors import ConfigError, TaskWarning
from simulacra.tasks.envs._base import DiffRow, EnvFactory, Environment
from simulacra.tasks.envs._policy import PolicyViolation

__all__ = [
    "Action",
    "AssertionOutcome",
    "AssertionVerdict",
    "EnvScore",
    "EnvTask",
    "JudgedAssertions",
    "failed_actions",
    "load_env_tasks",
    "missing_outputs",
    "replay",
    "score_episode",
    "validate_tasks",
]


class Action(BaseModel):
    """One ground-truth tool call: a tool name and its arguments (``kwargs`` also read).

    ``requestor`` says whose tool it is: the agent's (``assistant``) or, in a domain
    where the user acts too, the simulated user's (``user``). ``compare_args`` names
    the arguments a matching call must agree on (``None``: all of them).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(
        default_factory=dict, validation_alias=AliasChoices("arguments", "kwargs")
    )
    requestor: Literal["assistant", "user"] = "assistant"
    compare_args: tuple[str, ...] | None = None


class EnvTask(BaseModel):
    """A task played against an environment.

    - ``instruction``: the simulated user's goal as they know it (never shown to the
      agent);
    - ``private_details``: facts only the user knows and reveals when asked (an email,
      an order id), by name;
    - ``shards``: the same information in pieces, the first being the opening request
      (empty when the task was not written in pieces);
    - ``actions``: the ground-truth tool calls whose replay defines the expected state;
    - ``outputs``: strings the agent must say;
    - ``assertions``: statements about the conversation that a judge model must find
      true for the task to succeed (a τ² task's natural-language assertions when they
      are in its reward basis); empty for most tasks;
    - ``env``: the environment's registry name; ``suite``: the suite the task belongs to.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    suite: str
    env: str
    instruction: str = Field(min_length=1)
    private_details: dict[str, str] = Field(default_factory=dict)
    shards: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    outputs: tuple[str, ...] = ()
    assertions: tuple[str, ...] = ()
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def writes(self) -> bool:
        """Whether the task has ground-truth actions (it may still change nothing)."""
        return bool(self.actions)


AssertionOutcome = Literal["met", "not met", "abstained", "not judged"]
"""What became of one assertion: the judge found it true or false, could not say
(an error, or a reply that did not answer it), or no judge was asked."""


@dataclass(frozen=True, kw_only=True)
class AssertionVerdict:
    """One assertion of a task (``EnvTask.assertions``) as a judge ruled on it."""

    assertion: str
    outcome: AssertionOutcome
    reason: str = ""
    """Why, in the judge's words (or why it was not judged)."""
    reply: str = ""
    """The judge's reply that answered it (empty when none did)."""

    @property
    def met(self) -> bool | None:
        """True or False as judged; None when the judge abstained or was not asked."""
        return {"met": True, "not met": False}.get(self.outcome)

    def to_dict(self) -> dict[str, Any]:
        return {
            "assertion": self.assertion,
            "outcome": self.outcome,
            "met": self.met,
            "reason": self.reason,
            "reply": self.reply,
        }


@dataclass(frozen=True, kw_only=True)
class JudgedAssertions:
    """A judge's verdicts on a task's assertions, one per assertion in order, with the
    judge's name and model and the error that made it abstain (if any)."""

    verdicts: tuple[AssertionVerdict, ...]
    judge: str = "judge"
    model: str | None = None
    error: str | None = None

    @property
    def passed(self) -> bool | None:
        """True when every assertion is met, False when one is not, else None."""
        met = [v.met for v in self.verdicts]
        if any(m is False for m in met):
            return False
        return True if all(m is True for m in met) else None


@dataclass(frozen=True, kw_only=True)
class EnvScore:
    """The verdict on one episode of an environment task.

    ``reward`` is 1.0 when ``hash_match`` and nothing is in ``missing_outputs``, else
    0.0. ``diff`` lists state rows where the agent's state (actual) differs from the
    replayed ground truth (expected). ``violations`` are breaches of the environment's
    coded policy rules; they are reported but do not change the reward. A domain that
    scores in its own way may leave ``reward`` None: the verdict rests on a judge that
    abstained (neither a success nor a failure).
    """

    task_id: str
    reward: float | None
    hash_match: bool
    expected_hash: str
    actual_hash: str
    missing_outputs: tuple[str, ...] = ()
    diff: tuple[DiffRow, ...] = ()
    violations: tuple[PolicyViolation, ...] = ()
    replay_errors: tuple[str, ...] = ()
    """Errors of ground-truth actions that failed when replayed (kept, not fatal)."""
    criteria: dict[str, Any] = field(default_factory=dict)
    """A domain's own criteria, by name, when it scores in its own way (the τ² format:
    ``ENV_ASSERTION``, ``ACTION``, ``DB``, ``COMMUNICATE``, ``NL_ASSERTION``), each with
    ``passed`` (None: a judge abstained) and what was checked; empty for a verdict by
    state hash and outputs alone."""

    @property
    def success(self) -> bool:
        return self.reward == 1.0

    @property
    def abstained(self) -> bool:
        """Whether the verdict could not be told (a judge abstained on what decides it)."""
        return self.reward is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "reward": self.reward,
            "hash_match": self.hash_match,
            "expected_hash": self.expected_hash,
            "actual_hash": self.actual_hash,
            "missing_outputs": list(self.missing_outputs),
            "diff": [row.to_dict() for row in self.diff],
            "violations": [v.to_dict() for v in self.violations],
            "replay_errors": list(self.replay_errors),
            **({"criteria": self.criteria} if self.criteria else {}),
        }


def _normalise_text(text: str) -> str:
    return text.lower().replace(",", "")


def missing_outputs(outputs: Iterable[str], messages: Iterable[str]) -> list[str]:
    """The required outputs that appear in none of ``messages`` (case and commas ignored)."""
    said = [_normalise_text(m) for m in messages]
    return [out for out in outputs if not any(_normalise_text(out) in m for m in said)]


def replay(
    factory: EnvFactory,
    actions: Sequence[Action],
    *,
    task_id: str | None = None,
    task: EnvTask | None = None,
) -> Environment:
    """Run ``actions`` on a fresh environment (set up for ``task``, if given) and return it.

    An action that fails (an unknown tool, bad arguments, a refused request) is recorded
    in ``env.calls`` with its error and the replay goes on, as the public benchmarks do:
    their ground truths include lookups of unknown records and refused changes on
    purpose. ``failed_actions`` lists them. An action of the user's runs on the user's
    tools (``env.user_side``); in a domain without them it fails as an unknown tool.
    """
    env = factory()
    if task is not None:
        env.start(task)
    for action in actions:
        side = env if action.requestor == "assistant" else env.user_side
        if side is None:
            env.call(f"user:{action.name}", action.arguments)
        else:
            side.call(action.name, action.arguments)
    return env


def failed_actions(env: Environment) -> list[tuple[int, str, str]]:
    """``(index, tool, error text)`` of each failed call in ``env``'s log, then in its
    user's (their tools named ``user:<tool>``)."""
    found = [(call.index, call.name, call.result) for call in env.calls if call.error]
    if env.user_side is not None:
        found += [
            (call.index, f"user:{call.name}", call.result)
            for call in env.user_side.calls
            if call.error
        ]
    return found


def validate_tasks(
    factory: EnvFactory,
    tasks: Sequence[EnvTask],
    *,
    source: str | None = None,
    strict: bool = False,
) -> list[str]:
    """Check tasks at load time: unique ids, matching environment, non-empty outputs.

    Raises ConfigError naming the task for any of those. Each task's ground truth is
    replayed on a fresh environment; an action that fails there is not an error (the
    benchmarks' ground truths contain failing actions on purpose) but a ``TaskWarning``
    naming the task, the action and the error. Returns the warning texts. With
    ``strict`` (for task data whose ground truths must all succeed, such as the built-in
    shop's) a failing action is a ConfigError instead.
    """
    seen: set[str] = set()
    notes: list[str] = []
    for i, task in enumerate(tasks):
        where = f"tasks[{i}]"
        if task.id in seen:
            raise ConfigError(f"duplicate task id {task.id!r}", source=source, field=where)
        seen.add(task.id)
        if task.env != factory.name:
            raise ConfigError(
                f"task {task.id!r} is for environment {task.env!r}, not {factory.name!r}",
                source=source,
                field=f"{where}.env",
            )
        for j, out in enumerate(task.outputs):
            if not out.strip():
                raise ConfigError(
                    f"task {task.id!r}: output {j} is empty",
                    source=source,
                    field=f"{where}.outputs",
                )
        env = replay(factory, task.actions, task_id=task.id, task=task)
        for index, name, error in failed_actions(env):
            if strict:
                raise ConfigError(
                    f"task {task.id!r}: the expected state cannot be reached: action "
                    f"{index} ({name}) failed: {error}",
                    source=source,
                    field=f"{where}.actions[{index}]",
                )
            prefix = f"{source}: " if source else ""
            notes.append(
                f"{prefix}{where}.actions[{index}]: task {task.id!r}: ground-truth action "
                f"{index} ({name}) fails on replay and is kept as the benchmark keeps it: "
                f"{error}"
            )
    for note in notes:
        warnings.warn(note, TaskWarning, stacklevel=2)
    return notes


def score_episode(
    env_factory: EnvFactory,
    task: EnvTask,
    final_env: Environment,
    assistant_messages: Sequence[str],
    *,
    judged: JudgedAssertions | None = None,
) -> EnvScore:
    """Score one finished episode: replay the ground truth, compare states and outputs
    (or, for a domain that scores in its own way, ask it: ``Environment.score_task``,
    with ``judged``, a judge's verdicts on the task's ``assertions`` when it has any)."""
    expected = replay(env_factory, task.actions, task_id=task.id, task=task)
    own = final_env.score_task(task, expected, assistant_messages, judged=judged)
    if own is not None:
        return own
    expected_hash = expected.state_hash()
    actual_hash = final_env.state_hash()
    hash_match = expected_hash == actual_hash
    missing = missing_outputs(task.outputs, assistant_messages)
    return EnvScore(
        task_id=task.id,
        reward=1.0 if hash_match and not missing else 0.0,
        hash_match=hash_match,
        expected_hash=expected_hash,
        actual_hash=actual_hash,
        missing_outputs=tuple(missing),
        diff=() if hash_match else tuple(final_env.diff(expected)),
        violations=tuple(final_env.check_policy()),
        replay_errors=tuple(
            f"action {index} ({name}): {error}" for index, name, error in failed_actions(expected)
        ),
    )


def load_env_tasks(
    source: str | Path | Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    suite: str | None = None,
    env: str | None = None,
) -> list[EnvTask]:
    """Read tasks from a JSON file or from already-decoded data.

    The data is a list of task objects or ``{"tasks": [...]}``.

    ``suite`` and ``env`` fill in tasks that do not name their own. Bad entries raise
    ConfigError with the file and the field at fault. The tasks are not replayed here;
    pass them to ``validate_tasks`` with the environment factory.
    """
    where: str | None = None
    if isinstance(source, str | Path):
        where = str(source)
        raw: Any = read_json(Path(source), what="task file")
    else:
        raw = source
    if isinstance(raw, Mapping):
        raw = raw.get("tasks")
    if isinstance(raw, tuple):
        raw = list(raw)
    if not isinstance(raw, list):
        raise ConfigError("expected a list of tasks (or an object with 'tasks')", source=where)
    tasks: list[EnvTask] = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ConfigError("each task must be an object", source=where, field=f"tasks[{i}]")
        data = dict(item)
        if suite is not None:
            data.setdefault("suite", suite)
        if env is not None:
            data.setdefault("env", env)
        try:
            tasks.append(EnvTask.model_validate(data))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise ConfigError(
                f"{first['msg']} ({exc.error_count()} problem(s))",
                source=where,
                field=f"tasks[{i}].{loc}" if loc else f"tasks[{i}]",
            ) from exc
    return tasks
