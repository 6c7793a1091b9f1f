"""Judged tasks wherever a reply is checked outside the episode's end: the feedback user
checks each reply with the run's judge, and without a judge its check is an abstention
that ends the conversation (never a failure). Scripted models only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import simulacra
from judges_for_tests import checklist
from simulacra.feedback import ChecklistJudge
from simulacra.llm import Message, ScriptedModel
from simulacra.rundir import RunDir
from simulacra.runs import parse_config
from simulacra.sim.scoring import NO_JUDGE, score_answer
from simulacra.sim.users import SATISFIED, FeedbackUser
from simulacra.tasks import suite_tasks
from user_helpers import PLAIN

LETTER = next(t for t in suite_tasks("writing") if t.id == "writing.overdue-invoice")
FULL = (
    "Subject: Invoice 2291\n\nDear client, a friendly reminder that invoice 2291 for $1,840 "
    "was due on 3 March; please pay by Friday. Thank you! Best regards, Ana"
)


def picky_judge(messages: list[Any], params: Any) -> str:
    """Every must-have met when the work names invoice 2291, none otherwise."""
    work = messages[-1].content.split("to check]")[-1].split("[Must-haves]")[0]
    met = "2291" in work
    return "\n".join(f"{n}: {'yes' if met else 'no'} - checked" for n, _ in checklist(messages))


def opened(judge: ChecklistJudge | None) -> tuple[FeedbackUser, list[Message]]:
    user = FeedbackUser(persona=PLAIN, task=LETTER, model=None, seed=3, mode="full", judge=judge)
    return user, []


async def say(user: FeedbackUser, transcript: list[Message], reply: str | None) -> Any:
    if reply is not None:
        transcript.append(Message(role="assistant", content=reply))
    turn = await user.next_turn(transcript)
    if turn.text:
        transcript.append(Message(role="user", content=turn.text))
    return turn


async def test_the_feedback_user_checks_a_judged_reply_with_the_judge() -> None:
    model = ScriptedModel(picky_judge)
    user, transcript = opened(ChecklistJudge(model=model))
    await say(user, transcript, None)  # the task, stated
    turn = await say(user, transcript, "Here is a reminder about your invoice.")
    assert turn.act == "feedback" and not turn.stop
    assert turn.meta["check"]["passed"] is False
    assert "not met" in turn.meta["check"]["detail"]  # the must-haves the judge missed
    assert turn.other_usage["judge"].calls == 1 and turn.usage.calls == 0
    turn = await say(user, transcript, FULL)
    assert turn.stop and turn.stop_reason == SATISFIED
    assert user.episode_extra() == {"first_success_turn": 2, "feedback_turns": 1}
    assert len(model.calls) == 2


async def test_without_a_judge_a_judged_reply_is_an_abstention_not_a_failure() -> None:
    user, transcript = opened(None)
    await say(user, transcript, None)
    turn = await say(user, transcript, FULL)
    assert turn.stop and turn.stop_reason == "unchecked" and turn.text == ""
    assert turn.meta["check"] == {"passed": None, "extracted": None, "detail": NO_JUDGE}
    assert user.episode_extra() == {"first_success_turn": None, "feedback_turns": 0}
    assert turn.other_usage == {}


async def test_score_answer_abstains_on_a_judged_task_and_checks_code_tasks_as_before() -> None:
    scored = await score_answer(LETTER, FULL)
    assert scored.passed is None and scored.detail == NO_JUDGE
    judged = await score_answer(
        LETTER, FULL, judge=ChecklistJudge(model=ScriptedModel(picky_judge))
    )
    assert judged.passed is True and judged.check["judgement"]["verdict"] == "pass"
    assert judged.usage.calls == 1
    pancakes = next(t for t in suite_tasks("everyday") if t.id == "pancakes-scale")
    assert (await score_answer(pancakes, "You need 750 g of flour.")).passed is True
    assert (await score_answer(pancakes, "You need 700 g.")).passed is False


def test_a_run_of_feedback_users_on_judged_tasks_checks_replies_with_its_judge(
    tmp_path: Path,
) -> None:
    config = parse_config(
        {
            "name": "feedback-judged",
            "output_dir": str(tmp_path / "runs"),
            "models": {
                "echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"},
                "judge": {"backend": "scripted", "function": "judges_for_tests:fair_judge"},
            },
            "user": {"simulator": "feedback", "model": "echo"},
            "judge": {"model": "judge"},
            "target": {"type": "callable", "callable": "judges_for_tests:letter_writer"},
            "personas": {"builtin": ["busy-nurse"]},
            "tasks": {"suite": "writing", "ids": [LETTER.id]},
            "modes": ["sharded"],
        },
        source="feedback-judged.yaml",
    )
    result = simulacra.run(config)
    (episode,) = RunDir(result.run_dir).episodes()
    assert episode.status == "ok", episode.error
    checks = [m.meta.get("check") for m in episode.messages if m.role == "user" and m.meta]
    assert any(c and "must-haves met" in c["detail"] for c in checks)  # the judge's words
    # the user's checks and the episode's own verdict are all the judge's calls
    assert episode.usage["judge"].calls >= 2
    assert episode.stop_reason != "unchecked"
