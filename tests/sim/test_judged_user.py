"""The default user on judged tasks: a draft made before the user said everything is
sent back with the missing detail; a draft made with everything is accepted (the judge,
not the user, says how good it is); a learner voices their misconception as a
correction. Scripted models only."""

from __future__ import annotations

from simulacra.llm import Message, ScriptedModel
from simulacra.sim.users import SATISFIED, LLMUser
from simulacra.tasks import suite_tasks
from user_helpers import PLAIN as LEARNER
from user_helpers import echo_plan


def task(suite: str, task_id: str):  # type: ignore[no-untyped-def]
    return next(t for t in suite_tasks(suite) if t.id == task_id)


def user_for(suite: str, task_id: str) -> LLMUser:
    return LLMUser(
        persona=LEARNER, task=task(suite, task_id), model=ScriptedModel(echo_plan), seed=1
    )


DRAFT = (
    "Dear tenant team, I am writing about the kitchen tap in my flat, which leaks. "
    "Please arrange for a plumber to repair it soon. Kind regards, Jo"
)


async def test_an_early_draft_gets_the_missing_detail_and_a_complete_one_is_accepted() -> None:
    u = user_for("writing", "writing.landlord-repair")
    transcript = [Message(role="user", content=(await u.next_turn([])).text)]
    transcript.append(Message(role="assistant", content=DRAFT))
    turn = await u.next_turn(transcript)
    assert turn.act == "edit" and not turn.stop
    assert "10 days" in turn.text  # the first fact, asked as a change to the draft
    transcript += [Message(role="user", content=turn.text)]
    transcript.append(Message(role="assistant", content=DRAFT + " It has leaked 10 days."))
    turn = await u.next_turn(transcript)
    assert turn.act == "edit" and "within a week" in turn.text
    transcript += [Message(role="user", content=turn.text)]
    transcript.append(Message(role="assistant", content=DRAFT + " Within a week, in writing."))
    turn = await u.next_turn(transcript)
    assert turn.act == "approve" and turn.stop and turn.stop_reason == SATISFIED


async def test_a_question_is_not_taken_for_a_draft() -> None:
    u = user_for("writing", "writing.landlord-repair")
    transcript = [Message(role="user", content=(await u.next_turn([])).text)]
    transcript.append(Message(role="assistant", content="Sure, what is the repair about?"))
    turn = await u.next_turn(transcript)
    assert turn.act == "reveal" and "kitchen tap" in turn.text


async def test_a_learner_voices_the_misconception_when_the_explanation_skips_it() -> None:
    u = user_for("tutoring", "tutoring.fraction-size")
    transcript = [Message(role="user", content=(await u.next_turn([])).text)]
    explanation = (
        "Comparing fractions means looking at numerators and denominators; convert both "
        "fractions to a common denominator, then compare the numerators directly."
    )
    transcript.append(Message(role="assistant", content=explanation))
    turn = await u.next_turn(transcript)
    assert turn.act == "correct" and not turn.stop
    assert "1/8 is bigger than 1/4" in turn.text
