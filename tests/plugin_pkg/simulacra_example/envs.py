"""A tool environment: named counters the agent raises; its tasks say by how much."""

from __future__ import annotations

from pydantic import Field

from simulacra.errors import ToolError
from simulacra.tasks.envs import (
    EnvFactory,
    Environment,
    EnvOptions,
    EnvTask,
    environments,
    load_env_tasks,
    tool,
    validate_tasks,
)


class Counters(Environment):
    name = "counters"
    tables = ("counters",)

    @tool(writes=True)
    def increment(self, counter: str, by: int) -> int:
        """Raise a counter.

        Args:
            counter: The counter's name.
            by: How much to add.
        """
        row = self.row("counters", counter, what="counter")
        if by <= 0:
            raise ToolError("by must be positive")
        row["value"] += by
        return int(row["value"])


class CountersOptions(EnvOptions):
    start: int = Field(default=0, description="every counter's first value")


def load_counters(options: CountersOptions) -> tuple[EnvFactory, list[EnvTask]]:
    state = {"counters": {"apples": {"value": options.start}, "pears": {"value": options.start}}}
    factory = EnvFactory.from_state(Counters, state, instructions="Keep the counters right.")
    tasks = load_env_tasks(
        [
            {
                "id": f"raise-{name}",
                "instruction": f"You want the {name} counter raised by 2.",
                "shards": [f"Please raise the {name} counter by 2."],
                "actions": [{"name": "increment", "arguments": {"counter": name, "by": 2}}],
            }
            for name in ("apples", "pears")
        ],
        suite="counters",
        env=Counters.name,
    )
    validate_tasks(factory, tasks, source="simulacra_example.envs")
    return factory, tasks


environments.add("counters", load_counters, options=CountersOptions)
