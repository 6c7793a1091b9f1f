"""User simulators: strategies that write the next user turn, with guards."""

from simulacra.sim.users._base import (
    GAVE_UP,
    SATISFIED,
    ReportsExtra,
    Simulator,
    UserContext,
    UserFactory,
    UserSimulator,
    UserTurn,
    episode_extra,
    simulator_entry,
    simulators,
)
from simulacra.sim.users._feedback import FeedbackUser
from simulacra.sim.users._guards import GuardEvent, check_turn, clean_turn, role_drift
from simulacra.sim.users._llm_user import (
    CANNED_OPENERS,
    LLMSimulatorOptions,
    LLMUser,
    LLMUserOptions,
    Plan,
)
from simulacra.sim.users._modes import MODES, SingleTurnUser, opening_text, sharded_view
from simulacra.sim.users._roleplay import RoleplaySimulatorOptions, RoleplayUser, profile_for
from simulacra.sim.users._scripted import ScriptedSimulatorOptions, ScriptedUser
from simulacra.sim.users._style import add_typos, apply_style, cut_at_sentence, length_target
from simulacra.sim.users._tools import ToolActs, ToolUse, UserToolbox, UsesTools, give_tools
from simulacra.sim.users._user_lm import UserLMOptions, UserLMUser

__all__ = [
    "CANNED_OPENERS",
    "GAVE_UP",
    "MODES",
    "SATISFIED",
    "FeedbackUser",
    "GuardEvent",
    "LLMSimulatorOptions",
    "LLMUser",
    "LLMUserOptions",
    "Plan",
    "ReportsExtra",
    "RoleplaySimulatorOptions",
    "RoleplayUser",
    "ScriptedSimulatorOptions",
    "ScriptedUser",
    "Simulator",
    "SingleTurnUser",
    "ToolActs",
    "ToolUse",
    "UserContext",
    "UserFactory",
    "UserLMOptions",
    "UserLMUser",
    "UserSimulator",
    "UserToolbox",
    "UserTurn",
    "UsesTools",
    "add_typos",
    "apply_style",
    "check_turn",
    "clean_turn",
    "cut_at_sentence",
    "episode_extra",
    "give_tools",
    "length_target",
    "opening_text",
    "profile_for",
    "role_drift",
    "sharded_view",
    "simulator_entry",
    "simulators",
]
