"""The async runner: mode × persona × task × repeat, bounded concurrency, resumable."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from simulacra._records import RunLock, write_json_atomic
from simulacra._secrets import scrub_value
from simulacra.errors import (
    ConfigError,
    RunError,
    StorageError,
    describe_error,
    first_error,
    stops_run,
)
from simulacra.feedback import ChecklistJudge
from simulacra.llm import (
    ChatModel,
    ChatParams,
    ModelConfig,
    ModelPool,
    redact_settings,
    resaved_settings,
)
from simulacra.people import Persona
from simulacra.registry import SAVED_CONTEXT
from simulacra.rundir import CONFIG, EPISODES, SUMMARY, EpisodeStore, RunDir, Summary, summarize
from simulacra.runs._config import RunConfig, TargetConfig, UserConfig, load_config
from simulacra.runs._executors import EpisodeJob, Executor
from simulacra.runs._plan import EpisodeFilter, gate_failures, select
from simulacra.sim.episode import Episode, derive_seed, episode_id
from simulacra.sim.loop import run_episode
from simulacra.sim.targets import Target, TargetContext, target_kinds
from simulacra.sim.users import Simulator, UserContext
from simulacra.tasks import JudgedCheck, Task, judged_assertions


@dataclass(frozen=True, kw_only=True)
class Slot:
    """One scheduled episode: its coordinates, id and seed."""

    id: str
    persona: Persona
    task: Task
    repeat: int
    mode: str
    seed: int


@dataclass(kw_only=True)
class RunResult:
    """What a run left behind. ``episodes()`` reads them back from the run directory."""

    run_dir: Path
    config: RunConfig
    summary: Summary
    written: int = 0
    skipped: int = 0
    interrupted: bool = False
    gate: str | None = None
    """Why the run counts as failed (too many errored episodes, a measure under its
    ``fail_under`` threshold; one line), or None."""

    def episodes(self) -> list[Episode]:
        return RunDir(self.run_dir).episodes()


@dataclass
class Progress:
    """Counters the progress display reads. Listeners are called with it when the run
    starts (``total`` known, ``started`` set) and after every finished episode."""

    total: int
    done: int = 0
    errors: int = 0
    tokens: int = 0
    started: float | None = None
    """``time.monotonic()`` when the episodes began."""
    listeners: list[Any] = field(default_factory=list)

    def start(self, total: int) -> None:
        self.total = total
        self.started = time.monotonic()
        for listener in self.listeners:
            listener(self)

    def rate(self) -> float | None:
        """Episodes per second so far (None before the first one ends)."""
        if self.started is None or not self.done:
            return None
        return self.done / max(time.monotonic() - self.started, 1e-9)

    def eta(self) -> float | None:
        """Seconds left at the rate so far (None before the first episode ends)."""
        rate = self.rate()
        return None if rate is None else max(self.total - self.done, 0) / rate

    def update(self, episode: Episode) -> None:
        self.done += 1
        self.errors += episode.status == "error"
        self.tokens += episode.total_usage().total_tokens
        for listener in self.listeners:
            listener(self)


def schedule(config: RunConfig, personas: list[Persona], tasks: list[Task]) -> Iterator[Slot]:
    target = config.target.label()
    for mode, persona, task, repeat in itertools.product(
        config.modes, personas, tasks, range(config.repeats)
    ):
        yield Slot(
            id=episode_id(config.name, persona.name, task.id, repeat, target, mode),
            persona=persona,
            task=task,
            repeat=repeat,
            mode=mode,
            seed=derive_seed(config.seed, persona.name, task.id, repeat),
        )


def build_target(config: RunConfig, pool: ModelPool) -> Target:
    spec = config.target
    context = TargetContext(
        name=spec.label(),
        params=ChatParams(temperature=spec.temperature, max_tokens=spec.max_tokens),
        models=config.models,
        pool=pool,
        seed=config.seed,
        base_dir=config.base_dir,
    )
    return target_kinds.get(spec.type)(spec.options, context)


def _saved_config(config: RunConfig) -> dict[str, Any]:
    data = config.model_dump(mode="json")
    for model in data.get("models", {}).values():
        # header and extra_body values may hold credentials: keep the names only
        redact_settings(model)
    saved: dict[str, Any] = scrub_value(data)  # as written: a resume compares like with like
    return saved


def _as_saved_now(before: dict[str, Any]) -> dict[str, Any]:
    """A ``config.json`` as this version writes it (see ``resaved_settings``)."""
    models = before.get("models")
    if not isinstance(models, dict):
        return before
    return {**before, "models": {k: resaved_settings(m) for k, m in models.items()}}


# settings that say how a run goes, not which episodes it holds
_NOT_DEFINING = frozenset(
    {"concurrency", "cache", "base_dir", "output_dir", "max_errors", "fail_under", "executor"}
)
# the same within one model or the target: how calls are made, not what they answer
_CALL_SETTINGS = frozenset(
    {"timeout_s", "max_attempts", "max_concurrency", "cache", "api_key_env", "n_threads", "slots"}
    | {"max_response_bytes", "deadline_s", "price"}
)


def _defining(config: dict[str, Any]) -> dict[str, Any]:
    """A saved config without the settings that do not change what an episode is."""
    out = {k: v for k, v in config.items() if k not in _NOT_DEFINING}
    if isinstance(out.get("models"), dict):
        out["models"] = {
            name: {k: v for k, v in model.items() if k not in _CALL_SETTINGS}
            if isinstance(model, dict)
            else model
            for name, model in out["models"].items()
        }
    if isinstance(out.get("target"), dict):
        out["target"] = {k: v for k, v in out["target"].items() if k not in _CALL_SETTINGS}
    return out


def _grows(key: str, before: Any, now: Any) -> bool:
    """Whether a changed setting only adds episodes: more repeats, or more modes."""
    if key == "repeats":
        return isinstance(before, int) and now > before
    if key == "modes":
        return isinstance(before, list) and set(before) < set(now)
    return False


def _read_saved(saved: dict[str, Any]) -> dict[str, Any]:
    """A saved config's models and user in the current form (an older version saved every
    backend's settings on every model, and ignored the ones the backend did not read)."""
    out = dict(saved)
    if isinstance(saved.get("models"), dict):
        out["models"] = {
            name: _current(ModelConfig, value) for name, value in saved["models"].items()
        }
    for key, model in (("user", UserConfig), ("target", TargetConfig)):
        if isinstance(saved.get(key), dict):
            out[key] = _current(model, saved[key])
    return out


