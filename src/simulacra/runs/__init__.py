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
from simulacra.runs._runner import Progress, RunResult, arun, run, schedule

__all__ = [
    "EPISODES",
    "SUMMARY",
    "EpisodeStore",
    "PersonasConfig",
    "Progress",
    "RunConfig",
    "RunResult",
    "TargetConfig",
    "TasksConfig",
    "UserConfig",
    "arun",
    "load_config",
    "parse_config",
    "read_episodes",
    "read_jsonl",
    "run",
    "schedule",
    "summarize",
]
