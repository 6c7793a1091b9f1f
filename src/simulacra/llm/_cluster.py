"""Models on a Ray cluster: endpoint limits and the response cache shared by every
worker, and models whose calls are answered by worker processes.

Ray is imported only when a cluster is first joined (``pip install 'simulacra[ray]'``).

- **Limits.** Calls to an endpoint (an ``openai`` ``base_url``) share one adaptive
  concurrency limit (``AdaptiveLimiter``) across the whole cluster, held by one limiter
  actor; a worker that dies gives its slots back when Ray restarts it. Models that answer
  inside the worker's process (``local``, ``scripted``) keep their limit per process.
- **Cache.** One cache actor, on the driver's machine, owns the response cache (the same
  SQLite file a local run uses): every worker asks it before calling a model and tells it
  each new reply, so a reply that one worker got is a hit for every other worker at once,
  and for later local runs too. (Per-worker caches merged at the end would give no hit
  across workers during the run, and SQLite on a shared file system is not safe.)
- **Model workers.** ``ClusterPool`` builds models whose calls go to model workers (Ray
  actors): each loads an embedded model once, bound to its own cores, and answers every
  call for it; a worker that dies mid-call has the call made again by another.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from pydantic import Field

from simulacra.errors import ConfigError, ModelError, RunError, describe_error
from simulacra.llm._cache import CachedModel, ResponseCache
from simulacra.llm._config import ModelConfig, ModelPool
from simulacra.llm._resilience import AdaptiveLimiter
from simulacra.llm._types import ChatModel, ChatParams, Completion, Message
from simulacra.registry import Options, Registry


class RayOptions(Options):
    """``executor: {name: ray, ...}``: episodes, or a judgement's model calls, on a Ray
    cluster (``pip install 'simulacra[ray]'``)."""

    address: str | None = Field(
        default=None,
        description="the cluster to join (ray://host:10001, host:6379, auto); default: "
        "RAY_ADDRESS if set, else a cluster of this machine alone, started for the run",
    )
    workers: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="episode workers (Ray actors); default: the cluster's CPUs divided by "
        "cpus_per_worker",
    )
    cpus_per_worker: float | None = Field(
        default=None,
        gt=0,
        description="CPUs each worker reserves; default 1 when a model runs inside the "
        "worker (the local backend), else 0.25 (a worker that waits on endpoints)",
    )
    num_cpus: int | None = Field(
        default=None,
        ge=1,
        description="the CPUs a cluster started for the run offers (default: all of them)",
    )
    max_retries: int = Field(
        default=2,
        ge=0,
        le=100,
        description="how often an episode whose worker died is played again elsewhere "
        "before it is recorded as an error",
    )
    pin_cpus: bool = Field(
        default=True,
        description="bind a worker that runs an embedded model to its own cores",
    )


RAY_EXTRA = "pip install 'simulacra[ray]'"


def import_ray() -> Any:
    """The ``ray`` module, or a ``ConfigError`` naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(f"the ray executor needs Ray: {RAY_EXTRA}", field="executor") from None
    return ray


# --- shared services ------------------------------------------------------------------


class LimiterActor:
    """The cluster-wide ``AdaptiveLimiter`` of every endpoint, in one async actor.

    Each worker process takes and gives back slots under its own token; when a worker
    comes back from a restart (a new token for the same rank), the slots its dead
    predecessor held are given back, so a killed worker never leaks a slot.
    """

    def __init__(self) -> None:
        self.limiters: dict[str, AdaptiveLimiter] = {}
        self.held: dict[str, Counter[str]] = defaultdict(Counter)
        self.tokens: dict[int, str] = {}

    async def _incarnation(self, rank: int, token: str) -> None:
        before = self.tokens.get(rank)
        if before == token:
            return
        self.tokens[rank] = token
        if before is None:
            return
        for endpoint, count in self.held.pop(before, Counter()).items():
            for _ in range(count):
                await self.limiters[endpoint].release()

    async def acquire(self, endpoint: str, maximum: int, rank: int, token: str) -> None:
        await self._incarnation(rank, token)
        limiter = self.limiters.get(endpoint)
        if limiter is None:
            limiter = self.limiters[endpoint] = AdaptiveLimiter(maximum, name=endpoint)
        await limiter.acquire()
        self.held[token][endpoint] += 1

    async def release(
        self, endpoint: str, token: str, throttled: bool, timed_out: bool, succeeded: bool
    ) -> None:
        if self.held[token][endpoint] <= 0:
            return  # given back already, as a dead predecessor's
        self.held[token][endpoint] -= 1
        await self.limiters[endpoint].release(
            throttled=throttled, timed_out=timed_out, succeeded=succeeded
        )

    def state(self) -> dict[str, dict[str, float]]:
        """Per endpoint: the current limit, its maximum, calls in flight, 429s/timeouts."""
        return {
            name: {
                "limit": limiter.current,
                "maximum": limiter.maximum,
                "in_flight": limiter.in_flight,
                "throttled": limiter.throttled,
            }
            for name, limiter in self.limiters.items()
        }


