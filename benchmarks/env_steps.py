"""How many environment steps a second the conversation environment takes.

Plays conversations of the built-in personas and the ``everyday`` tasks with a scripted
policy (a fixed reply) against two users: the ``scripted`` simulator (no model: the cost
of the environment itself) and the ``llm`` simulator on the ``scripted`` backend (its
prompts, guards and style, with a model that answers at once). Prints, for each, steps,
episodes, seconds and steps per second for the Gymnasium environment (one
conversation at a time) and for the async environment with many conversations at once.

    python benchmarks/env_steps.py [--steps 5000] [--parallel 32]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from simulacra.env import AsyncConversationEnv, ConversationEnv, UserSpec  # noqa: E402
from simulacra.llm import ModelConfig, ModelPool  # noqa: E402
from simulacra.people import builtin_personas  # noqa: E402
from simulacra.sim.users import simulator_entry  # noqa: E402
from simulacra.tasks import suite_tasks  # noqa: E402

PERSONAS = builtin_personas()
TASKS = suite_tasks("everyday")
REPLY = "Thanks. Could you tell me the numbers involved, so I can work it out?"


def users(pool: ModelPool) -> dict[str, UserSpec | str]:
    llm, entry = simulator_entry("llm")
    model = pool.build(
        ModelConfig.model_validate(
            {"backend": "scripted", "replies": ["Sure, it is 4 people.", "Go on."], "cache": False}
        ),
        seed=0,
    )
    return {
        "scripted": "scripted",
        "llm": UserSpec(simulator=llm, model=model, options=entry.options.model_validate({})),
    }


def gym_steps(user: UserSpec | str, steps: int) -> tuple[int, int, float]:
    env = ConversationEnv(personas=PERSONAS, tasks=TASKS, user=user)
    done_steps = episodes = 0
    started = time.perf_counter()
    env.reset(seed=0)
    while done_steps < steps:
        *_, terminated, truncated, _ = env.step(REPLY)
        done_steps += 1
        if terminated or truncated:
            episodes += 1
            env.reset()
    elapsed = time.perf_counter() - started
    env.close()
    return done_steps, episodes, elapsed


async def async_steps(user: UserSpec | str, steps: int, parallel: int) -> tuple[int, int, float]:
    counts = {"steps": 0, "episodes": 0}

    async def worker(index: int) -> None:
        env = AsyncConversationEnv(personas=PERSONAS, tasks=TASKS, user=user)
        await env.reset(seed=index)
        while counts["steps"] < steps:
            *_, terminated, truncated, _ = await env.step(REPLY)
            counts["steps"] += 1
            if terminated or truncated:
                counts["episodes"] += 1
                await env.reset()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(parallel)))
    return counts["steps"], counts["episodes"], time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--parallel", type=int, default=32)
    args = parser.parse_args()
    pool = ModelPool(use_cache=False)
    print(f"{'user':<10}{'env':<18}{'steps':>8}{'episodes':>10}{'seconds':>9}{'steps/s':>10}")
    rows: list[tuple[str, str, Any]] = []
    for name, user in users(pool).items():
        rows.append((name, "gymnasium", gym_steps(user, args.steps)))
        rows.append(
            (
                name,
                f"async x{args.parallel}",
                asyncio.run(async_steps(user, args.steps, args.parallel)),
            )
        )
    for name, kind, (steps, episodes, seconds) in rows:
        print(
            f"{name:<10}{kind:<18}{steps:>8,}{episodes:>10,}{seconds:>9.2f}{steps / seconds:>10,.0f}"
        )


if __name__ == "__main__":
    main()
