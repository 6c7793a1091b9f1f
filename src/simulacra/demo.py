"""The built-in demo: a small population meets an assistant on the embedded model."""

from __future__ import annotations

from simulacra.llm import ModelConfig
from simulacra.runs import PersonasConfig, RunConfig, TargetConfig, TasksConfig, UserConfig

DEMO_PERSONAS = ["busy-nurse", "retired-engineer", "teen-gamer"]
DEMO_TASKS = ["pancakes-scale", "laptop-savings"]


def demo_config(*, output_dir: str = "runs") -> RunConfig:
    """Three personas × two everyday tasks, user and assistant on the embedded model.

    Sized to finish in a few minutes on two CPU cores.
    """
    return RunConfig(
        name="demo",
        seed=7,
        models={"local": ModelConfig.model_validate({"backend": "local", "n_ctx": 2048})},
        user=UserConfig(model="local", max_tokens=48),
        target=TargetConfig.model_validate(
            {
                "type": "model",
                "model": "local",
                "name": "assistant (embedded 0.5B)",
                "system_prompt": "You are a helpful assistant. Answer briefly; if information "
                "is missing, ask for it.",
                "max_tokens": 80,
                "temperature": 0.3,
            }
        ),
        personas=PersonasConfig(builtin=DEMO_PERSONAS),
        tasks=TasksConfig(suite="everyday", ids=DEMO_TASKS),
        max_turns=4,
        concurrency=2,
        output_dir=output_dir,
    )
