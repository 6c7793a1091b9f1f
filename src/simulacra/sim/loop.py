"""The episode loop: a simulated user and a target take turns until the user stops."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from simulacra.errors import describe_error, stops_run
from simulacra.llm import Message, affinity
from simulacra.people import Persona
from simulacra.rundir import GuardEventRecord, JudgementRecord, MessageRecord
from simulacra.sim.episode import Episode
from simulacra.sim.scoring import score_answer
from simulacra.sim.targets import Conversation, Target, ToolBox, ask, takes_conversation
from simulacra.sim.users import UserSimulator, episode_extra, give_tools
from simulacra.tasks import EnvSession, JudgedCheck, Task

if TYPE_CHECKING:
    from simulacra.feedback import ChecklistJudge

MAX_TURNS = "max_turns"


def final_answer(messages: list[Message], task: Task) -> str:
    """The last assistant message that gives an answer (else the last one at all)."""
    replies = [m.content for m in messages if m.role == "assistant" and m.content.strip()]
    for text in reversed(replies):
        if task.gives_answer(text):
            return text
    return replies[-1] if replies else ""


async def run_episode(
    episode: Episode,
    *,
    persona: Persona,
    task: Task,
    user: UserSimulator,
    target: Target,
    tools: ToolBox | None = None,
    max_turns: int | None = None,
    judge: ChecklistJudge | None = None,
) -> Episode:
    """Play one conversation into ``episode`` and score it; failures are recorded, not
    raised (but for an endpoint refusing the credentials, see ``ModelError.fatal``).
    A judged task is scored by ``judge``: its verdict and reasons go into the episode's
    ``check`` (an abstention leaves ``success`` unset). So are an environment task's
    assertions about the conversation (a τ² task's NL assertions), when there is a
    ``judge``: the environment's score takes the verdicts, and the judgement is kept in
    ``check["judgement"]`` as a judged task's is."""
    limit = max_turns or task.max_turns
    session = None
    if task.environment and tools is None:
        session = EnvSession(task)
        tools = session
        if session.user_tools is not None:  # the user acts on the environment too
            give_tools(user, session.user_tools)
    transcript: list[Message] = []
    records: list[dict[str, Any]] = []
    conversation = Conversation(
        episode_id=episode.id, persona_id=persona.name, task_id=task.id, mode=episode.mode
    )
    if takes_conversation(target):  # where an app's logs can be searched for it
        episode.extra["session_id"] = conversation.session_id
    episode.started_at = time.time()
    started = time.perf_counter()
    try:
        for _ in range(limit):
            # each role of a conversation keeps to one engine slot where the backend has them
            with affinity(f"{episode.id}/user"):
                turn = await user.next_turn(transcript)
            episode.add_usage("user", turn.usage)
            for role, spent in turn.other_usage.items():
                episode.add_usage(role, spent)
            episode.guard_events.extend(
                GuardEventRecord.model_validate(event.to_dict()) for event in turn.guard_events
            )
            records.extend({**m.to_dict(), "meta": {"by": "user"}} for m in turn.tool_messages)
            if turn.text:
                message = Message(role="user", content=turn.text)
                transcript.append(message)
                records.append({**message.to_dict(), "meta": turn.meta})
                episode.user_turns += 1
            if turn.stop:
                episode.stop_reason = turn.stop_reason or "stopped"
                break
            with affinity(f"{episode.id}/target"):
                reply = await ask(
                    target,
                    transcript,
                    seed=episode.seed + len(transcript),
                    tools=tools,
                    conversation=conversation,
                )
            conversation.turn += 1
            episode.add_usage("target", reply.usage)
            for role, spent in reply.other_usage.items():
                episode.add_usage(role, spent)
            transcript.extend(reply.messages)
            records.extend(m.to_dict() for m in reply.messages)
            if records:
                records[-1]["meta"] = {"latency_s": round(reply.latency_s, 4), **reply.meta}
            if session is not None and session.stopped:
                episode.stop_reason = "transferred"
                break
        else:
            episode.stop_reason = MAX_TURNS
    except Exception as exc:
        if stops_run(exc):
            raise  # refused credentials or a failing disk: the run stops
        episode.status = "error"
        episode.error = describe_error(exc)
        episode.stop_reason = "error"
    finally:
        episode.messages = [MessageRecord.model_validate(record) for record in records]
        episode.duration_s = time.perf_counter() - started
        episode.extra.update(episode_extra(user))
    if episode.status == "ok":
        judgement: JudgementRecord | None = None
        try:
            if session is not None:
                said = [m.content for m in transcript if m.role == "assistant" and m.content]
                judged = None
                if session.assertions and judge is not None:
                    from simulacra.feedback import assertion_verdicts

                    judgement = await _judge_assertions(
                        episode, task, transcript, judge, session.assertions
                    )
                    judged = assertion_verdicts(judgement)
                result = session.score(said, judged=judged)
                episode.extra["tool_calls"] = len(session.env.calls)
                if session.user_tools is not None:
                    episode.extra["user_tool_calls"] = len(session.user_tools.calls)
            elif isinstance(task.check, JudgedCheck):
                await _judge(episode, task, transcript, judge)
                return episode
            else:
                result = await task.aevaluate(final_answer(transcript, task))
        except Exception as exc:  # a user-supplied check may fail in any way
            if stops_run(exc):
                raise  # a judge's refused credentials or a failing disk: the run stops
            episode.status = "error"
            episode.error = f"success check failed: {describe_error(exc)}"
        else:
            episode.success = result.passed
            episode.score = None if result.passed is None else 1.0 if result.passed else 0.0
            episode.check = result.to_dict()
            if judgement is not None:  # where the judged tasks' verdicts are counted
                episode.check["judgement"] = judgement.model_dump(mode="json")
    return episode


async def _judge_assertions(
    episode: Episode,
    task: Task,
    transcript: list[Message],
    judge: ChecklistJudge,
    assertions: tuple[str, ...],
) -> JudgementRecord:
    """The judge's verdict on an environment task's assertions; whatever goes wrong in
    judging (but what stops the run) is an abstention with the error recorded."""
    from simulacra.feedback import abstention

    try:
        judged = await judge.judge_assertions(task, assertions, transcript, seed=episode.seed)
    except Exception as exc:
        if stops_run(exc):
            raise
        return abstention(
            assertions, f"judge failed: {describe_error(exc)}", judge=judge.id, model=judge.identity
        )
    episode.add_usage("judge", judged.usage)
    return judged.record


async def _judge(
    episode: Episode, task: Task, transcript: list[Message], judge: ChecklistJudge | None
) -> None:
    """Score a judged task into ``episode`` (raises only what stops the run)."""
    try:  # with no judge, an abstention (``score_answer``), as everywhere else
        scored = await score_answer(
            task,
            final_answer(transcript, task),
            transcript=transcript,
            judge=judge,
            seed=episode.seed,
        )
    except Exception as exc:
        if stops_run(exc):
            raise
        episode.status = "error"
        episode.error = f"success check failed: {describe_error(exc)}"
        return
    episode.add_usage("judge", scored.usage)
    episode.check = scored.check
    passed = scored.passed
    episode.success = passed
    episode.score = None if passed is None else 1.0 if passed else 0.0
