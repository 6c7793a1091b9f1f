"""The registry of tool environments: each entry loads an environment and its tasks.

An entry is ``loader(options) -> (EnvFactory, list[EnvTask])`` with its ``Options``
model. Every environment is a task suite of the same name too (``tasks: {suite: shop}``),
its options written beside the name; ``tau-retail``, ``tau-airline`` and
``tau2-telecom`` need ``data_dir``, the directory of the user's own copy of the public
benchmark's data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import Field

from simulacra.registry import ConfigPath, Options, Registry
from simulacra.tasks.envs._airline import load_tau_airline
from simulacra.tasks.envs._base import EnvFactory
from simulacra.tasks.envs._retail import load_tau_retail
from simulacra.tasks.envs._shop import load_shop
from simulacra.tasks.envs._task import EnvTask
from simulacra.tasks.envs._telecom import load_tau2_telecom

__all__ = [
    "AirlineOptions",
    "EnvLoader",
    "EnvOptions",
    "RetailOptions",
    "TelecomOptions",
    "environments",
]

EnvLoader = Callable[[Any], tuple[EnvFactory, list[EnvTask]]]


class EnvOptions(Options):
    """What every environment's options have: the turn limit of its tasks."""

    max_turns: int = Field(default=12, ge=1, le=100)


environments: Registry[EnvLoader] = Registry("tool environment", options=EnvOptions)
"""Name → ``loader(options) -> (EnvFactory, tasks)``, registered with an ``EnvOptions``."""


@environments.register("shop")
def _shop(options: EnvOptions) -> tuple[EnvFactory, list[EnvTask]]:
    return load_shop()


class RetailOptions(EnvOptions):
    """Options of the ``tau-retail`` environment."""

    max_turns: int = Field(default=20, ge=1, le=100)
    data_dir: ConfigPath
    """The directory holding retail_db_*.json, retail_wiki.md and the tasks file."""
    tasks_file: str = Field(default="retail_tasks_dev.json", min_length=1)
    """The task file in that directory: any split in the benchmark's task format."""
    suite: str | None = Field(default=None, min_length=1)
    """The tasks' suite name (and id prefix); default ``tau-retail-<split>``."""


@environments.register("tau-retail", options=RetailOptions)
def _tau_retail(options: RetailOptions) -> tuple[EnvFactory, list[EnvTask]]:
    return load_tau_retail(options.data_dir, tasks_file=options.tasks_file, suite=options.suite)


class AirlineOptions(EnvOptions):
    """Options of the ``tau-airline`` environment."""

    max_turns: int = Field(default=20, ge=1, le=100)
    data_dir: ConfigPath
    """The directory holding airline_db_*.json, airline_wiki.md and the tasks file."""
    tasks_file: str = Field(default="airline_tasks_dev.json", min_length=1)
    """The task file in that directory: any split in the benchmark's task format."""
    suite: str | None = Field(default=None, min_length=1)
    """The tasks' suite name (and id prefix); default ``tau-airline-<split>``."""


@environments.register("tau-airline", options=AirlineOptions)
def _tau_airline(options: AirlineOptions) -> tuple[EnvFactory, list[EnvTask]]:
    return load_tau_airline(options.data_dir, tasks_file=options.tasks_file, suite=options.suite)


class TelecomOptions(EnvOptions):
    """Options of the ``tau2-telecom`` environment."""

    max_turns: int = Field(default=30, ge=1, le=100)
    data_dir: ConfigPath
    """The directory holding db.toml, user_db.toml, the policy files and the tasks file."""
    tasks_file: str = Field(default="tasks_train.json", min_length=1)
    """The task file in that directory, in the τ² task format."""
    suite: str | None = Field(default=None, min_length=1)
    """The tasks' suite name; default ``tau2-telecom-<split>``."""
    tech_support: str = Field(default="tech_support_manual.md", min_length=1)
    """The second part of the agent's policy: the manual or ``tech_support_workflow.md``."""


@environments.register("tau2-telecom", options=TelecomOptions)
def _tau2_telecom(options: TelecomOptions) -> tuple[EnvFactory, list[EnvTask]]:
    return load_tau2_telecom(
        options.data_dir,
        tasks_file=options.tasks_file,
        suite=options.suite,
        tech_support=options.tech_support,
    )
