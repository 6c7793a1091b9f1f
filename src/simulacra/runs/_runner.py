"""The async runner: mode × persona × task × repeat, bounded concurrency, resumable."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulacra._records import read_jsonl
from simulacra._secrets import scrub_value
from simulacra.errors import ConfigError, RunError
from simulacra.llm import (
    ChatModel,
    ChatParams,
    ModelConfig,
    ModelPool,
    redact_settings,
    resaved_settings,
)
from simulacra.people import Persona
from simulacra.registry import import_object
from simulacra.runs._config import RunConfig, load_config
from simulacra.runs._store import CONFIG, SUMMARY, EpisodeStore, write_json_atomic
from simulacra.runs._summary import summarize
from simulacra.sim.episode import Episode, derive_seed, episode_id
from simulacra.sim.loop import run_episode
from simulacra.sim.targets import CallableTarget, HttpTarget, ModelTarget, Target
from simulacra.sim.users import FeedbackUser, UserContext, simulators
from simulacra.tasks import Task


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
    summary: dict[str, Any]
    written: int = 0
    skipped: int = 0
    interrupted: bool = False

    def episodes(self) -> list[Episode]:
        return [Episode.from_dict(item) for item in read_jsonl(self.run_dir / "episodes.jsonl")]


@dataclass
class Progress:
    """Counters the progress display reads."""

    total: int
    done: int = 0
    errors: int = 0
    tokens: int = 0
    listeners: list[Any] = field(default_factory=list)

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
    label = spec.label()
    if spec.type == "callable":
        function = import_object(str(spec.callable))
        if not callable(function):
            raise ConfigError(f"{spec.callable} is not callable", field="target.callable")
        return CallableTarget(function, name=label)
    params = ChatParams(temperature=spec.temperature, max_tokens=spec.max_tokens)
    if spec.type == "http":
        model = pool.build(
            ModelConfig(
                backend="openai",
                base_url=spec.base_url,
                model=spec.model_id,
                api_key_env=spec.api_key_env,
                max_concurrency=spec.max_concurrency,
                cache=False,
            )
        )
        return HttpTarget(model, system_prompt=None, params=params, name=label)
    model = pool.build(config.models[str(spec.model)], seed=config.seed)
    return ModelTarget(model, system_prompt=spec.system_prompt, params=params, name=label)


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
_NOT_DEFINING = frozenset({"concurrency", "cache", "base_dir", "output_dir"})


def _grows(key: str, before: Any, now: Any) -> bool:
    """Whether a changed setting only adds episodes: more repeats, or more modes."""
    if key == "repeats":
        return isinstance(before, int) and now > before
    if key == "modes":
        return isinstance(before, list) and set(before) < set(now)
    return False


def _check_same_config(run_dir: Path, config: RunConfig) -> None:
    """Refuse to resume a run that another config made (naming what changed)."""
    import json

    saved = run_dir / CONFIG
    if not saved.exists():
        return
    try:
        before = json.loads(saved.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        before = None
    if not isinstance(before, dict):
        raise RunError(
            f"{saved} is unreadable, so --resume cannot tell which config made this run; "
            "pass --overwrite to start again"
        )
    before = _as_saved_now(before)
    now = _saved_config(config)
    changed = sorted(
        k for k in (before.keys() | now.keys()) - _NOT_DEFINING if before.get(k) != now.get(k)
    )
    # more repeats or modes only add episodes, so a run may be extended; anything else
    # would mix episodes of two experiments in one file
    if not all(_grows(k, before.get(k), now.get(k)) for k in changed):
        raise RunError(
            f"{run_dir} was made by a different config ({', '.join(changed)} changed); "
            "resume only with the same config, or with more repeats or modes"
        )


def prepare_run_dir(
    config: RunConfig, *, resume: bool, overwrite: bool
) -> tuple[Path, EpisodeStore]:
    run_dir = config.run_dir()
    store = EpisodeStore(run_dir)
    if overwrite and run_dir.exists():
        for name in ("episodes.jsonl", SUMMARY, CONFIG):
            (run_dir / name).unlink(missing_ok=True)
    if resume:
        _check_same_config(run_dir, config)
        store.repair()
    if not resume and store.path.exists() and store.path.stat().st_size > 0:
        raise RunError(
            f"{run_dir} already holds episodes: pass --resume to continue it, "
            "--overwrite to start again, or choose another name"
        )
    return run_dir, store


async def arun(
    config: RunConfig | str | Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    concurrency: int | None = None,
    use_cache: bool | None = None,
    progress: Progress | None = None,
    pool: ModelPool | None = None,
) -> RunResult:
    """Run every episode of ``config`` (a ``RunConfig`` or a YAML path).

    Finished episodes are appended to ``<output_dir>/<name>/episodes.jsonl`` as they end;
    with ``resume`` the ones already there are skipped. Cancelling (Ctrl-C) stops the
    episodes in flight, keeps every finished one, and still writes ``summary.json``.
    """
    if not isinstance(config, RunConfig):
        config = load_config(config)
    personas, tasks = config.validate_references()
    run_dir, store = prepare_run_dir(config, resume=resume, overwrite=overwrite)
    cache_on = config.cache if use_cache is None else use_cache
    owns_pool = pool is None
    pool = pool or ModelPool(use_cache=cache_on)
    slots = [s for s in schedule(config, personas, tasks) if s.id not in store.done]
    skipped = len(store.done)
    tracker = progress or Progress(total=len(slots))
    tracker.total = len(slots)
    written = 0
    interrupted = False
    factory = simulators.get(config.user.simulator)
    store.open()
    write_json_atomic(run_dir / CONFIG, _saved_config(config))
    try:
        target = build_target(config, pool)
        user_model: ChatModel | None = None
        if config.user.simulator != "scripted" or config.user.model in config.models:
            user_model = pool.build(config.models[config.user.model], seed=config.seed)
        options = {
            "max_regenerations": config.user.max_regenerations,
            "temperature": config.user.temperature,
            "max_tokens": config.user.max_tokens,
            **config.user.options,
        }
        queue = iter(slots)

        async def worker() -> None:
            nonlocal written
            for slot in queue:
                user = factory(
                    UserContext(
                        persona=slot.persona,
                        task=slot.task,
                        model=user_model,
                        seed=slot.seed,
                        options={**options, "mode": slot.mode},
                    )
                )
                episode = Episode(
                    id=slot.id,
                    run=config.name,
                    persona=slot.persona.model_dump(mode="json"),
                    task=_task_record(slot.task),
                    target=target.name,
                    repeat=slot.repeat,
                    mode=slot.mode,
                    seed=slot.seed,
                )
                await run_episode(
                    episode,
                    persona=slot.persona,
                    task=slot.task,
                    user=user,
                    target=target,
                    max_turns=config.max_turns,
                )
                if isinstance(user, FeedbackUser):
                    episode.extra["first_success_turn"] = user.first_success_turn
                    episode.extra["feedback_turns"] = user.feedback_turns
                store.append(episode.to_dict())
                written += 1
                tracker.update(episode)

        workers = min(concurrency or config.concurrency, max(1, len(slots)))
        async with asyncio.TaskGroup() as group:
            for _ in range(workers):
                group.create_task(worker())
    except asyncio.CancelledError:
        interrupted = True
        raise
    finally:
        store.close()
        summary = summarize(read_jsonl(store.path), seed=config.seed)
        summary.update(
            {
                "run": config.name,
                "complete": not interrupted and summary["episodes"] == skipped + len(slots),
                "scheduled": skipped + len(slots),
                "finished_at": time.time(),
            }
        )
        write_json_atomic(run_dir / SUMMARY, summary)
        if owns_pool:
            await asyncio.shield(pool.aclose())
    return RunResult(
        run_dir=run_dir, config=config, summary=summary, written=written, skipped=skipped
    )


def _task_record(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "suite": task.suite,
        "goal": task.goal,
        "facts": [fact.text for fact in task.facts],
        "reference": task.reference,
    }


def run(config: RunConfig | str | Path, **kwargs: Any) -> RunResult:
    """Synchronous ``arun``: ``simulacra.run("config.yaml")``."""
    return asyncio.run(arun(config, **kwargs))
