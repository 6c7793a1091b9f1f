"""simulacra in your test suite: a pytest plugin, assertions and a server helper.

Installed with simulacra (entry point ``pytest11``), so its fixtures and marker are in
every pytest run; without the installed metadata, enable it with ``-p simulacra.testing``
or ``pytest_plugins = ["simulacra.testing"]`` in a ``conftest.py``.

- ``simulacra_run``: a fixture that runs a config file, a ``RunConfig``, or inline parts
  (a target function or target config, personas, tasks, what a scripted user says) into
  the test's temporary folder, and returns the ``RunResult``.
- ``assert_run(result, success_at_least=..., max_turns=..., no_guard_fallbacks=...,
  max_errors=...)`` and ``assert_conversation(episode, contains=..., tool_called=...,
  stop_reason=...)``: assertions whose failure message prints the failing
  conversations compactly.
- ``@pytest.mark.simulacra_model``: a test that needs the embedded model is skipped when
  it cannot run here (fails instead when ``SIMULACRA_REQUIRE_MODEL=1``, for CI);
  the ``simulacra_model`` fixture gives the model's settings for ``models:``.
- ``serve_aiohttp(app)``: an aiohttp application served on 127.0.0.1 in a background
  thread, for testing an app through the ``http_app`` target.

Scripted users (``turns=[...]``, or the task's goal then each fact when no user is given)
make fast unit tests; ``user="llm"`` with the ``simulacra_model`` fixture puts the real
simulated user in the loop for scenario tests.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from simulacra.llm import local_model_problem
from simulacra.people import Persona
from simulacra.rundir import DEFAULT_MODE, Episode
from simulacra.runs import RunConfig, RunResult, arun, load_config, parse_config, run
from simulacra.tasks import Task

if TYPE_CHECKING:
    from aiohttp import web

__all__ = [
    "REQUIRE_MODEL_ENV",
    "ScenarioRunner",
    "assert_conversation",
    "assert_run",
    "format_conversation",
    "serve_aiohttp",
]

REQUIRE_MODEL_ENV = "SIMULACRA_REQUIRE_MODEL"
"""Set to ``1`` and a ``simulacra_model`` test fails, instead of being skipped, when the
embedded model cannot run (so CI cannot pass by skipping them)."""

MODEL_MARKER = "simulacra_model"
_SHOWN_MESSAGES = 24
_SHOWN_CHARS = 200
_SHOWN_EPISODES = 3


# --- pytest hooks -----------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MODEL_MARKER}: needs simulacra's embedded model; skipped when it cannot run "
        f"here (failed instead with {REQUIRE_MODEL_ENV}=1)",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker(MODEL_MARKER) is not None:
        _need_model()


def _need_model() -> None:
    problem = local_model_problem()
    if problem is None:
        return
    if os.environ.get(REQUIRE_MODEL_ENV) == "1":
        pytest.fail(f"the embedded model cannot run: {problem} ({REQUIRE_MODEL_ENV}=1)")
    pytest.skip(f"the embedded model cannot run: {problem}")


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def simulacra_model() -> dict[str, Any]:
    """The embedded model's settings, for a run's ``models`` (skips the test when the
    model cannot run here, as the ``simulacra_model`` marker does)."""
    _need_model()
    return {"backend": "local", "n_ctx": 2048}


@pytest.fixture
def simulacra_run(tmp_path: Path) -> ScenarioRunner:
    """Runs simulacra into the test's temporary folder: ``simulacra_run(...)``; see
    ``ScenarioRunner``."""
    return ScenarioRunner(tmp_path / "simulacra-runs")


_SCRIPTED_MODELS = {"scripted": {"backend": "scripted", "replies": ["(unused)"]}}


class ScenarioRunner:
    """Builds a run from a config file or inline parts and runs it, synchronously
    (``await runner.arun(...)`` in an ``async def`` test).

    ``runner(config)`` runs a YAML file, a ``RunConfig`` or a mapping, with
    ``output_dir`` set to the test's folder. Inline parts replace the config's (or make
    the whole config when none is given):

    - ``target``: a function (``reply(messages)`` or ``reply(messages, context)``), a
      target mapping (``{"type": "http_app", "url": ...}``), or a ``TargetConfig``;
      ``target_options`` change some of the target's settings (``{"url": ...}``);
    - ``persona``/``personas``: built-in names, ``Persona`` objects or mappings;
    - ``task``/``tasks``: ``Task`` objects or mappings (a suite's ids go in ``settings``
      as ``tasks={"suite": ..., "ids": [...]}``);
    - ``turns``: what a scripted user says, in order; ``user``: a simulator name
      (``"llm"`` for the real simulated user) or a user mapping, and ``model`` the model
      settings it runs on (the ``simulacra_model`` fixture);
    - any other setting of a config (``max_turns``, ``repeats``, ``modes``, ...).

    With neither ``turns`` nor ``user``, an inline run's user is scripted: the task's
    goal, then each of its facts. A scripted user runs on a scripted model added to
    ``models`` (so a config whose users run on the embedded model runs without it). The
    response cache of an inline run is off unless ``cache=True``.
    """

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self._names = itertools.count(1)
        self._runs = itertools.count(1)

    def __call__(
        self, config: RunConfig | str | Path | Mapping[str, Any] | None = None, **parts: Any
    ) -> RunResult:
        """Run the config that ``config(config, **parts)`` builds (see :meth:`config`)."""
        return run(self.config(config, **parts))

    async def arun(
        self, config: RunConfig | str | Path | Mapping[str, Any] | None = None, **parts: Any
    ) -> RunResult:
        """The same, awaited: for ``async def`` tests (a running loop cannot be blocked)."""
        return await arun(self.config(config, **parts))

    def config(
        self,
        config: RunConfig | str | Path | Mapping[str, Any] | None = None,
        *,
        target: Any = None,
        target_options: Mapping[str, Any] | None = None,
        persona: Persona | str | Mapping[str, Any] | None = None,
        personas: Sequence[Persona | str | Mapping[str, Any]] | None = None,
        task: Task | Mapping[str, Any] | None = None,
        tasks: Sequence[Task | Mapping[str, Any]] | Mapping[str, Any] | None = None,
        turns: Sequence[str] | None = None,
        user: str | Mapping[str, Any] | None = None,
        model: Mapping[str, Any] | None = None,
        **settings: Any,
    ) -> RunConfig:
        """The ``RunConfig`` a call with these arguments runs (see the class)."""
        base: RunConfig | None = None
        data: dict[str, Any] = {}
        if isinstance(config, RunConfig):
            base = config
        elif isinstance(config, str | Path):
            base = load_config(config)
        elif config is not None:
            data = dict(config)
        if base is None:
            data.setdefault("name", f"test-{next(self._names)}")
            data.setdefault("cache", False)
        whole = base.model_dump(mode="json") if base is not None else dict(data)
        data["output_dir"] = str(self.output_dir / str(next(self._runs)))  # one per call
        if target is not None:
            data["target"] = (
                {"type": "callable", "callable": target} if callable(target) else target
            )
        if target_options:
            given = data.get("target", whole.get("target", {"type": "model"}))
            if not isinstance(given, Mapping):
                given = given.model_dump(mode="json")
            data["target"] = {**given, **target_options}
        chosen = [persona] if persona is not None else personas
        if chosen is not None:
            data["personas"] = _personas(chosen)
        picked: Any = [task] if task is not None else tasks
        if picked is not None:
            data["tasks"] = picked if isinstance(picked, Mapping) else _tasks(picked)
        if model is not None:
            data["models"] = {**(whole.get("models") or {}), "local": dict(model)}
        if turns is not None:
            data["user"] = {"simulator": "scripted", "options": {"turns": list(turns)}}
        elif isinstance(user, str):
            data["user"] = {"simulator": user, "model": "local"}
        elif user is not None:
            data["user"] = dict(user)
        elif base is None and "user" not in data:
            data["user"] = {"simulator": "scripted"}
        if _scripted(data.get("user")):
            models = data.get("models", whole.get("models") if base is not None else None)
            data["models"] = {**(models or {}), **_SCRIPTED_MODELS}
            data["user"] = {**data["user"], "model": "scripted"}
        data.update(settings)
        if base is not None:
            return base.with_overrides(**data)
        return parse_config(data, source="<simulacra_run>")


def _scripted(user: Any) -> bool:
    return isinstance(user, Mapping) and user.get("simulator") == "scripted"


def _personas(items: Iterable[Persona | str | Mapping[str, Any]]) -> dict[str, Any]:
    builtin = [p for p in items if isinstance(p, str)]
    inline = [
        p.model_dump(mode="json") if isinstance(p, Persona) else dict(p)
        for p in items
        if not isinstance(p, str)
    ]
    out: dict[str, Any] = {}
    if builtin:
        out["builtin"] = builtin
    if inline:
        out["inline"] = inline
    return out


def _tasks(items: Iterable[Task | Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "inline": [t.model_dump(mode="json") if isinstance(t, Task) else dict(t) for t in items]
    }


# --- assertions -------------------------------------------------------------------------


def _episodes(result: RunResult | Iterable[Episode]) -> list[Episode]:
    return result.episodes() if isinstance(result, RunResult) else list(result)


def assert_run(
    result: RunResult | Iterable[Episode],
    *,
    success_at_least: float | None = None,
    max_turns: int | None = None,
    no_guard_fallbacks: bool = False,
    max_errors: int | None = None,
    min_episodes: int = 1,
) -> None:
    """Check a run as a whole; an ``AssertionError`` lists every check that failed and
    prints the conversations at fault.

    ``success_at_least``: the share of episodes that succeeded (an errored one counts as
    failed); ``max_turns``: no episode took more user turns; ``no_guard_fallbacks``: no
    turn of the simulated user fell back to its plan after its guards rejected every
    attempt; ``max_errors``: at most this many episodes errored.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, then the message
    episodes = _episodes(result)
    problems: list[str] = []
    shown: list[Episode] = []

    def fail(problem: str, culprits: list[Episode]) -> None:
        problems.append(problem)
        shown.extend(e for e in culprits if e not in shown)

    if len(episodes) < min_episodes:
        fail(f"the run has {len(episodes)} episodes, expected at least {min_episodes}", [])
    errored = [e for e in episodes if e.status == "error"]
    if max_errors is not None and len(errored) > max_errors:
        kinds = "; ".join(sorted({str(e.error) for e in errored}))[:_SHOWN_CHARS]
        fail(f"{len(errored)} episodes errored, at most {max_errors} allowed ({kinds})", errored)
    if success_at_least is not None and episodes:
        passed = [e for e in episodes if e.success]
        share = len(passed) / len(episodes)
        if share < success_at_least:
            fail(
                f"success {len(passed)}/{len(episodes)} = {share:.0%}, "
                f"expected at least {success_at_least:.0%}",
                [e for e in episodes if not e.success],
            )
    if max_turns is not None:
        long = [e for e in episodes if e.user_turns > max_turns]
        if long:
            fail(f"{len(long)} episodes took more than {max_turns} user turns", long)
    if no_guard_fallbacks:
        fell = [e for e in episodes if any(g.action == "fallback" for g in e.guard_events)]
        if fell:
            fail(f"{len(fell)} episodes have a guard fallback of the simulated user", fell)
    if problems:
        raise AssertionError(_report(problems, shown))


