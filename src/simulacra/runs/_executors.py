"""Executors: where a run's episodes (and a judgement's model calls) are played.

The runner owns the run directory: it checks the config, takes the lock, decides which
episodes are left, appends each finished one to ``episodes.jsonl`` and writes the
summary. An executor only plays episodes and hands each finished one back to the runner
(``finished``), in the runner's process, so one writer appends every line whatever plays
them. Executors are registered like every other extension point::

    executors.add("mine", build, options=MyOptions)   # build(options) -> Executor

and chosen in a run config with ``executor: mine`` (or ``executor: {name: mine, ...}``
with its options beside the name). Built in: ``local`` (this process, one event loop)
and ``ray`` (a Ray cluster; see :mod:`simulacra.runs._ray`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import model_validator

from simulacra.llm import ModelPool, RayOptions
from simulacra.registry import Chosen, Options, Registry

if TYPE_CHECKING:
    from simulacra.runs._config import RunConfig
    from simulacra.runs._runner import Slot, _Parts
    from simulacra.sim.episode import Episode

Finished = Callable[["Episode"], None]
"""Called by an executor, in the runner's process, with each finished episode."""


@dataclass(frozen=True, kw_only=True)
class EpisodeJob:
    """The episodes an executor is asked to play, and what it may play them with."""

    config: RunConfig
    parts: _Parts
    """The target, the user's model and the simulator, built (and checked) here."""
    slots: list[Slot]
    concurrency: int
    """Episodes in flight at once."""
    use_cache: bool


class Executor(Protocol):
    """Plays episodes; see the module docstring."""

    async def play(self, job: EpisodeJob, finished: Finished) -> None:
        """Play every slot of ``job`` (each once), calling ``finished`` as each ends.
        An error that stops the run (see ``stops_run``) is raised; any other is the
        episode's recorded error."""
        ...

    def model_pool(self, *, use_cache: bool) -> ModelPool:
        """A pool whose models answer where this executor runs them (for judging)."""
        ...

    async def aclose(self) -> None:
        """Release what the executor started."""
        ...


ExecutorBuild = Callable[[Any], Executor]
executors: Registry[ExecutorBuild] = Registry("executor")
"""Executor name → ``build(options)``, registered with its options model."""


class ExecutorConfig(Chosen):
    """``executor: local`` (the default), ``executor: ray`` or ``executor: {name: ray,
    address: auto, workers: 8}``: the executor's options are written beside its name."""

    registry: ClassVar[Registry[Any]] = executors
    key: ClassVar[str] = "name"

    name: str = "local"

    @model_validator(mode="before")
    @classmethod
    def _just_a_name(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data

    def build(self) -> Executor:
        return executors.get(self.name)(self.options)


def choose_executor(config: RunConfig, name: str | None, *, address: str | None) -> RunConfig:
    """``config`` with the executor given on the command line (``--executor``, and
    ``--address`` for one that connects somewhere); options of the config's own executor
    are kept when the name is the same."""
    if name is None and address is None:
        return config
    current = config.executor.model_dump(mode="json")
    chosen = name or str(current["name"])
    data: dict[str, Any] = current if chosen == current["name"] else {"name": chosen}
    if address is not None:
        data = {**data, "address": address}
    return config.with_overrides(source="--executor/--address", executor=data)


class LocalExecutor:
    """Every episode in this process: ``concurrency`` of them at once on its event loop.
    (It takes no options: the class is its own ``build``.)"""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()

    async def play(self, job: EpisodeJob, finished: Finished) -> None:
        from simulacra.errors import first_error
        from simulacra.runs._runner import _episode

        queue = iter(job.slots)

        async def worker() -> None:
            for slot in queue:
                finished(await _episode(job.config, job.parts, slot))

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(job.concurrency, max(1, len(job.slots)))):
                    group.create_task(worker())
        except BaseExceptionGroup as error:
            raise first_error(error) from None

    def model_pool(self, *, use_cache: bool) -> ModelPool:
        return ModelPool(use_cache=use_cache)

    async def aclose(self) -> None:
        return None


executors.add("local", LocalExecutor, options=Options)


@executors.register("ray", options=RayOptions)
def _ray(options: RayOptions) -> Executor:
    from simulacra.runs._ray import RayExecutor

    return RayExecutor(options)
