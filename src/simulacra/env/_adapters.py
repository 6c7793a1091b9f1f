"""The conversation environment in two trainers' own interfaces: verl and TRL.

**verl** plays multi-turn rollouts with an *interaction*: a class with verl's
``BaseInteraction`` methods (``verl.interactions.base``), named in the trainer's
interaction config (``class_name: simulacra.env.SimulatedUserInteraction``, ``config:
{run_config: config.yaml}``). The dataset's prompt holds the simulated user's opening
turn and ``extra_info.interaction_kwargs`` the persona, task and seed that reproduce it
(:func:`verl_rows` writes both); after each assistant turn verl calls
``generate_response``, whose text goes back into the conversation as the user's turn:
verl marks those tokens as the environment's, not the policy's, and leaves them out of
the loss.

**TRL**'s ``GRPOTrainer(environment_factory=...)`` makes one environment per rollout
with no arguments, calls ``reset(**row)`` with the dataset row's columns (the returned
text is added to the prompt), offers the environment's public methods as tools, and
gives the environments to the reward functions (``reward_func(environments, **kw)``)
or reads ``get_reward()``. :func:`trl_environment` makes such a class: its one tool,
``reply``, says the assistant's message to the simulated user and returns the user's
answer, which arrives as a tool result (text the policy did not write); every instance
also keeps ``messages``, ``message_source`` and ``train_mask``. :func:`trl_rows` writes
the dataset.

Neither trainer is needed to import this module: ``SimulatedUserInteraction`` derives
from verl's ``BaseInteraction`` when verl is installed and from ``object`` otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulacra.env._env import AsyncConversationEnv, ConversationEnv
from simulacra.errors import ConfigError
from simulacra.runs import RunConfig, load_config

if TYPE_CHECKING:
    _Interaction = object
else:
    try:
        from verl.interactions.base import BaseInteraction as _Interaction
    except ImportError:  # verl (and its GPU stack) not installed: the same methods alone
        _Interaction = object

OPENING = (
    "You are an assistant talking with a user. Say each of your messages to the user "
    "with the reply tool; the tool returns what the user says back."
)
"""The prompt TRL rows start with (the user's opening turn follows it)."""


def _template(config: RunConfig | str | Path | AsyncConversationEnv) -> AsyncConversationEnv:
    """The environment of a config: its personas, tasks and user, and its target's
    system prompt as the policy's (the target itself is the policy being trained)."""
    if isinstance(config, AsyncConversationEnv):
        return config
    config = config if isinstance(config, RunConfig) else load_config(config)
    system = getattr(config.target.options, "system_prompt", None)
    return AsyncConversationEnv.from_config(config, system_prompt=system)


async def _opening(
    template: AsyncConversationEnv, persona: str, task: str, seed: int
) -> tuple[AsyncConversationEnv, str]:
    env = template.spawn()
    said, _ = await env.reset(seed=seed, options={"persona": persona, "task": task})
    return env, said


def _schedule(
    template: AsyncConversationEnv, repeats: int, seed: int
) -> list[tuple[str, str, int]]:
    return [
        (persona.name, task.id, seed + 1000 * repeat + index)
        for repeat in range(repeats)
        for index, (persona, task) in enumerate(
            (p, t) for p in template.personas for t in template.tasks
        )
    ]


# --- verl ---------------------------------------------------------------------------------


class SimulatedUserInteraction(_Interaction):
    """verl's multi-turn interaction with a simulated user (see the module docstring).

    ``config`` is the interaction's ``config:`` mapping: ``run_config`` (a run config's
    path, whose personas, tasks and user are used) or, in Python, ``env`` (an
    :class:`AsyncConversationEnv` to copy). One conversation is kept per ``instance_id``.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.name: str = config.get("name", "simulacra")
        source = config.get("env") or config.get("run_config")
        if source is None:
            raise ConfigError("give run_config (a run config's path)", field="config")
        self.template = _template(source)
        self._instances: dict[str, dict[str, Any]] = {}

    async def start_interaction(self, instance_id: str | None = None, **kwargs: Any) -> str:
        """Open the conversation of ``persona``, ``task`` and ``seed`` (from the row's
        ``interaction_kwargs``): the user's opening turn is the one in the row's prompt."""
        import uuid

        instance_id = instance_id or uuid.uuid4().hex
        try:
            persona, task, seed = str(kwargs["persona"]), str(kwargs["task"]), int(kwargs["seed"])
        except (KeyError, TypeError, ValueError):
            raise ConfigError(
                "interaction_kwargs need persona, task and seed (verl_rows writes them)",
                field="interaction_kwargs",
            ) from None
        env, said = await _opening(self.template, persona, task, seed)
        self._instances[instance_id] = {"env": env, "opening": said, "reward": 0.0, "info": {}}
        return instance_id

    async def generate_response(
        self, instance_id: str, messages: list[dict[str, Any]], **kwargs: Any
    ) -> tuple[bool, str, float, dict[str, Any]]:
        """The assistant's last message goes to the user; returns whether the
        conversation ended, the user's answer, this turn's reward and the step's info."""
        state = self._instances[instance_id]
        replies = [m for m in messages if m.get("role") == "assistant"]
        if not replies:
            return False, "", 0.0, {}
        env: AsyncConversationEnv = state["env"]
        observation, reward, terminated, truncated, info = await env.step(
            str(replies[-1].get("content") or "")
        )
        state["reward"] = float(reward)
        state["info"] = info
        return terminated or truncated, observation, float(reward), info

    async def calculate_score(self, instance_id: str | None = None, **kwargs: Any) -> float:
        """The reward of the conversation's last step (the task check at its end)."""
        if instance_id is None or instance_id not in self._instances:
            return 0.0
        return float(self._instances[instance_id]["reward"])

    async def finalize_interaction(self, instance_id: str | None = None, **kwargs: Any) -> None:
        if instance_id is not None:
            self._instances.pop(instance_id, None)

    def info(self, instance_id: str) -> dict[str, Any]:
        """The last step's info of a conversation (messages, message_source, train_mask,
        and at the end its episode record)."""
        info: dict[str, Any] = self._instances[instance_id]["info"]
        return info


async def averl_rows(
    config: RunConfig | str | Path | AsyncConversationEnv,
    *,
    repeats: int = 1,
    seed: int = 0,
    name: str = "simulacra",
) -> list[dict[str, Any]]:
    """verl dataset rows, one per persona × task × repeat: ``prompt`` (the system
    prompt, if any, and the simulated user's opening turn), and ``extra_info`` with the
    ``interaction_kwargs`` that reproduce that opening."""
    template = _template(config)
    rows: list[dict[str, Any]] = []
    for persona, task, row_seed in _schedule(template, repeats, seed):
        _, said = await _opening(template, persona, task, row_seed)
        system = template.system_prompt
        prompt = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": said}
        ]
        rows.append(
            {
                "data_source": "simulacra",
                "prompt": prompt,
                "extra_info": {
                    "interaction_kwargs": {
                        "name": name,
                        "persona": persona,
                        "task": task,
                        "seed": row_seed,
                    }
                },
            }
        )
    return rows