def assert_conversation(
    episode: Episode,
    *,
    contains: str | Sequence[str] | None = None,
    not_contains: str | Sequence[str] | None = None,
    tool_called: str | Sequence[str] | None = None,
    stop_reason: str | None = None,
    success: bool | None = None,
    max_turns: int | None = None,
) -> None:
    """Check one conversation; the failure message prints it.

    ``contains``/``not_contains``: text the assistant's replies hold (or must not), case
    insensitive; ``tool_called``: names of tools the assistant called (each at least
    once); ``stop_reason``: how it ended (``satisfied``, ``max_turns``, ``error`` ...);
    ``success``: the task's check; ``max_turns``: at most this many user turns.
    """
    __tracebackhide__ = True
    said = "\n".join(m.content for m in episode.messages if m.role == "assistant").lower()
    called = {c.name for m in episode.messages for c in m.tool_calls}
    problems: list[str] = []
    for text in _listed(contains):
        if text.lower() not in said:
            problems.append(f"the assistant never said {text!r}")
    for text in _listed(not_contains):
        if text.lower() in said:
            problems.append(f"the assistant said {text!r}")
    for name in _listed(tool_called):
        if name not in called:
            made = ", ".join(sorted(called)) or "none"
            problems.append(f"tool {name!r} was not called (called: {made})")
    if stop_reason is not None and episode.stop_reason != stop_reason:
        problems.append(f"stop reason is {episode.stop_reason!r}, expected {stop_reason!r}")
    if success is not None and episode.success is not success:
        problems.append(f"success is {episode.success}, expected {success}")
    if max_turns is not None and episode.user_turns > max_turns:
        problems.append(f"{episode.user_turns} user turns, expected at most {max_turns}")
    if problems:
        raise AssertionError(_report(problems, [episode]))


