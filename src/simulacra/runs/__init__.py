"""Runs: configs, run directories, the runner and summaries."""

from simulacra._records import read_jsonl
from simulacra.rundir import EPISODES, SUMMARY, EpisodeStore, read_episodes, summarize
from simulacra.runs._config import (
    PersonasConfig,
    RunConfig,
    TargetConfig,
    TasksConfig,
    UserConfig,
    load_config,
    parse_config,
)
from simulacra.runs._executors import (
    EpisodeJob,
    Executor,
    ExecutorConfig,
    LocalExecutor,
    choose_executor,
    executors,
)
from simulacra.runs._plan import (
    EpisodeFilter,
    RoleEstimate,
    RunPlan,
    gate_failures,
    parse_fail_under,
    parse_max_errors,
    plan,
    select,
)
from simulacra.runs._runner import (
    Progress,
    RunResult,
    arun,
    build_judge,
    run,
    schedule,
)

__all__ = [
    "EPISODES",
    "SUMMARY",
    "EpisodeFilter",
    "EpisodeJob",
    "EpisodeStore",
    "Executor",
    "ExecutorConfig",
    "LocalExecutor",
    "PersonasConfig",
    "Progress",
    "RoleEstimate",
    "RunConfig",
    "RunPlan",
    "RunResult",
    "TargetConfig",
    "TasksConfig",
    "UserConfig",
    "arun",
    "build_judge",
    "choose_executor",
    "executors",
    "gate_failures",
    "load_config",
    "parse_config",
    "parse_fail_under",
    "parse_max_errors",
    "plan",
    "read_episodes",
    "read_jsonl",
    "run",
    "schedule",
    "select",
    "summarize",
]
