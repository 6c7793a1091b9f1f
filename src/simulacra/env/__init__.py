"""Reinforcement-learning environments: a conversation with a simulated user as a
Gymnasium ``Env`` whose policy is the assistant.

::

    from simulacra.env import ConversationEnv
    env = ConversationEnv.from_config("config.yaml")     # its personas, tasks and user
    observation, info = env.reset(seed=0)                # the user's first turn
    observation, reward, terminated, truncated, info = env.step("Happy to help: ...")

``info["message_source"]`` and ``info["train_mask"]`` mark which messages the simulated
user wrote, so a trainer can keep them out of the loss. :class:`AsyncConversationEnv` has
the same methods as coroutines; ``SimulatedUserInteraction`` (verl) and
``trl_environment`` (TRL's ``environment_factory``) put it in those trainers' interfaces,
and ``multiturn_reward`` rewards a reply by the futures it leads to. Needs the ``env`` extra (``pip install 'simulacra[env]'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulacra._lazy import lazy_exports

_EXPORTS = {
    "ENV_ID": "simulacra.env._env",
    "AsyncConversationEnv": "simulacra.env._env",
    "ChatText": "simulacra.env._env",
    "ConversationEnv": "simulacra.env._env",
    "Judge": "simulacra.env._env",
    "UserSpec": "simulacra.env._env",
    "rater_judge": "simulacra.env._judge",
    "OPENING": "simulacra.env._adapters",
    "SimulatedUserEnvironment": "simulacra.env._adapters",
    "SimulatedUserInteraction": "simulacra.env._adapters",
    "averl_rows": "simulacra.env._adapters",
    "rewards": "simulacra.env._adapters",
    "trl_environment": "simulacra.env._adapters",
    "trl_rows": "simulacra.env._adapters",
    "verl_rows": "simulacra.env._adapters",
    "Future": "simulacra.env._multiturn",
    "MultiturnReward": "simulacra.env._multiturn",
    "MultiturnSettings": "simulacra.env._multiturn",
    "fork_user": "simulacra.env._multiturn",
    "multiturn_reward": "simulacra.env._multiturn",
}

__all__ = [
    "ENV_ID",
    "OPENING",
    "AsyncConversationEnv",
    "ChatText",
    "ConversationEnv",
    "Future",
    "Judge",
    "MultiturnReward",
    "MultiturnSettings",
    "SimulatedUserEnvironment",
    "SimulatedUserInteraction",
    "UserSpec",
    "averl_rows",
    "fork_user",
    "multiturn_reward",
    "rater_judge",
    "rewards",
    "trl_environment",
    "trl_rows",
    "verl_rows",
]

if TYPE_CHECKING:
    from simulacra.env._adapters import (
        OPENING,
        SimulatedUserEnvironment,
        SimulatedUserInteraction,
        averl_rows,
        rewards,
        trl_environment,
        trl_rows,
        verl_rows,
    )
    from simulacra.env._env import (
        ENV_ID,
        AsyncConversationEnv,
        ChatText,
        ConversationEnv,
        Judge,
        UserSpec,
    )
    from simulacra.env._judge import rater_judge
    from simulacra.env._multiturn import (
        Future,
        MultiturnReward,
        MultiturnSettings,
        fork_user,
        multiturn_reward,
    )

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
del lazy_exports  # the package's helper, not part of what it offers
