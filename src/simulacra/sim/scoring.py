"""A task's check on a reply, for every kind of check: code checks run on the answer,
a judged task is scored by the run's judge of judged tasks.

The episode loop, the feedback user (which checks each reply), the Gymnasium
environment and its look-ahead futures all score through :func:`score_answer`, so a
judged task means the same everywhere. Without a judge, a judged task cannot be told
right or wrong: the result is an abstention (``passed`` None, :data:`NO_JUDGE` in its
``detail``), never a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulacra.llm import Message, Usage
from simulacra.tasks import JudgedCheck, Task

if TYPE_CHECKING:
    from simulacra.feedback import ChecklistJudge

NO_JUDGE = "judged task, no judge configured (the run config's judge: section)"


@dataclass(frozen=True, kw_only=True)
class Scored:
    """A reply scored: ``passed`` (None: an abstention), what an episode's ``check``
    holds, and the judge's model usage (nothing for a check by code)."""

    passed: bool | None
    check: dict[str, Any]
    usage: Usage = field(default_factory=Usage)

    @property
    def detail(self) -> str:
        return str(self.check.get("detail") or "")


async def score_answer(
    task: Task,
    answer: str,
    *,
    transcript: Sequence[Message] = (),
    judge: ChecklistJudge | None = None,
    seed: int = 0,
) -> Scored:
    """``task``'s check on ``answer`` (the conversation so far in ``transcript``, which a
    judge of the whole conversation reads). A judged task is scored by ``judge``; with
    none it is an abstention. A model error of the judge is its abstention too; refused
    credentials raise, as everywhere."""
    if isinstance(task.check, JudgedCheck):
        if judge is None:
            return Scored(
                passed=None, check={"passed": None, "extracted": None, "detail": NO_JUDGE}
            )
        from simulacra.feedback import check_result

        judged = await judge.judge(task, list(transcript), answer=answer, seed=seed)
        verdict = dict(check_result(judged.record))
        return Scored(passed=verdict["passed"], check=verdict, usage=judged.usage)
    result = await task.aevaluate(answer)
    return Scored(passed=result.passed, check=result.to_dict())
