"""A conversation with a simulated user as a reinforcement-learning environment.

The policy being trained is the assistant; the world is a simulated user with a persona
and a hidden task. ``reset()`` draws a (persona, task) and returns the user's first
turn; ``step(reply)`` gives the user the assistant's reply and returns the user's next
turn, a reward, and whether the user stopped (``terminated``) or the turn limit ended the
conversation (``truncated``). The reward is the task's success check on the final
answer when the conversation ends, 0 before; with a ``judge``, a weighted mix of the
check and the judge's score in [0, 1]. A judged task is checked by ``check_judge``, the
run's judge of judged tasks (``from_config`` builds the config's, as a run does); without
one its check is an abstention (``success`` None, reward 0 from the check).

:class:`AsyncConversationEnv` is the same environment with ``async`` methods, for
trainers that run many conversations at once on one event loop;
:class:`ConversationEnv` is the Gymnasium ``Env`` over it (it runs the async core on an
event loop of its own).

What the user writes is a simulated person's text, not the policy's: ``info`` carries the
whole conversation from the assistant's point of view (``messages``) with who wrote each
message (``message_source``: ``system``, ``simulated_user``, ``target``) and a
``train_mask`` that is true only for the assistant's messages, so a trainer can keep the
simulated user's tokens out of the loss.
"""

from __future__ import annotations

import asyncio
import hashlib
import string
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, SupportsFloat

import gymnasium
import numpy as np
from gymnasium import spaces

from simulacra.env._multiturn import MultiturnReward, MultiturnSettings, multiturn_reward
from simulacra.errors import ConfigError, RunError, describe_error, stops_run
from simulacra.llm import ChatModel, Message, ModelPool
from simulacra.people import Persona
from simulacra.rundir import Episode, GuardEventRecord, MessageRecord
from simulacra.runs import RunConfig, build_judge, load_config
from simulacra.sim.loop import MAX_TURNS, final_answer
from simulacra.sim.scoring import score_answer
from simulacra.sim.users import Simulator, UserContext, UserSimulator, simulator_entry
from simulacra.tasks import Task

if TYPE_CHECKING:
    from simulacra.feedback import ChecklistJudge

Judge = Callable[[list[Message], Task, Persona], Awaitable[float | None]]
"""An optional judge of a finished conversation: a score in [0, 1], or None for no
score (then the reward is the check's); :func:`rater_judge` makes one of a rater."""

MAX_TEXT = 65_536
"""The longest observation or action, in characters."""


