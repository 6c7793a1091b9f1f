"""Scaling of the ``ray`` executor on this machine, and a projection for N machines.

(a) Conversations/s against the fake OpenAI-compatible server (tests/fake_openai.py, a
    subprocess with a fixed latency): the local runner, then the ray executor with 1, 2
    and 4 episode workers, the same episodes each time, cache off. The configurations
    are run in turn, round after round (A B C D, A B C D), so a change in the machine's
    load falls on all of them; each figure is the median over rounds. Two rates: over
    the whole run (a Ray run then includes starting its workers: each imports simulacra
    and builds the run's parts), and steady (first finished episode to the last).
(b) Episodes/hour of the embedded model (llama.cpp, Qwen2.5-Coder-0.5B) with 1 model
    worker on every core, and with 2 model workers on half the cores each (bound to
    them). On a 2-core machine expect little gain: one llama.cpp instance on 2 threads
    already uses both cores.
(c) The writer's ceiling: episode records appended and flushed per second by the one
    process that writes ``episodes.jsonl`` (the driver).
(d) A paper projection for N machines from the per-worker figures.

The load average is printed beside the figures: on a shared machine they are noisy.

    python benchmarks/ray_scaling.py [--episodes 200] [--turns 2] [--latency 0.05]
        [--concurrency 16] [--rounds 2] [--embedded-episodes 2] [--machines 1,4,16,64]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_throughput import engine_config, start_server  # noqa: E402

import simulacra  # noqa: E402
from simulacra.runs import parse_config  # noqa: E402


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def timed_run(config: Any) -> tuple[float, float]:
    """The run's wall time (with its workers' start-up), and its steady rate: episodes/s
    from the first finished episode to the last."""
    from simulacra.runs import Progress

    ends: list[float] = []
    tracker = Progress(total=0)
    tracker.listeners.append(lambda state: ends.append(time.perf_counter()) if state.done else None)
    started = time.perf_counter()
    result = simulacra.run(config, overwrite=True, progress=tracker)
    elapsed = time.perf_counter() - started
    errors = result.summary.to_dict()["errors"]
    if errors:
        raise SystemExit(f"{config.name}: {errors} episodes errored")
    steady = (len(ends) - 1) / (ends[-1] - ends[0]) if len(ends) > 1 else 0.0
    return elapsed, steady


def endpoint_scaling(args: argparse.Namespace, out: str) -> dict[str, float]:
    server, url = start_server(args.latency)
    try:
        setups: list[tuple[str, Any]] = [("local runner", "local")]
        for workers in (1, 2, 4):
            setups.append((f"ray, {workers} worker(s)", {"name": "ray", "workers": workers}))
        times: dict[str, list[float]] = {label: [] for label, _ in setups}
        steady: dict[str, list[float]] = {label: [] for label, _ in setups}
        for round_ in range(args.rounds):
            for label, executor in setups:
                config = engine_config(
                    url, args.episodes, args.turns, args.concurrency, out, f"bench{round_}"
                ).with_overrides(executor=executor)
                wall, rate = timed_run(config)
                times[label].append(wall)
                steady[label].append(rate)
                print(
                    f"  round {round_ + 1}: {label}: {wall:.2f} s, steady {rate:.2f}/s ({load()})"
                )
    finally:
        server.kill()
        server.wait()
    rates = {label: statistics.median(r) for label, r in steady.items()}
    print(
        f"\n(a) conversations/s, {args.episodes} episodes of {args.turns} turns, "
        f"{args.latency * 1000:.0f} ms per call, concurrency {args.concurrency} "
        f"(median of {args.rounds} rounds; {load()})"
    )
    print(f"    {'':<22} {'with start-up':>14} {'steady':>10}")
    for label, rate in rates.items():
        wall = args.episodes / statistics.median(times[label])
        print(f"    {label:<22} {wall:14.2f} {rate:10.2f}")
    return rates


def embedded_rates(args: argparse.Namespace, out: str) -> dict[int, float]:
    from simulacra.llm._weights import default_weights

    weights = default_weights()
    cores = os.cpu_count() or 1
    rates: dict[int, float] = {}
    for actors in (1, 2):
        # the same cores either way: one llama.cpp instance on all of them, or two
        # instances on half each
        config = parse_config(
            {
                "name": f"embedded{actors}",
                "seed": 3,
                "output_dir": out,
                "cache": False,
                "models": {"local": {"backend": "local", "path": str(weights), "n_ctx": 1024}},
                "user": {"model": "local", "max_tokens": 32},
                "target": {"model": "local", "max_tokens": 40, "system_prompt": "Be brief."},
                "personas": {"builtin": ["busy-nurse", "polite-professional"]},
                "tasks": {"suite": "everyday", "ids": ["run-miles-to-km"]},
                "repeats": max(1, args.embedded_episodes // 2),
                "max_turns": 1,
                "concurrency": actors,
                "executor": {
                    "name": "ray",
                    "workers": actors,
                    "cpus_per_worker": max(1, cores // actors),
                },
            }
        )
        episodes = 2 * max(1, args.embedded_episodes // 2)
        elapsed, _ = timed_run(config)
        rates[actors] = episodes / elapsed * 3600
        print(f"  embedded, {actors} model worker(s): {elapsed:.1f} s for {episodes} ({load()})")
    print(f"\n(b) embedded model, episodes/hour (1 user + 1 assistant turn; {load()})")
    for actors, rate in rates.items():
        print(f"    {actors} model worker(s)      {rate:8.1f} episodes/hour")
    print(
        f"    ({cores} cores either way: one llama.cpp instance on {cores} threads already "
        "uses them, so a second worker adds little on one machine; the gain comes from "
        "more machines)"
    )
    return rates


def writer_ceiling(out: str) -> float:
    from simulacra.rundir import EpisodeStore
    from simulacra.runs import read_episodes

    run_dir = Path(out) / "bench0"
    sample = read_episodes(run_dir)
    store = EpisodeStore(Path(out) / "writer")
    store.open()
    count = 5000
    started = time.perf_counter()
    for i in range(count):
        store.append({**sample[i % len(sample)], "id": f"w{i}"})
    store.close()
    rate = count / (time.perf_counter() - started)
    print(f"\n(c) the writer appends {rate:,.0f} episode records/s ({load()})")
    return rate


def projection(
    rates: dict[str, float], embedded: dict[int, float], writer: float, machines: list[int]
) -> None:
    per_worker = rates["ray, 1 worker(s)"]
    per_machine = max(rate for label, rate in rates.items() if label.startswith("ray"))
    cores = os.cpu_count() or 1
    print(
        f"\n(d) paper projection for N machines like this one ({cores} cores): the best "
        "steady rate measured here per machine, times N, until the endpoint or the one "
        "writer is the limit"
    )
    print(
        f"    measured here: {per_worker:.2f} conversations/s with one worker, "
        f"{per_machine:.2f} per machine (the best of 1, 2, 4 workers)"
    )
    if embedded:
        best = max(embedded.values())
        print(f"    embedded model: {best:.0f} episodes/hour per machine (the best of 1, 2)")
    for n in machines:
        fake = min(per_machine * n, writer)
        line = f"    N={n:<4} fake endpoint: {fake:10,.1f} conversations/s"
        if embedded:
            line += f"; embedded model: {max(embedded.values()) * n:10,.0f} episodes/hour"
        print(line)
    print(
        "    (a worker's start-up, a few seconds, is paid once per run; the fake endpoint "
        "never slows down, a real one does, and the shared limit then holds every machine "
        "to its max_concurrency)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--turns", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--embedded-episodes", type=int, default=2, help="0 to skip (b)")
    parser.add_argument("--machines", default="1,4,16,64")
    args = parser.parse_args()

    import ray

    from simulacra.llm import start_local_cluster

    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]
    )
    print(f"starting a Ray cluster of this machine ({load()})")
    start_local_cluster()  # on 127.0.0.1 only
    try:
        with tempfile.TemporaryDirectory() as out:
            rates = endpoint_scaling(args, out)
            writer = writer_ceiling(out)
            embedded = embedded_rates(args, out) if args.embedded_episodes > 0 else {}
            projection(rates, embedded, writer, [int(n) for n in args.machines.split(",")])
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
