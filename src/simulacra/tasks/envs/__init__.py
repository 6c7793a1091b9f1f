"""Environments: stateful worlds an agent acts on through tools, and tasks played on them.

The pieces:

- ``Environment`` (subclass it, mark methods with ``@tool``), ``EnvFactory`` (fresh
  copies of one initial state), ``ToolSpec`` and the call log's ``ToolCallRecord``;
- state comparison: ``state_hash``, ``diff_states`` / ``Environment.diff`` → ``DiffRow``;
- coded policy rules: ``RequirePriorCall``, ``OwnRecordsOnly``, ``OneSubjectOnly``,
  ``FunctionRule`` → ``PolicyViolation``;
- tasks and scoring: ``EnvTask``, ``Action``, ``validate_tasks``, ``score_episode`` →
  ``EnvScore`` (with ``JudgedAssertions`` of ``AssertionVerdict``: a judge's verdicts on
  a task's assertions about the conversation);
- the ``environments`` registry (name → a loader of the environment and its tasks, with
  an options model); built-ins: the ``shop`` environment with its tasks (``load_shop``)
  and the τ-bench retail and airline customer-service environments over user-supplied
  data files (``load_tau_retail``, ``load_tau_airline``), which answer and score as the
  benchmark does; and the τ²-bench telecom domain (``load_tau2_telecom``), in which the
  simulated user has tools of their own on their phone (``PhoneEnv``, the environment's
  ``user_side``) and tasks are scored by τ²'s criteria.
"""

from simulacra.tasks.envs._airline import (
    AirlineEnv,
    FlightLeg,
    Passenger,
    PaymentPart,
    load_tau_airline,
)
from simulacra.tasks.envs._base import (
    DiffRow,
    EnvFactory,
    Environment,
    State,
    ToolCallRecord,
    ToolSpec,
    canonical_json,
    check_declared_schema,
    diff_states,
    state_hash,
    tool,
)
from simulacra.tasks.envs._policy import (
    FunctionRule,
    OneSubjectOnly,
    OwnRecordsOnly,
    PolicyRule,
    PolicyViolation,
    RequirePriorCall,
)
from simulacra.tasks.envs._registry import (
    AirlineOptions,
    EnvLoader,
    EnvOptions,
    RetailOptions,
    TelecomOptions,
    environments,
)
from simulacra.tasks.envs._retail import RetailEnv, load_tau_retail
from simulacra.tasks.envs._schema import function_schema, typeddict_schema
from simulacra.tasks.envs._shop import SHOP_POLICY, ShopEnv, load_shop, shop_state
from simulacra.tasks.envs._task import (
    Action,
    AssertionOutcome,
    AssertionVerdict,
    EnvScore,
    EnvTask,
    JudgedAssertions,
    failed_actions,
    load_env_tasks,
    missing_outputs,
    replay,
    score_episode,
    validate_tasks,
)
from simulacra.tasks.envs._telecom import (
    PhoneEnv,
    Tau2Criteria,
    TelecomEnv,
    load_tau2_telecom,
    phone_requests,
)

__all__ = [
    "SHOP_POLICY",
    "Action",
    "AirlineEnv",
    "AirlineOptions",
    "AssertionOutcome",
    "AssertionVerdict",
    "DiffRow",
    "EnvFactory",
    "EnvLoader",
    "EnvOptions",
    "EnvScore",
    "EnvTask",
    "Environment",
    "FlightLeg",
    "FunctionRule",
    "JudgedAssertions",
    "OneSubjectOnly",
    "OwnRecordsOnly",
    "Passenger",
    "PaymentPart",
    "PhoneEnv",
    "PolicyRule",
    "PolicyViolation",
    "RequirePriorCall",
    "RetailEnv",
    "RetailOptions",
    "ShopEnv",
    "State",
    "Tau2Criteria",
    "TelecomEnv",
    "TelecomOptions",
    "ToolCallRecord",
    "ToolSpec",
    "canonical_json",
    "check_declared_schema",
    "diff_states",
    "environments",
    "failed_actions",
    "function_schema",
    "load_env_tasks",
    "load_shop",
    "load_tau2_telecom",
    "load_tau_airline",
    "load_tau_retail",
    "missing_outputs",
    "phone_requests",
    "replay",
    "score_episode",
    "shop_state",
    "state_hash",
    "tool",
    "typeddict_schema",
    "validate_tasks",
]