def _current(model: type[BaseModel], value: Any) -> Any:
    try:
        return model.model_validate(value, context=SAVED_CONTEXT).model_dump(mode="json")
    except ValueError:
        return value  # compared as it is: a change is reported


def _changes(run_dir: Path, config: RunConfig) -> list[str] | None:
    """The settings in which ``config`` differs from the one that made ``run_dir`` that
    would mix two experiments (more repeats or modes do not); None when it has no
    ``config.json``. A ``RunError`` when that file is unreadable."""
    saved = run_dir / CONFIG
    if not saved.exists():
        return None
    try:
        before = json.loads(saved.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        before = None
    if not isinstance(before, dict):
        raise RunError(
            f"{saved} is unreadable, so --resume cannot tell which config made this run; "
            "pass --overwrite to start again"
        )
    before = _as_saved_now(_read_saved(before))
    before, now = _defining(before), _defining(_saved_config(config))
    changed = sorted(k for k in (before.keys() | now.keys()) if before.get(k) != now.get(k))
    # more repeats or modes only add episodes, so a run may be extended; anything else
    # would mix episodes of two experiments in one file
    if all(_grows(k, before.get(k), now.get(k)) for k in changed):
        return []
    return changed


def _check_same_config(run_dir: Path, config: RunConfig) -> None:
    """Refuse to resume a run that another config made (naming what changed)."""
    changed = _changes(run_dir, config)
    if changed:
        raise RunError(
            f"{run_dir} was made by a different config ({', '.join(changed)} changed); "
            "resume only with the same config, or with more repeats or modes"
        )


def prepare_run_dir(
    config: RunConfig, *, resume: bool, overwrite: bool
) -> tuple[Path, EpisodeStore]:
    """Check (and with ``overwrite``, empty) the run directory; the caller holds its lock."""
    run_dir = config.run_dir()
    store = EpisodeStore(run_dir)
    if overwrite and run_dir.exists():
        for name in (EPISODES, SUMMARY, CONFIG):
            (run_dir / name).unlink(missing_ok=True)
    if resume:
        _check_same_config(run_dir, config)
        store.repair()
    if not resume and store.path.exists() and store.path.stat().st_size > 0:
        raise RunError(_taken(run_dir, config))
    return run_dir, store


def _taken(run_dir: Path, config: RunConfig) -> str:
    """Why a run may not start in a directory that holds episodes, and the ways on."""
    try:
        changed = _changes(run_dir, config)
    except RunError:
        changed = None
    if changed:
        return (
            f"{run_dir} holds episodes of an earlier version of this config "
            f"({', '.join(changed)} changed): --overwrite to discard them, or give the "
            "config a new name (name: or --name) to keep both; --resume continues only "
            "the same config"
        )
    return (
        f"{run_dir} already holds episodes: --resume to continue it, --overwrite to start "
        "again, or a new name (name: or --name) to keep both"
    )


@dataclass(kw_only=True)
class _Parts:
    """What a run is made of, built before anything is written."""

    target: Target
    user_model: ChatModel | None
    simulator: Simulator
    judge: ChecklistJudge | None = None


def build_judge(
    config: RunConfig, pool: ModelPool, tasks: Sequence[Task], *, required: bool = True
) -> ChecklistJudge | None:
    """The judge of the run's judged tasks, and of its tasks' assertions about the
    conversation when the config has a ``judge:`` section, its model built from ``pool``
    (None when neither needs one). A judge model that is not a key of ``models`` is a
    ``ConfigError``; with ``required=False`` it is no judge, unless the config's
    ``judge:`` section names it (for callers that abstain on judged tasks without one)."""
    judged = any(isinstance(task.check, JudgedCheck) for task in tasks)
    asserted = config.judge is not None and any(judged_assertions(task) for task in tasks)
    if not (judged or asserted):
        return None
    key, settings = config.judge_settings()
    if key not in config.models and not required and config.judge is None:
        return None
    if key not in config.models:
        raise ConfigError(
            f"judged tasks need a judge model: {key!r} is not a key of models",
            source=config.source,
            field="judge.model",
        )
    try:
        model = pool.build(config.models[key], seed=config.seed)
        return ChecklistJudge.from_config(settings, model, identity=config.models[key].identity())
    except ConfigError as exc:
        raise ConfigError(str(exc), source=config.source, field="judge") from None


def _build_parts(config: RunConfig, pool: ModelPool, first: Slot | None) -> _Parts:
    """The target, the user's model and the simulator, each checked by building it: a
    missing file, an unset key variable or an unknown function fails here, as a
    ``ConfigError``, before the run directory is touched."""
    try:
        target = build_target(config, pool)
    except ConfigError as exc:
        message = f"{exc.source}: {exc.message}" if exc.source else exc.message
        raise ConfigError(message, source=config.source, field=exc.field or "target") from None
    user_model: ChatModel | None = None
    simulator = config.user.simulator_spec()
    if simulator.needs_model or config.user.model in config.models:
        try:
            user_model = pool.build(config.models[config.user.model], seed=config.seed)
        except ConfigError as exc:
            raise ConfigError(
                str(exc), source=config.source, field=f"models.{config.user.model}"
            ) from None
    if first is not None:
        try:  # a simulator may check more than its options model can
            simulator.build(_context(config, first, user_model))
        except ConfigError as exc:
            raise ConfigError(str(exc), source=config.source, field="user") from None
    return _Parts(target=target, user_model=user_model, simulator=simulator)


def _context(
    config: RunConfig,
    slot: Slot,
    model: ChatModel | None,
    judge: ChecklistJudge | None = None,
) -> UserContext[Any]:
    user = config.user
    return UserContext(
        persona=slot.persona,
        task=slot.task,
        model=model,
        seed=slot.seed,
        options=user.options,
        mode=slot.mode,
        temperature=user.temperature,
        max_tokens=user.max_tokens,
        max_regenerations=user.max_regenerations,
        judge=judge,
    )


def error_gate(
    summary: Summary,
    max_errors: int | float | None,
    fail_under: dict[str, float] | None = None,
) -> str | None:
    """Why a finished run counts as failed, in one line, or None (see ``gate_failures``:
    gates name measures as ``summary.json`` does)."""
    reasons = gate_failures(summary.to_dict(), fail_under=fail_under or {}, max_errors=max_errors)
    return "; ".join(reasons) if reasons else None


async def arun(
    config: RunConfig | str | Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    concurrency: int | None = None,
    use_cache: bool | None = None,
    max_errors: int | float | None = None,
    fail_under: dict[str, float] | None = None,
    only: EpisodeFilter | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    pool: ModelPool | None = None,
) -> RunResult:
    """Run every episode of ``config`` (a ``RunConfig`` or a YAML path).

    Finished episodes are appended to ``<output_dir>/<name>/episodes.jsonl`` as they end;
    with ``resume`` the ones already there are skipped. Whatever goes wrong inside one
    episode is recorded as that episode's error and the others go on. What stops a run:
    cancelling (Ctrl-C), an endpoint refusing the credentials (``ModelError`` with
    ``fatal``), or the file system (``StorageError``); every finished episode is kept and
    ``summary.json`` is still written when the disk allows. ``use_cache``,
    ``concurrency``, ``max_errors`` and ``fail_under`` override the config's settings
    when given; ``only`` and ``limit`` run part of the schedule (see ``select``).
    """
    if not isinstance(config, RunConfig):
        config = load_config(config)
    personas, tasks = config.validate_references()
    cache_on = config.cache if use_cache is None else use_cache
    owns_pool = pool is None
    pool = pool or ModelPool(use_cache=cache_on)
    try:
        every = list(schedule(config, personas, tasks))
        slots = select(every, only=only, limit=limit)
        parts = _build_parts(config, pool, slots[0] if slots else None)
        parts.judge = build_judge(config, pool, [slot.task for slot in slots])
        try:
            executor = config.executor.build()
        except ConfigError as exc:
            raise ConfigError(exc.message, source=config.source, field="executor") from None
        lock = RunLock(config.run_dir(), purpose=f"simulacra run {config.name}")
        try:
            lock.acquire()
        except OSError as exc:
            raise StorageError.from_os_error(exc, doing="creating the run directory") from None
        try:
            result = await _play(
                config,
                parts,
                slots,
                scheduled=len(every),
                resume=resume,
                overwrite=overwrite,
                concurrency=concurrency,
                progress=progress,
                executor=executor,
                use_cache=cache_on,
            )
        finally:
            lock.release()
            await asyncio.shield(executor.aclose())
    finally:
        if owns_pool:
            await asyncio.shield(pool.aclose())
    allowed = config.max_errors if max_errors is None else max_errors
    gates = config.fail_under if fail_under is None else fail_under
    result.gate = error_gate(result.summary, allowed, gates)
    return result


async def _play(
    config: RunConfig,
    parts: _Parts,
    chosen: list[Slot],
    *,
    scheduled: int,
    resume: bool,
    overwrite: bool,
    concurrency: int | None,
    progress: Progress | None,
    executor: Executor,
    use_cache: bool,
) -> RunResult:
    try:
        run_dir, store = prepare_run_dir(config, resume=resume, overwrite=overwrite)
        store.open()
        write_json_atomic(run_dir / CONFIG, _saved_config(config))
    except OSError as exc:
        raise StorageError.from_os_error(exc, doing="preparing the run directory") from None
    slots = [s for s in chosen if s.id not in store.done]
    skipped = len(store.done)
    tracker = progress or Progress(total=len(slots))
    tracker.start(len(slots))
    written = 0
    interrupted = False
    failure: BaseException | None = None

    def finished(episode: Episode) -> None:
        nonlocal written
        try:
            appended = store.append(episode.to_dict())
        except OSError as exc:
            raise StorageError.from_os_error(exc, doing="writing an episode") from None
        if appended:  # an episode played twice (a worker lost its reply) is kept once
            written += 1
            tracker.update(episode)

    job = EpisodeJob(
        config=config,
        parts=parts,
        slots=slots,
        concurrency=concurrency or config.concurrency,
        use_cache=use_cache,
    )
    try:
        await executor.play(job, finished)
    except asyncio.CancelledError:
        interrupted = True
        raise
    except BaseExceptionGroup as group_error:
        failure = first_error(group_error)
    except Exception as error:
        failure = error
    finally:
        stopped = interrupted or failure is not None
        summary = _finish(
            config, store, run_dir, scheduled=max(scheduled, skipped + len(slots)), stopped=stopped
        )
    if failure is not None:
        raise failure
    if problem := (summary.model_extra or {}).get("storage_error"):
        raise StorageError(problem)
    return RunResult(
        run_dir=run_dir, config=config, summary=summary, written=written, skipped=skipped
    )


async def _episode(config: RunConfig, parts: _Parts, slot: Slot) -> Episode:
    """One episode, played; anything it raises is its recorded error, except a refusal
    of the credentials, which would fail every other episode too."""
    episode = new_episode(config, parts.target.name, slot)
    try:
        user = parts.simulator.build(_context(config, slot, parts.user_model, parts.judge))
        await run_episode(
            episode,
            persona=slot.persona,
            task=slot.task,
            user=user,
            target=parts.target,
            max_turns=config.max_turns,
            judge=parts.judge,
        )
    except Exception as exc:
        if stops_run(exc):
            raise
        episode.status = "error"
        episode.error = describe_error(exc)
        episode.stop_reason = "error"
    return episode


def new_episode(config: RunConfig, target: str, slot: Slot) -> Episode:
    """The record of ``slot``'s episode before it is played."""
    return Episode(
        id=slot.id,
        run=config.name,
        persona=slot.persona.model_dump(mode="json"),
        task=_task_record(slot.task),
        target=target,
        repeat=slot.repeat,
        mode=slot.mode,
        seed=slot.seed,
    )


def _finish(
    config: RunConfig, store: EpisodeStore, run_dir: Path, *, scheduled: int, stopped: bool
) -> Summary:
    """Close the episode file and write ``summary.json`` from it (each id once); a disk
    that fails here is noted in the returned summary, not raised over another error."""
    problem: str | None = None
    try:
        store.close()
    except OSError as exc:
        problem = str(StorageError.from_os_error(exc, doing="closing the episode file"))
    summary = summarize(RunDir(run_dir).episodes(), seed=config.seed).to_dict()
    summary.update(
        {
            "run": config.name,
            "complete": not stopped and summary["episodes"] == scheduled,
            "scheduled": scheduled,
            "finished_at": time.time(),
        }
    )
    try:
        write_json_atomic(run_dir / SUMMARY, summary)
    except OSError as exc:
        problem = problem or str(StorageError.from_os_error(exc, doing="writing the summary"))
    if problem is not None:
        summary["storage_error"] = problem
    return Summary.from_dict(summary)


def _task_record(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "suite": task.suite,
        "goal": task.goal,
        "facts": [fact.text for fact in task.facts],
        "reference": task.reference,
    }


def run(config: RunConfig | str | Path, **kwargs: Any) -> RunResult:
    """Synchronous ``arun``: ``simulacra.run("config.yaml")``.

    Inside a running event loop (a Jupyter notebook, an async test, an async app) it
    cannot block that loop: it raises ``RuntimeError`` saying to ``await
    simulacra.arun(...)`` instead, before anything is started. (Running the run on a
    worker thread instead would put the episodes on another loop than the caller's own
    objects, such as a target's client session, which then fail in obscure ways.)
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass  # no loop here: the usual case
    else:
        raise RuntimeError(
            "simulacra.run() was called inside a running event loop (a notebook or async "
            "code), which it cannot block: use `result = await simulacra.arun(...)` there, "
            "with the same arguments"
        )
    return asyncio.run(arun(config, **kwargs))
