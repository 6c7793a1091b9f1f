"""The multiturn-aware reward: futures forward-simulated with the simulated user after a
candidate reply, each scored by the task check less a cost per turn and token."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("gymnasium")

from simulacra.env import (
    AsyncConversationEnv,
    MultiturnSettings,
    UserSpec,
    fork_user,
    multiturn_reward,
)
from simulacra.llm import Message, ScriptedModel
from simulacra.people import builtin_personas
from simulacra.sim.users import simulator_entry
from simulacra.sim.users._feedback import FeedbackUser
from simulacra.tasks import suite_tasks

PANCAKES = {t.id: t for t in suite_tasks("everyday")}["pancakes-scale"]  # 750 g
PERSONA = builtin_personas()[0]
RIGHT = "You need 750 g of flour."


def opened_user() -> tuple[FeedbackUser, list[Message]]:
    """A feedback user who has stated the whole task (one turn), and that turn."""
    user = FeedbackUser(persona=PERSONA, task=PANCAKES, model=None, seed=5, mode="full")
    turn = asyncio.run(user.next_turn([]))
    return user, [Message(role="user", content=turn.text)]


def reward(candidate: str, **settings: object) -> object:
    user, transcript = opened_user()
    options: dict[str, object] = {"policy": ScriptedModel([RIGHT], cycle=True), "k": 3}
    options.update(settings)
    result = asyncio.run(
        multiturn_reward(
            [*transcript, Message(role="assistant", content=candidate)],
            user=user,
            task=PANCAKES,
            persona=PERSONA,
            settings=MultiturnSettings(**options),  # type: ignore[arg-type]
            seed=1,
        )
    )
    assert user.answers_checked == 0  # the real user was forked, not moved on
    return result


def test_a_right_reply_ends_every_future_at_once() -> None:
    result = reward(RIGHT, turn_cost=0.1)
    assert len(result.futures) == 3
    for future in result.futures:
        assert future.success is True and future.turns == 1
        assert future.stop_reason == "satisfied"
        assert [m["role"] for m in future.messages] == ["assistant", "user"]  # reply, thanks
    assert result.reward == pytest.approx(0.9)


def test_a_wrong_reply_costs_the_turns_its_futures_need_to_recover() -> None:
    wrong = reward("You need 300 g.", turn_cost=0.1, token_cost=0.01)
    for future in wrong.futures:
        roles = [m["role"] for m in future.messages]
        assert roles == ["assistant", "user", "assistant", "user"]  # feedback, then right
        assert future.success is True and future.turns == 2
        assert future.tokens == 4 + 6  # the words of the candidate and of the reply after
    assert wrong.reward == pytest.approx(1 - 0.2 - 0.10)
    right = reward(RIGHT, turn_cost=0.1, token_cost=0.01)
    assert right.reward > wrong.reward  # the reply that needs no repair is worth more
    # with no turn after it, the wrong reply is never repaired: each future fails
    stuck = reward("You need 300 g.", horizon=0)
    assert all(f.success is False for f in stuck.futures) and stuck.reward == 0.0


def test_forks_differ_and_leave_the_user_as_it_was() -> None:
    user, _ = opened_user()
    state = user.rng.getstate()
    first, second = fork_user(user, salt=1), fork_user(user, salt=2)
    assert first.rng.random() != second.rng.random()
    assert first.seed == user.seed + 1 and first.task is user.task
    assert user.rng.getstate() == state


def test_the_environment_rewards_each_reply_by_its_futures_and_records_them() -> None:
    feedback, _ = simulator_entry("feedback")
    env = AsyncConversationEnv(
        personas=[PERSONA],
        tasks=[PANCAKES],
        user=UserSpec(simulator=feedback, model=ScriptedModel(["That is not right."], cycle=True)),
        mode="full",
        max_turns=4,
        multiturn=MultiturnSettings(
            policy=ScriptedModel([RIGHT], cycle=True), k=2, horizon=1, turn_cost=0.05
        ),
    )

    async def play() -> list[tuple[float, dict[str, object]]]:
        await env.reset(seed=0)
        steps = []
        for reply in ("You need 300 g.", RIGHT):
            _, value, terminated, _, info = await env.step(reply)
            steps.append((value, info))
            if terminated:
                break
        return steps

    (wrong, _), (right, info) = asyncio.run(play())
    assert wrong == pytest.approx(1 - 0.1) and right == pytest.approx(1 - 0.05)
    assert info["multiturn_reward"]["k"] == 2
    recorded = info["episode"]["extra"]["multiturn_rewards"]
    assert [r["reply"] for r in recorded] == [1, 2]
    assert all(len(r["futures"]) == 2 for r in recorded)
    assert info["success"] is True


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="k"):
        MultiturnSettings(policy=ScriptedModel(["x"]), k=0)
    with pytest.raises(ValueError, match="candidate"):
        user, transcript = opened_user()
        asyncio.run(
            multiturn_reward(
                transcript,
                user=user,
                task=PANCAKES,
                persona=PERSONA,
                settings=MultiturnSettings(policy=ScriptedModel(["x"])),
            )
        )