class CacheActor:
    """The response cache of a run, owned by one actor on the driver's machine."""

    def __init__(self, path: str) -> None:
        self.cache = ResponseCache(path)

    def get(self, key: str) -> Completion | None:
        return self.cache.get(key)

    def put(self, key: str, completion: Completion) -> None:
        self.cache.put(key, completion)

    def stats(self) -> dict[str, int]:
        return {"hits": self.cache.hits, "misses": self.cache.misses}

    def close(self) -> None:
        self.cache.close()


class Services:
    """The actors every worker shares, sent to each worker by name (a worker looks them
    up when it first needs them, so a restarted worker finds them again)."""

    def __init__(self, limiter: str, cache: str | None) -> None:
        self.limiter_name, self.cache_name = limiter, cache
        self._handles: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"limiter_name": self.limiter_name, "cache_name": self.cache_name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.limiter_name, self.cache_name = state["limiter_name"], state["cache_name"]
        self._handles = {}

    def _handle(self, name: str) -> Any:
        if name not in self._handles:
            self._handles[name] = import_ray().get_actor(name)
        return self._handles[name]

    @property
    def limiter(self) -> Any:
        return self._handle(self.limiter_name)

    @property
    def cache(self) -> Any | None:
        return None if self.cache_name is None else self._handle(self.cache_name)


