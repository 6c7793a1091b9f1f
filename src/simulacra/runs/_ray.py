"""The ``ray`` executor: episodes played by Ray actors, every record written here.

How a run goes on a cluster:

- **Workers.** ``workers`` episode workers (Ray actors) each build the run's parts once:
  the target, the simulated user and their models (an embedded llama.cpp model is loaded
  once per worker, on ``cpus_per_worker`` cores it is bound to, and reused for every
  episode it plays). The driver (the process that runs ``simulacra run``) keeps
  ``concurrency`` episodes in flight, spread over the workers; each worker plays its
  episode whole (user, target, tools, sandbox) and returns the record.
- **One writer.** Only the driver appends to ``episodes.jsonl``, as a local run does,
  so the run directory is the same whatever played the episodes.
- **A worker that dies** (its process killed, its node lost) is restarted by Ray; the
  episodes it was playing go back in the queue and are played again by whichever worker
  is free, at most ``max_retries`` times each, then recorded as errors. A reply lost in
  flight is never written, and an id already written is never written again, so every
  episode is in the file exactly once.
- **A driver that dies** takes its workers with it (they belong to its Ray job); the run
  directory is what a killed local run leaves, and ``--resume`` continues it.
- **Limits and cache** are the cluster's (see :mod:`simulacra.llm._cluster`).
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from typing import TYPE_CHECKING, Any

from simulacra.errors import RunError, describe_error, first_error
from simulacra.llm import (
    ClusterPool,
    ModelPool,
    RayCluster,
    RayModelPool,
    RayOptions,
    Services,
    creation_failed,
    pin_cores,
    runs_model_inside,
    start_services,
    stop_services,
)
from simulacra.runs._executors import EpisodeJob, Finished

if TYPE_CHECKING:
    from simulacra.runs._config import RunConfig
    from simulacra.runs._runner import Slot
    from simulacra.sim.episode import Episode


def _threaded(config: RunConfig, cpus: float) -> RunConfig:
    """``config`` with every in-process model that names no thread count given the
    worker's cores (the default, all of the machine's, would oversubscribe it)."""
    threads = max(1, int(cpus))
    models: dict[str, Any] = {}
    for key, model in config.models.items():
        data = model.model_dump(mode="json")
        if "n_threads" in type(model.options).model_fields and data.get("n_threads") is None:
            data["n_threads"] = threads
        models[key] = data
    return config.with_overrides(models=models)


class EpisodeWorker:
    """An episode worker: the run's parts built once, episodes played on request."""

    def __init__(
        self,
        config: RunConfig,
        services: Services,
        *,
        rank: int,
        cpus: float,
        pin: bool,
        use_cache: bool,
    ) -> None:
        from simulacra.runs._runner import _build_parts, build_judge

        inside = runs_model_inside(config.models)
        if inside:
            config = _threaded(config, cpus)
            if pin:
                pin_cores(rank, cpus)
        self.config = config
        self.pool = RayModelPool(services, rank=rank, use_cache=use_cache)
        self.parts = _build_parts(config, self.pool, None)
        self.parts.judge = build_judge(config, self.pool, config.validate_references()[1])

    def ready(self) -> int:
        """This worker's process id (its parts are built)."""
        return os.getpid()

    async def play(self, slot: Slot) -> Episode:
        from simulacra.runs._runner import _episode

        return await _episode(self.config, self.parts, slot)


class RayExecutor:
    """See the module docstring."""

    def __init__(self, options: RayOptions) -> None:
        self.cluster = RayCluster(options)
        self.options = options

    async def play(self, job: EpisodeJob, finished: Finished) -> None:
        from simulacra.runs._runner import new_episode

        if not job.slots:
            return
        ray = self.cluster.connect()
        dead = self.cluster.dead()
        count, cpus = self.cluster.sizing(job.config.models, len(job.slots))
        lanes = max(1, -(-job.concurrency // count))
        services = start_services(ray, use_cache=job.use_cache)
        worker_class = ray.remote(EpisodeWorker)
        actors = [
            worker_class.options(
                num_cpus=cpus, max_restarts=-1, max_task_retries=0, max_concurrency=lanes + 1
            ).remote(
                job.config,
                services,
                rank=rank,
                cpus=cpus,
                pin=self.options.pin_cpus,
                use_cache=job.use_cache,
            )
            for rank in range(count)
        ]
        queue: deque[tuple[Slot, int]] = deque((slot, 0) for slot in job.slots)
        left = len(job.slots)
        all_done = asyncio.Event()
        live = count * lanes
        start_failure: list[str] = []

        def done(episode: Episode) -> None:
            nonlocal left
            finished(episode)
            left -= 1
            if left == 0:
                all_done.set()

        async def alive(actor: Any) -> bool:
            """Whether ``actor`` is (or comes back) up, waiting out a restart."""
            for attempt in range(8):
                try:
                    await actor.ready.remote()
                    return True
                except dead as exc:
                    if attempt == 7 or creation_failed(exc):
                        start_failure.append(describe_error(exc))
                        return False
                    await asyncio.sleep(min(0.25 * 2**attempt, 8.0))
            return False

        async def lane(actor: Any) -> None:
            nonlocal live
            try:
                if not await alive(actor):
                    return
                while left > 0:
                    if not queue:
                        # the rest is in flight; an episode whose worker dies comes back
                        await asyncio.sleep(0.05)
                        continue
                    slot, tries = queue.popleft()
                    try:
                        episode = await actor.play.remote(slot)
                    except dead as exc:
                        if tries >= self.options.max_retries:
                            lost = new_episode(job.config, job.parts.target.name, slot)
                            lost.status, lost.stop_reason = "error", "error"
                            lost.error = (
                                f"WorkerDied: the Ray worker playing this episode died "
                                f"{tries + 1} time(s) ({describe_error(exc, limit=300)})"
                            )
                            done(lost)
                        else:
                            queue.append((slot, tries + 1))
                        if not await alive(actor):
                            return
                        continue
                    except ray.exceptions.RayTaskError as exc:
                        cause = exc.cause if isinstance(exc.cause, BaseException) else exc
                        raise cause from None
                    done(episode)
            finally:
                live -= 1
                if live == 0:
                    all_done.set()  # no worker is left to play the rest

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(lane(a)) for a in actors for _ in range(lanes)]
                await all_done.wait()
                for task in tasks:
                    task.cancel()
        except BaseExceptionGroup as error:
            raise first_error(error) from None
        finally:
            for actor in actors:
                ray.kill(actor)
            stop_services(ray, services)
        if left > 0:
            why = start_failure[0] if start_failure else "unknown"
            raise RunError(
                f"no Ray worker could be started, so {left} episode(s) were not played "
                f"(first failure: {why}); is simulacra installed on every node?"
            )

    def model_pool(self, *, use_cache: bool) -> ModelPool:
        return ClusterPool(self.cluster, use_cache=use_cache)

    async def aclose(self) -> None:
        await self.cluster.close()
