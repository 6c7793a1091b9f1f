"""The conversation environment: the real Gymnasium checker, episodes played through it,
and what it tells a trainer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

gymnasium = pytest.importorskip("gymnasium")

from gymnasium.utils.env_checker import check_env  # noqa: E402

from simulacra.env import ENV_ID, AsyncConversationEnv, ConversationEnv, UserSpec  # noqa: E402
from simulacra.errors import ConfigError  # noqa: E402
from simulacra.llm import Message  # noqa: E402
from simulacra.people import Persona, builtin_personas  # noqa: E402
from simulacra.rundir import Episode, EpisodeStore  # noqa: E402
from simulacra.sim.users import simulator_entry  # noqa: E402
from simulacra.tasks import Task, suite_tasks  # noqa: E402

TASKS = {task.id: task for task in suite_tasks("everyday")}
PANCAKES = TASKS["pancakes-scale"]  # goal, then two facts; the answer is 750 g

CONFIG = """\
name: env-run
seed: 3
models:
  echo: {backend: scripted, function: 'targets_for_tests:echo_plan'}
user: {model: echo, max_tokens: 40}
target: {type: callable, callable: 'targets_for_tests:calculator'}
personas: {builtin: [busy-nurse, teen-gamer]}
tasks: {suite: everyday, limit: 3}
max_turns: 4
"""


def scripted_env(**kwargs: object) -> ConversationEnv:
    settings: dict[str, object] = {
        "personas": builtin_personas()[:3],
        "tasks": [PANCAKES, TASKS["bill-split-tip"]],
        "system_prompt": "Answer briefly.",
    }
    settings.update(kwargs)
    return ConversationEnv(**settings)


def test_the_gymnasium_checker_passes_with_the_scripted_user() -> None:
    env = gymnasium.make(ENV_ID, personas=builtin_personas()[:3], tasks=list(TASKS.values())[:4])
    try:
        check_env(env.unwrapped)
    finally:
        env.close()


def test_the_checker_passes_on_a_run_configs_llm_user(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    env = gymnasium.make(ENV_ID, config=str(path)).unwrapped
    try:
        assert env.core.user.model is not None  # the llm simulator on the scripted backend
        check_env(env)
        observation, info = env.reset(seed=5)
        assert observation and info["message_source"] == ["simulated_user"]
        assert info["persona"] in {"busy-nurse", "teen-gamer"}
    finally:
        env.close()


def test_a_conversation_to_the_users_stop_is_rewarded_by_the_task_check() -> None:
    env = scripted_env()
    try:
        observation, info = env.reset(
            seed=0, options={"persona": "busy-nurse", "task": PANCAKES.id}
        )
        assert observation == PANCAKES.goal
        assert isinstance(env.observation_space, gymnasium.spaces.Text)
        assert env.observation_space.contains(observation)
        seen = [observation]
        rewards = []
        while True:
            observation, reward, terminated, truncated, info = env.step(
                "Tell me more." if len(seen) < 3 else "You need 750 g of flour."
            )
            rewards.append(reward)
            if terminated or truncated:
                break
            seen.append(observation)
        assert seen == [PANCAKES.goal, *(fact.text for fact in PANCAKES.facts)]
        assert terminated and not truncated
        assert rewards[:-1] == [0.0, 0.0] and rewards[-1] == 1.0
        assert info["success"] is True
        # what a trainer needs to keep the simulated user's words out of the loss
        assert [m["role"] for m in info["messages"]] == [
            "system", "user", "assistant", "user", "assistant", "user", "assistant",
        ]  # fmt: skip
        assert info["message_source"] == [
            "system", "simulated_user", "target", "simulated_user", "target",
            "simulated_user", "target",
        ]  # fmt: skip
        assert info["train_mask"] == [s == "target" for s in info["message_source"]]
        episode = Episode.from_dict(info["episode"])
        assert episode.success is True and episode.stop_reason == "satisfied"
        assert episode.user_turns == 3 and len(episode.messages) == 6
        with pytest.raises(RuntimeError, match="reset"):
            env.step("more?")
    finally:
        env.close()


def test_a_wrong_answer_scores_0_and_the_turn_limit_truncates() -> None:
    env = scripted_env(max_turns=2)
    try:
        env.reset(seed=1, options={"task": PANCAKES.id})
        _, reward, terminated, truncated, _ = env.step("You need 300 g of flour.")
        assert (reward, terminated, truncated) == (0.0, False, False)
        observation, reward, terminated, truncated, info = env.step("Still 300 g.")
        assert truncated and not terminated and observation == ""
        assert reward == 0.0 and info["success"] is False
        assert Episode.from_dict(info["episode"]).stop_reason == "max_turns"
    finally:
        env.close()


def test_seeds_replay_and_names_choose() -> None:
    env = scripted_env()
    try:
        first = env.reset(seed=11)
        again = env.reset(seed=11)
        assert first[0] == again[0] and first[1]["persona"] == again[1]["persona"]
        draws = {env.reset(seed=s)[1]["persona"] for s in range(12)}
        assert len(draws) == 3  # every persona is drawn
        with pytest.raises(ConfigError, match="no task 'nope' here"):
            env.reset(options={"task": "nope"})
    finally:
        env.close()
    fresh = ConversationEnv(personas=builtin_personas()[:1], tasks=[PANCAKES])
    try:
        with pytest.raises(RuntimeError, match="reset"):
            fresh.step("hi")
    finally:
        fresh.close()


def test_a_judge_mixes_into_the_reward() -> None:
    async def judge(transcript: list[Message], task: Task, persona: Persona) -> float:
        replies = [m for m in transcript if m.role == "assistant"]
        return 1.0 if len(replies[-1].content) < 30 else 0.2

    env = scripted_env(judge=judge, judge_weight=0.25, max_turns=1)
    try:
        env.reset(seed=2, options={"task": PANCAKES.id})
        *_, reward_short, _, _, info = env.step("750 g.")
        assert reward_short == pytest.approx(0.75 * 1.0 + 0.25 * 1.0)
        assert info["episode"]["extra"]["judge_score"] == 1.0
        env.reset(seed=2, options={"task": PANCAKES.id})
        *_, reward_long, _, _, _ = env.step("Scaling from 4 to 10 people, that is 750 g.")
        assert reward_long == pytest.approx(0.75 + 0.25 * 0.2)
    finally:
        env.close()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="at least one task"):
        ConversationEnv(personas=builtin_personas()[:1], tasks=[])
    shop = next(iter(suite_tasks("shop")))
    with pytest.raises(ConfigError, match="tool environment"):
        ConversationEnv(personas=builtin_personas()[:1], tasks=[shop])
    llm, _ = simulator_entry("llm")
    with pytest.raises(ConfigError, match="needs a model"):
        ConversationEnv(
            personas=builtin_personas()[:1], tasks=[PANCAKES], user=UserSpec(simulator=llm)
        )


async def test_the_async_variant_runs_conversations_side_by_side(tmp_path: Path) -> None:
    envs = [
        AsyncConversationEnv(personas=builtin_personas()[:2], tasks=[PANCAKES], name="async")
        for _ in range(4)
    ]

    async def play(env: AsyncConversationEnv, seed: int) -> dict[str, object]:
        await env.reset(seed=seed)
        while True:
            *_, terminated, truncated, info = await env.step("You need 750 g of flour.")
            if terminated or truncated:
                return info

    infos = await asyncio.gather(*(play(env, seed) for seed, env in enumerate(envs)))
    assert all(info["success"] is True for info in infos)
    # the episodes are run-directory records: they can be kept and exported like a run's
    store = EpisodeStore(tmp_path)
    store.open()
    for info in infos:
        assert store.append(info["episode"])  # type: ignore[arg-type]
    store.close()
    from simulacra.export import ExportConfig, build_dataset

    rows = build_dataset(tmp_path, ExportConfig(successful_only=True)).rows
    assert len(rows) == 4
    assert rows[0]["message_source"][:2] == ["simulated_user", "target"]


def test_a_rubric_rater_judges_the_conversation() -> None:
    from simulacra.env import rater_judge
    from simulacra.feedback import Dimension, RubricRater
    from simulacra.llm import ModelConfig, ModelPool

    pool = ModelPool(use_cache=False)
    replies = ["helpfulness: 5\nclarity: 4", "no scores here", "still none"]
    model = pool.build(ModelConfig(backend="scripted", replies=replies, cycle=False))
    rater = RubricRater(
        model=model,
        dimensions=[Dimension(name="helpfulness"), Dimension(name="clarity")],
        max_retries=1,
    )
    env = scripted_env(judge=rater_judge(rater), judge_weight=0.5, max_turns=1)
    try:
        env.reset(seed=0, options={"task": PANCAKES.id})
        *_, reward, _, _, info = env.step("You need 750 g of flour.")
        # check 1; the rater's mean 4.5 on 1-5 is 0.875
        assert reward == pytest.approx(0.5 + 0.5 * 0.875)
        assert info["episode"]["extra"]["judge_score"] == pytest.approx(0.875)
        # a rater that gives no score leaves the reward to the check
        env.reset(seed=0, options={"task": PANCAKES.id})
        *_, reward, _, _, info = env.step("You need 300 g of flour.")
        assert reward == 0.0 and info["episode"]["extra"]["judge_score"] is None
    finally:
        env.close()
        asyncio.run(pool.aclose())


def test_a_fault_ends_its_conversation_recorded_and_the_next_one_plays() -> None:
    from simulacra.sim.users import Simulator, UserTurn

    class Flaky:
        def __init__(self, task: Task) -> None:
            self.turns = 0

        async def next_turn(self, transcript: list[Message]) -> UserTurn:
            self.turns += 1
            if self.turns == 2:
                raise ValueError("the user's model sent garbage")
            return UserTurn(text=PANCAKES.goal)

    user = UserSpec(
        simulator=Simulator(build=lambda context: Flaky(context.task), needs_model=False)
    )
    env = scripted_env(user=user)
    try:
        env.reset(seed=0)
        observation, reward, terminated, truncated, info = env.step("Tell me more.")
        assert (observation, reward, terminated, truncated) == ("", 0.0, False, True)
        assert info["error"] == "ValueError: the user's model sent garbage"
        episode = Episode.from_dict(info["episode"])
        assert episode.status == "error" and episode.stop_reason == "error"
        assert [m.role for m in episode.messages] == ["user", "assistant"]
        observation, _ = env.reset(seed=1)  # the environment goes on
        assert observation == PANCAKES.goal
    finally:
        env.close()


def test_a_fault_on_the_opening_turn_is_recorded_and_the_next_reset_plays() -> None:
    from simulacra.errors import RunError
    from simulacra.sim.users import Simulator, UserTurn

    class FailsFirst:
        opened = 0

        def __init__(self, task: Task) -> None:
            pass

        async def next_turn(self, transcript: list[Message]) -> UserTurn:
            FailsFirst.opened += 1
            if FailsFirst.opened == 1:
                raise ValueError("the user's model sent garbage")
            return UserTurn(text=PANCAKES.goal)

    user = UserSpec(
        simulator=Simulator(build=lambda context: FailsFirst(context.task), needs_model=False)
    )
    env = scripted_env(user=user)
    try:
        with pytest.raises(RunError, match=r"could not open.*garbage.*reset"):
            env.reset(seed=0)
        assert env.failed is not None
        episode = Episode.from_dict(env.failed["episode"])
        assert episode.status == "error" and "garbage" in (episode.error or "")
        with pytest.raises(RuntimeError, match="reset"):  # no half-open conversation to step
            env.step("Hello?")
        observation, _ = env.reset(seed=1)
        assert observation == PANCAKES.goal
    finally:
        env.close()