class ChatText(spaces.Text):
    """A Text space for chat: any string of at most ``max_length`` characters is a member
    (people write any character); samples are drawn from printable ASCII."""

    def __init__(self, max_length: int = MAX_TEXT, *, seed: int | None = None) -> None:
        charset = string.ascii_letters + string.digits + string.punctuation + " "
        super().__init__(max_length, min_length=0, charset=charset, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"ChatText({self.max_length})"


@dataclass(frozen=True, kw_only=True)
class UserSpec:
    """How to build the simulated user of each conversation."""

    simulator: Simulator
    model: ChatModel | None = None
    options: Any = None
    temperature: float = 0.8
    max_tokens: int = 96
    max_regenerations: int = 2


def _seed(*parts: object) -> int:
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") & 0x7FFFFFFF


class AsyncConversationEnv:
    """The environment with ``async`` ``reset`` and ``step`` (see the module docstring).

    ``personas`` and ``tasks`` are what ``reset`` draws from (or names, through
    ``options={"persona": ..., "task": ...}``); ``user`` builds the simulated user
    (:meth:`from_config` makes one from a run config's ``user:``); ``max_turns`` caps the
    assistant's replies (default: each task's own ``max_turns``).
    """

    def __init__(
        self,
        *,
        personas: Sequence[Persona],
        tasks: Sequence[Task],
        user: UserSpec | str = "scripted",
        mode: str = "sharded",
        max_turns: int | None = None,
        system_prompt: str | None = None,
        judge: Judge | None = None,
        judge_weight: float = 0.5,
        multiturn: MultiturnSettings | None = None,
        name: str = "env",
        pool: ModelPool | None = None,
        check_judge: ChecklistJudge | None = None,
    ) -> None:
        if not personas:
            raise ConfigError("an environment needs at least one persona", field="personas")
        if not tasks:
            raise ConfigError("an environment needs at least one task", field="tasks")
        for task in tasks:
            if task.environment:
                raise ConfigError(
                    f"task {task.id!r} needs the {task.environment!r} tool environment; "
                    "the conversation environment's actions are text replies only",
                    field="tasks",
                )
        if not 0.0 <= judge_weight <= 1.0:
            raise ConfigError("judge_weight must be in [0, 1]", field="judge_weight")
        if max_turns is not None and max_turns < 1:
            raise ConfigError("max_turns must be at least 1", field="max_turns")
        self.personas = list(personas)
        self.tasks = list(tasks)
        self.user = user if isinstance(user, UserSpec) else _user_spec(user)
        if self.user.simulator.needs_model and self.user.model is None:
            raise ConfigError("this user simulator needs a model", field="user.model")
        self.mode = mode
        self.max_turns = max_turns
        self.system_prompt = system_prompt
        self.judge = judge
        self.judge_weight = judge_weight
        self.check_judge = check_judge
        if multiturn is not None and multiturn.check_judge is None and check_judge is not None:
            multiturn = replace(multiturn, check_judge=check_judge)
        self.multiturn = multiturn
        self.name = name
        self._pool = pool
        self._rng = np.random.default_rng()
        self._reset_count = 0
        self._state: _Conversation | None = None
        self.failed: dict[str, Any] | None = None
        """The info of the last conversation that failed to open (its record included)."""

    @classmethod
    def from_config(
        cls, config: RunConfig | str | Path, *, mode: str | None = None, **kwargs: Any
    ) -> AsyncConversationEnv:
        """An environment of a run config's personas, tasks and user simulator (its
        ``user.model`` is built as a run would build it, cache and all); the config's
        target is not used: the policy is the assistant. ``mode`` defaults to the
        config's first."""
        config = config if isinstance(config, RunConfig) else load_config(config)
        personas, tasks = config.resolve_personas(), config.resolve_tasks()
        if not personas or not tasks:
            raise ConfigError("the config selects no personas or no tasks", source=config.source)
        pool = ModelPool(use_cache=config.cache)
        simulator, _ = simulator_entry(config.user.simulator)
        model = None
        if simulator.needs_model or config.user.model in config.models:
            model = pool.build(config.models[config.user.model], seed=config.seed)
        spec = UserSpec(
            simulator=simulator,
            model=model,
            options=config.user.options,
            temperature=config.user.temperature,
            max_tokens=config.user.max_tokens,
            max_regenerations=config.user.max_regenerations,
        )
        settings: dict[str, Any] = {
            "max_turns": config.max_turns,
            "name": config.name,
            "check_judge": build_judge(config, pool, tasks, required=False),
        }
        settings.update(kwargs)
        return cls(
            personas=personas,
            tasks=tasks,
            user=spec,
            mode=mode or config.modes[0],
            pool=pool,
            **settings,
        )

    # -- the episode -----------------------------------------------------------------------

    def seed(self, seed: int | None) -> None:
        self._rng = np.random.default_rng(seed)

    async def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """A new conversation: the user's first turn and ``info``."""
        if seed is not None:
            self.seed(seed)
        options = dict(options or {})
        persona = self._pick(options.get("persona"), self.personas, "persona")
        task = self._pick(options.get("task"), self.tasks, "task")
        episode_seed = int(self._rng.integers(0, 2**31 - 1))
        self._reset_count += 1
        context: UserContext[Any] = UserContext(
            persona=persona,
            task=task,
            model=self.user.model,
            seed=episode_seed,
            options=self.user.options if self.user.options is not None else _no_options(),
            mode=self.mode,
            temperature=self.user.temperature,
            max_tokens=self.user.max_tokens,
            max_regenerations=self.user.max_regenerations,
            judge=self.check_judge,
        )
        simulator = self.user.simulator.build(context)
        state = _Conversation(
            persona=persona,
            task=task,
            user=simulator,
            seed=episode_seed,
            limit=self.max_turns or task.max_turns,
            system_prompt=self.system_prompt,
            episode=Episode(
                id=_seed(self.name, persona.name, task.id, episode_seed, self._reset_count)
                .to_bytes(4, "big")
                .hex(),
                run=self.name,
                persona=persona.model_dump(mode="json"),
                task={
                    "id": task.id,
                    "suite": task.suite,
                    "goal": task.goal,
                    "facts": [fact.text for fact in task.facts],
                    "reference": task.reference,
                },
                target="policy",
                mode=self.mode,
                seed=episode_seed,
                started_at=time.time(),
            ),
        )
        self._state = None
        try:
            said = await state.user_turn()
        except Exception as exc:
            if stops_run(exc):
                raise
            # the fault is this conversation's: recorded in it, and the next reset plays on
            state.fail(describe_error(exc))
            self.failed = state.info()
            raise RunError(
                f"the conversation could not open (persona {persona.name!r}, task "
                f"{task.id!r}): {describe_error(exc)}; call reset() for the next one"
            ) from exc
        if said is None:
            raise ConfigError(
                f"the user simulator said nothing to open the conversation "
                f"(persona {persona.name!r}, task {task.id!r})",
                field="user",
            )
        self._state = state
        return said, state.info()

    async def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """The assistant says ``action``; the user answers (or stops)."""
        state = self._state
        if state is None or state.done:
            raise RuntimeError("call reset() before step() (and after the conversation ended)")
        if not isinstance(action, str):
            raise TypeError(
                f"an action is the assistant's reply as a str, not {type(action).__name__}"
            )
        state.add(Message(role="assistant", content=action), "target")
        state.replies += 1
        terminated = truncated = False
        observation = ""
        reward = 0.0
        looked_ahead: MultiturnReward | None = None
        try:
            if self.multiturn is not None:
                looked_ahead = await multiturn_reward(
                    state.transcript,
                    user=state.user,
                    task=state.task,
                    persona=state.persona,
                    settings=self.multiturn,
                    seed=state.seed + 7919 * state.replies,
                )
                state.episode.extra.setdefault("multiturn_rewards", []).append(
                    {"reply": state.replies, **looked_ahead.to_dict()}
                )
            if state.replies >= state.limit:
                truncated = True
                state.episode.stop_reason = MAX_TURNS
            else:
                said = await state.user_turn()
                if state.stopped:
                    terminated = True
                observation = said or ""
            if terminated or truncated:
                state.done = True
                reward = await self._reward(state)
            if looked_ahead is not None:
                reward = looked_ahead.reward  # every reply is rewarded by its futures
        except Exception as exc:
            if stops_run(exc):
                raise  # refused credentials or a failing disk: nothing more can be played
            # a fault stays inside its conversation: it ends there, recorded, unrewarded
            state.fail(describe_error(exc))
            return "", 0.0, False, True, state.info()
        info = state.info()
        if looked_ahead is not None:
            info["multiturn_reward"] = looked_ahead.to_dict()
        return observation, reward, terminated, truncated, info

    async def _reward(self, state: _Conversation) -> float:
        episode = state.episode
        result = await score_answer(
            state.task,
            final_answer(state.transcript, state.task),
            transcript=state.transcript,
            judge=self.check_judge,
            seed=state.seed,
        )
        if result.usage.calls:
            episode.add_usage("judge", result.usage)
        episode.success = result.passed
        episode.check = result.check
        reward = 1.0 if result.passed else 0.0
        if self.judge is not None:
            judged = await self.judge(list(state.transcript), state.task, state.persona)
            episode.extra["judge_score"] = judged
            if judged is not None:
                if not 0.0 <= judged <= 1.0:
                    raise ValueError(f"the judge's score must be in [0, 1], got {judged}")
                reward = (1 - self.judge_weight) * reward + self.judge_weight * float(judged)
        episode.score = reward
        episode.duration_s = time.time() - episode.started_at
        episode.messages = [MessageRecord.model_validate(m.to_dict()) for m in state.transcript]
        return reward

    def _pick(self, wanted: Any, items: Sequence[Any], what: str) -> Any:
        if wanted is None:
            return items[int(self._rng.integers(len(items)))]
        if isinstance(wanted, Persona | Task):
            return wanted
        key = "name" if what == "persona" else "id"
        for item in items:
            if getattr(item, key) == wanted:
                return item
        known = ", ".join(str(getattr(i, key)) for i in items[:10])
        raise ConfigError(f"no {what} {wanted!r} here (known: {known})", field=f"options.{what}")

    def spawn(self) -> AsyncConversationEnv:
        """Another environment with these settings, sharing this one's user model (its
        pool stays this one's to close): one per conversation a trainer plays at once."""
        return AsyncConversationEnv(
            personas=self.personas,
            tasks=self.tasks,
            user=self.user,
            mode=self.mode,
            max_turns=self.max_turns,
            system_prompt=self.system_prompt,
            judge=self.judge,
            judge_weight=self.judge_weight,
            multiturn=self.multiturn,
            name=self.name,
            check_judge=self.check_judge,
        )

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None


def _no_options() -> Any:
    from simulacra.registry import Options

    return Options()


def _user_spec(name: str) -> UserSpec:
    simulator, entry = simulator_entry(name)
    options = entry.options.model_validate({})
    return UserSpec(simulator=simulator, options=options)


class _Conversation:
    """One conversation's state."""

    def __init__(
        self,
        *,
        persona: Persona,
        task: Task,
        user: UserSimulator,
        seed: int,
        limit: int,
        system_prompt: str | None,
        episode: Episode,
    ) -> None:
        self.persona = persona
        self.task = task
        self.user = user
        self.seed = seed
        self.limit = limit
        self.episode = episode
        self.transcript: list[Message] = []
        self.messages: list[dict[str, Any]] = []
        self.sources: list[str] = []
        if system_prompt:
            self.messages.append({"role": "system", "content": system_prompt})
            self.sources.append("system")
        self.replies = 0
        self.stopped = False
        self.done = False
        self.last_turn: dict[str, Any] = {}

    def add(self, message: Message, source: str) -> None:
        self.transcript.append(message)
        self.messages.append(message.to_dict())
        self.sources.append(source)

    async def user_turn(self) -> str | None:
        """The user's next turn (None when the user stops without a word)."""
        turn = await self.user.next_turn(self.transcript)
        self.episode.add_usage("user", turn.usage)
        for role, spent in turn.other_usage.items():
            self.episode.add_usage(role, spent)
        self.episode.guard_events.extend(
            GuardEventRecord.model_validate(event.to_dict()) for event in turn.guard_events
        )
        self.last_turn = {
            "act": turn.act,
            "stop": turn.stop,
            "stop_reason": turn.stop_reason,
            "guard_events": [event.to_dict() for event in turn.guard_events],
        }
        if turn.text:
            self.add(Message(role="user", content=turn.text), "simulated_user")
            self.episode.user_turns += 1
        if turn.stop:
            self.stopped = True
            self.episode.stop_reason = turn.stop_reason or "stopped"
        return turn.text or None

    def fail(self, error: str) -> None:
        self.done = True
        episode = self.episode
        episode.status = "error"
        episode.error = error
        episode.stop_reason = "error"
        episode.success = None
        episode.score = None
        episode.messages = [MessageRecord.model_validate(m.to_dict()) for m in self.transcript]

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "persona": self.persona.name,
            "task": self.task.id,
            "replies": self.replies,
            "max_turns": self.limit,
            "user_turn": dict(self.last_turn),
            "messages": [dict(m) for m in self.messages],
            "message_source": list(self.sources),
            "train_mask": [source == "target" for source in self.sources],
        }
        if self.done:
            info["success"] = self.episode.success
            info["episode"] = self.episode.to_dict()
            if self.episode.error is not None:
                info["error"] = self.episode.error
        return info


