"""A multiturn-aware reward: a reply judged by the conversations it leads to.

After "CollabLLM: From Passive Responders to Active Collaborators" (Wu et al., 2025): the
reward of a candidate reply is not the reply's own score but the expected score of the
conversation that follows it. :func:`multiturn_reward` forward-simulates ``k`` short
futures after the reply: each a fork of the simulated user (its state as it is now, its
model shared) answering, and the assistant (``policy``) replying, for at most
``horizon`` more assistant turns or until the user stops. Each future is scored by the
task's success check on its final answer (a judged task's by ``check_judge``, the run's
judge of judged tasks; without one, an abstention that scores as not a success), mixed
with a ``judge`` when one is given,
less an efficiency cost per assistant turn and per assistant token (CollabLLM's cost
on the length of the conversation); the reward is the mean over the futures, and every
future is kept in the result.
"""

from __future__ import annotations

import copy
import inspect
import random
import statistics
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from simulacra.errors import describe_error, stops_run
from simulacra.feedback import ChecklistJudge
from simulacra.llm import ChatModel, ChatParams, Message
from simulacra.people import Persona
from simulacra.sim.loop import final_answer
from simulacra.sim.scoring import score_answer
from simulacra.sim.users import UserSimulator
from simulacra.tasks import Task

Policy = ChatModel | Callable[[list[Message]], Awaitable[str] | str]
"""Who writes the assistant's later replies in a future: a chat model (given the
conversation, after ``system_prompt``), or a function of the messages returning text."""

FutureJudge = Callable[[list[Message], Task, Persona], Awaitable[float | None]]


@dataclass(frozen=True, kw_only=True)
class MultiturnSettings:
    """How many futures, how far, and what a turn and a token cost."""

    policy: Policy
    k: int = 3
    horizon: int = 2
    """Assistant replies in each future after the candidate (0: the user's answer only)."""
    turn_cost: float = 0.0
    """Subtracted per assistant turn in the future, the candidate's included."""
    token_cost: float = 0.0
    """Subtracted per token the assistant wrote in the future (whitespace words when
    the policy reports no usage), the candidate's included."""
    judge: FutureJudge | None = None
    judge_weight: float = 0.5
    check_judge: ChecklistJudge | None = None
    """The judge of judged tasks (the environment gives its own when this is None)."""
    system_prompt: str | None = None
    params: ChatParams = field(default_factory=ChatParams)

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError("k (futures per reply) must be at least 1")
        if self.horizon < 0:
            raise ValueError("horizon must be at least 0")
        if not 0.0 <= self.judge_weight <= 1.0:
            raise ValueError("judge_weight must be in [0, 1]")


@dataclass(frozen=True, kw_only=True)
class Future:
    """One simulated continuation after the candidate reply."""

    messages: list[dict[str, Any]]
    """The future's messages, after the conversation so far (the candidate first)."""
    success: bool | None
    judge_score: float | None
    quality: float
    turns: int
    tokens: int
    reward: float
    stop_reason: str
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "success": self.success,
            "judge_score": self.judge_score,
            "quality": self.quality,
            "turns": self.turns,
            "tokens": self.tokens,
            "reward": self.reward,
            "stop_reason": self.stop_reason,
            "error": self.error,
        }


@dataclass(frozen=True, kw_only=True)
class MultiturnReward:
    """The reward of one reply: the mean of its futures' rewards, and the futures."""

    reward: float
    futures: list[Future]
    k: int
    horizon: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "reward": self.reward,
            "k": self.k,
            "horizon": self.horizon,
            "futures": [f.to_dict() for f in self.futures],
        }


def fork_user(user: UserSimulator, salt: int = 0) -> UserSimulator:
    """A copy of a simulated user that can go on without changing the original: its
    state (counters, random generators, lists) copied, its model, judge, persona and
    task shared. With ``salt`` the copy's randomness differs (its ``seed`` moved by the salt,
    its ``random.Random`` generators re-seeded), so forks write different futures."""
    forked = copy.copy(user)
    state = getattr(user, "__dict__", None)
    if state is None:
        return forked
    shared = {
        id(value): value
        for value in state.values()
        if hasattr(value, "chat") or isinstance(value, BaseModel | ChecklistJudge)
    }
    for name, value in state.items():
        if id(value) in shared:
            continue
        value = copy.deepcopy(value, dict(shared))
        if salt and isinstance(value, random.Random):
            value.seed(f"{salt}\x1f{value.random()}")
        elif salt and name == "seed" and isinstance(value, int) and not isinstance(value, bool):
            value = value + salt
        setattr(forked, name, value)
    return forked


