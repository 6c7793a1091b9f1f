"""simulacra: simulated people in the loop with AI systems.

Most users need only what is here::

    import simulacra
    result = simulacra.run("config.yaml")          # or await simulacra.arun(config)
    print(result.summary.success)

Heavier parts (models, statistics) load when first used, so ``import simulacra`` is fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulacra._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "ConfigError": "simulacra.errors",
    "Conversation": "simulacra.sim.targets",
    "ModelError": "simulacra.errors",
    "SimulacraError": "simulacra.errors",
    "Persona": "simulacra.people",
    "Population": "simulacra.people",
    "Task": "simulacra.tasks",
    "Fact": "simulacra.tasks",
    "Episode": "simulacra.sim.episode",
    "ModelConfig": "simulacra.llm",
    "RunConfig": "simulacra.runs",
    "RunResult": "simulacra.runs",
    "load_config": "simulacra.runs",
    "run": "simulacra.runs",
    "arun": "simulacra.runs",
}

__all__ = [
    "ConfigError",
    "Conversation",
    "Episode",
    "Fact",
    "ModelConfig",
    "ModelError",
    "Persona",
    "Population",
    "RunConfig",
    "RunResult",
    "SimulacraError",
    "Task",
    "__version__",
    "arun",
    "load_config",
    "run",
]

if TYPE_CHECKING:
    from simulacra.errors import ConfigError, ModelError, SimulacraError
    from simulacra.llm import ModelConfig
    from simulacra.people import Persona, Population
    from simulacra.runs import RunConfig, RunResult, arun, load_config, run
    from simulacra.sim.episode import Episode
    from simulacra.sim.targets import Conversation
    from simulacra.tasks import Fact, Task

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
del lazy_exports  # the package's helper, not part of what it offers