class ConversationEnv(gymnasium.Env[str, str]):
    """The Gymnasium environment: observations are the simulated user's turns, actions
    the assistant's replies, both text (see the module docstring and
    :class:`AsyncConversationEnv`, whose arguments it takes)."""

    metadata = {"render_modes": ["ansi"], "render_fps": 1}  # noqa: RUF012 (gymnasium's own)

    def __init__(
        self,
        core: AsyncConversationEnv | None = None,
        *,
        config: RunConfig | str | Path | None = None,
        render_mode: str | None = "ansi",
        **kwargs: Any,
    ) -> None:
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ConfigError(f"render_mode {render_mode!r} is not one of: ansi")
        if core is None:
            core = (
                AsyncConversationEnv(**kwargs)
                if config is None
                else AsyncConversationEnv.from_config(config, **kwargs)
            )
        self.core = core
        self.observation_space = ChatText()
        self.action_space = ChatText()
        self.render_mode = render_mode
        self._loop: asyncio.AbstractEventLoop | None = None

    def _run(self, work: Awaitable[Any]) -> Any:
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(work)

    @classmethod
    def from_config(cls, config: RunConfig | str | Path, **kwargs: Any) -> ConversationEnv:
        """See :meth:`AsyncConversationEnv.from_config` (``gymnasium.make(ENV_ID,
        config=path)`` does the same)."""
        return cls(config=config, **kwargs)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        self.core._rng = self.np_random  # the draws follow gymnasium's seeding
        result: tuple[str, dict[str, Any]] = self._run(self.core.reset(options=options))
        return result

    @property
    def failed(self) -> dict[str, Any] | None:
        """The info of the last conversation that failed to open (its record included)."""
        return self.core.failed

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        result: tuple[str, SupportsFloat, bool, bool, dict[str, Any]] = self._run(
            self.core.step(action)
        )
        return result

    def render(self) -> str | None:
        state = self.core._state
        if state is None or self.render_mode is None:
            return None
        return "\n".join(f"{m['role']}: {m['content']}" for m in state.messages)

    def close(self) -> None:
        if self.core._pool is not None:
            self._run(self.core.aclose())
        if self._loop is not None and not self._loop.is_closed():
            self._loop.close()
        super().close()


ENV_ID = "simulacra/Conversation-v0"
"""The id ``gymnasium.make`` knows the environment by (with the arguments of
:class:`AsyncConversationEnv` as keyword arguments)."""

if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point=ConversationEnv)