async def _reply(
    settings: MultiturnSettings, messages: list[Message], seed: int
) -> tuple[Message, int]:
    policy = settings.policy
    if hasattr(policy, "chat"):
        prefix = (
            [Message(role="system", content=settings.system_prompt)]
            if settings.system_prompt
            else []
        )
        params = settings.params.merged(ChatParams(seed=seed))
        completion = await policy.chat(prefix + messages, params)
        message = completion.message()
        tokens = completion.usage.completion_tokens or len(message.content.split())
        return Message(role="assistant", content=message.content), tokens
    result = policy(list(messages))
    text = str(await result if inspect.isawaitable(result) else result)
    return Message(role="assistant", content=text), len(text.split())


async def _future(
    transcript: list[Message],
    user: UserSimulator,
    task: Task,
    persona: Persona,
    settings: MultiturnSettings,
    *,
    seed: int,
    candidate_tokens: int,
) -> Future:
    messages = list(transcript)
    added: list[Message] = []
    turns, tokens = 1, candidate_tokens
    stop_reason = "horizon"
    error: str | None = None
    try:
        for step in range(settings.horizon + 1):
            turn = await user.next_turn(messages)
            if turn.text:
                said = Message(role="user", content=turn.text)
                messages.append(said)
                added.append(said)
            if turn.stop:
                stop_reason = turn.stop_reason or "stopped"
                break
            if step == settings.horizon:
                break
            reply, spent = await _reply(settings, messages, seed + step)
            tokens += spent
            messages.append(reply)
            added.append(reply)
            turns += 1
    except Exception as exc:
        if stops_run(exc):
            raise
        error = describe_error(exc)
        stop_reason = "error"
    success: bool | None = None
    judged: float | None = None
    if error is None:
        result = await score_answer(
            task,
            final_answer(messages, task),
            transcript=messages,
            judge=settings.check_judge,
            seed=seed,
        )
        success = result.passed
        if settings.judge is not None:
            judged = await settings.judge(messages, task, persona)
            if judged is not None and not 0.0 <= judged <= 1.0:
                raise ValueError(f"the judge's score must be in [0, 1], got {judged}")
    quality = 1.0 if success else 0.0
    if judged is not None:
        quality = (1 - settings.judge_weight) * quality + settings.judge_weight * judged
    reward = quality - settings.turn_cost * turns - settings.token_cost * tokens
    return Future(
        messages=[m.to_dict() for m in transcript[-1:] + added],
        success=success,
        judge_score=judged,
        quality=quality,
        turns=turns,
        tokens=tokens,
        reward=reward if error is None else 0.0,
        stop_reason=stop_reason,
        error=error,
    )


async def multiturn_reward(
    transcript: Sequence[Message],
    *,
    user: UserSimulator,
    task: Task,
    persona: Persona,
    settings: MultiturnSettings,
    seed: int = 0,
) -> MultiturnReward:
    """The multiturn-aware reward of the last message of ``transcript`` (the candidate
    reply, an assistant message): the mean reward of ``settings.k`` futures after it.

    ``user`` is the simulated user as it is at this point of the conversation (it is
    forked for each future and left as it was). A future that fails (the user's model
    failing after its retries) is kept with its error and a reward of 0.
    """
    transcript = list(transcript)
    if not transcript or transcript[-1].role != "assistant":
        raise ValueError("the transcript must end with the candidate reply (an assistant message)")
    candidate_tokens = len(transcript[-1].content.split())
    futures = [
        await _future(
            transcript,
            fork_user(user, salt=index),
            task,
            persona,
            settings,
            seed=seed + 104_729 * index,
            candidate_tokens=candidate_tokens,
        )
        for index in range(settings.k)
    ]
    return MultiturnReward(
        reward=statistics.fmean(f.reward for f in futures),
        futures=futures,
        k=settings.k,
        horizon=settings.horizon,
    )
