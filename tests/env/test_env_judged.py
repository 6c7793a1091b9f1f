"""Judged tasks in the Gymnasium environment and its look-ahead futures: scored by the
run's judge of judged tasks (built from the config as a run builds it), and without one
an abstention (no success, no failure) rather than an error. Scripted models only."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

pytest.importorskip("gymnasium")

from judges_for_tests import yes_judge
from simulacra.env import AsyncConversationEnv, MultiturnSettings, fork_user, multiturn_reward
from simulacra.feedback import ChecklistJudge
from simulacra.llm import Message, ScriptedModel
from simulacra.people import builtin_personas
from simulacra.rundir import Episode
from simulacra.runs import parse_config
from simulacra.sim.scoring import NO_JUDGE
from simulacra.sim.users import FeedbackUser
from simulacra.tasks import suite_tasks

LETTER = next(t for t in suite_tasks("writing") if t.id == "writing.overdue-invoice")
PERSONA = builtin_personas()[0]
DRAFT = "Dear client, invoice 2291 for $1,840 was due on 3 March. Best regards, Ana"


def one_reply(env: AsyncConversationEnv) -> tuple[float, dict[str, object]]:
    async def play() -> tuple[float, dict[str, object]]:
        try:
            await env.reset(seed=0)
            _, reward, _, truncated, info = await env.step(DRAFT)
            assert truncated
            return reward, info
        finally:
            await env.aclose()

    return asyncio.run(play())


def test_the_env_scores_a_judged_task_with_its_judge() -> None:
    model = ScriptedModel(yes_judge)
    env = AsyncConversationEnv(
        personas=[PERSONA], tasks=[LETTER], max_turns=1, check_judge=ChecklistJudge(model=model)
    )
    reward, info = one_reply(env)
    episode = Episode.from_dict(info["episode"])  # type: ignore[arg-type]
    assert reward == 1.0 and info["success"] is True
    assert episode.judgement is not None and episode.judgement.verdict == "pass"
    assert episode.usage["judge"].calls == 1 and len(model.calls) == 1


def test_without_a_judge_the_env_abstains_on_a_judged_task() -> None:
    env = AsyncConversationEnv(personas=[PERSONA], tasks=[LETTER], max_turns=1)
    reward, info = one_reply(env)
    episode = Episode.from_dict(info["episode"])  # type: ignore[arg-type]
    assert reward == 0.0 and info["success"] is None and episode.success is None
    assert episode.check["detail"] == NO_JUDGE and "judge" not in episode.usage


def config(tmp_path: Path, **changes: object) -> object:
    data: dict[str, object] = {
        "name": "env-judged",
        "output_dir": str(tmp_path),
        "models": {
            "echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"},
            "judge": {"backend": "scripted", "function": "judges_for_tests:yes_judge"},
        },
        "user": {"model": "echo"},
        "judge": {"model": "judge"},
        "target": {"type": "callable", "callable": "judges_for_tests:letter_writer"},
        "personas": {"builtin": ["busy-nurse"]},
        "tasks": {"suite": "writing", "ids": [LETTER.id]},
        "max_turns": 1,
    }
    data.update(changes)
    return parse_config(data, source="env.yaml")


def test_from_config_builds_the_configs_judge_as_a_run_does(tmp_path: Path) -> None:
    env = AsyncConversationEnv.from_config(config(tmp_path))  # type: ignore[arg-type]
    assert env.check_judge is not None
    assert env.check_judge.identity == "scripted:judges_for_tests:yes_judge"
    reward, info = one_reply(env)
    assert reward == 1.0 and info["success"] is True
    # a config without a judge model: no judge, the judged task abstains
    bare = config(
        tmp_path,
        models={"echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"}},
        user={"simulator": "scripted"},
        judge=None,
    )
    env = AsyncConversationEnv.from_config(bare)  # type: ignore[arg-type]
    assert env.check_judge is None
    reward, info = one_reply(env)
    assert reward == 0.0 and info["success"] is None


def test_a_future_of_a_judged_task_is_scored_by_the_judge_or_abstains() -> None:
    async def futures(judge: ChecklistJudge | None) -> list[bool | None]:
        user = FeedbackUser(persona=PERSONA, task=LETTER, model=None, seed=5, mode="full")
        opening = Message(role="user", content=(await user.next_turn([])).text)
        result = await multiturn_reward(
            [opening, Message(role="assistant", content=DRAFT)],
            user=user,
            task=LETTER,
            persona=PERSONA,
            settings=MultiturnSettings(
                policy=ScriptedModel([DRAFT], cycle=True), k=2, horizon=0, check_judge=judge
            ),
            seed=1,
        )
        return [future.success for future in result.futures]

    assert asyncio.run(futures(ChecklistJudge(model=ScriptedModel(yes_judge)))) == [True, True]
    assert asyncio.run(futures(None)) == [None, None]


def test_a_fork_of_the_user_shares_its_judge() -> None:
    judge = ChecklistJudge(model=ScriptedModel(yes_judge))
    user = FeedbackUser(persona=PERSONA, task=LETTER, model=None, seed=5, judge=judge)
    forked = fork_user(user, salt=3)
    assert isinstance(forked, FeedbackUser) and forked.judge is judge