def verl_rows(
    config: RunConfig | str | Path | AsyncConversationEnv, **kwargs: Any
) -> list[dict[str, Any]]:
    """Synchronous :func:`averl_rows`."""
    return asyncio.run(averl_rows(config, **kwargs))


# --- TRL ----------------------------------------------------------------------------------


class SimulatedUserEnvironment:
    """The base of the classes :func:`trl_environment` makes (its ``template`` set)."""

    template: AsyncConversationEnv | None = None

    def __init__(self) -> None:
        if self.template is None:
            raise ConfigError("make the class with simulacra.env.trl_environment(config)")
        self.env = ConversationEnv(core=self.template.spawn(), render_mode=None)
        self.reward = 0.0
        self.done = False
        self.info: dict[str, Any] = {}

    def reset(self, **kwargs: Any) -> str | None:
        """A new conversation for the row's ``persona``, ``task`` and ``seed``; returns
        the simulated user's opening turn."""
        self.reward, self.done = 0.0, False
        options = {key: kwargs[key] for key in ("persona", "task") if kwargs.get(key)}
        seed = kwargs.get("seed")
        said, self.info = self.env.reset(seed=None if seed is None else int(seed), options=options)
        return said

    def reply(self, message: str) -> str:
        """Say a message to the user and get the user's answer.

        Args:
            message: What the assistant says to the user.

        Returns:
            What the user says back (empty when the user has ended the conversation).
        """
        if self.done:
            raise ValueError("The conversation is over: the user has left.")
        observation, reward, terminated, truncated, self.info = self.env.step(message)
        self.reward = float(reward)
        self.done = terminated or truncated
        return observation

    def get_reward(self) -> float:
        """The conversation's reward so far (the task check once it has ended)."""
        return self.reward

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.info.get("messages", [])
        return messages

    @property
    def message_source(self) -> list[str]:
        sources: list[str] = self.info.get("message_source", [])
        return sources

    @property
    def train_mask(self) -> list[bool]:
        mask: list[bool] = self.info.get("train_mask", [])
        return mask

    def _close(self) -> None:
        """Close the conversation's event loop (private: every public method but
        ``reset`` and ``get_reward`` is a tool to TRL)."""
        self.env.close()


def trl_environment(
    config: RunConfig | str | Path | AsyncConversationEnv,
) -> type[SimulatedUserEnvironment]:
    """A class for ``GRPOTrainer(environment_factory=...)`` whose instances are
    conversations with ``config``'s simulated users (built once, shared)."""
    template = _template(config)
    return type("SimulatedUser", (SimulatedUserEnvironment,), {"template": template})


def trl_rows(
    config: RunConfig | str | Path | AsyncConversationEnv,
    *,
    repeats: int = 1,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """TRL dataset rows, one per persona × task × repeat: a ``prompt`` that tells the
    policy to talk through the ``reply`` tool, and the ``persona``, ``task`` and
    ``seed`` that ``reset`` receives."""
    template = _template(config)
    return [
        {
            "prompt": [{"role": "user", "content": OPENING}],
            "persona": persona,
            "task": task,
            "seed": row_seed,
        }
        for persona, task, row_seed in _schedule(template, repeats, seed)
    ]


def rewards(environments: Sequence[SimulatedUserEnvironment], **kwargs: Any) -> list[float]:
    """A TRL reward function: each environment's reward."""
    return [env.reward for env in environments]