def _listed(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _report(problems: list[str], episodes: list[Episode]) -> str:
    lines = [f"- {p}" for p in problems]
    for episode in episodes[:_SHOWN_EPISODES]:
        lines += ["", format_conversation(episode)]
    if len(episodes) > _SHOWN_EPISODES:
        lines += ["", f"(and {len(episodes) - _SHOWN_EPISODES} more episodes)"]
    return "\n".join(lines)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def format_conversation(episode: Episode) -> str:
    """One conversation in a few lines: who, how it ended, then one line per message."""
    head = (
        f"episode {episode.id[:8]} (persona {episode.persona.name}, task {episode.task.id}"
        f"{', mode ' + episode.mode if episode.mode != DEFAULT_MODE else ''}): "
        f"stop {episode.stop_reason or '?'}, success {episode.success}"
    )
    lines = [head]
    if episode.error:
        lines.append(f"  error: {_short(episode.error)}")
    messages = episode.messages
    hidden = max(0, len(messages) - _SHOWN_MESSAGES)
    if hidden:
        lines.append(f"  ({hidden} earlier messages not shown)")
    for message in messages[hidden:]:
        for call in message.tool_calls:
            lines.append(f"  {message.role:<9} → {call.name}({_short(call.arguments)})")
        if message.content or not message.tool_calls:
            lines.append(f"  {message.role:<9} | {_short(message.content)}")
    fallbacks = [g for g in episode.guard_events if g.action == "fallback"]
    for event in fallbacks:
        lines.append(f"  guard fallback on turn {event.turn}: {event.guard} {_short(event.detail)}")
    return "\n".join(lines)


# --- serving an app ---------------------------------------------------------------------


@contextmanager
def serve_aiohttp(app: web.Application, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` on a free port of ``host`` in a background thread; yields its base
    URL (``http://127.0.0.1:PORT``) and stops the server on exit."""
    from aiohttp import web

    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    with socket.socket() as probe:
        probe.bind((host, 0))
        port = int(probe.getsockname()[1])

    async def start() -> None:
        await runner.setup()
        await web.TCPSite(runner, host, port).start()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
        yield f"http://{host}:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
