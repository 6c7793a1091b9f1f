"""Throughput and memory of the episode engine against a fake OpenAI-compatible server.

Starts the fake server (tests/fake_openai.py) in a subprocess with a fixed latency, then
in this process runs:

(a) a raw baseline: a bare asyncio loop making exactly the calls the episodes need (user
    turn, then assistant turn, one after the other within an episode) with the same HTTP
    client and concurrency;
(b) simulacra's runner: the same episodes through the `openai` backend, cache off.

Prints wall times, the overhead ratio (baseline / simulacra; 1.0 means no overhead),
the efficiency of each against the ideal, model calls per episode, peak RSS, and the RSS
growth from 1,000 to 10,000 episodes.

(c) with ``--assistant-like N``: N episodes against a server that answers the simulated
    user's requests as an assistant would ("Sure, here is …"), so every candidate turn
    fails the role-drift guard. Prints conversations/s of simulacra and of the bare loop
    making the same number of useful calls (one user and one assistant call a turn), the
    user's model calls per user turn and the regenerations. Each side warms up first
    (one round of ``--concurrency`` conversations: imports, connections), then plays
    ``--repeats`` timed rounds, alternating; the median round is shown with all rounds.

    python benchmarks/engine_throughput.py [--episodes 1000] [--concurrency 64]
        [--turns 4] [--latency 0.1] [--big 10000] [--assistant-like 200]
        [--only-assistant-like] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import simulacra  # noqa: E402
from fake_openai import free_port  # noqa: E402
from simulacra.runs import parse_config  # noqa: E402


def start_server(
    latency: float, *, assistant_like: bool = False
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "fake_openai.py"),
            "--port",
            str(port),
            "--latency",
            str(latency),
            *(["--assistant-like"] if assistant_like else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 20
    body = json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode()
    while time.time() < deadline:
        try:
            request = urllib.request.Request(
                f"{url}/chat/completions", data=body, headers={"Content-Type": "application/json"}
            )
            urllib.request.urlopen(request, timeout=2).read()
            return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("fake server did not start")


async def baseline(url: str, episodes: int, turns: int, concurrency: int) -> tuple[float, int]:
    """The bare loop: per episode, `turns` x (user call, then assistant call)."""
    calls = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        queue = iter(range(episodes))

        async def call(messages: list[dict[str, Any]]) -> dict[str, Any]:
            body = {"model": "fake", "messages": messages}
            async with session.post(f"{url}/chat/completions", json=body) as response:
                data: dict[str, Any] = await response.json()
            return data["choices"][0]["message"]

        async def worker() -> None:
            nonlocal calls
            for episode in queue:
                transcript: list[dict[str, Any]] = []
                for turn in range(turns):
                    plan = f"Say (12 words): fact {turn} of episode {episode}"
                    user = await call(
                        [
                            {"role": "system", "content": "You are a person chatting."},
                            {"role": "user", "content": plan},
                        ]
                    )
                    transcript.append({"role": "user", "content": user["content"]})
                    transcript.append(await call(transcript))
                    calls += 2

        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())
        return time.perf_counter() - started, calls


def engine_config(
    url: str, episodes: int, turns: int, concurrency: int, out: str, name: str
) -> Any:
    model = {
        "backend": "openai",
        "base_url": url,
        "model": "fake",
        "max_concurrency": concurrency,
        "cache": False,
    }
    return parse_config(
        {
            "name": name,
            "output_dir": out,
            "cache": False,
            "models": {"fake": model},
            "user": {"model": "fake"},
            "target": {"model": "fake", "system_prompt": "You are a helpful assistant."},
            "personas": {
                "inline": [
                    {
                        "name": "steady",
                        "background": "a patient tester",
                        "patience": 20,
                        "cooperativeness": 1.0,
                        "typo_rate": 0.0,
                    }
                ]
            },
            "tasks": {
                "inline": [
                    {
                        "id": "bench",
                        "goal": "I need help planning a garden bed.",
                        "facts": [
                            f"The bed number {i + 1} is {3 + i} metres long." for i in range(turns)
                        ],
                        "check": {"type": "numeric", "value": 1},
                        "max_turns": turns,
                    }
                ]
            },
            "repeats": episodes,
            "concurrency": concurrency,
        }
    )


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def assistant_like_case(
    episodes: int, turns: int, concurrency: int, latency: float, repeats: int = 3
) -> list[tuple[str, str]]:
    """Rows of case (c): an endpoint that always answers the user's requests "Sure, …".

    Each side first plays one warm-up round of ``concurrency`` conversations (its
    imports, connections and lazily built tables are paid there, once a process, and
    the warm-up's extra wall time is printed), then ``repeats`` timed rounds, the bare
    loop and simulacra alternating so that both see the same machine. Every simulacra
    run builds its own models, so the redraw records of one run never reach the next.
    """
    server, url = start_server(latency, assistant_like=True)
    ratios: list[float] = []
    rates: list[tuple[float, float]] = []
    try:
        with tempfile.TemporaryDirectory() as out:
            asyncio.run(baseline(url, concurrency, turns, concurrency))
            started = time.perf_counter()
            simulacra.run(engine_config(url, concurrency, turns, concurrency, out, "warm-up"))
            first_s = time.perf_counter() - started
            started = time.perf_counter()
            simulacra.run(engine_config(url, concurrency, turns, concurrency, out, "warm-up-2"))
            warm_s = time.perf_counter() - started
            for repeat in range(repeats):
                base_s, base_calls = asyncio.run(baseline(url, episodes, turns, concurrency))
                started = time.perf_counter()
                result = simulacra.run(
                    engine_config(
                        url, episodes, turns, concurrency, out, f"assistant-like-{repeat}"
                    )
                )
                engine_s = time.perf_counter() - started
                ratios.append(base_s / engine_s)
                rates.append((episodes / base_s, result.summary.episodes / engine_s))
    finally:
        server.kill()
        server.wait()
    summary = result.summary.to_dict()
    user_calls = summary["usage"]["user"]["calls"]
    user_turns = summary["episodes"] * turns
    guards = summary["guard_events"]
    regenerations = guards.get("total", 0) - guards.get("fallbacks", 0)
    middle = sorted(range(repeats), key=lambda i: ratios[i])[repeats // 2]
    return [
        (
            "assistant-like endpoint",
            f"{episodes} x {turns} user turns, every reply 'Sure, here is …', "
            f"concurrency {concurrency}, latency {latency * 1000:.0f} ms, {repeats} rounds",
        ),
        (
            "  warm-up",
            f"first run in the process {first_s - warm_s:+.2f} s over a warm one "
            f"({concurrency} conversations: imports, connections)",
        ),
        (
            "  bare loop",
            f"{rates[middle][0]:.1f} conversations/s ({base_calls / episodes:.1f} useful calls/episode)",
        ),
        (
            "  simulacra",
            f"{rates[middle][1]:.1f} conversations/s ({ratios[middle]:.3f} of the bare loop; "
            f"rounds {', '.join(f'{r:.3f}' for r in ratios)})",
        ),
        (
            "  user calls per user turn",
            f"{user_calls / user_turns:.2f} (last round; 1.00 is no regeneration)",
        ),
        (
            "  regenerations",
            f"{regenerations} ({regenerations / user_turns:.2f} per user turn, last round)",
        ),
        ("  fallbacks", f"{guards.get('fallbacks', 0)} (last round)"),
    ]


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument(
        "--big", type=int, default=10000, help="episodes of the memory run (0: skip)"
    )
    parser.add_argument(
        "--assistant-like",
        type=int,
        default=200,
        help="episodes against an endpoint answering like an assistant (0: skip)",
    )
    parser.add_argument("--only-assistant-like", action="store_true", help="run case (c) alone")
    parser.add_argument(
        "--repeats", type=positive, default=3, help="timed rounds of case (c) (the median is shown)"
    )
    args = parser.parse_args()
    if args.only_assistant_like:
        rows = assistant_like_case(
            args.assistant_like or 200, args.turns, args.concurrency, args.latency, args.repeats
        )
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            print(f"{key:<{width}}  {value}")
        return
    server, url = start_server(args.latency)
    ideal = math.ceil(args.episodes / args.concurrency) * 2 * args.turns * args.latency
    try:
        with tempfile.TemporaryDirectory() as out:
            base_s, base_calls = asyncio.run(
                baseline(url, args.episodes, args.turns, args.concurrency)
            )
            rss_before = rss_mb()
            started = time.perf_counter()
            result = simulacra.run(
                engine_config(url, args.episodes, args.turns, args.concurrency, out, "small")
            )
            engine_s = time.perf_counter() - started
            rss_small = rss_mb()
            summary = result.summary.to_dict()
            calls = sum(u["calls"] for u in summary["usage"].values())
            rows = [
                (
                    "episodes",
                    f"{args.episodes} x {args.turns} user turns, concurrency {args.concurrency}, latency {args.latency * 1000:.0f} ms",
                ),
                ("ideal wall time", f"{ideal:.2f} s"),
                (
                    "baseline wall time",
                    f"{base_s:.2f} s (efficiency {ideal / base_s:.3f}, {base_calls / args.episodes:.1f} calls/episode)",
                ),
                ("simulacra wall time", f"{engine_s:.2f} s (efficiency {ideal / engine_s:.3f})"),
                (
                    "overhead ratio",
                    f"{base_s / engine_s:.3f} (baseline / simulacra; target >= 0.95)",
                ),
                (
                    "model calls per episode",
                    f"{calls / summary['episodes']:.2f} ({calls / summary['episodes'] / args.turns:.2f} per user turn)",
                ),
                ("guard events", json.dumps(summary["guard_events"])),
                ("errors", str(summary["errors"])),
                ("RSS after small run", f"{rss_small:.1f} MB (before {rss_before:.1f} MB)"),
            ]
            if args.big:
                started = time.perf_counter()
                big = simulacra.run(
                    engine_config(url, args.big, args.turns, args.concurrency, out, "big")
                )
                big_s = time.perf_counter() - started
                rss_big = rss_mb()
                big_ideal = math.ceil(args.big / args.concurrency) * 2 * args.turns * args.latency
                rows += [
                    (
                        f"{args.big} episodes",
                        f"{big_s:.2f} s (efficiency {big_ideal / big_s:.3f}, errors {big.summary.errors})",
                    ),
                    ("RSS after big run", f"{rss_big:.1f} MB"),
                    (
                        f"RSS growth {args.episodes} -> {args.big}",
                        f"{rss_big - rss_small:+.1f} MB (target < 50 MB)",
                    ),
                ]
            rows.append(("peak RSS", f"{peak_rss_mb():.1f} MB"))
    finally:
        server.kill()
        server.wait()
    if args.assistant_like:
        rows += assistant_like_case(
            args.assistant_like, args.turns, args.concurrency, args.latency, args.repeats
        )
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print(json.dumps({k: v for k, v in rows}, indent=None))


if __name__ == "__main__":
    main()
