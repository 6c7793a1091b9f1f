"""Reinforcement-learning environments: a conversation with a simulated user as a
Gymnasium ``Env`` whose policy is the assistant.

::

    from simulacra.env import ConversationEnv
    env = ConversationEnv.from_config("config.yaml")     # its personas, tasks and user
    observation, info = env.reset(seed=0)                # the user's first turn
    observation, reward, terminated, truncated, info = env.step("Happy to help: ...")

``info["message_source"]`` and ``info["train_mask"]`` mark which messages the simulated
user wrote, so a trainer can keep them out of the loss. :class:`AsyncConversationEnv` has
the same methods as coroutines. Needs the ``env`` extra (``pip install 'simulacra[env]'``).
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
    "Future": "simulacra.env._multiturn",
    "MultiturnReward": "simulacra.env._multiturn",
    "MultiturnSettings": "simulacra.env._multiturn",
    "fork_user": "simulacra.env._multiturn",
    "multiturn_reward": "simulacra.env._multiturn",
}

__all__ = [
    "ENV_ID",
    "AsyncConversationEnv",
    "ChatText",
    "ConversationEnv",
    "Future",
    "Judge",
    "MultiturnReward",
    "MultiturnSettings",
    "UserSpec",
    "fork_user",
    "multiturn_reward",
    "rater_judge",
]

if TYPE_CHECKING:
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
