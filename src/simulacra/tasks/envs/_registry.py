"""Registries of environment classes and of environment suites (environment + tasks).

A config names a suite (``"shop"``, ``"tau-retail"``) or an import path
``package.module:loader``; a loader returns ``(EnvFactory, list[EnvTask])`` and takes its
options as keyword arguments (``load_tau_retail`` needs ``data_dir``).
"""

from __future__ import annotations

from collections.abc import Callable

from simulacra.registry import Registry
from simulacra.tasks.envs._base import EnvFactory, Environment
from simulacra.tasks.envs._retail import RetailEnv, load_tau_retail
from simulacra.tasks.envs._shop import ShopEnv, load_shop
from simulacra.tasks.envs._task import EnvTask

__all__ = ["SuiteLoader", "env_suites", "environments"]

SuiteLoader = Callable[..., tuple[EnvFactory, list[EnvTask]]]

environments: Registry[type[Environment]] = Registry("environment")
environments.add(ShopEnv.name, ShopEnv)
environments.add(RetailEnv.name, RetailEnv)

env_suites: Registry[SuiteLoader] = Registry("environment suite")
env_suites.add("shop", load_shop)
env_suites.add("tau-retail", load_tau_retail)