def start_services(ray: Any, *, use_cache: bool, cache_path: Path | None = None) -> Services:
    """The limiter actor, and (with ``use_cache``) the cache actor on this machine."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    stem = f"simulacra-{uuid.uuid4().hex[:12]}"
    services = Services(f"{stem}-limiter", f"{stem}-cache" if use_cache else None)
    services._handles[services.limiter_name] = (
        ray.remote(LimiterActor)
        .options(name=services.limiter_name, num_cpus=0, max_concurrency=10_000)
        .remote()
    )
    if services.cache_name is not None:
        if cache_path is None:
            cache_path = ModelPool().cache_file()
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        services._handles[services.cache_name] = (
            ray.remote(CacheActor)
            .options(
                name=services.cache_name,
                num_cpus=0,
                max_concurrency=1,
                scheduling_strategy=here,
            )
            .remote(str(cache_path))
        )
    return services


def stop_services(ray: Any, services: Services) -> None:
    cache = services.cache
    if cache is not None:
        with contextlib.suppress(Exception):  # an actor that is gone has nothing to close
            ray.get(cache.close.remote(), timeout=30)
        ray.kill(cache)
    ray.kill(services.limiter)


class RemoteLimiter(AdaptiveLimiter):
    """An endpoint's slots, taken from the cluster's ``LimiterActor``."""

    def __init__(self, config: ModelConfig, services: Services, *, rank: int, token: str) -> None:
        super().__init__(config.concurrency(), name=config.endpoint())
        self._services = services
        self._rank, self._token = rank, token

    @property
    def _actor(self) -> Any:
        return self._services.limiter

    async def acquire(self) -> None:
        await self._actor.acquire.remote(self.name, self.maximum, self._rank, self._token)

    async def release(
        self, *, throttled: bool = False, timed_out: bool = False, succeeded: bool = False
    ) -> None:
        await self._actor.release.remote(self.name, self._token, throttled, timed_out, succeeded)


class RemoteCachedModel(CachedModel):
    """``CachedModel`` with the cache actor as its store."""

    def __init__(self, inner: ChatModel, services: Services) -> None:
        # the cache actor answers ``get``/``put`` as remote calls: see ``_get``/``_put``
        self._actor: Any = services.cache
        super().__init__(inner, cast(ResponseCache, self._actor))

    async def _get(self, key: str) -> Completion | None:
        hit: Completion | None = await self._actor.get.remote(key)
        return hit

    async def _put(self, key: str, completion: Completion) -> None:
        await self._actor.put.remote(key, completion)


class RayModelPool(ModelPool):
    """A worker's ``ModelPool``: endpoint limits from the limiter actor, the cache from
    the cache actor; models that answer in this process keep their own limit."""

    def __init__(self, services: Services, *, rank: int, use_cache: bool) -> None:
        super().__init__(use_cache=use_cache and services.cache_name is not None)
        self.services = services
        self.rank = rank
        self.token = uuid.uuid4().hex

    def make_limiter(self, config: ModelConfig) -> AdaptiveLimiter:
        if config.options.in_process:
            return super().make_limiter(config)
        return RemoteLimiter(config, self.services, rank=self.rank, token=self.token)

    def cached(self, model: ChatModel) -> ChatModel:
        return RemoteCachedModel(model, self.services)


# --- placement --------------------------------------------------------------------------


def runs_model_inside(models: dict[str, ModelConfig]) -> bool:
    """Whether a model of the config answers inside the worker's process on its CPUs
    (the embedded llama.cpp model), as opposed to waiting on an endpoint."""
    return any(m.options.in_process and m.options.cacheable for m in models.values())


def pin_cores(rank: int, cpus: float) -> None:
    """Bind this process to ``cpus`` cores of its own (by rank, wrapping round)."""
    available = sorted(os.sched_getaffinity(0))
    count = max(1, min(int(cpus), len(available)))
    start = (rank * count) % len(available)
    cores = {available[(start + i) % len(available)] for i in range(count)}
    os.sched_setaffinity(0, cores)


class RayCluster:
    """A connection to a Ray cluster, made on first use: the one this process already
    joined, the one at ``options.address`` (or ``RAY_ADDRESS``), else a cluster of this
    machine alone, started here and shut down by ``close``."""

    def __init__(self, options: RayOptions) -> None:
        self.ray = import_ray()
        self.options = options
        self._started = False

    def connect(self) -> Any:
        ray = self.ray
        if ray.is_initialized():
            return ray
        address = self.options.address or os.environ.get("RAY_ADDRESS") or "local"
        try:
            if address == "local":
                start_local_cluster(num_cpus=self.options.num_cpus)
            else:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise RunError(f"cannot join the Ray cluster at {address}: {exc}") from None
        self._started = True
        return ray

    def sizing(self, models: dict[str, ModelConfig], wanted: int) -> tuple[int, float]:
        """How many workers to start (at most ``wanted``), and the CPUs each reserves."""
        inside = runs_model_inside(models)
        cpus = self.options.cpus_per_worker or (1.0 if inside else 0.25)
        total = float(self.ray.cluster_resources().get("CPU", 1.0))
        # a worker that runs a model takes its cores; one that waits on endpoints takes
        # a share of one, so more of them fit when asked for, but one per core by default
        count = self.options.workers or max(1, int(total // cpus) if inside else int(total))
        return max(1, min(count, wanted)), cpus

    def dead(self) -> tuple[type[BaseException], ...]:
        """What Ray raises for a call whose worker process or node went away."""
        errors = self.ray.exceptions
        return (errors.RayActorError, errors.WorkerCrashedError, errors.ObjectLostError)

    async def close(self) -> None:
        if self._started and self.ray.is_initialized():
            await asyncio.to_thread(self.ray.shutdown)
        self._started = False


def start_local_cluster(*, num_cpus: int | None = None) -> None:
    """Start a Ray cluster of this machine alone, joined by this process, that listens
    on the loopback interface only (Ray's default is the machine's network address)."""
    ray = import_ray()
    # Ray takes the loopback address for its nodes when it is told that clusters of
    # several machines are off (the flag it reads on macOS and Windows); the processes
    # it starts read the variable
    from ray._private import ray_constants

    flag = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
    before = os.environ.get(flag), ray_constants.ENABLE_RAY_CLUSTER
    os.environ[flag] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    settings: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    if num_cpus is not None:
        settings["num_cpus"] = num_cpus
    try:
        ray.init(address="local", **settings)
    finally:  # the cluster's processes have it; this process keeps nothing changed
        if before[0] is None:
            os.environ.pop(flag, None)
        else:
            os.environ[flag] = before[0]
        ray_constants.ENABLE_RAY_CLUSTER = before[1]


def creation_failed(error: BaseException) -> bool:
    """Whether a Ray worker died in its constructor (it will not come back)."""
    return bool(getattr(error, "actor_init_failed", False))


class ModelWorker:
    """Answers chat calls for the models of a judgement (one load per worker)."""

    def __init__(
        self, services: Services, *, rank: int, cpus: float, pin: bool, use_cache: bool
    ) -> None:
        self.pool = RayModelPool(services, rank=rank, use_cache=use_cache)
        self.models: dict[str, ChatModel] = {}
        self.rank, self.cpus, self.pin = rank, cpus, pin
        self.pinned = False

    def ready(self) -> int:
        return os.getpid()

    async def chat(
        self,
        key: str,
        config: ModelConfig,
        seed: int | None,
        messages: list[Message],
        params: ChatParams | None,
    ) -> Completion:
        model = self.models.get(key)
        if model is None:
            if config.options.in_process and config.options.cacheable:
                data = config.model_dump(mode="json")
                if data.get("n_threads") is None:
                    data["n_threads"] = max(1, int(self.cpus))
                config = ModelConfig.model_validate(data)
                if self.pin and not self.pinned:
                    pin_cores(self.rank, self.cpus)
                    self.pinned = True
            model = self.models[key] = self.pool.build(config, seed=seed)
        return await model.chat(messages, params)


# --- models answered on the cluster ----------------------------------------------------------------------


class RemoteModel:
    """A model whose calls are answered by the cluster's model workers (the least busy
    one first); a worker that dies mid-call has the call made again by another."""

    def __init__(self, pool: ClusterPool, config: ModelConfig, seed: int | None) -> None:
        self.pool, self.config, self.seed = pool, config, seed
        self.key = f"{config.model_dump_json()}#{seed}"

    @property
    def name(self) -> str:
        return self.config.identity()

    async def chat(self, messages: list[Message], params: ChatParams | None = None) -> Completion:
        ray = self.pool.cluster.ray
        dead = self.pool.cluster.dead()
        tries = 0
        while True:
            index = self.pool.choose()
            try:
                completion: Completion = await self.pool.actors[index].chat.remote(
                    self.key, self.config, self.seed, messages, params
                )
                return completion
            except dead as exc:
                tries += 1
                if tries > self.pool.cluster.options.max_retries:
                    raise ModelError(
                        f"{self.name}: the Ray worker answering died {tries} time(s) "
                        f"({describe_error(exc, limit=300)})",
                        retryable=False,
                    ) from None
            except ray.exceptions.RayTaskError as exc:
                cause = exc.cause if isinstance(exc.cause, BaseException) else exc
                raise cause from None
            finally:
                self.pool.busy[index] -= 1

    async def aclose(self) -> None:
        return None


class ClusterPool(ModelPool):
    """The pool a judgement builds its raters' models from: each model is a
    ``RemoteModel``; the workers start with the first model built."""

    def __init__(self, cluster: RayCluster, *, use_cache: bool) -> None:
        super().__init__(use_cache=use_cache)
        self.cluster = cluster
        self.actors: list[Any] = []
        self.busy: list[int] = []
        self.services: Services | None = None

    def _start(self, config: ModelConfig) -> None:
        ray = self.cluster.connect()
        self.services = start_services(ray, use_cache=self._use_cache)
        count, cpus = self.cluster.sizing({"model": config}, 1 << 30)
        worker_class = ray.remote(ModelWorker)
        self.actors = [
            worker_class.options(num_cpus=cpus, max_restarts=-1, max_task_retries=0).remote(
                self.services,
                rank=rank,
                cpus=cpus,
                pin=self.cluster.options.pin_cpus,
                use_cache=self._use_cache,
            )
            for rank in range(count)
        ]
        self.busy = [0] * count

    def choose(self) -> int:
        index = min(range(len(self.busy)), key=self.busy.__getitem__)
        self.busy[index] += 1
        return index

    def build(self, config: ModelConfig, *, seed: int | None = None) -> ChatModel:
        from simulacra.llm import backends

        backends.get(config.backend)  # an unknown backend fails here, not on a worker
        if not self.actors:
            self._start(config)
        return RemoteModel(self, config, seed)

    async def aclose(self) -> None:
        ray = self.cluster.ray
        for actor in self.actors:
            ray.kill(actor)
        self.actors = []
        if self.services is not None:
            await asyncio.to_thread(stop_services, ray, self.services)
            self.services = None
        await self.cluster.close()


# --- where a command's models answer ----------------------------------------------------

PoolBuild = Callable[[Any, bool], ModelPool]
pool_kinds: Registry[PoolBuild] = Registry("executor")
"""Executor name → ``build(options, use_cache)``: the ``ModelPool`` whose models answer
where that executor runs them, for commands that make model calls without episodes
(``simulacra judge --executor ray``)."""


@pool_kinds.register("local", options=Options)
def _local_pool(options: Options, use_cache: bool) -> ModelPool:
    return ModelPool(use_cache=use_cache)


@pool_kinds.register("ray", options=RayOptions)
def _ray_pool(options: RayOptions, use_cache: bool) -> ModelPool:
    return ClusterPool(RayCluster(options), use_cache=use_cache)


def pool_for(name: str | None, *, address: str | None, use_cache: bool) -> ModelPool:
    """The pool ``--executor NAME --address ADDR`` describe (default: local); a bad name
    or option is a ``ConfigError`` naming the flag."""
    entry = pool_kinds.entry(name or "local")
    data = {} if address is None else {"address": address}
    options = entry.parse(data, source="--executor/--address", field="executor")
    return entry.value(options, use_cache)
